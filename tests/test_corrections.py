"""The stand-off corrections overlay (annotations/real_corrections.jsonl) and its application."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhibiao.errors import AnnotationError
from zhibiao.io.corrections import apply_corrections, read_corrections
from zhibiao.io.jsonl import doc_from_dict

ROOT = Path(__file__).resolve().parents[1]
TEXT = "全村监测户12户30人,其中新增2户5人。"


def _doc():
    return doc_from_dict({"id": "D1", "text": TEXT, "entities": [
        {"id": 1, "label": "INDICATOR", "start_offset": 2, "end_offset": 5},   # 监测户
        {"id": 2, "label": "QUANTITY", "start_offset": 5, "end_offset": 8},    # 12户
        {"id": 3, "label": "QUANTITY", "start_offset": 8, "end_offset": 11},   # 30人
        {"id": 4, "label": "INDICATOR", "start_offset": 14, "end_offset": 16},  # 新增 (wrong: status word)
        {"id": 5, "label": "QUANTITY", "start_offset": 16, "end_offset": 18},  # 2户
        {"id": 6, "label": "QUANTITY", "start_offset": 18, "end_offset": 20},  # 5人
    ], "relations": [{"from_id": 2, "to_id": 1}, {"from_id": 3, "to_id": 1}, {"from_id": 5, "to_id": 4},
                     {"from_id": 6, "to_id": 4}]}, "test")


def _overlay(tmp_path, rows) -> Path:
    path = tmp_path / "corr.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_status_word_fix_relinks_and_removes(tmp_path):
    doc = _doc()
    path = _overlay(tmp_path, [
        {"doc": "D1", "op": "link", "entity": 5, "to": 1, "why": "status rule"},
        {"doc": "D1", "op": "link", "entity": 6, "to": 1},
        {"doc": "D1", "op": "remove", "entity": 4, "text": "新增"},
    ])
    assert apply_corrections([doc], read_corrections(path)) == 3
    assert sorted(doc.relations) == [("2", "1"), ("3", "1"), ("5", "1"), ("6", "1")]
    assert [e.text for e in doc.indicators] == ["监测户"]


def test_span_and_add_check_the_text(tmp_path):
    doc = _doc()
    path = _overlay(tmp_path, [
        {"doc": "D1", "op": "span", "entity": 1, "start": 0, "end": 5, "was": "监测户", "text": "全村监测户"},
        {"doc": "D1", "op": "add", "entity": "c1", "label": "INDICATOR", "start": 12, "end": 14, "text": "其中"},
        {"doc": "D1", "op": "link", "entity": 5, "to": "c1"},
        {"doc": "D1", "op": "link", "entity": 2, "to": None},
    ])
    apply_corrections([doc], read_corrections(path))
    assert doc.entity("1").text == "全村监测户" and doc.entity("c1").text == "其中"
    assert ("5", "c1") in doc.relations and not any(a == "2" for a, _ in doc.relations)


@pytest.mark.parametrize("row, message", [
    ({"doc": "D1", "op": "span", "entity": 1, "start": 2, "end": 5, "was": "脱贫户"}, "stale"),
    ({"doc": "D1", "op": "remove", "entity": 9}, "no entity"),
    ({"doc": "D1", "op": "add", "entity": 1, "label": "QUANTITY", "start": 5, "end": 8}, "already has"),
    ({"doc": "D1", "op": "add", "entity": "c2", "label": "QUANTITY", "start": 5, "end": 99}, "do not fit"),
    ({"doc": "D1", "op": "rename", "entity": 1}, "one of"),
])
def test_a_bad_or_stale_correction_names_its_line(tmp_path, row, message):
    path = _overlay(tmp_path, [{"doc": "D1", "op": "link", "entity": 2, "to": 1}, row])
    with pytest.raises(AnnotationError) as exc:
        apply_corrections([_doc()], read_corrections(path))
    assert f"{path}:2" in str(exc.value) and message in str(exc.value)


def test_corrections_for_absent_documents_are_ignored_unless_strict(tmp_path):
    path = _overlay(tmp_path, [{"doc": "OTHER", "op": "remove", "entity": 1}])
    assert apply_corrections([_doc()], read_corrections(path)) == 0
    with pytest.raises(AnnotationError):
        apply_corrections([_doc()], read_corrections(path), strict=True)


def test_the_project_overlay_is_well_formed_and_holds_no_long_passages():
    rows = read_corrections(ROOT / "annotations" / "real_corrections.jsonl")
    assert rows, "the overlay is empty"
    for where, c in rows:
        assert c.get("why"), f"{where}: every correction says why"
        for key in ("text", "was"):
            assert len(c.get(key) or "") <= 40, f"{where}: {key} is a span, not a passage of third-party text"


@pytest.mark.skipif(not (ROOT.parent / "shared" / "real" / "real.jsonl").exists(), reason="../shared/real absent")
def test_the_project_overlay_applies_to_the_shared_real_file():
    from zhibiao.io.jsonl import read_jsonl

    docs = read_jsonl(ROOT.parent / "shared" / "real" / "real.jsonl")
    rows = read_corrections(ROOT / "annotations" / "real_corrections.jsonl")
    assert apply_corrections(docs, rows, strict=True) == len(rows)
