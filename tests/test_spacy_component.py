"""The spaCy component: ``spacy.blank("zh").add_pipe("zhibiao")`` on a seed report gives doc.ents
over the original text, the links with their scores and the records on Doc extensions, and works
in ``nlp.pipe(..., as_tuples=True)`` and through ``Doc.to_bytes``."""
from __future__ import annotations

import importlib.metadata

import pytest
import spacy
from spacy.tokens import Doc

import zhibiao
import zhibiao.spacy_component  # noqa: F401 - registers the factory (an install finds it by entry point)
from zhibiao.extract import default_model_path

SHIPPED = (default_model_path() / "model.safetensors").exists()
MODELS = ["rules"] + (["default"] if SHIPPED else [])


@pytest.fixture(scope="module", params=MODELS)
def pipeline(request):
    model = None if request.param == "default" else request.param
    nlp = spacy.blank("zh")
    nlp.add_pipe("zhibiao", config={"model": model})
    return nlp, zhibiao.load(model)


@pytest.fixture(scope="module")
def seed_text(seed_dir):
    return sorted(seed_dir.glob("*.txt"))[0].read_text(encoding="utf-8")


def test_blank_zh_segments_per_character():
    assert [t.text for t in spacy.blank("zh")("脱贫户776户")] == list("脱贫户776户")


def test_ents_links_and_records_on_a_seed(pipeline, seed_text):
    nlp, extractor = pipeline
    doc = nlp(seed_text)
    pred = extractor.predict([seed_text])[0]
    want = sorted((s.start, s.end, s.label) for s in pred.to_annotated().entities)
    assert len(want) > 20
    assert sorted((e.start_char, e.end_char, e.label_) for e in doc.ents) == want
    for e in doc.ents:
        assert e.text == seed_text[e.start_char:e.end_char]
    links = doc._.zhibiao_links
    def rounded(score):  # None: the rule baseline scores no link
        return None if score is None else round(score, 6)

    assert [(l.quantity.start_char, l.quantity.end_char, l.indicator.start_char, l.indicator.end_char,
             rounded(l.score)) for l in links] == \
        sorted((l.quantity.start, l.quantity.end, l.indicator.start, l.indicator.end, rounded(l.score))
               for l in pred.links)
    assert all(l.quantity.label_ == "QUANTITY" and l.indicator.label_ == "INDICATOR" for l in links)
    assert doc._.zhibiao_records == extractor(seed_text)


def test_pipe_as_tuples_keeps_contexts_and_names_documents(pipeline, seed_text):
    nlp, extractor = pipeline
    texts = [seed_text, "對全鎮(zhèn)監測對象２３戶７８人進行識別。", "大佛镇脱贫户776户1605人。"]
    contexts = ["seed", {"id": "trad", "page": 2}, None]
    out = list(nlp.pipe(zip(texts, contexts), as_tuples=True, batch_size=2))
    assert [c for _, c in out] == contexts
    for (doc, _), text, doc_id in zip(out, texts, ["seed", "trad", None]):
        assert doc.text == text
        assert doc._.zhibiao_records == extractor(text, doc_id=doc_id)
        assert all(r.doc_id == doc_id for r in doc._.zhibiao_records)
    assert any(e.text == "２３戶" for e in out[1][0].ents)  # traditional, full-width: the original characters


def test_the_annotations_survive_to_bytes(pipeline, seed_text):
    nlp, _ = pipeline
    doc = nlp(seed_text)
    back = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    key = lambda links: [(l.quantity.start_char, l.indicator.start_char, l.score) for l in links]  # noqa: E731
    assert key(back._.zhibiao_links) == key(doc._.zhibiao_links) != []
    assert back._.zhibiao_records == doc._.zhibiao_records


def test_other_entities_stay_where_they_do_not_overlap():
    nlp = spacy.blank("zh")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "GPE", "pattern": [{"TEXT": "乐"}, {"TEXT": "至"}]},
                        {"label": "OLD", "pattern": [{"TEXT": "7"}, {"TEXT": "7"}]}])
    nlp.add_pipe("zhibiao", config={"model": "rules"})
    doc = nlp("乐至县脱贫户776户。")
    assert [(e.text, e.label_) for e in doc.ents] == [("乐至", "GPE"), ("脱贫户", "INDICATOR"), ("776户", "QUANTITY")]


def test_the_factory_config_is_the_load_arguments():
    nlp = spacy.blank("zh")
    pipe = nlp.add_pipe("zhibiao", config={"model": "rules", "all_quantities": True, "batch_size": 4})
    assert nlp.config["components"]["zhibiao"]["model"] == "rules"
    assert pipe.all_quantities is True and pipe.batch_size == 4 and pipe.extractor.name == "rules"
    doc = nlp("完成投资20万元。")
    assert [r.quantity for r in doc._.zhibiao_records] == ["20万元"] and doc._.zhibiao_links == []


def test_an_installed_zhibiao_declares_the_entry_point():
    """Where zhibiao is installed from this tree, spaCy finds the factory by entry point."""
    eps = [ep for ep in importlib.metadata.entry_points(group="spacy_factories") if ep.name == "zhibiao"]
    if not eps:
        pytest.skip("the installed zhibiao metadata predates the spacy_factories entry point (reinstall: pip install -e .)")
    assert eps[0].value == "zhibiao.spacy_component:make_zhibiao"
