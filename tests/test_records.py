"""The document model: a Prediction becomes an AnnotatedDocument through one conversion."""
from __future__ import annotations

import json

from zhibiao.io.convert import write_any
from zhibiao.io.jsonl import read_jsonl
from zhibiao.io.labelstudio import to_labelstudio_tasks
from zhibiao.records import INDICATOR, QUANTITY, AnnotatedDocument, Link, Prediction, Span

TEXT = "脱贫户776户1605人,监测户94户。"


def _pred() -> Prediction:
    ind = Span(0, 3, INDICATOR, "脱贫户", score=0.9)
    q1, q2 = Span(3, 7, QUANTITY, "776户", score=0.8), Span(7, 12, QUANTITY, "1605人", score=0.7)
    mon = Span(13, 16, INDICATOR, "监测户", score=0.6)  # only in a link, not among spans
    q3 = Span(16, 19, QUANTITY, "94户", score=0.5)
    return Prediction(doc_id="d", text=TEXT, spans=[q2, ind, q3, q1],
                      links=[Link(q1, ind, 0.25), Link(q2, ind, 0.5), Link(q3, mon, 0.75)])


def test_to_annotated_numbers_spans_in_order_and_keeps_links():
    doc = _pred().to_annotated()
    assert isinstance(doc, AnnotatedDocument) and doc.id == "d" and doc.text == TEXT
    assert [(e.id, e.text, e.score) for e in doc.entities] == [
        ("1", "脱贫户", 0.9), ("2", "776户", 0.8), ("3", "1605人", 0.7), ("4", "94户", 0.5), ("5", "监测户", 0.6)]
    assert doc.relations == [("2", "1"), ("3", "1"), ("4", "5")]
    assert [(link.quantity.text, link.indicator.text) for link in doc.links()] == [
        ("776户", "脱贫户"), ("1605人", "脱贫户"), ("94户", "监测户")]
    assert _pred().link_scores() == {("2", "1"): 0.25, ("3", "1"): 0.5, ("4", "5"): 0.75}


def test_to_annotated_without_doc_id_and_repeated_links():
    q, i = Span(3, 7, QUANTITY, "776户"), Span(0, 3, INDICATOR, "脱贫户")
    pred = Prediction(doc_id=None, text=TEXT, spans=[q, i], links=[Link(q, i, 0.1), Link(q, i, 0.2)])
    doc = pred.to_annotated()
    assert doc.id == "" and doc.relations == [("2", "1")] and pred.link_scores() == {("2", "1"): 0.2}


def test_every_writer_uses_the_same_conversion(tmp_path):
    pred = _pred()
    write_any([pred], tmp_path / "p.jsonl")
    back = read_jsonl(tmp_path / "p.jsonl")[0]
    doc = pred.to_annotated()
    assert {(e.id, e.start, e.end, e.label) for e in back.entities} == {(e.id, e.start, e.end, e.label)
                                                                        for e in doc.entities}
    assert back.relations == doc.relations
    write_any([pred], tmp_path / "p.doccano.jsonl", fmt="doccano")
    line = json.loads((tmp_path / "p.doccano.jsonl").read_text(encoding="utf-8"))
    assert [(r["from_id"], r["to_id"]) for r in line["relations"]] == [(2, 1), (3, 1), (4, 5)]
    task = to_labelstudio_tasks([pred])[0]
    rels = [(r["from_id"], r["to_id"], r["score"]) for r in task["predictions"][0]["result"] if r["type"] == "relation"]
    assert rels == [("2", "1", 0.25), ("3", "1", 0.5), ("4", "5", 0.75)]
