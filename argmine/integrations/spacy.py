"""The spaCy component: argument mining inside a spaCy pipeline (``pip install 'argmine[spacy]'``).

argmine registers the factory ``argmine`` through the ``spacy_factories`` entry point, so a
pipeline can add it without importing argmine first::

    import spacy

    nlp = spacy.blank("en")                     # any pipeline; no spaCy model is needed
    nlp.add_pipe("sentencizer")                 # other components may come before it
    nlp.add_pipe("argmine", config={"model": None, "min_score": None, "precision": "auto"})
    doc = nlp(text)
    for span in doc.spans["arguments"]:         # labels: conclusion, claim, evidence
        print(span.label_, span._.argument_score, span.text)
        for relation in span._.argument_relations:
            print("  ", relation.source.text, relation.type, relation.target.text)
    doc._.argument_graph                        # the ArgumentGraph, offsets into doc.text

    from spacy import displacy
    displacy.render(doc, style="span", options=displacy_options())

The component reads ``doc.text`` and nothing else of the ``Doc`` (not its tokens, sentences or
other annotations), so the graph is the one :meth:`argmine.ArgumentMiner.parse` gives for
the same text.

What it sets:

- ``doc._.argument_graph``: the :class:`~argmine.ArgumentGraph`, exact character offsets
  into ``doc.text``.
- ``doc.spans["arguments"]`` (``spans_key``): one span per component, in text order, labelled
  with its type, whose ``span.id_`` is the component's id; the group's ``attrs["scores"]``
  holds the components' scores in the same order (as spaCy's ``spancat`` does).
- On those spans: ``span._.argument`` (the :class:`~argmine.Component`: id, type, exact
  offsets, score, attributes such as ``counterfactual``), ``span._.argument_score``,
  ``span._.argument_attributes``, ``span._.argument_relations`` (every relation into or out
  of the unit, as :class:`SpanRelation`), ``span._.argument_supporters`` and
  ``span._.argument_attackers`` (spans). On any other span these are None or empty.

A component's offsets need not fall on spaCy's token boundaries (argmine cuts units on its own
tokenizer's words). Its span is then ``doc.char_span(start, end, alignment_mode="expand")``:
the smallest run of spaCy tokens covering the unit, so ``span.text`` can be a little longer
than the component's text. ``span._.argument`` keeps the exact offsets.

The model is loaded once, when the component is created (by ``add_pipe`` or ``spacy.load``).
``nlp.to_disk`` saves the component's settings (the model's name or folder, ``min_score``,
``precision``, ...) in the pipeline's ``config.cfg``, not the model: ``spacy.load`` loads the
model from the same name or folder again. Docs keep their graph through ``Doc.to_bytes`` and
``DocBin`` (in a process where this module is imported, as every spaCy pipeline does).
"""

# No ``from __future__ import annotations``: spaCy checks the factory's settings against its
# signature's annotations at run time.

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

try:
    import srsly
    from spacy.language import Language
    from spacy.pipeline import Pipe
    from spacy.tokens import Doc, Span, SpanGroup
    from spacy.util import minibatch
except ImportError as err:  # pragma: no cover - only without the extra
    raise ImportError("the spaCy component needs spaCy: pip install 'argmine[spacy]'") from err

from argmine.graph import ArgumentGraph, Component

FACTORY = "argmine"
"""The factory's name: ``nlp.add_pipe("argmine")``."""
SPANS_KEY = "arguments"
"""The default key of the argument units in ``doc.spans``."""
GRAPH_TAG = "__argmine_graph__"
"""How a graph is tagged inside a serialized ``Doc`` (see :func:`encode_graph`)."""
DEFAULT_CONFIG: dict[str, Any] = {
    "model": None,
    "min_score": None,
    "precision": "auto",
    "device": "cpu",
    "batch_size": 16,
    "spans_key": SPANS_KEY,
}
"""The component's settings when ``add_pipe`` gives none (the arguments of
:class:`ArgumentMinerComponent`)."""


class SpanRelation(NamedTuple):
    """A support or attack between two argument spans of one ``Doc``."""

    type: str
    source: Span
    target: Span
    score: float | None


@Language.factory(
    FACTORY,
    default_config=DEFAULT_CONFIG,
    assigns=["doc.spans", "doc._.argument_graph"],
)
def make_argmine(
    nlp: Language,
    name: str,
    model: str | None,
    min_score: float | None,
    precision: str,
    device: str,
    batch_size: int,
    spans_key: str,
) -> "ArgumentMinerComponent":
    """spaCy's factory for ``nlp.add_pipe("argmine", config={...})``; the settings are those
    of :class:`ArgumentMinerComponent`."""
    return ArgumentMinerComponent(
        name,
        model=model,
        min_score=min_score,
        precision=precision,
        device=device,
        batch_size=batch_size,
        spans_key=spans_key,
    )


class ArgumentMinerComponent(Pipe):
    """Sets each ``Doc``'s argument graph and argument spans (see the module's description).

    ``model``: a shipped model's name or a model folder, None for the default model
    (:func:`argmine.load`). ``min_score``: relations scored below it are left out (None: the
    model's own threshold). ``precision`` and ``device``: as for :func:`argmine.load`.
    ``batch_size``: documents encoded together in ``nlp.pipe``. ``spans_key``: the key in
    ``doc.spans``. Bad settings raise here, before any document.
    """

    def __init__(
        self,
        name: str = FACTORY,
        *,
        model: str | None = None,
        min_score: float | None = None,
        precision: str = "auto",
        device: str = "cpu",
        batch_size: int = 16,
        spans_key: str = SPANS_KEY,
    ) -> None:
        import argmine
        from argmine.inputs import check_min_score

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number of at least 1, got {batch_size!r}")
        if not isinstance(spans_key, str) or not spans_key:
            raise ValueError(f"spans_key must be a non-empty str, got {spans_key!r}")
        self.name = name
        self.min_score = check_min_score(min_score)
        self.batch_size = batch_size
        self.spans_key = spans_key
        self.miner = argmine.load(model, device=device, precision=precision)
        """The :class:`~argmine.ArgumentMiner`, loaded once for the pipeline."""

    def __call__(self, doc: Doc) -> Doc:
        """Parse one document."""
        graph = self.miner.parse(doc.text, min_score=self.min_score)
        return self.set_annotations(doc, graph)

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Parse many documents through :meth:`argmine.ArgumentMiner.pipe`, in input order.

        The model encodes ``self.batch_size`` documents at a time whatever spaCy's own
        ``batch_size`` (which ``nlp.pipe`` sets to 1,000 by default, far too many texts for
        one encoder batch): that argument is accepted and ignored. An error goes to the
        component's error handler (``set_error_handler``; by default it is raised) with the
        documents of the batch it happened in.
        """
        from argmine.pipeline import SORT_BUFFER

        error_handler = self.get_error_handler()
        for docs in minibatch(stream, size=self.batch_size * SORT_BUFFER):
            try:
                texts = [doc.text for doc in docs]
                graphs = self.miner.pipe(
                    texts, batch_size=self.batch_size, min_score=self.min_score
                )
                done = [self.set_annotations(d, g) for d, g in zip(docs, graphs, strict=True)]
            except Exception as error:
                error_handler(self.name, self, docs, error)
                continue
            yield from done

    def set_annotations(self, doc: Doc, graph: ArgumentGraph) -> Doc:
        """Put ``graph`` (of ``doc.text``) on ``doc``: its graph, its spans and their scores."""
        if graph.text != doc.text:
            raise ValueError("the graph's text is not the document's text")
        doc._.argument_graph = graph
        spans, scores = [], []
        for component in graph:  # text order
            span = span_of(doc, component)
            if span is not None:
                spans.append(span)
                scores.append(component.score)
        doc.spans[self.spans_key] = SpanGroup(
            doc, name=self.spans_key, spans=spans, attrs={"scores": scores}
        )
        return doc


def span_of(doc: Doc, component: Component) -> Span | None:
    """``component`` as a span of ``doc``: the tokens that cover its characters, labelled with
    its type, ``id_`` its id. None only for a unit of nothing but whitespace between tokens."""
    return doc.char_span(
        component.start,
        component.end,
        label=component.type,
        alignment_mode="expand",
        span_id=component.id,
    )


def displacy_options(spans_key: str = SPANS_KEY) -> dict[str, Any]:
    """Options for ``displacy.render(doc, style="span", options=...)``: the argument spans in
    the colours of argmine's own views."""
    from argmine.formats.style import TYPE_COLORS

    return {"spans_key": spans_key, "colors": dict(TYPE_COLORS)}


# ---------------------------------------------------------------------- span extensions
def _argument(span: Span) -> Component | None:
    """The component behind an argument span: same id and type (None for any other span)."""
    graph = span.doc._.argument_graph
    if graph is None or not span.id_:
        return None
    found = next((c for c in graph.components if c.id == span.id_), None)
    return found if found is not None and found.type == span.label_ else None


def _argument_score(span: Span) -> float | None:
    component = _argument(span)
    return None if component is None else component.score


def _argument_attributes(span: Span) -> dict[str, Any]:
    component = _argument(span)
    return {} if component is None else component.attributes


def _argument_relations(span: Span) -> list[SpanRelation]:
    component = _argument(span)
    if component is None:
        return []
    graph: ArgumentGraph = span.doc._.argument_graph
    by_id = {c.id: c for c in graph.components}
    relations = []
    for r in graph.relations:
        if component.id in (r.source, r.target):
            source, target = span_of(span.doc, by_id[r.source]), span_of(span.doc, by_id[r.target])
            if source is not None and target is not None:
                relations.append(SpanRelation(r.type, source, target, r.score))
    return relations


def _sources_into(span: Span, relation_type: str) -> list[Span]:
    return [
        r.source
        for r in _argument_relations(span)
        if r.type == relation_type and r.target.id_ == span.id_
    ]


def _argument_supporters(span: Span) -> list[Span]:
    return _sources_into(span, "support")


def _argument_attackers(span: Span) -> list[Span]:
    return _sources_into(span, "attack")


SPAN_EXTENSIONS = {
    "argument": _argument,
    "argument_score": _argument_score,
    "argument_attributes": _argument_attributes,
    "argument_relations": _argument_relations,
    "argument_supporters": _argument_supporters,
    "argument_attackers": _argument_attackers,
}
"""``span._.NAME`` getters; an extension of the same name set by someone else is kept."""

if not Doc.has_extension("argument_graph"):
    Doc.set_extension("argument_graph", default=None)
for _name, _getter in SPAN_EXTENSIONS.items():
    if not Span.has_extension(_name):
        Span.set_extension(_name, getter=_getter)


# ---------------------------------------------------------------------- serialization
@srsly.msgpack_encoders(GRAPH_TAG)
def encode_graph(obj: Any, chain: Any = None) -> Any:
    """msgpack encoder (spaCy serializes ``doc.user_data``, so ``doc._`` values, with msgpack):
    a graph becomes its JSON form, tagged; anything else goes down the chain."""
    if isinstance(obj, ArgumentGraph):
        return {GRAPH_TAG: obj.to_dict()}
    return obj if chain is None else chain(obj)


@srsly.msgpack_decoders(GRAPH_TAG)
def decode_graph(obj: Any, chain: Any = None) -> Any:
    """The msgpack decoder matching :func:`encode_graph`."""
    if isinstance(obj, dict) and GRAPH_TAG in obj:
        return ArgumentGraph.from_dict(_as_lists(obj[GRAPH_TAG]))
    return obj if chain is None else chain(obj)


def _as_lists(value: Any) -> Any:
    """JSON data with its lists back: spaCy reads user data with ``use_list=False``, which
    turns every list into a tuple (the JSON form of a graph has no tuples of its own)."""
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value
