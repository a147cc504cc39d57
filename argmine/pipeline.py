"""The end-to-end pipeline: ``ArgumentMiner`` turns raw text into :class:`ArgumentGraph` objects.

It loads a model folder (:mod:`argmine.hub`, :mod:`argmine.model`) and puts it on its device
and precision (:mod:`argmine.runtime`); then, for each batch of texts, :meth:`ArgumentMiner.
encode_batch` checks the inputs (:mod:`argmine.inputs`), masks page chrome (:mod:`argmine.
cleanup`) and runs the encoder once, and :meth:`ArgumentMiner.decode_batch` turns the heads'
scores into graphs with the model's decoding settings or those passed in. Encoding is the
expensive half: decoding settings can be tried on one encoding (training's dev tuning does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import torch

from argmine.cleanup import mask_spans
from argmine.graph import COMPONENT_TYPES, ArgumentGraph, Component, Relation
from argmine.hub.folders import ModelLoadError, check_model_files
from argmine.inputs import InputTextError, Segments, check_min_score, check_segments, check_text
from argmine.model.classification import weighted_probs
from argmine.model.config import DecodingSettings
from argmine.model.counterfactuals import (
    counterfactual_attributes,
    decode_parts,
    halves_to_join,
)
from argmine.model.encoders import load_tokenizer, special_tokens
from argmine.model.network import ArgumentModel, SpanOutputs
from argmine.model.plain import PlainTokenizer
from argmine.model.relations import LinkScores, decode_relations
from argmine.model.segmentation import decode_spans, refine_to_sentences
from argmine.model.windows import DocumentEncoding, encode_text
from argmine.runtime import apply_precision, resolve_device, resolve_precision

SORT_BUFFER = 4
"""``pipe`` sorts this many batches' worth of texts by length before batching them."""
MULTITHREADED_HEADS_FROM = 4096
"""Documents of this many tokens or more run their heads on every thread."""


class EncodedBatch(NamedTuple):
    """Encoded documents: what decoding needs, whatever settings it runs with."""

    documents: list[DocumentEncoding]
    states: list[torch.Tensor]
    """Each document's token states ``(n_tokens, hidden)``."""
    segments: list[list[tuple[int, int]] | None]
    """Each document's given units, checked (None: the model segments)."""


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
        :mod:`argmine.runtime`)."""
        model.encoder = apply_precision(
            model.encoder,
            self.precision,
            smoothing=model.config.int8_smoothing,
            input_maxima=model.int8_calibration,
            float_layers=model.config.int8_float_layers,
            outlier_ratio=model.config.int8_outlier_ratio,
        )
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
        ``auto`` (default: the precision the model's config names as keeping its units, where
        this CPU runs it natively, else float32), ``int8``, ``bfloat16`` or ``float32`` (the
        reference); see :mod:`argmine.runtime`. ``plain``: BERT and MPNet bases run without
        importing transformers (:mod:`argmine.model.plain`, the same graphs, seconds faster to
        load); False loads through transformers, the reference the tests compare against.
        """
        from argmine.hub.registry import resolve_model

        resolve_precision(precision, resolve_device(device))  # fail before any loading
        folder = resolve_model(path)
        check_model_files(folder)
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
        batched with it (int8 and bfloat16 encode each document on its own, see
        :meth:`encoder_states`).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        decoding = self.decoding(min_score=check_min_score(min_score))
        texts = iter(texts)
        segment_iter = iter(segments) if segments is not None else None
        while buffer := list(islice(texts, batch_size * SORT_BUFFER)):
            seg_buffer = (
                [next(segment_iter, None) for _ in buffer] if segment_iter else [None] * len(buffer)
            )
            yield from self._parse_in_length_order(buffer, seg_buffer, batch_size, decoding, clean)

    def decoding(self, min_score: float | None = None, **settings: Any) -> DecodingSettings:
        """The model's decoding settings (chosen on dev data), with ``min_score`` (the relation
        score threshold) and any other of :class:`DecodingSettings` replaced for a call."""
        if min_score is not None:
            settings["min_link_score"] = min_score
        return replace(self.config.decoding(), **settings)

    def _parse_in_length_order(
        self,
        texts: list[str],
        segments: list[Segments | None],
        batch_size: int,
        decoding: DecodingSettings,
        clean: bool = True,
    ) -> list[ArgumentGraph]:
        for text in texts:
            check_text(text)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        graphs: list[ArgumentGraph | None] = [None] * len(texts)
        for k in range(0, len(order), batch_size):
            chosen = order[k : k + batch_size]
            encoded = self.encode_batch(
                [texts[i] for i in chosen], [segments[i] for i in chosen], clean
            )
            for i, graph in zip(chosen, self.decode_batch(encoded, decoding), strict=True):
                graphs[i] = graph
        return graphs

    @torch.inference_mode()
    def encode_batch(
        self,
        texts: Sequence[str],
        segments: Sequence[Segments | None] | None = None,
        clean: bool = True,
    ) -> EncodedBatch:
        """Check the inputs and run the encoder: everything that does not depend on decoding
        settings, so that several settings can be decoded from one encoding."""
        segments = [None] * len(texts) if segments is None else segments
        for text in texts:
            check_text(text)
        given = [check_segments(s, t) for s, t in zip(segments, texts, strict=True)]
        docs = [self.encode(text, clean) for text in texts]
        for doc, units in zip(docs, given, strict=True):
            if units and not doc.n_tokens:
                raise _no_tokens_for_segments(doc, self.tokenizer)
        return EncodedBatch(docs, self.encoder_states(docs), given)

    def encoder_states(self, docs: list[DocumentEncoding]) -> list[torch.Tensor]:
        """Token states of each document: one batched pass in float32; in int8 and bfloat16,
        one pass per document, because a batch's other texts and its padding would change a
        text's graph (dynamic quantization scales activations per encoder call; bfloat16's
        short mantissa turns the kernels' other summation order into other units: batched,
        1 of 48 CDCP dev comments got other units and scores moved by up to 0.28)."""
        if self.precision != "float32":
            return [self.model.encode([doc])[0] for doc in docs]
        return self.model.encode(docs)

    @torch.inference_mode()
    def decode_batch(
        self, encoded: EncodedBatch, decoding: DecodingSettings | None = None
    ) -> list[ArgumentGraph]:
        """Heads and decoders on encoded documents (cheap: re-run to try decoding settings);
        ``decoding`` defaults to the model's own (:meth:`decoding`)."""
        decoding = decoding or self.decoding()
        graphs = []
        for doc, states, given in zip(*encoded, strict=True):
            with single_threaded(doc.n_tokens < MULTITHREADED_HEADS_FROM):
                graphs.append(self._graph(doc, states, given, decoding))
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
        decoding: DecodingSettings,
    ) -> ArgumentGraph:
        spans, span_scores, counterfactuals = self._units(doc, states, given, decoding)
        components, relations = [], []
        if spans:
            outputs = self.model.span_outputs(states, doc, spans)
            components = self._components(
                doc, states, outputs, spans, span_scores, decoding, counterfactuals
            )
            relations = _relations(outputs.links, decoding)
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
        self,
        doc: DocumentEncoding,
        states: torch.Tensor,
        given: list[tuple[int, int]] | None,
        decoding: DecodingSettings,
    ) -> tuple[list[tuple[int, int]], list[float], list[dict[str, object]] | None]:
        """The given units (score 1), or the tagger's spans with their confidence; and the
        units' counterfactual attributes where joining halves computed them for these very
        units (None: not computed)."""
        if given is not None:
            return given, [1.0] * len(given), None
        probs = self.model.tag_logits(states).softmax(-1).cpu()
        found = decode_spans(probs, doc, self.config.min_span_words)
        if decoding.sentence_bounds:
            found = refine_to_sentences(doc.text, found, self.config.min_span_words)
        if doc.masked:  # sentence widening must not reach into what the clean-up hid
            found = _outside_masked(mask_spans(doc.text, doc.masked), found)
        counterfactuals = None
        if decoding.join_counterfactual_halves and self.model.counterfactual is not None and found:
            found, counterfactuals = self._join_counterfactual_halves(doc, states, found, decoding)
        return [(a, b) for a, b, _ in found], [s for _, _, s in found], counterfactuals

    def _join_counterfactual_halves(
        self,
        doc: DocumentEncoding,
        states: torch.Tensor,
        found: list[tuple[int, int, float]],
        decoding: DecodingSettings,
    ) -> tuple[list[tuple[int, int, float]], list[dict[str, object]] | None]:
        """The found units with each conditional cut in two made whole again (its confidence:
        the lower of the halves'), and, when none was, the units' counterfactual attributes
        (the heads need not run on the same units twice)."""
        spans = [(a, b) for a, b, _ in found]
        parts = self._counterfactuals(doc, states, spans, decoding.counterfactual_threshold)
        pairs = halves_to_join(doc.text, spans, parts)
        for i, j in reversed(pairs):
            (start, _, first), (_, end, second) = found[i], found[j]
            found[i : j + 1] = [(start, end, min(first, second))]
        return found, None if pairs else parts

    def _components(
        self,
        doc: DocumentEncoding,
        states: torch.Tensor,
        outputs: SpanOutputs,
        spans: list[tuple[int, int]],
        span_scores: list[float],
        decoding: DecodingSettings,
        counterfactuals: list[dict[str, object]] | None = None,
    ) -> list[Component]:
        type_probs = weighted_probs(outputs.types.softmax(-1).cpu(), decoding.type_weights)
        attributes = self._proposition_types(outputs)
        if self.model.counterfactual is not None:
            found = counterfactuals
            if found is None:
                found = self._counterfactuals(doc, states, spans, decoding.counterfactual_threshold)
            for attrs, parts in zip(attributes, found, strict=True):
                attrs.update(parts)
        return [
            _component(doc.text, f"c{i}", span, type_probs[i], span_scores[i], attributes[i])
            for i, span in enumerate(spans)
        ]

    def _proposition_types(self, outputs: SpanOutputs) -> list[dict[str, object]]:
        """Per span, its proposition type and that type's probability (where the model has
        the head), as the first of its attributes."""
        if outputs.proposition_types is None:
            return [{} for _ in range(len(outputs.vectors))]
        labels = self.config.proposition_labels
        attributes: list[dict[str, object]] = []
        for row in outputs.proposition_types.softmax(-1).cpu():
            best = int(row.argmax())
            attributes.append(
                {
                    "proposition_type": labels[best],
                    "proposition_type_score": round(float(row[best]), 4),
                }
            )
        return attributes

    def _counterfactuals(
        self,
        doc: DocumentEncoding,
        states: torch.Tensor,
        spans: list[tuple[int, int]],
        threshold: float,
    ) -> list[dict[str, object]]:
        """Per span: counterfactual or not, its score, and its antecedent and consequent."""
        detection, tag_logits = self.model.counterfactual_logits(states, doc, spans)
        scores = detection.sigmoid().cpu().tolist()
        tag_probs = tag_logits.softmax(-1).cpu() if max(scores) >= threshold else None
        return [
            counterfactual_attributes(
                score,
                decode_parts(tag_probs, doc, span) if score >= threshold else None,
                threshold,
            )
            for score, span in zip(scores, spans, strict=True)
        ]


def _relations(links: LinkScores, decoding: DecodingSettings) -> list[Relation]:
    """The decoded links, leaving out those scored below ``decoding.min_link_score`` (the
    rounded score the reader sees: calibrated where the model has a link calibration)."""
    decoded = decode_relations(
        links, decoding.none_weight, decoding.link_temperature, decoding.link_calibration
    )
    relations = [Relation(f"c{s}", f"c{t}", kind, round(p, 4)) for s, t, kind, p in decoded]
    return [r for r in relations if r.score >= decoding.min_link_score]


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
