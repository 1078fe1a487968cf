import json
from pathlib import Path

import pytest

from zhibiao.errors import AnnotationError
from zhibiao.io.convert import detect_format, read_any, write_any
from zhibiao.io.doccano import read_doccano, write_doccano
from zhibiao.io.jsonl import read_jsonl, write_jsonl
from zhibiao.io.labelstudio import LABEL_CONFIG, read_labelstudio, to_labelstudio_tasks, write_labelstudio_tasks
from zhibiao.records import AnnotatedDocument, Link, Prediction, Span
from zhibiao.stats import format_stats, stats
from zhibiao.validate import validate_document

SEEDS = Path(__file__).resolve().parent.parent / "annotations" / "seeds.jsonl"

# traditional script, with a pinyin artefact ("jihua") inside an indicator span
TEXT = ("全鎮脫貧戶776戶1605人,監測對象112戶,其中已消除風險16戶63人。"
        "為35名學生申報春季雨露jihua計劃。共計31.1萬元。")


def _span(text, surface, label, eid, nth=0, itype=None):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return Span(start, start + len(surface), label, surface, id=eid, indicator_type=itype)


def hand_doc() -> AnnotatedDocument:
    t = TEXT
    ents = [
        _span(t, "脫貧戶", "INDICATOR", "1", itype="tuopin_hu"),
        _span(t, "776戶", "QUANTITY", "2"),
        _span(t, "1605人", "QUANTITY", "3"),
        _span(t, "監測對象", "INDICATOR", "4"),
        _span(t, "112戶", "QUANTITY", "5"),
        _span(t, "16戶", "QUANTITY", "6"),
        _span(t, "63人", "QUANTITY", "7"),
        _span(t, "35名", "QUANTITY", "8"),
        _span(t, "雨露jihua計劃", "INDICATOR", "9"),
        _span(t, "31.1萬元", "QUANTITY", "10"),
    ]
    rels = [("2", "1"), ("3", "1"), ("5", "4"), ("6", "4"), ("7", "4"), ("8", "9")]
    return AnnotatedDocument(id="hand-1", text=t, entities=ents, relations=rels,
                             meta={"split": "test", "script": "traditional"})


def key(doc: AnnotatedDocument):
    by_id = {e.id: e for e in doc.entities}
    spans = sorted((e.start, e.end, e.label) for e in doc.entities)
    rels = sorted(((by_id[a].start, by_id[a].end), (by_id[b].start, by_id[b].end)) for a, b in doc.relations)
    return doc.text, spans, rels


def seed_docs():
    if not SEEDS.exists():
        pytest.skip(f"{SEEDS} does not exist")
    docs = read_jsonl(SEEDS)
    if not any(d.entities for d in docs):
        pytest.skip(f"{SEEDS} has no annotated entities yet")
    return docs


@pytest.fixture(params=["hand", "seeds"])
def corpus(request):
    return [hand_doc()] if request.param == "hand" else seed_docs()


def test_hand_doc_is_valid():
    doc = hand_doc()
    assert validate_document(doc) == []
    assert all(doc.text[e.start:e.end] == e.text for e in doc.entities)


# ---------------------------------------------------------------- round trips

def test_labelstudio_round_trip(corpus, tmp_path):
    write_jsonl(corpus, tmp_path / "gold.jsonl")
    docs = read_jsonl(tmp_path / "gold.jsonl")
    for as_pred in (False, True):
        p = tmp_path / f"ls_{as_pred}.json"
        assert write_labelstudio_tasks(docs, p, as_predictions=as_pred) == len(docs)
        back = read_labelstudio(p, use_predictions=as_pred)
        assert [key(d) for d in back] == [key(d) for d in corpus]
        assert [d.id for d in back] == [d.id for d in corpus]
    # project JSONL again
    write_jsonl(back, tmp_path / "again.jsonl")
    assert [key(d) for d in read_jsonl(tmp_path / "again.jsonl")] == [key(d) for d in corpus]


def test_labelstudio_round_trip_keeps_types_and_meta(tmp_path):
    p = tmp_path / "ls.json"
    write_labelstudio_tasks([hand_doc()], p, as_predictions=False)
    (doc,) = read_labelstudio(p)
    assert doc.meta["split"] == "test" and doc.meta["script"] == "traditional"
    ind = [e for e in doc.entities if e.text == "脫貧戶"][0]
    assert ind.indicator_type == "tuopin_hu"
    assert [e.text for e in doc.entities if e.label == "INDICATOR"][-1] == "雨露jihua計劃"


def test_doccano_round_trip(corpus, tmp_path):
    p = tmp_path / "doccano.jsonl"
    assert write_doccano(corpus, p) == len(corpus)
    back = read_doccano(p)
    assert [key(d) for d in back] == [key(d) for d in corpus]
    assert detect_format(p) == "doccano"
    assert [key(d) for d in read_any(p)] == [key(d) for d in corpus]
    for line in p.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        assert all(isinstance(e["id"], int) for e in obj["entities"])


def test_doccano_renumbers_string_ids(tmp_path):
    doc = hand_doc()
    from dataclasses import replace
    doc.entities = [replace(e, id="e" + e.id) for e in doc.entities]
    doc.relations = [("e" + a, "e" + b) for a, b in doc.relations]
    write_doccano([doc], tmp_path / "d.jsonl")
    (back,) = read_doccano(tmp_path / "d.jsonl")
    assert key(back) == key(hand_doc())


def test_docbin_round_trip(corpus, tmp_path):
    from zhibiao.io.spacy_docbin import read_docbin, to_docbin, write_docbin
    p = tmp_path / "gold.spacy"
    assert write_docbin(corpus, p) == len(corpus)
    back = read_docbin(p)
    assert [key(d) for d in back] == [key(d) for d in corpus]
    assert [d.id for d in back] == [d.id for d in corpus]
    assert read_any(p)[0].text == corpus[0].text


def test_docbin_contents():
    from zhibiao.io.spacy_docbin import blank_nlp, to_docbin
    nlp = blank_nlp()
    assert nlp.tokenizer.segmenter == "char"
    db = to_docbin([hand_doc()])
    (sdoc,) = list(db.get_docs(nlp.vocab))
    assert [e.text for e in sdoc.ents][:3] == ["脫貧戶", "776戶", "1605人"]
    q, i = TEXT.index("1605人"), TEXT.index("脫貧戶")
    assert (q, q + 5, i, i + 3) in {tuple(m) for m in sdoc._.measures}  # 1605人 -> 脫貧戶
    links = list(sdoc.spans["links"])
    assert [s.text for s in links[:2]] == ["776戶", "脫貧戶"]
    assert len(links) == 2 * len(hand_doc().relations)


def test_read_any_markup_and_write_any(tmp_path):
    folder = tmp_path / "md"
    assert write_any([hand_doc()], folder, fmt="markup") == 1
    docs = read_any(folder)
    assert key(docs[0]) == key(hand_doc())
    (one,) = list(folder.glob("*.txt"))
    assert detect_format(one) == "markup" and key(read_any(one)[0]) == key(hand_doc())
    for name in ("out.jsonl", "out.json", "out.spacy"):
        assert write_any([hand_doc()], tmp_path / name) == 1
    assert key(read_any(tmp_path / "out.jsonl")[0]) == key(hand_doc())
    assert key(read_any(tmp_path / "out.json", use_predictions=True)[0]) == key(hand_doc())
    assert key(read_any(tmp_path / "out.spacy")[0]) == key(hand_doc())


# ---------------------------------------------------------------- Label Studio export structure

def test_labelstudio_predictions_structure(tmp_path):
    doc = hand_doc()
    by = {e.text: e for e in doc.entities}
    from dataclasses import replace
    q = replace(by["776戶"], id=None, score=0.9)
    q2 = replace(by["31.1萬元"], id=None, score=0.6)
    i = replace(by["脫貧戶"], id=None, score=0.8)
    pred = Prediction(doc_id="p1", text=doc.text, spans=[q, i, q2], links=[Link(q, i, score=0.7)])
    p = tmp_path / "tasks.json"
    assert write_labelstudio_tasks([pred, doc], p, model_version="v1") == 2
    tasks = json.loads(p.read_text(encoding="utf-8"))
    t = tasks[0]
    assert t["data"]["text"] == doc.text and t["data"]["doc_id"] == "p1"
    (pr,) = t["predictions"]
    assert pr["model_version"] == "v1"
    assert pr["score"] == pytest.approx(0.6)
    labels = [r for r in pr["result"] if r["type"] == "labels"]
    rels = [r for r in pr["result"] if r["type"] == "relation"]
    assert len(labels) == 3 and len(rels) == 1
    for r in labels:
        assert r["from_name"] == "label" and r["to_name"] == "text"
        v = r["value"]
        assert doc.text[v["start"]:v["end"]] == v["text"]
        assert v["labels"][0] in ("QUANTITY", "INDICATOR")
        assert 0 <= r["score"] <= 1
    ids = {r["value"]["text"]: r["id"] for r in labels}
    assert rels[0]["from_id"] == ids["776戶"] and rels[0]["to_id"] == ids["脫貧戶"]
    assert rels[0]["labels"] == ["MEASURES"] and rels[0]["direction"] == "right"
    assert rels[0]["score"] == pytest.approx(0.7)
    assert "predictions" in tasks[1] and "annotations" not in tasks[1]
    # annotations mode
    (ta,) = to_labelstudio_tasks([doc], as_predictions=False)
    assert "predictions" not in ta and ta["annotations"][0]["result"]
    # the config names the same controls
    for s in ('name="label"', 'toName="text"', 'value="QUANTITY"', 'value="INDICATOR"', 'value="MEASURES"',
              'name="text"', 'value="$text"'):
        assert s in LABEL_CONFIG


def _ls_task(result, text="脫貧戶776戶。", **extra):
    return {"id": 11, "data": {"text": text}, "annotations": [{"id": 1, "result": result, **extra}]}


def _region(rid, start, end, label, text="脫貧戶776戶。"):
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def test_labelstudio_direction_cancelled_and_label_map(tmp_path):
    rel_left = {"from_id": "i", "to_id": "q", "type": "relation", "direction": "left", "labels": ["measures"]}
    task = _ls_task([_region("i", 0, 3, "指标"), _region("q", 3, 7, "数量"), rel_left])
    task["annotations"].insert(0, {"id": 0, "was_cancelled": True, "result": []})
    skipped = {"id": 12, "data": {"text": "x"}, "annotations": []}
    p = tmp_path / "export.json"
    p.write_text(json.dumps([task, skipped], ensure_ascii=False), encoding="utf-8")
    (doc,) = read_labelstudio(p, label_map={"数量": "QUANTITY", "指标": "INDICATOR", "measures": "MEASURES"})
    assert doc.relations == [("q", "i")]
    assert validate_document(doc) == []
    assert detect_format(p) == "labelstudio"
    with pytest.raises(AnnotationError, match="unknown label '指标'") as ei:
        read_labelstudio(p)
    assert "task #0" in str(ei.value) and str(p) in str(ei.value)


def test_labelstudio_utf16_offsets(tmp_path):
    text = "𠮷脫貧戶776戶。"
    # UTF-16 offsets: the astral character counts twice
    task = _ls_task([{"id": "q", "type": "labels", "from_name": "label", "to_name": "text",
                      "value": {"start": 5, "end": 9, "text": "776戶", "labels": ["QUANTITY"]}}], text=text)
    p = tmp_path / "u.json"
    p.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    (doc,) = read_labelstudio(p)
    (q,) = doc.entities
    assert text[q.start:q.end] == "776戶"


# ---------------------------------------------------------------- doccano plain + label_map

def test_doccano_plain_import(tmp_path):
    text = "脫貧戶776戶1605人。"
    p = tmp_path / "plain.jsonl"
    lines = [{"id": 5, "text": text, "label": [[0, 3, "指标"], [3, 7, "数量"], [7, 12, "数量"]]},
             {"text": text, "labels": [[3, 7, "QUANTITY"]]}]
    p.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    assert detect_format(p) == "doccano"
    docs = read_any(p, label_map={"数量": "QUANTITY", "指标": "INDICATOR"})
    assert [(e.text, e.label) for e in docs[0].entities] == [("脫貧戶", "INDICATOR"), ("776戶", "QUANTITY"),
                                                             ("1605人", "QUANTITY")]
    assert docs[0].id == "5" and docs[0].relations == []
    assert [e.text for e in docs[1].entities] == ["776戶"]
    assert all(validate_document(d) == [] for d in docs)


def test_doccano_relation_label_map(tmp_path):
    obj = {"id": 1, "text": "脫貧戶776戶。",
           "entities": [{"id": 10, "label": "指标", "start_offset": 0, "end_offset": 3},
                        {"id": 11, "label": "数量", "start_offset": 3, "end_offset": 7}],
           "relations": [{"id": 1, "from_id": 11, "to_id": 10, "type": "measures"}]}
    p = tmp_path / "rel.jsonl"
    p.write_text(json.dumps(obj, ensure_ascii=False) + "\n", encoding="utf-8")
    (doc,) = read_doccano(p, label_map={"数量": "QUANTITY", "指标": "INDICATOR", "measures": "MEASURES"})
    assert doc.relations == [("11", "10")] and doc.entity("11").label == "QUANTITY"
    with pytest.raises(AnnotationError, match="指标") as ei:
        read_doccano(p)
    assert f"{p}:1" in str(ei.value) and "entity 10" in str(ei.value)


# ---------------------------------------------------------------- malformed input

def _write_lines(path, objs):
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs) + "\n",
                    encoding="utf-8")


GOOD = {"id": 1, "text": "脫貧戶776戶。", "entities": [{"id": 1, "label": "QUANTITY", "start_offset": 3, "end_offset": 7}],
        "relations": []}


def test_bad_offsets_reported_by_validator(tmp_path):
    p = tmp_path / "bad.jsonl"
    bad = {**GOOD, "entities": [{"id": 7, "label": "QUANTITY", "start_offset": 3, "end_offset": 99}]}
    _write_lines(p, [GOOD, bad])
    docs = read_doccano(p)
    probs = validate_document(docs[1])
    assert len(probs) == 1
    assert "out of range" in probs[0].message and probs[0].entity_id == "7"
    assert f"{p}:2" in str(probs[0])
    # Label Studio: the same
    task = _ls_task([{"id": "r9", "type": "labels", "from_name": "label", "to_name": "text",
                      "value": {"start": 3, "end": 99, "labels": ["QUANTITY"]}}])
    lp = tmp_path / "bad.json"
    lp.write_text(json.dumps([task]), encoding="utf-8")
    (doc,) = read_labelstudio(lp)
    (prob,) = validate_document(doc)
    assert "out of range" in prob.message and prob.entity_id == "r9" and "task #0" in str(prob)


def test_unknown_label_names_place(tmp_path):
    p = tmp_path / "u.jsonl"
    bad = {**GOOD, "entities": [{"id": 3, "label": "AMOUNT", "start_offset": 3, "end_offset": 7}]}
    _write_lines(p, [GOOD, GOOD, bad])
    with pytest.raises(AnnotationError, match="AMOUNT") as ei:
        read_any(p)
    assert f"{p}:3" in str(ei.value) and ei.value.entity_id == "3"
    lp = tmp_path / "u.json"
    lp.write_text(json.dumps([_ls_task([_region("r1", 3, 7, "AMOUNT")])]), encoding="utf-8")
    with pytest.raises(AnnotationError, match="AMOUNT") as ei:
        read_any(lp)
    assert "task #0 (id 11)" in str(ei.value) and ei.value.entity_id == "r1"
    pp = tmp_path / "plain.jsonl"
    _write_lines(pp, [{"text": "abc", "label": [[0, 1, "FOO"]]}])
    with pytest.raises(AnnotationError, match="FOO") as ei:
        read_any(pp)
    assert f"{pp}:1" in str(ei.value)


def test_relation_to_missing_id(tmp_path):
    p = tmp_path / "m.jsonl"
    bad = {**GOOD, "relations": [{"id": 4, "from_id": 1, "to_id": 42, "type": "MEASURES"}]}
    _write_lines(p, [bad])
    with pytest.raises(AnnotationError, match="42") as ei:
        read_doccano(p)
    assert f"{p}:1" in str(ei.value) and "relation 4" in str(ei.value)
    lp = tmp_path / "m.json"
    rel = {"from_id": "q", "to_id": "nope", "type": "relation", "direction": "right"}
    lp.write_text(json.dumps([_ls_task([_region("q", 3, 7, "QUANTITY"), rel])]), encoding="utf-8")
    with pytest.raises(AnnotationError, match="nope") as ei:
        read_labelstudio(lp)
    assert "task #0" in str(ei.value) and str(lp) in str(ei.value)


def test_truncated_labelstudio_json(tmp_path):
    p = tmp_path / "cut.json"
    write_labelstudio_tasks([hand_doc()], p)
    raw = p.read_text(encoding="utf-8")
    p.write_text(raw[: len(raw) // 2], encoding="utf-8")
    with pytest.raises(AnnotationError, match="invalid JSON") as ei:
        read_any(p)
    assert str(p) in str(ei.value) and "truncated" in str(ei.value)


def test_truncated_jsonl_line(tmp_path):
    p = tmp_path / "cut.jsonl"
    line = json.dumps(GOOD, ensure_ascii=False)
    _write_lines(p, [GOOD, line[:25]])
    with pytest.raises(AnnotationError, match="invalid JSON") as ei:
        read_doccano(p)
    assert f"{p}:2" in str(ei.value)
    with pytest.raises(AnnotationError) as ei:
        read_any(p, fmt="jsonl")
    assert f"{p}:2" in str(ei.value)


def test_labelstudio_text_mismatch(tmp_path):
    region = _region("q", 3, 7, "QUANTITY")
    region["value"]["text"] = "999戶"
    p = tmp_path / "mm.json"
    p.write_text(json.dumps([_ls_task([region])], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AnnotationError, match="does not match") as ei:
        read_labelstudio(p)
    assert ei.value.entity_id == "q"


# ---------------------------------------------------------------- stats

class FakeTaxonomy:
    def classify(self, mention):
        return "monitoring" if "監測" in mention else "other"


def test_stats_and_format():
    doc = hand_doc()
    plain = AnnotatedDocument(id="x", text="无标注。", meta={"split": "train", "script": "simplified"})
    d = stats([doc, plain], taxonomy=FakeTaxonomy())
    assert d["documents"] == 2
    assert d["characters"] == len(doc.text) + 4
    assert d["quantities"] == 7 and d["indicators"] == 3 and d["links"] == 6
    assert d["unlinked_quantities"] == 1
    assert d["labels"] == {"INDICATOR": 3, "QUANTITY": 7}
    assert d["indicator_types"] == {"monitoring": 3, "tuopin_hu": 2, "other": 1}
    assert d["splits"]["test"]["links"] == 6 and d["splits"]["train"]["documents"] == 1
    assert set(d["scripts"]) == {"traditional", "simplified"}
    assert stats([doc])["indicator_types"]["(untyped)"] == 4
    text = format_stats(d)
    assert "| unlinked quantities" in text and "monitoring" in text and "traditional" in text
    assert "|---" in text
