"""``zhibiao validate`` checks what it is given and says what it did not check; ``zhibiao convert``
never drops a Label Studio task silently (issue 16, case 6)."""
from __future__ import annotations

import json

import pytest

from zhibiao.cli import main
from zhibiao.validate import validate_paths

TEXT = "脱贫户776户。"
IND = {"id": 1, "label": "INDICATOR", "start_offset": 0, "end_offset": 3}
QTY = {"id": 2, "label": "QUANTITY", "start_offset": 3, "end_offset": 7}
LINK = [{"from_id": 2, "to_id": 1, "type": "MEASURES"}]


def _doc(doc_id: str, entities=(IND, QTY), **extra) -> dict:
    return {"id": doc_id, "text": TEXT, "entities": list(entities), "relations": LINK, **extra}


def _jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _ls_task(tid: int, result=None, cancelled: bool = False) -> dict:
    """A task; without ``result``, one with no annotation (``"annotations": []``, or none at all
    for an odd id)."""
    task: dict = {"id": tid, "data": {"text": TEXT}}
    if result is not None:
        task["annotations"] = [{"result": result, "was_cancelled": cancelled}]
    elif tid % 2 == 0:
        task["annotations"] = []
    return task


def _region(rid: str, start: int, end: int, label: str) -> dict:
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}


def test_every_problem_of_a_file_with_its_line(tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", [
        _doc("m", meta=[1, 2]),                                                     # line 1
        _doc("o", entities=[IND, dict(IND, id=3, start_offset=1), QTY]),             # line 2
        _doc("f", entities=[IND, dict(QTY, start_offset=3.9)]),                      # line 3
        _doc("b", entities=[dict(IND, start_offset=False, end_offset=True), QTY]),   # line 4
        _doc("o"),                                                                   # line 5
        _doc("ok"),                                                                  # line 6
    ])
    res = validate_paths([path])
    text = "\n".join(map(str, res.problems))
    assert f"{path}:1: 'meta' must be an object, got list" in text
    assert f"{path}:2 (entity 3): INDICATOR '贫户' overlaps INDICATOR '脱贫户' (entity 1)" in text
    assert f"{path}:3 (entity 2): entity #1 start_offset must be an integer, got 3.9" in text
    assert f"{path}:4 (entity 1): entity #0 start_offset must be an integer, got False" in text
    assert f"{path}:5: duplicate document id 'o' (first at {path}:2)" in text
    assert len(res.problems) == 5 and res.documents == 3 and res.files == 1


def test_a_folder_is_validated_file_by_file(tmp_path, capsys):
    folder = tmp_path / "ann"
    (folder / "sub").mkdir(parents=True)
    _jsonl(folder / "a.jsonl", [_doc("a")])
    _jsonl(folder / "sub" / "b.jsonl", [_doc("b", meta=[1])])
    (folder / "notes.md").write_text("x", encoding="utf-8")
    rc = main(["validate", str(folder)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert f"{folder / 'sub' / 'b.jsonl'}:1: 'meta' must be an object" in out
    assert "notes.md: not an annotation file" in err
    assert "1 problem(s) in 1 document(s) checked in 2 file(s); 1 skipped" in err


def test_nothing_checked_is_never_zero_problems(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "blank.jsonl").write_text("\n", encoding="utf-8")
    rc = main(["validate", str(empty), str(tmp_path / "blank.jsonl")])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "no annotation files" in out and "no documents in this file: nothing was checked" in out
    assert "0 problem(s)" not in err


def test_a_label_studio_export_is_read_through_the_converter(tmp_path, capsys):
    tasks = [_ls_task(7, [_region("r1", 0, 3, "INDICATOR"), _region("r2", 1, 3, "INDICATOR")]),
             _ls_task(8), _ls_task(9), _ls_task(10, [])]  # 10: annotated, nothing found: a document
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    rc = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert f"{path}: task #0 (id 7) (entity r2): INDICATOR '贫户' overlaps INDICATOR '脱贫户'" in out
    assert f"{path}: task #1 (id 8): no annotation" in err and f"{path}: task #2 (id 9): no annotation" in err
    assert "1 problem(s) in 2 document(s) checked in 1 file(s); 2 skipped" in err


def test_a_malformed_label_studio_task_does_not_hide_the_others(tmp_path):
    tasks = [{"id": 1, "data": {}}, _ls_task(2, [_region("r1", 0, 3, "INDICATOR"), _region("r2", 1, 3, "INDICATOR")])]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    res = validate_paths([path])
    text = "\n".join(map(str, res.problems))
    assert "task #0 (id 1): task data has no string 'text'" in text and "task #1 (id 2)" in text


def test_convert_reports_and_counts_tasks_without_annotations(tmp_path, capsys):
    tasks = [_ls_task(7, [_region("r1", 0, 3, "INDICATOR")]), _ls_task(8), _ls_task(9),
             _ls_task(11, [_region("r1", 0, 3, "INDICATOR")], cancelled=True)]
    src = tmp_path / "export.json"
    src.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    rc = main(["convert", str(src), str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert rc == 0
    assert f"skipped {src}: task #1 (id 8): no annotation" in err and "task #2 (id 9)" in err and "(id 11)" in err
    assert "wrote 1 document(s)" in err and "skipped 3 task(s) without an annotation" in err


@pytest.mark.parametrize("value", [13.9, True, "3"])
def test_training_reader_refuses_non_integer_offsets(tmp_path, value):
    from zhibiao.errors import AnnotationError
    from zhibiao.io.jsonl import read_jsonl

    path = _jsonl(tmp_path / "a.jsonl", [_doc("a", entities=[IND, dict(QTY, end_offset=value)])])
    with pytest.raises(AnnotationError, match=r"a.jsonl:1.*end_offset must be an integer"):
        read_jsonl(path)
