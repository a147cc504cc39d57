"""The end-to-end pipeline: ``ArgumentMiner`` turns raw text into :class:`ArgumentGraph` objects.

Stages, each in its own module: clean-up (:mod:`argmine.cleanup`), segmentation
(:mod:`argmine.segmentation`), classification (:mod:`argmine.classification`), relations
(:mod:`argmine.relations`) and attributes (:mod:`argmine.attributes`). One encoder pass per
document window feeds all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import torch

from argmine.attributes import component_attributes
from argmine.cleanup import mask_chrome
from argmine.devices import resolve_device
from argmine.encoders import SpecialTokens, load_tokenizer, special_tokens
from argmine.graph import COMPONENT_TYPES, ArgumentGraph, Component, Relation
from argmine.model import CONFIG_NAME, WEIGHTS_NAME, ArgumentModel, ModelLoadError
from argmine.relations import decode_relations
from argmine.segmentation import DocumentEncoding, decode_spans, encode_document

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
Segments = Sequence[tuple[int, int]]
EncodedBatch = tuple[list[DocumentEncoding], list[torch.Tensor], list[list[tuple[int, int]] | None]]


class ArgumentMiner:
    """A trained pipeline. Build it with :func:`argmine.load` or :meth:`from_pretrained`."""

    def __init__(self, model: ArgumentModel, tokenizer, device: str | torch.device = "cpu") -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.special = special_tokens(tokenizer)

    @property
    def config(self):
        return self.model.config

    # ------------------------------------------------------------------ storage
    @classmethod
    def from_pretrained(
        cls, path: str | Path | None = None, device: str | torch.device = "cpu"
    ) -> ArgumentMiner:
        """Load a saved pipeline: a shipped model's name (``argmine models`` lists them), a
        folder, or nothing for the default model shipped with argmine.

        ``device``: ``cpu`` (default), ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (a GPU where
        there is one). A model trained on a GPU loads on a CPU-only machine.
        """
        from argmine.registry import resolve_model

        resolve_device(device)  # an unavailable device fails before any loading
        folder = resolve_model(path)
        for name in (CONFIG_NAME, WEIGHTS_NAME, *TOKENIZER_FILES):
            if not (folder / name).is_file():
                raise ModelLoadError(f"model file missing: {folder / name}")
        model = ArgumentModel.from_pretrained(folder)
        try:
            tokenizer = load_tokenizer(folder)
        except Exception as err:  # tokenizers raise several unrelated types on a bad file
            raise ModelLoadError(f"model file corrupt: tokenizer in {folder}: {err}") from err
        return cls(model, tokenizer, device)

    def save_pretrained(self, path: str | Path) -> None:
        folder = Path(path)
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(str(folder))

    # ------------------------------------------------------------------ prediction
    def parse(self, text: str, segments: Segments | None = None) -> ArgumentGraph:
        """The argument graph of one text. With ``segments`` (char spans), keep exactly those
        units in that order and predict only types, relations and attributes."""
        return next(iter(self.pipe([text], segments=None if segments is None else [segments])))

    def pipe(
        self,
        texts: Iterable[str],
        batch_size: int = 16,
        segments: Iterable[Segments | None] | None = None,
    ) -> Iterator[ArgumentGraph]:
        """Graphs for many texts, in input order, encoded ``batch_size`` documents at a time."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        texts = iter(texts)
        segment_iter = iter(segments) if segments is not None else None
        while batch := list(islice(texts, batch_size)):
            seg_batch = (
                [next(segment_iter, None) for _ in batch] if segment_iter else [None] * len(batch)
            )
            yield from self._parse_batch(batch, seg_batch)

    def _parse_batch(
        self, texts: list[str], segments: list[Segments | None]
    ) -> list[ArgumentGraph]:
        return self._decode_batch(self._encode_batch(texts, segments))

    @torch.inference_mode()
    def _encode_batch(self, texts: list[str], segments: list[Segments | None]) -> EncodedBatch:
        """Check the inputs and run the encoder: everything that does not depend on decoding."""
        for text in texts:
            _check_text(text)
        given = [_check_segments(s, t) for s, t in zip(segments, texts, strict=True)]
        docs = [self.encode(text) for text in texts]
        return docs, self.model.encode(docs), given

    @torch.inference_mode()
    def _decode_batch(self, encoded: EncodedBatch) -> list[ArgumentGraph]:
        """Heads and decoders on encoded documents (cheap: re-run to try decoding settings)."""
        with single_threaded():
            return [self._graph(doc, s, g) for doc, s, g in zip(*encoded, strict=True)]

    def encode(self, text: str) -> DocumentEncoding:
        """Tokenize a text for the model, with page chrome masked out (offsets unchanged)."""
        return encode_text(
            text, self.tokenizer, self.config.max_length, self.config.stride, self.special
        )

    def _graph(
        self, doc: DocumentEncoding, states: torch.Tensor, given: list[tuple[int, int]] | None
    ) -> ArgumentGraph:
        if given is None:
            probs = self.model.tag_logits(states).softmax(-1).cpu()
            found = decode_spans(probs, doc, self.config.min_span_words)
            spans = [(a, b) for a, b, _ in found]
            span_scores = [s for _, _, s in found]
        else:
            spans, span_scores = given, [1.0] * len(given)
        components, relations = [], []
        if spans:
            reps = self.model.span_representations(states, doc, spans)
            type_probs = self.model.classifier(reps).softmax(-1).cpu()
            type_probs = weighted_probs(type_probs, self.config.type_weights)
            link_logits, rel_type_logits = self.model.relations(reps)
            components = [
                _component(doc.text, f"c{i}", span, type_probs[i], span_scores[i])
                for i, span in enumerate(spans)
            ]
            links = decode_relations(
                link_logits.softmax(-1).cpu(),
                rel_type_logits.softmax(-1).cpu(),
                self.config.none_weight,
            )
            relations = [
                Relation(f"c{s}", f"c{t}", kind, round(score, 4)) for s, t, kind, score in links
            ]
        return ArgumentGraph(
            doc.text,
            components,
            relations,
            metadata={"model": self.config.name, "model_version": self.config.version},
        )


def encode_text(
    text: str, tokenizer, max_length: int, stride: int, special: SpecialTokens | None = None
) -> DocumentEncoding:
    """The model's view of ``text``: chrome masked, tokenized, windowed; the text stays the user's.

    Training and prediction both go through here, so the model is trained on exactly the
    input it will see.
    """
    doc = encode_document(mask_chrome(text), tokenizer, max_length, stride, special)
    doc.text = text
    return doc


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one thread inside the block, then restore the caller's setting.

    The heads work on a few dozen vectors per document: with several threads, OpenMP's
    synchronisation costs more than the arithmetic (milliseconds per tiny matrix product on a
    busy 2-core machine, against microseconds on one thread). The encoder keeps all threads.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def weighted_probs(probs: torch.Tensor, weights: Sequence[float]) -> torch.Tensor:
    """Probabilities re-weighted by class priors and renormalised (a calibrated decision rule)."""
    weighted = probs * torch.tensor(weights, dtype=probs.dtype)
    return weighted / weighted.sum(-1, keepdim=True)


def _component(
    text: str, cid: str, span: tuple[int, int], type_probs: torch.Tensor, span_score: float
) -> Component:
    kind = int(type_probs.argmax())
    start, end = span
    return Component(
        id=cid,
        start=start,
        end=end,
        text=text[start:end],
        type=COMPONENT_TYPES[kind],
        score=round(float(type_probs[kind]) * span_score, 4),
        attributes=component_attributes(text[start:end]),
    )


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"argmine parses str, got {type(text).__name__}; decode bytes first")


def _check_segments(segments: Segments | None, text: str) -> list[tuple[int, int]] | None:
    """Given units must be non-empty pairs inside the text; they are kept in the given order."""
    if segments is None:
        return None
    checked = []
    for span in segments:
        try:
            start, end = (int(x) for x in span)
        except (TypeError, ValueError) as err:
            raise ValueError(f"a segment must be a (start, end) pair, got {span!r}") from err
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"segment {span!r} lies outside the text (length {len(text)}) or is empty"
            )
        checked.append((start, end))
    return checked
