"""evaluate() on hand-made gold and predictions whose link metrics are known by hand."""
from __future__ import annotations

import pytest

from zhibiao.evaluate import evaluate
from zhibiao.records import INDICATOR, QUANTITY, AnnotatedDocument, Link, Prediction, Span
from zhibiao.taxonomy import IndicatorType, Taxonomy

TEXT = "脱贫户776户1605人,监测户94户190人。"
#       0  3   7    12 13 16  19   23


def S(a: int, b: int, label: str, id_: str | None = None, type_: str | None = None) -> Span:
    return Span(a, b, label, TEXT[a:b], id=id_, indicator_type=type_)


def _gold() -> AnnotatedDocument:
    ents = [S(0, 3, INDICATOR, "i1", "a"), S(3, 7, QUANTITY, "q1"), S(7, 12, QUANTITY, "q2"),
            S(13, 16, INDICATOR, "i2", "b"), S(16, 19, QUANTITY, "q3"), S(19, 23, QUANTITY, "q4")]
    return AnnotatedDocument("d", TEXT, ents, [("q1", "i1"), ("q2", "i1"), ("q3", "i2"), ("q4", "i2")])


def _pred() -> Prediction:
    i1, i1_part, i2 = S(0, 3, INDICATOR), S(1, 3, INDICATOR), S(13, 16, INDICATOR)
    q1, q2, q3, q4_part, q4 = (S(3, 7, QUANTITY), S(7, 12, QUANTITY), S(16, 19, QUANTITY), S(20, 23, QUANTITY),
                               S(19, 23, QUANTITY))
    links = [
        Link(q1, i1, 0.9),        # exact: strict and relaxed
        Link(q2, i1_part, 0.7),   # indicator 贫户 overlaps 脱贫户: relaxed only
        Link(q3, i1, 0.6),        # wrong indicator: neither
        Link(q4_part, i2, 0.3),   # overlaps gold q4 -> i2, but q4 -> i2 below matches it better
        Link(q4, i2, 0.8),        # exact: strict and relaxed
    ]
    return Prediction("d", TEXT, [i1, i1_part, i2, q1, q2, q3, q4_part, q4], links)


def test_link_precision_recall_f1_strict_and_relaxed():
    m = evaluate([_gold()], [_pred()])
    assert m["n_gold_links"] == 4
    # strict: 2 of 5 predicted links are gold, 2 of 4 gold links found
    assert m["link_strict_precision"] == pytest.approx(2 / 5)
    assert m["link_strict_recall"] == pytest.approx(2 / 4)
    assert m["link_strict_f1"] == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    # relaxed, one-to-one: q1->i1, q2->贫户, q4->i2 (the 90人 link loses gold q4 -> i2 to it)
    assert m["link_relaxed_precision"] == pytest.approx(3 / 5)
    assert m["link_relaxed_recall"] == pytest.approx(3 / 4)
    assert m["link_relaxed_f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    # quantities: 4 of the 5 predicted spans are exact
    assert (m["quantity_precision"], m["quantity_recall"]) == (pytest.approx(4 / 5), 1.0)
    # calibration: |0.9-1|, |0.7-1|, |0.6-0|, |0.3-0|, |0.8-1| each in its own bin, over 5
    assert m["link_ece"] == pytest.approx((0.1 + 0.3 + 0.6 + 0.3 + 0.2) / 5)


def test_type_accuracy_over_relaxed_links():
    tax = Taxonomy([IndicatorType("a", "A", "", ("脱贫户",)), IndicatorType("c", "C", "", ("监测户",))])
    m = evaluate([_gold()], [_pred()], taxonomy=tax)
    # relaxed pairs with a typed gold indicator: 脱贫户 (a, right), 贫户 (a by similarity, right),
    # 监测户 (gold b, taxonomy c: wrong)
    assert m["n_typed_links"] == 3
    assert m["type_accuracy"] == pytest.approx(2 / 3)


def test_no_predicted_links_and_no_gold_links():
    pred = _pred()
    none = evaluate([_gold()], [Prediction("d", TEXT, pred.spans, [])])
    assert (none["link_strict_precision"], none["link_strict_recall"], none["link_relaxed_recall"]) == (0.0, 0.0, 0.0)
    gold = _gold()
    empty = evaluate([AnnotatedDocument("d", TEXT, gold.entities, [])], [Prediction("d", TEXT, pred.spans, [])])
    assert (empty["link_strict_precision"], empty["link_strict_recall"], empty["link_strict_f1"]) == (1.0, 1.0, 1.0)


def test_documents_must_line_up():
    with pytest.raises(ValueError, match="different text"):
        evaluate([_gold()], [Prediction("d", TEXT + "x")])
    with pytest.raises(ValueError, match="1 gold documents but 0 predictions"):
        evaluate([_gold()], [])
