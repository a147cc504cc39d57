"""The spaCy component on a blank pipeline with the tiny model: spans, graph, relations, pipe,
saving, displaCy, serialization and errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

spacy = pytest.importorskip("spacy")

from conftest import TINY_TEXTS  # noqa: E402
from spacy.tokens import Doc, DocBin  # noqa: E402

from argmine.graph import ArgumentGraph, Component, Relation  # noqa: E402
from argmine.hub.folders import ModelLoadError  # noqa: E402

TEXTS = [text for text, _, _ in TINY_TEXTS]


@pytest.fixture
def nlp(shared_miner, tiny_model_dir):
    """A blank English pipeline: a sentencizer, then argmine with the tiny model."""
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("argmine", config={"model": str(tiny_model_dir)})
    return pipeline


def test_doc_gets_the_graph_and_one_span_per_component(nlp, tiny_miner):
    doc = nlp(TEXTS[0])
    graph = doc._.argument_graph
    assert isinstance(graph, ArgumentGraph)
    assert graph.to_dict() == tiny_miner.parse(TEXTS[0]).to_dict()  # offsets into doc.text
    spans = doc.spans["arguments"]
    assert graph.components and len(spans) == len(graph.components)
    for span, component in zip(spans, graph, strict=True):  # text order
        assert span.label_ == component.type
        assert span.id_ == component.id
        assert span._.argument == component
        assert span._.argument_score == component.score
        assert span._.argument_attributes == component.attributes
        assert span.start_char <= component.start < component.end <= span.end_char
    assert spans.attrs["scores"] == [c.score for c in graph]
    assert len(list(doc.sents)) == 5  # the sentencizer's work is kept


def test_relations_are_reachable_from_spans(nlp):
    doc = nlp(TEXTS[0])
    graph = doc._.argument_graph
    assert graph.relations
    by_id = {span.id_: span for span in doc.spans["arguments"]}
    for r in graph.relations:
        source, target = by_id[r.source], by_id[r.target]
        expected = (r.type, r.source, r.target, r.score)
        for end in (source, target):
            found = [
                (x.type, x.source.id_, x.target.id_, x.score) for x in end._.argument_relations
            ]
            assert expected in found
        supporters = {s.id_ for s in target._.argument_supporters}
        attackers = {s.id_ for s in target._.argument_attackers}
        assert (r.source in supporters, r.source in attackers) == (
            r.type == "support",
            r.type == "attack",
        )
    for span in doc.spans["arguments"]:  # nothing else is listed
        assert len(span._.argument_relations) == len(
            [r for r in graph.relations if span.id_ in (r.source, r.target)]
        )


def test_other_spans_have_no_argument(nlp):
    doc = nlp(TEXTS[0])
    sentence = next(iter(doc.sents))
    assert sentence._.argument is None and sentence._.argument_relations == []
    assert sentence._.argument_attributes == {} and sentence._.argument_score is None
    assert spacy.blank("en")("No argmine here.")._.argument_graph is None


def test_units_off_token_boundaries_expand_to_whole_tokens(nlp):
    doc = nlp.make_doc("We should ban cars. They pollute.")
    cut = Component("c0", 4, 17, doc.text[4:17], "conclusion", 0.9)  # "hould ban car"
    graph = ArgumentGraph(doc.text, [cut, Component("c1", 20, 32, "They pollute", "claim")])
    graph.relations.append(Relation("c1", "c0", "support", 0.8))
    nlp.get_pipe("argmine").set_annotations(doc, graph)
    first, second = doc.spans["arguments"]
    assert first.text == "should ban cars" and first._.argument.text == "hould ban car"
    assert [s.text for s in first._.argument_supporters] == ["They pollute"]
    assert second._.argument_relations[0].target.text == "should ban cars"


def test_pipe_batches_through_the_miners_pipe(nlp, monkeypatch):
    component = nlp.get_pipe("argmine")
    expected = [nlp(text)._.argument_graph.to_dict() for text in TEXTS]
    calls = []
    real_pipe = type(component.miner).pipe

    def spy(self, texts, **options):
        texts = list(texts)
        calls.append((len(texts), options.get("batch_size")))
        return real_pipe(self, texts, **options)

    monkeypatch.setattr(type(component.miner), "pipe", spy)
    texts = TEXTS * 3
    docs = list(nlp.pipe(texts))
    assert [d.text for d in docs] == texts  # input order
    assert calls == [(6, 16)]  # one call for all six, in the component's batch size
    assert [d._.argument_graph.to_dict() for d in docs] == expected * 3


def test_model_loads_once_per_pipeline(shared_miner, tiny_model_dir, monkeypatch):
    from argmine.pipeline import ArgumentMiner

    loads = []
    patched = ArgumentMiner.from_pretrained.__func__

    def counting(cls, *args, **kwargs):
        loads.append(args)
        return patched(cls, *args, **kwargs)

    monkeypatch.setattr(ArgumentMiner, "from_pretrained", classmethod(counting))
    nlp = spacy.blank("en")
    nlp.add_pipe("argmine", config={"model": str(tiny_model_dir)})
    nlp.initialize()  # nothing to train: a no-op
    nlp(TEXTS[0])
    list(nlp.pipe(TEXTS))
    assert len(loads) == 1


def test_settings_survive_to_disk_and_spacy_load(shared_miner, tiny_model_dir, tmp_path):
    nlp = spacy.blank("en")
    config = {"model": str(tiny_model_dir), "min_score": 0.3, "batch_size": 4, "spans_key": "arg"}
    nlp.add_pipe("argmine", config=config)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    component = loaded.get_pipe("argmine")
    assert (component.min_score, component.batch_size, component.spans_key) == (0.3, 4, "arg")
    assert loaded.get_pipe_config("argmine")["model"] == str(tiny_model_dir)
    doc = loaded(TEXTS[0])
    assert all(r.score >= 0.3 for r in doc._.argument_graph.relations)
    assert len(doc.spans["arg"]) == len(doc._.argument_graph.components)


def test_min_score_leaves_out_weak_relations(shared_miner, tiny_model_dir):
    nlp = spacy.blank("en")
    nlp.add_pipe("argmine", config={"model": str(tiny_model_dir), "min_score": 1.0})
    assert all(r.score == 1.0 for r in nlp(TEXTS[0])._.argument_graph.relations)


def test_displacy_span_view_shows_the_units(nlp):
    from spacy import displacy

    from argmine.integrations.spacy import displacy_options

    doc = nlp(TEXTS[0])
    html = displacy.render(doc, style="span", options={"spans_key": "arguments"})
    for span in doc.spans["arguments"]:
        assert span.label_ in html
    coloured = displacy.render(doc, style="span", options=displacy_options())
    assert "#f9c784" in coloured  # conclusions in argmine's colour


def test_graph_and_spans_survive_doc_serialization(nlp):
    doc = nlp(TEXTS[0])
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert again._.argument_graph.to_dict() == doc._.argument_graph.to_dict()
    assert [(s.text, s.label_, s.id_) for s in again.spans["arguments"]] == [
        (s.text, s.label_, s.id_) for s in doc.spans["arguments"]
    ]
    box = DocBin(store_user_data=True, docs=[doc])
    (restored,) = DocBin().from_bytes(box.to_bytes()).get_docs(nlp.vocab)
    assert restored.spans["arguments"][0]._.argument == doc.spans["arguments"][0]._.argument


def test_errors_in_pipe_go_to_the_error_handler(nlp, monkeypatch):
    component = nlp.get_pipe("argmine")

    def broken(*args, **kwargs):
        raise RuntimeError("model failed")

    monkeypatch.setattr(component.miner, "pipe", broken)
    with pytest.raises(RuntimeError, match="model failed"):  # by default, raised
        list(nlp.pipe(TEXTS))
    seen = []
    component.set_error_handler(lambda name, proc, docs, error: seen.append((name, len(docs))))
    assert list(nlp.pipe(TEXTS)) == []
    assert seen == [("argmine", 2)]


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"min_score": 1.5}, ValueError, "min_score must be between 0 and 1"),
        ({"batch_size": 0}, ValueError, "batch_size must be"),
        ({"spans_key": ""}, ValueError, "spans_key must be"),
    ],
)
def test_bad_settings_fail_at_add_pipe(shared_miner, tiny_model_dir, config, error, message):
    nlp = spacy.blank("en")
    with pytest.raises(error, match=message):
        nlp.add_pipe("argmine", config={"model": str(tiny_model_dir), **config})
    assert "argmine" not in nlp.pipe_names


def test_unknown_model_or_precision_fails_at_add_pipe():
    with pytest.raises(ModelLoadError, match="no model named 'no-such-model'"):
        spacy.blank("en").add_pipe("argmine", config={"model": "no-such-model"})
    with pytest.raises(ValueError, match="int4"):
        spacy.blank("en").add_pipe("argmine", config={"precision": "int4"})


def test_factory_comes_from_the_entry_point_without_importing_argmine():
    check = (
        "import sys, spacy\n"
        "assert 'argmine' not in sys.modules\n"
        "nlp = spacy.blank('en')\n"
        "assert nlp.has_factory('argmine')\n"
        "assert 'argmine.integrations.spacy' in sys.modules  # loaded by spaCy\n"
        "assert 'doc._.argument_graph' in nlp.get_factory_meta('argmine').assigns\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
