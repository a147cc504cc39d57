"""The server's request bodies and documented responses (pydantic): what the OpenAPI schema says."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

Format = Literal["json", "aif", "brat", "dot", "svg"]


Segments = list[tuple[StrictInt, StrictInt]]


def _html_field() -> Any:
    return Field(
        False,
        description="The text is an HTML page: its main text is extracted first (trafilatura), "
        "and the graph's text is that extract.",
    )


def _clean_field() -> Any:
    return Field(
        True,
        description="Mask page chrome (comment sections, share and login widgets, the "
        "headline); the graph lists what was masked in `metadata.masked`. `false` analyses "
        "every character.",
    )


def _check_encodable(text: str, what: str = "") -> None:
    """A lone surrogate (JSON ``\\ud800``) is the client's error: a 422 naming the position."""
    from argmine.inputs import InputTextError, check_encodable

    try:
        check_encodable(text)
    except InputTextError as err:
        raise ValueError(f"{what}{err}") from err


class ParseRequest(BaseModel):
    """One document: ``POST /parse``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Ban cars. They pollute the air."}]},
    )

    text: StrictStr = Field(description="The document (plain text, or HTML with `html: true`).")
    segments: Segments | None = Field(
        None,
        description="Your own argumentative units as [start, end] character offsets: they are "
        "kept as given, and only their types and links are predicted.",
        examples=[[[0, 9], [10, 31]]],
    )
    format: Format = Field("json", description="json, aif, brat, dot or svg (see the responses).")
    html: StrictBool = _html_field()
    clean: StrictBool = _clean_field()

    @model_validator(mode="after")
    def _segments_fit_the_text(self) -> ParseRequest:
        _check_encodable(self.text)
        _check_segments(self.segments, self.text, self.html)
        return self


class BatchRequest(BaseModel):
    """Several documents: ``POST /parse/batch``, like ``miner.pipe(texts, segments=...)``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"texts": ["Ban cars. They pollute.", "Tax sugar."]}]},
    )

    texts: list[StrictStr] = Field(description="The documents; graphs come back in this order.")
    segments: list[Segments | None] | None = Field(
        None, description="Units for each text (null for a text the model segments itself)."
    )
    format: Format = "json"
    html: StrictBool = _html_field()
    clean: StrictBool = _clean_field()

    @model_validator(mode="after")
    def _segments_fit_the_texts(self) -> BatchRequest:
        for i, text in enumerate(self.texts):
            _check_encodable(text, f"text {i}: ")
        if self.segments is None:
            return self
        if len(self.segments) != len(self.texts):
            raise ValueError(
                f"segments has {len(self.segments)} entries for {len(self.texts)} texts; "
                "give one per text (null for none)"
            )
        for i, (segments, text) in enumerate(zip(self.segments, self.texts, strict=True)):
            try:
                _check_segments(segments, text, self.html)
            except ValueError as err:
                raise ValueError(f"text {i}: {err}") from err
        return self


class ViewRequest(BaseModel):
    """What the web page sends to ``POST /view``."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr
    segments: Segments | None = None
    html: StrictBool = _html_field()
    clean: StrictBool = _clean_field()

    @model_validator(mode="after")
    def _segments_fit_the_text(self) -> ViewRequest:
        _check_encodable(self.text)
        _check_segments(self.segments, self.text, self.html)
        return self


def _check_segments(segments: Sequence[tuple[int, int]] | None, text: str, html: bool) -> None:
    if segments is None:
        return
    if html:
        raise ValueError("segments cannot be given with html: offsets index the extracted text")
    for start, end in segments:
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"segment [{start}, {end}] is empty or lies outside the text (length {len(text)})"
            )


class ComponentOut(BaseModel):
    id: str
    start: int
    end: int
    text: str
    type: str = Field(description="conclusion, claim or evidence")
    score: float | None
    attributes: dict[str, Any] = Field(
        description="e.g. counterfactual (bool) and counterfactual_score"
    )


class RelationOut(BaseModel):
    source: str
    target: str
    type: str = Field(description="support or attack")
    score: float | None
    attributes: dict[str, Any]


class GraphOut(BaseModel):
    """The graph's JSON form (docs/graph-schema.md): what ``format: json`` returns."""

    schema_version: int
    text: str
    components: list[ComponentOut]
    relations: list[RelationOut]
    metadata: dict[str, Any]


class ViewOut(BaseModel):
    graph: GraphOut
    aif: dict[str, Any]
    html: str = Field(description="The highlighted view (argmine.render.graph_view)")
    picture_note: str | None = Field(
        None,
        description="Why the view has no picture of the graph (Graphviz not installed, too "
        "many components), or null: then the view holds the SVG, one node per component "
        '(`<g id="node-<component id>">`).',
    )


class HealthOut(BaseModel):
    status: Literal["ok"]
    model: str | None
    model_version: str | None
    argmine_version: str
    busy: bool = Field(description="The model is parsing now")
    queued: int = Field(description="Requests waiting for the model")
    max_chars: int


class ErrorOut(BaseModel):
    detail: Any = Field(description="What went wrong: a message (422: a list of field errors)")


PARSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The graph: `json` and `aif` as JSON, `brat` as `{txt, ann}`, `dot` as "
        "Graphviz text (`text/vnd.graphviz`), `svg` as the picture Graphviz draws, each "
        'component\'s node a `<g id="node-<component id>">`.',
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/GraphOut"}},
            "text/vnd.graphviz": {"schema": {"type": "string"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        },
    },
    400: {"model": ErrorOut, "description": "The body is not valid JSON"},
    413: {"model": ErrorOut, "description": "The text is longer than the server's --max-chars"},
    415: {"model": ErrorOut, "description": "The body is not JSON (Content-Type)"},
    422: {
        "model": ErrorOut,
        "description": "A field is missing or of the wrong type, or the text cannot be "
        "analysed as given (a lone surrogate; segments on a text without tokens; an HTML "
        "page the extractor cannot read)",
    },
    500: {"model": ErrorOut, "description": "The model failed on this input"},
    501: {"model": ErrorOut, "description": "`svg` without Graphviz on the server"},
}
