"""``Extractor.pipe`` takes ``(text, context)`` pairs, spaCy's order, and refuses a swapped pair
(zhibiao 0.1 took ``(doc_id, text)``); the context names the document; ``as_tuples``."""
from __future__ import annotations

import pytest

import zhibiao
from zhibiao.extract import context_doc_id

TEXTS = ["大佛镇脱贫户776户1605人,监测户94户190人。", "對全鎮監測對象２３戶７８人進行識別。", "开发公益性岗位132个。"]


@pytest.fixture(scope="module")
def nlp():
    return zhibiao.load("rules")


def test_pairs_are_text_then_doc_id(nlp):
    piped = list(nlp.pipe([(t, f"d{k}") for k, t in enumerate(TEXTS)], batch_size=2))
    single = [nlp(t, doc_id=f"d{k}") for k, t in enumerate(TEXTS)]
    assert piped == single and all(piped)
    assert {r.doc_id for recs in piped for r in recs} == {"d0", "d1", "d2"}
    assert [len(rs) for rs in nlp.pipe(TEXTS)] == [len(rs) for rs in single]


def test_context_names_the_document(nlp):
    contexts = [{"doc_id": "a", "page": 3}, {"id": 7}, 12]
    out = list(nlp.pipe(list(zip(TEXTS, contexts))))
    assert [recs[0].doc_id for recs in out] == ["a", "7", "12"]
    assert context_doc_id(None) is None and context_doc_id(object()) is None and context_doc_id(True) is None
    assert context_doc_id({"doc_id": "x", "id": "y"}) == "x"


def test_as_tuples_gives_the_context_back_as_given(nlp):
    contexts = [{"doc_id": "a", "page": 3}, None, ("any", "object")]
    out = list(nlp.pipe(list(zip(TEXTS, contexts)), batch_size=2, as_tuples=True))
    assert [c for _, c in out] == contexts and out[2][1] is contexts[2]
    assert [recs for recs, _ in out] == [nlp(t, doc_id=context_doc_id(c)) for t, c in zip(TEXTS, contexts)]
    with pytest.raises(TypeError, match=r"\(text, context\) pairs"):
        list(nlp.pipe(TEXTS, as_tuples=True))


@pytest.mark.parametrize("pair", [("d0", TEXTS[0]), ("2023年报告.txt", TEXTS[0]), ("d1", "第一段\n第二段")])
def test_a_swapped_pair_is_refused_naming_the_order(nlp, pair):
    with pytest.raises(ValueError, match=r"\(text, context\) pairs, spaCy's order") as exc:
        list(nlp.pipe([pair]))
    assert "swapped" in str(exc.value)


def test_a_pair_whose_first_item_is_not_a_text_is_refused(nlp):
    with pytest.raises(TypeError, match=r"\(text, context\).*first item is int"):
        list(nlp.pipe([(3, TEXTS[0])]))
    with pytest.raises(TypeError, match=r"swap them"):
        list(nlp.pipe([(None, TEXTS[0])]))
    with pytest.raises(TypeError, match="length 3"):
        list(nlp.pipe([(TEXTS[0], "a", "b")]))
    with pytest.raises(TypeError, match="str texts or"):
        list(nlp.pipe([b"bytes"]))


def test_short_texts_and_long_ids_pass_where_unambiguous(nlp):
    """A short text with an ASCII id longer than it is fine; an id that reads like Chinese text and is
    longer than the text goes in a dict context."""
    assert list(nlp.pipe([("脱贫户776户", "reports/county/2023/summary-final.txt")]))[0][0].doc_id \
        == "reports/county/2023/summary-final.txt"
    long_id = "四川省资阳市乐至县大佛镇2023年工作总结.txt"
    with pytest.raises(ValueError):
        list(nlp.pipe([("脱贫户776户", long_id)]))
    assert list(nlp.pipe([("脱贫户776户", {"doc_id": long_id})]))[0][0].doc_id == long_id
