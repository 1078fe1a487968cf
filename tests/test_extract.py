"""The library API: zhibiao.load() -> Extractor -> Records, offsets into the caller's text."""
from __future__ import annotations

import json

import pytest

import zhibiao
from zhibiao.extract import default_model_path, records_to_dataframe
from zhibiao.records import RECORD_FIELDS, Record

SHIPPED = (default_model_path() / "model.safetensors").exists()

MESSY = [
    "截止11月21日,大佛镇脱贫户776户1605人,监测户94户190人,其中:2023年新增66户127人。",
    "對全鎮(zhèn)２３戶７８人監(jiān)測對象進行精準識別,發(fā)放補貼54.3萬(wàn)元。",
    "用好到户产业资金３１．１万元，外出务工补助32.9 万元。",
]


@pytest.fixture(scope="module", params=["rules"] + (["default"] if SHIPPED else []))
def nlp(request):
    return zhibiao.load(None if request.param == "default" else request.param)


def test_record_has_exactly_the_spec_fields():
    assert RECORD_FIELDS == ("indicator", "indicator_type", "quantity", "value", "value_max", "unit",
                             "normalized_value", "normalized_unit", "normalized_value_max", "qualifier",
                             "indicator_type_zh", "approximate", "start", "end",
                             "indicator_start", "indicator_end", "sentence", "score", "doc_id", "quantity_score")


def test_to_dict_equals_dataclasses_asdict(nlp):
    from dataclasses import asdict

    recs = nlp(MESSY[0], doc_id="x", all_quantities=True)
    assert recs
    for r in recs:
        assert r.to_dict() == asdict(r)
        assert list(r.to_dict()) == list(RECORD_FIELDS)


_END_MARKS = "。！？!?"
_CLOSERS = "”’」』)）】》\"'"


def _check_sentence(text, r):
    """``r.sentence`` is the whole SPEC sentence (ending at 。！？!? or a line break) that holds
    the quantity at its offsets, and the indicator too when there is one."""
    s = r.sentence
    at = [o for o in range(len(text) - len(s) + 1)
          if text.startswith(s, o) and o <= r.start and r.end <= o + len(s)]
    assert at, f"sentence {s!r} does not hold {r.quantity!r} at [{r.start}, {r.end})"
    o = at[0]
    body = s.rstrip(_END_MARKS + _CLOSERS)
    assert not any(c in body for c in _END_MARKS + "\n\r"), f"{s!r} is more than one sentence"
    before, after = text[:o].rstrip(" \t\u3000"), text[o + len(s):].lstrip(" \t\u3000")
    assert not before or before[-1] in _END_MARKS + _CLOSERS + "\n\r", f"{s!r} starts inside a sentence"
    assert not after or after[0] in "\n\r" or s[-1] in _END_MARKS + _CLOSERS, f"{s!r} stops inside a sentence"
    if r.indicator is not None:
        assert o <= r.indicator_start and r.indicator_end <= o + len(s)


def _check_offsets(text, records):
    for r in records:
        assert isinstance(r, Record)
        assert text[r.start:r.end] == r.quantity
        if r.indicator is not None:
            assert text[r.indicator_start:r.indicator_end] == r.indicator
        _check_sentence(text, r)
        for score in (r.score, r.quantity_score):  # the rule baseline has none
            assert score is None or 0.0 <= score <= 1.0


def test_offsets_on_messy_inputs(nlp):
    for text in MESSY:
        recs = nlp(text, doc_id="x", all_quantities=True)
        assert recs, text
        _check_offsets(text, recs)
        assert all(r.doc_id == "x" for r in recs)


def test_offsets_over_the_seed_reports(nlp, seed_dir):
    for path in sorted(seed_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        recs = nlp(text, doc_id=path.name, all_quantities=True)
        assert len(recs) > 10
        _check_offsets(text, recs)


def test_range_high_end_and_type_name(nlp):
    recs = nlp("发放产业奖补5—7万元,惠及脱贫户3000余户。", all_quantities=True)
    by_q = {r.quantity: r for r in recs}
    r = by_q["5—7万元"]
    assert (r.value, r.value_max, r.normalized_value, r.normalized_value_max) == (5.0, 7.0, 50000.0, 70000.0)
    assert by_q["3000余户"].normalized_value_max is None
    for r in recs:
        if r.indicator is None:
            assert r.indicator_type is None and r.indicator_type_zh is None
        else:
            assert r.indicator_type_zh == nlp.taxonomy.name_zh(r.indicator_type) and r.indicator_type_zh


def test_qualifier_on_records(nlp):
    recs = nlp("监测户94户190人,其中:2023年新增66户127人。")
    got = {r.quantity: (r.indicator, r.qualifier) for r in recs}
    assert got == {"94户": ("监测户", None), "190人": ("监测户", None),
                   "66户": ("监测户", "新增"), "127人": ("监测户", "新增")}
    assert {r.indicator_type_zh for r in recs} == {"监测对象"}


def test_values_are_parsed(nlp):
    recs = nlp("发放外出务工补助32.9万元,惠及脱贫户3000余户。", all_quantities=True)
    by_q = {r.quantity: r for r in recs}
    assert by_q["32.9万元"].normalized_value == 329000.0 and by_q["32.9万元"].normalized_unit == "元"
    assert by_q["3000余户"].value == 3000.0 and by_q["3000余户"].approximate is True


def test_pipe_matches_single_calls_and_accepts_pairs(nlp):
    single = [nlp(t, doc_id=f"d{k}") for k, t in enumerate(MESSY)]
    piped = list(nlp.pipe([(t, f"d{k}") for k, t in enumerate(MESSY)], batch_size=2))
    assert [[r.to_dict() for r in rs] for rs in piped] == [[r.to_dict() for r in rs] for rs in single]
    plain = list(nlp.pipe(MESSY))
    assert [len(rs) for rs in plain] == [len(rs) for rs in single]
    assert nlp(MESSY[0]) == nlp(MESSY[0])  # calls are independent and repeatable


def test_records_do_not_depend_on_how_documents_are_batched(nlp, seed_dir):
    """A Ray actor or a different --batch-size groups documents differently: same records; the
    score may move in its last digit only (float rounding of a different batch shape)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(seed_dir.glob("*.txt"))] + MESSY
    one_call = [[r.to_dict() for r in rs] for rs in nlp.pipe(texts, batch_size=len(texts))]
    for size in (1, 3):
        other = [[r.to_dict() for r in rs] for rs in nlp.pipe(texts, batch_size=size)]
        assert [len(rs) for rs in other] == [len(rs) for rs in one_call]
        for a_recs, b_recs in zip(one_call, other):
            for a, b in zip(a_recs, b_recs):
                scores = ("score", "quantity_score")
                assert {k: v for k, v in a.items() if k not in scores} == {k: v for k, v in b.items() if k not in scores}
                for k in scores:  # None for the rule baseline (and for an unlinked quantity's score)
                    assert (a[k] is None) == (b[k] is None)
                    assert a[k] is None or abs(a[k] - b[k]) <= 1e-5


def test_dataframe(nlp):
    df = records_to_dataframe(nlp(MESSY[0]))
    assert list(df.columns) == list(RECORD_FIELDS) and len(df) > 0


def test_dataframe_from_pipe(nlp):
    """``nlp.pipe`` yields a list of records per document: the frame has all of them, in order."""
    per_doc = [nlp(t, doc_id=f"d{k}") for k, t in enumerate(MESSY)]
    df = records_to_dataframe(nlp.pipe([(t, f"d{k}") for k, t in enumerate(MESSY)]))
    assert list(df.columns) == list(RECORD_FIELDS)
    # a missing value is pandas' null (NaN in a string column of pandas 3, None in an object one)
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    want = [r.to_dict() for recs in per_doc for r in recs]
    scores = ("score", "quantity_score")  # batched otherwise: may move in the sixth decimal
    assert [{k: v for k, v in r.items() if k not in scores} for r in rows] == \
        [{k: v for k, v in r.items() if k not in scores} for r in want]
    for got, exp in zip(rows, want):
        for k in scores:
            assert (got[k] is None) == (exp[k] is None) and (exp[k] is None or abs(got[k] - exp[k]) <= 1e-5)
    assert len(records_to_dataframe([])) == 0
    with pytest.raises(TypeError, match="Records or lists of Records"):
        records_to_dataframe(["脱贫户776户"])


class _Fixed:
    """A predictor that returns the predictions it was made with."""

    def __init__(self, preds):
        self.preds = preds

    def predict_documents(self, texts, doc_ids=None, batch_size=64):
        return [p for p in self.preds if p.text in texts]


@pytest.mark.parametrize("quantity, unit", [
    ("80.2萬(wàn)人", "萬人"), ("1.2萬餘畝", "萬畝"), ("3萬多元", "萬元"), ("2.13億(yì)元", "億元"),
    ("300元/畝以上", "元/畝"), ("３１．１万元", "万元"), ("32.9 万元", "万元"), ("87.25％", "％"), ("60KW", "KW"),
])
def test_record_unit_is_the_unit_parse_quantity_gives(quantity, unit):
    """SPEC's "unit as written" is one rule (parse_quantity's): the original characters of the
    multiplier and unit, pinyin artefacts and whitespace dropped; ``quantity`` stays the exact
    surface text. (extract.py had its own copy that gave 萬(wàn)人 and, for 1.2萬餘畝, 万亩.)"""
    from zhibiao.extract import Extractor
    from zhibiao.quantity import parse_quantity
    from zhibiao.records import INDICATOR, QUANTITY, Link, Prediction, Span
    from zhibiao.taxonomy import Taxonomy

    text = f"全镇监测对象{quantity}。"
    q = Span(6, 6 + len(quantity), QUANTITY, quantity)
    ind = Span(2, 6, INDICATOR, "监测对象")
    pred = Prediction(doc_id="x", text=text, spans=[ind, q], links=[Link(q, ind, 0.9)])
    (rec,) = Extractor(_Fixed([pred]), Taxonomy.load())(text, doc_id="x")
    assert rec.quantity == quantity == text[rec.start:rec.end]
    assert rec.unit == parse_quantity(quantity).unit == unit


def test_record_units_agree_with_parse_quantity_on_messy_inputs(nlp):
    from zhibiao.quantity import parse_quantity

    texts = MESSY + ["全鎮監測對象80.2萬(wàn)人,發放1.2萬餘畝土地補貼。"]
    recs = [r for t in texts for r in nlp(t, all_quantities=True) if r.value is not None]
    assert any("萬" in r.quantity for r in recs)
    for r in recs:
        assert r.unit == parse_quantity(r.quantity).unit, r.quantity
        assert "(" not in (r.unit or "")


def test_zhibiao_namespace_and_load_signature():
    import inspect
    import subprocess
    import sys

    assert issubclass(zhibiao.errors.QuantityParseError, zhibiao.errors.ZhibiaoError)
    params = inspect.signature(zhibiao.load).parameters
    assert list(params) == ["path", "device", "quantize", "threads", "taxonomy"]
    assert all(params[k].kind is inspect.Parameter.KEYWORD_ONLY for k in ("quantize", "threads", "taxonomy"))
    assert "threads" in zhibiao.load.__doc__
    with pytest.raises(TypeError):
        zhibiao.load("rules", "cpu", True)  # quantize is keyword-only
    code = "import sys, zhibiao; zhibiao.errors.ZhibiaoError; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # import zhibiao stays cheap


def test_bad_input_type(nlp):
    with pytest.raises(TypeError):
        nlp(b"bytes are not text")


@pytest.mark.skipif(not SHIPPED, reason="no shipped model in models/default")
def test_load_without_arguments_gives_the_shipped_model():
    nlp = zhibiao.load()
    recs = nlp("大佛镇脱贫户776户1605人。")
    assert {(r.quantity, r.indicator) for r in recs} == {("776户", "脱贫户"), ("1605人", "脱贫户")}


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(zhibiao.errors.ZhibiaoError, match="does not exist"):
        zhibiao.load(tmp_path / "nope")


def test_an_extractor_that_has_predicted_can_be_copied_to_workers(nlp):
    """``extract_documents(extractor, workers=N)`` pickles the extractor into spawned workers: the
    caches built by a first prediction must not get in the way."""
    import pickle

    text = "大佛镇脱贫户776户1605人,監測戶94戶190人。"
    before = [r.to_dict() for r in nlp(text)]
    copy = pickle.loads(pickle.dumps(nlp))
    assert [r.to_dict() for r in copy(text)] == before


def test_prelabel_names_the_inputs_it_could_not_read(tmp_path, capsys):
    from zhibiao.cli import main

    (tmp_path / "a.txt").write_text("大佛镇脱贫户776户。", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    rc = main(["prelabel", str(tmp_path), "-o", str(tmp_path / "tasks.json"), "--model", "rules"])
    err = capsys.readouterr().err
    assert rc == 1 and "empty.txt" in err and "wrote 1 task" in err
    assert len(json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))) == 1


def test_arrow_schema_types_every_numeric_record_field():
    """Parquet and the Ray engine's output carry the record fields typed (a new float field too)."""
    import pyarrow as pa

    from zhibiao.io.writers import arrow_schema

    schema = arrow_schema()
    assert schema.names == list(RECORD_FIELDS)
    kinds = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string()}
    for name, f in Record.__dataclass_fields__.items():
        base = str(f.type).split("|")[0].strip()
        assert schema.field(name).type == kinds[base], name


def test_score_is_the_link_confidence_only():
    """Issue 16, case 9: ``score`` is the link's probability (None for an unlinked quantity); the
    tagger's confidence in the quantity span is ``quantity_score``, linked or not."""
    nlp = zhibiao.load()
    text = "全县脱贫户776户1605人，新建农村公路12公里，投入资金300万元。"
    pred = nlp.predict([text], ["x"])[0]
    link_score = {(l.quantity.start, l.quantity.end): l.score for l in pred.links}
    span_score = {(q.start, q.end): q.score for q in pred.quantities}
    recs = nlp.records(pred, all_quantities=True)
    assert recs
    for r in recs:
        key = (r.start, r.end)
        assert r.quantity_score == round(span_score[key], 6)
        if r.indicator is None:
            assert r.score is None
        else:
            assert r.score == round(link_score[key], 6)
    linked = nlp(text, doc_id="x")
    assert all(r.score is not None and r.indicator is not None for r in linked)


def test_rule_baseline_has_no_scores():
    """The rules give no confidence: no constant 0.5 posing as a probability."""
    nlp = zhibiao.load("rules")
    pred = nlp.predict(["全县脱贫户776户1605人。"])[0]
    assert pred.links and all(l.score is None for l in pred.links)
    assert all(s.score is None for s in pred.spans)
    recs = nlp("全县脱贫户776户1605人。", doc_id="x")
    assert recs and all(r.score is None and r.quantity_score is None for r in recs)
