import json

import pytest

from zhibiao.errors import AnnotationError
from zhibiao.io.jsonl import doc_from_dict, doc_to_dict, read_jsonl, write_jsonl
from zhibiao.io.markup import parse_markup, to_markup
from zhibiao.validate import validate_document, validate_files

SRC = "#meta {\"province\": \"四川\"}\n大佛镇[脱贫户]{I:a}[776户]{Q:a}[1605人]{Q:a},其中:新增[66户]{Q:a};[30元]{Q}。"


def test_markup_round_trip():
    doc = parse_markup(SRC, "d1")
    assert doc.text == "大佛镇脱贫户776户1605人,其中:新增66户;30元。"
    assert doc.meta == {"province": "四川"}
    assert [e.text for e in doc.quantities] == ["776户", "1605人", "66户", "30元"]
    assert len(doc.relations) == 3
    again = parse_markup(to_markup(doc), "d1")
    assert again.text == doc.text
    assert [(e.start, e.end, e.label) for e in again.entities] == [(e.start, e.end, e.label) for e in doc.entities]
    assert validate_document(doc) == []


@pytest.mark.parametrize("src, msg", [
    ("[776户]{Q:z}", "unknown indicator key 'z'"),
    ("[a]{I:k}[b]{I:k}", "used twice"),
    ("text ] here", "stray"),
    ("line1\n[x]{I}", "needs a key"),
])
def test_markup_errors_name_the_line(src, msg):
    with pytest.raises(AnnotationError, match=msg) as ei:
        parse_markup(src, "doc", where="f.txt")
    assert "f.txt:" in str(ei.value)


def _doc(entities, relations, text="脱贫户776户1605人。监测户9户"):
    return {"id": "x", "text": text, "entities": entities, "relations": relations}


def E(i, label, a, b):
    return {"id": i, "label": label, "start_offset": a, "end_offset": b}


def test_validator_reports_each_problem_with_place(tmp_path):
    lines = [
        _doc([E(1, "INDICATOR", 0, 3), E(2, "QUANTITY", 3, 7)], [{"id": 1, "from_id": 2, "to_id": 1, "type": "MEASURES"}]),
        _doc([E(1, "QUANTITY", 3, 99)], []),                                    # offsets out of range
        _doc([E(1, "AMOUNT", 3, 7)], []),                                       # unknown label
        _doc([E(1, "QUANTITY", 3, 7), E(2, "QUANTITY", 5, 9)], []),             # overlap
        _doc([E(1, "QUANTITY", 3, 7)], [{"id": 1, "from_id": 1, "to_id": 5}]),  # missing id
        _doc([E(1, "INDICATOR", 0, 3), E(2, "QUANTITY", 3, 7)], [{"id": 1, "from_id": 1, "to_id": 2}]),  # wrong direction
        _doc([E(1, "INDICATOR", 13, 16), E(2, "QUANTITY", 3, 7)], [{"id": 1, "from_id": 2, "to_id": 1}]),  # crosses sentence
        _doc([E(1, "INDICATOR", 0, 3), E(3, "INDICATOR", 13, 16), E(2, "QUANTITY", 3, 7)],
             [{"id": 1, "from_id": 2, "to_id": 1}, {"id": 2, "from_id": 2, "to_id": 3}]),  # two links
        _doc([E(1, "QUANTITY", 13, 14)], [], text="脱贫户776户1605人。 监测户"),  # blank entity
    ]
    p = tmp_path / "gold.jsonl"
    p.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{\"id\": 1, \"text\": \"abc\"", encoding="utf-8")
    probs = validate_files([p])
    by_line = {}
    for pr in probs:
        by_line.setdefault(int(pr.where.rsplit(":", 1)[1]), []).append(str(pr))
    assert 1 not in by_line
    assert "out of range" in by_line[2][0] and "(entity 1)" in by_line[2][0]
    assert "unknown label 'AMOUNT'" in by_line[3][0]
    assert "overlaps" in by_line[4][0]
    assert "missing" in by_line[5][0]
    assert "QUANTITY -> INDICATOR" in by_line[6][0]
    assert "crosses a sentence" in by_line[7][0]
    assert any("more than one link" in m for m in by_line[8])
    assert "blank" in by_line[9][0]
    assert "invalid JSON" in by_line[10][0] and f"{p}:10" in by_line[10][0]


def test_jsonl_round_trip_and_truncated_json(tmp_path):
    doc = parse_markup(SRC, "d1")
    p = tmp_path / "a.jsonl"
    write_jsonl([doc], p)
    back = read_jsonl(p)[0]
    assert doc_to_dict(back)["entities"] == doc_to_dict(doc)["entities"]
    assert back.relations == doc.relations
    p.write_text(p.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"a\.jsonl:1.*invalid JSON"):
        read_jsonl(p)
    with pytest.raises(AnnotationError, match="non-string 'text'"):
        doc_from_dict({"id": 1}, "here")


def test_validate_accepts_a_bom_file_that_stats_and_train_read(tmp_path):
    """One JSONL reader: a file with a UTF-8 BOM is valid for ``validate`` exactly as ``stats``
    and ``train`` (read_any) read it."""
    from zhibiao.cli import main
    from zhibiao.io.convert import read_any

    line = json.dumps(_doc([E(1, "INDICATOR", 0, 3), E(2, "QUANTITY", 3, 7)],
                           [{"id": 1, "from_id": 2, "to_id": 1, "type": "MEASURES"}]), ensure_ascii=False)
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + (line + "\n").encode("utf-8"))
    assert len(read_any(p)) == 1
    assert validate_files([p]) == []
    assert main(["validate", str(p)]) == 0


def test_validate_reports_a_non_utf8_file_and_goes_on(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(_doc([E(1, "QUANTITY", 3, 99)], []), ensure_ascii=False) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes('{"id": "x", "text": "脱贫户"}\n'.encode("gbk"))
    probs = validate_files([bad, good])
    assert len(probs) == 2
    assert str(bad) in probs[0].where and "cannot read file: not UTF-8" in probs[0].message
    assert probs[1].where == f"{good}:1" and "out of range" in probs[1].message
