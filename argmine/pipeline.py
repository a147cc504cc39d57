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

from argmine.attributes import counterfactual_attributes, decode_parts
from argmine.cleanup import mask_spans, masked_spans
from argmine.devices import resolve_device
from argmine.encoders import SpecialTokens, load_tokenizer, special_tokens
from argmine.graph import COMPONENT_TYPES, ArgumentGraph, Component, Relation
from argmine.inference import PlainTokenizer
from argmine.inputs import InputTextError, check_encodable
from argmine.model import CONFIG_NAME, WEIGHTS_NAME, ArgumentModel, ModelLoadError
from argmine.precision import apply_precision, resolve_precision
from argmine.relations import decode_relations
from argmine.segmentation import (
    DocumentEncoding,
    decode_spans,
    encode_document,
    refine_to_sentences,
)

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
Segments = Sequence[tuple[int, int]]
SORT_BUFFER = 4
"""``pipe`` sorts this many batches' worth of texts by length before batching them."""
MULTITHREADED_HEADS_FROM = 4096
"""Documents of this many tokens or more run their heads on every thread."""
EncodedBatch = tuple[list[DocumentEncoding], list[torch.Tensor], list[list[tuple[int, int]] | None]]


class ArgumentMiner:
    """A trained pipeline. Build it with :func:`argmine.load` or :meth:`from_pretrained`."""

    def __init__(
        self,
        model: ArgumentModel,
        tokenizer,
        device: str | torch.device = "cpu",
        precision: str = "float32",
    ) -> None:
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device, model.config.cpu_precision)
        """The encoder's arithmetic: ``float32``, ``int8`` or ``bfloat16`` (see
        :mod:`argmine.precision`)."""
        model.encoder = apply_precision(model.encoder, self.precision)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.special = special_tokens(tokenizer)

    @property
    def config(self):
        return self.model.config

    # ------------------------------------------------------------------ storage
    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        device: str | torch.device = "cpu",
        precision: str = "auto",
        plain: bool = True,
    ) -> ArgumentMiner:
        """Load a saved pipeline: a shipped model's name (``argmine models`` lists them), a
        folder, or nothing for the default model shipped with argmine.

        ``device``: ``cpu`` (default), ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (a GPU where
        there is one). A model trained on a GPU loads on a CPU-only machine. ``precision``:
        ``auto`` (default: float32, or int8 on x86 CPUs for a model whose config says int8
        keeps its units), ``int8``, ``bfloat16`` or ``float32`` (the reference); see
        :mod:`argmine.precision`. ``plain``: BERT and MPNet bases run without importing
        transformers (:mod:`argmine.inference`, the same graphs, seconds faster to load);
        False loads through transformers, the reference the tests compare against.
        """
        from argmine.registry import resolve_model

        resolve_precision(precision, resolve_device(device))  # fail before any loading
        folder = resolve_model(path)
        for name in (CONFIG_NAME, WEIGHTS_NAME, *TOKENIZER_FILES):
            if not (folder / name).is_file():
                raise ModelLoadError(f"model file missing: {folder / name}")
        model = ArgumentModel.from_pretrained(folder, plain=plain)
        try:
            use_plain = plain and PlainTokenizer.supports(folder)
            tokenizer = PlainTokenizer(folder) if use_plain else load_tokenizer(folder)
        except Exception as err:  # tokenizers raise several unrelated types on a bad file
            raise ModelLoadError(f"model file corrupt: tokenizer in {folder}: {err}") from err
        return cls(model, tokenizer, device, precision)

    def save_pretrained(self, path: str | Path) -> None:
        """Save the model (its trained weights, whatever precision it runs in) and tokenizer."""
        folder = Path(path)
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(str(folder))

    # ------------------------------------------------------------------ prediction
    def parse(
        self,
        text: str,
        segments: Segments | None = None,
        min_score: float | None = None,
        clean: bool = True,
    ) -> ArgumentGraph:
        """The argument graph of one text. With ``segments`` (char spans), keep exactly those
        units in that order and predict only types, relations and attributes. Relations
        scored below ``min_score`` are left out (default: the model's, chosen on dev data).
        ``clean=False`` analyses every character (no page chrome masked)."""
        segment_list = None if segments is None else [segments]
        graphs = self.pipe([text], segments=segment_list, min_score=min_score, clean=clean)
        return next(iter(graphs))

    def pipe(
        self,
        texts: Iterable[str],
        batch_size: int = 16,
        segments: Iterable[Segments | None] | None = None,
        min_score: float | None = None,
        clean: bool = True,
    ) -> Iterator[ArgumentGraph]:
        """Graphs for many texts, in input order, encoded ``batch_size`` documents at a time.

        ``clean`` (default): page chrome is masked (:mod:`argmine.cleanup`), and each graph
        lists what was masked in ``metadata["masked"]``; ``clean=False`` analyses everything.

        Texts are read ``SORT_BUFFER`` batches ahead and batched by length (less padding in
        float32), then given back in input order. A text's graph never depends on the texts
        batched with it (int8 encodes each document on its own, see :meth:`encoder_states`).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        min_score = _check_min_score(min_score)
        texts = iter(texts)
        segment_iter = iter(segments) if segments is not None else None
        while buffer := list(islice(texts, batch_size * SORT_BUFFER)):
            seg_buffer = (
                [next(segment_iter, None) for _ in buffer] if segment_iter else [None] * len(buffer)
            )
            yield from self._parse_in_length_order(buffer, seg_buffer, batch_size, min_score, clean)

    def _parse_in_length_order(
        self,
        texts: list[str],
        segments: list[Segments | None],
        batch_size: int,
        min_score: float | None,
        clean: bool = True,
    ) -> list[ArgumentGraph]:
        for text in texts:
            _check_text(text)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        graphs: list[ArgumentGraph | None] = [None] * len(texts)
        for k in range(0, len(order), batch_size):
            chosen = order[k : k + batch_size]
            encoded = self._encode_batch(
                [texts[i] for i in chosen], [segments[i] for i in chosen], clean
            )
            for i, graph in zip(chosen, self._decode_batch(encoded, min_score), strict=True):
                graphs[i] = graph
        return graphs

    @torch.inference_mode()
    def _encode_batch(
        self, texts: list[str], segments: list[Segments | None], clean: bool = True
    ) -> EncodedBatch:
        """Check the inputs and run the encoder: everything that does not depend on decoding."""
        for text in texts:
            _check_text(text)
        given = [_check_segments(s, t) for s, t in zip(segments, texts, strict=True)]
        docs = [self.encode(text, clean) for text in texts]
        for doc, units in zip(docs, given, strict=True):
            if units and not doc.n_tokens:
                raise _no_tokens_for_segments(doc, self.tokenizer)
        return docs, self.encoder_states(docs), given

    def encoder_states(self, docs: list[DocumentEncoding]) -> list[torch.Tensor]:
        """Token states of each document: one batched pass in float32; in int8, one pass per
        document, because dynamic quantization scales activations per encoder call, so a
        batch's other texts and its padding would change a text's graph."""
        if self.precision == "int8":
            return [self.model.encode([doc])[0] for doc in docs]
        return self.model.encode(docs)

    @torch.inference_mode()
    def _decode_batch(
        self, encoded: EncodedBatch, min_score: float | None = None
    ) -> list[ArgumentGraph]:
        """Heads and decoders on encoded documents (cheap: re-run to try decoding settings)."""
        graphs = []
        for doc, states, given in zip(*encoded, strict=True):
            with single_threaded(doc.n_tokens < MULTITHREADED_HEADS_FROM):
                graphs.append(self._graph(doc, states, given, min_score))
        return graphs

    def encode(self, text: str, clean: bool = True) -> DocumentEncoding:
        """Tokenize a text for the model, with page chrome masked out (offsets unchanged)."""
        return encode_text(
            text, self.tokenizer, self.config.max_length, self.config.stride, self.special, clean
        )

    def _graph(
        self,
        doc: DocumentEncoding,
        states: torch.Tensor,
        given: list[tuple[int, int]] | None,
        min_score: float | None = None,
    ) -> ArgumentGraph:
        spans, span_scores = self._units(doc, states, given)
        components, relations = [], []
        if spans:
            reps = self.model.span_representations(states, doc, spans)
            components = self._components(doc, states, reps, spans, span_scores)
            threshold = self.config.min_link_score if min_score is None else min_score
            relations = self._relations(reps, threshold)
        return ArgumentGraph(
            doc.text,
            components,
            relations,
            metadata={
                "model": self.config.name,
                "model_version": self.config.version,
                "masked": [span.to_dict() for span in doc.masked],
            },
        )

    def _units(
        self, doc: DocumentEncoding, states: torch.Tensor, given: list[tuple[int, int]] | None
    ) -> tuple[list[tuple[int, int]], list[float]]:
        """The given units (score 1), or the tagger's spans with their confidence."""
        if given is not None:
            return given, [1.0] * len(given)
        probs = self.model.tag_logits(states).softmax(-1).cpu()
        found = decode_spans(probs, doc, self.config.min_span_words)
        if self.config.sentence_bounds:
            found = refine_to_sentences(doc.text, found, self.config.min_span_words)
        if doc.masked:  # sentence widening must not reach into what the clean-up hid
            found = _outside_masked(mask_spans(doc.text, doc.masked), found)
        return [(a, b) for a, b, _ in found], [s for _, _, s in found]

    def _components(
        self,
        doc: DocumentEncoding,
        states: torch.Tensor,
        reps: torch.Tensor,
        spans: list[tuple[int, int]],
        span_scores: list[float],
    ) -> list[Component]:
        type_probs = self.model.classifier(reps).softmax(-1).cpu()
        type_probs = weighted_probs(type_probs, self.config.type_weights)
        attributes: list[dict[str, object]] = [{} for _ in spans]
        if self.model.proposition is not None:
            probs = self.model.proposition(reps).softmax(-1).cpu()
            for attrs, row in zip(attributes, probs, strict=True):
                best = int(row.argmax())
                attrs["proposition_type"] = self.config.proposition_labels[best]
                attrs["proposition_type_score"] = round(float(row[best]), 4)
        if self.model.counterfactual is not None:
            for attrs, found in zip(
                attributes, self._counterfactuals(doc, states, spans), strict=True
            ):
                attrs.update(found)
        return [
            _component(doc.text, f"c{i}", span, type_probs[i], span_scores[i], attributes[i])
            for i, span in enumerate(spans)
        ]

    def _counterfactuals(
        self, doc: DocumentEncoding, states: torch.Tensor, spans: list[tuple[int, int]]
    ) -> list[dict[str, object]]:
        """Per span: counterfactual or not, its score, and its antecedent and consequent."""
        detection, tag_logits = self.model.counterfactual_logits(states, doc, spans)
        scores = detection.sigmoid().cpu().tolist()
        threshold = self.config.counterfactual_threshold
        tag_probs = tag_logits.softmax(-1).cpu() if max(scores) >= threshold else None
        return [
            counterfactual_attributes(
                score,
                decode_parts(tag_probs, doc, span) if score >= threshold else None,
                threshold,
            )
            for score, span in zip(scores, spans, strict=True)
        ]

    def _relations(self, reps: torch.Tensor, min_score: float) -> list[Relation]:
        links = decode_relations(
            self.model.relations(reps), self.config.none_weight, self.config.link_temperature
        )
        relations = [Relation(f"c{s}", f"c{t}", kind, round(p, 4)) for s, t, kind, p in links]
        return [r for r in relations if r.score >= min_score]  # the score the reader sees


def encode_text(
    text: str,
    tokenizer,
    max_length: int,
    stride: int,
    special: SpecialTokens | None = None,
    clean: bool = True,
) -> DocumentEncoding:
    """The model's view of ``text``: chrome masked (unless ``clean`` is false), tokenized,
    windowed; the text stays the user's, and ``doc.masked`` says what was hidden.

    Training and prediction both go through here, so the model is trained on exactly the
    input it will see.
    """
    masked = masked_spans(text) if clean else []
    doc = encode_document(mask_spans(text, masked), tokenizer, max_length, stride, special)
    doc.text = text
    doc.masked = masked
    return doc


def _outside_masked(
    visible: str, spans: list[tuple[int, int, float]]
) -> list[tuple[int, int, float]]:
    """Each span trimmed to begin and end on a character the model saw (``visible`` is the
    text with masked ranges blanked); a span left with none is dropped."""
    trimmed = []
    for start, end, score in spans:
        piece = visible[start:end]
        lead, tail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
        if start + lead < end - tail:
            trimmed.append((start + lead, end - tail, score))
    return trimmed


def _no_tokens_for_segments(doc: DocumentEncoding, tokenizer) -> InputTextError:
    """Given units need tokens to be read from; say why there are none."""
    name = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
    hidden = " after the clean-up masked it (pass clean=False / --no-clean)" if doc.masked else ""
    return InputTextError(
        f"segments were given, but the text yields no tokens{hidden} for the tokenizer "
        f"{name!r}: there is nothing to read the units from"
    )


@contextmanager
def single_threaded(enabled: bool = True) -> Iterator[None]:
    """Run torch on one thread inside the block (when ``enabled``), then restore the caller's
    setting.

    The heads work on a few dozen vectors per document: with several threads, OpenMP's
    synchronisation costs more than the arithmetic (milliseconds per tiny matrix product on a
    busy 2-core machine, against microseconds on one thread). The encoder keeps all threads,
    and so do the heads of a long document (``MULTITHREADED_HEADS_FROM`` tokens and more),
    whose thousands of units make matrix products large enough to share out.
    """
    if not enabled:
        yield
        return
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
    text: str,
    cid: str,
    span: tuple[int, int],
    type_probs: torch.Tensor,
    span_score: float,
    attributes: dict[str, object],
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
        attributes=attributes,
    )


def _check_min_score(min_score: float | None) -> float | None:
    if min_score is None:
        return None
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)):
        raise TypeError(f"min_score must be a number, got {type(min_score).__name__}")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
    return min_score


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"argmine parses str, got {type(text).__name__}; decode bytes first")
    check_encodable(text)


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
