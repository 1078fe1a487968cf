"""The span-pointer linker (``model.linker: pointer``): decoding rules on hand-set logits, a tiny
model that links indicators its tagger never tags, save/load, and the default linker untouched."""
from __future__ import annotations

import json

import pytest
import torch

from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup
from zhibiao.model.config import ModelConfig
from zhibiao.model.core import ZhibiaoModel
from zhibiao.model.decoding import spans_from_tags, tag_bias, viterbi
from zhibiao.model.pointer import _window_result, decode_pointer, geometry, pointer_inputs
from zhibiao.train import load_config, train

# open-vocabulary indicators (crops, facilities, programmes outside the taxonomy)
OPEN_SENTENCES = [
    "全村种植[猕猴桃]{I:a}[4690亩]{Q:a},[刺梨]{I:b}[1200亩]{Q:b}。",
    "新建[村卫生室]{I:a}[3个]{Q:a},改造[乡村小学]{I:b}[24个]{Q:b}。",
    "[营养午餐]{I:a}惠及[6581人次]{Q:a},完成投资[20万元]{Q}。",
    "今年发展[蓝莓基地]{I:a}[2个]{Q:a}。",
    "[脱贫户]{I:a}[776户]{Q:a}[1605人]{Q:a}。",
    "全年接待游客[12万人次]{Q}。",
]
TINY = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "model.intermediate_size=64",
        "model.span_dim=32", "model.link_hidden=32", "model.lex_dim=8", "model.max_len=64", "model.dropout=0.0",
        "model.pointer_hidden=16", "train.batch_size=6", "train.warmup=0.0", "data.dev_fraction=0",
        "data.exclude_splits=[]", "train.threads=1"]


def _links(doc):
    links = doc.links() if callable(doc.links) else doc.links  # gold documents derive theirs
    return sorted(((l.quantity.start, l.quantity.end), (l.indicator.start, l.indicator.end)) for l in links)


@pytest.fixture(scope="module")
def pointer_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("pdata")
    docs = [parse_markup(s, f"o{k}") for k, s in enumerate(OPEN_SENTENCES)]
    write_jsonl(docs, d / "open.jsonl")
    out = tmp_path_factory.mktemp("pmodel") / "m"
    cfg = load_config(None, TINY + [f"data.train=[{str(d / 'open.jsonl')!r}]", "train.epochs=60", "train.lr=0.01",
                                    "model.linker=pointer"])
    return train(cfg, out, progress=False), docs, out


# ---- decoding rules on hand-set logits ----------------------------------------------------------

def _decode(start_hot, end_hot, allowed, none=(-5.0, -5.0), max_len=16, length=12):
    start, end = torch.zeros(1, length), torch.zeros(1, length)
    for i, v in start_hot.items():
        start[0, i] = v
    for i, v in end_hot.items():
        end[0, i] = v
    first, last, logp = decode_pointer(start, end, torch.tensor([none]), allowed, max_len)
    return int(first), int(last), float(logp)


def test_decode_picks_the_best_span_and_start_never_after_end():
    allowed = torch.ones(1, 12, dtype=torch.bool)
    assert _decode({2: 9.0}, {4: 9.0}, allowed)[:2] == (2, 4)
    first, last, _ = _decode({6: 9.0}, {3: 9.0}, allowed)  # the best start lies after the best end
    assert 0 <= first <= last
    assert first == 6 or last == 3  # one peak kept, the other boundary wherever it ties best


def test_decode_respects_max_length_quantities_and_sentence():
    allowed = torch.ones(1, 12, dtype=torch.bool)
    first, last, _ = _decode({0: 9.0}, {10: 9.0}, allowed, max_len=4)
    assert last - first + 1 <= 4
    allowed[0, 3:6] = False  # a quantity at 3..5: no span may cover it
    first, last, _ = _decode({1: 9.0}, {8: 9.0}, allowed)
    assert not (first <= 5 and last >= 3) and first >= 0
    allowed = torch.zeros(1, 12, dtype=torch.bool)
    allowed[0, 7:12] = True  # the quantity's sentence: 7..11 only
    first, last, _ = _decode({1: 9.0, 8: 2.0}, {2: 9.0, 9: 2.0}, allowed)
    assert (first, last) == (8, 9)


def test_decode_none_wins_when_its_logit_is_highest():
    allowed = torch.ones(1, 12, dtype=torch.bool)
    first, last, logp = _decode({2: 3.0}, {4: 3.0}, allowed, none=(12.0, 12.0))
    assert (first, last) == (-1, -1) and -0.01 < logp <= 0.0
    assert _decode({2: 3.0}, {4: 3.0}, torch.zeros(1, 12, dtype=torch.bool))[:2] == (-1, -1)  # nothing allowed


def test_inputs_mask_quantities_and_other_sentences():
    text = "去年种植刺梨10亩。今年种植猕猴桃20亩"
    assert text[6:9] == "10亩" and text[17:20] == "20亩" and text[14:17] == "猕猴桃"
    p = pointer_inputs([text], [[(6, 9), (17, 20)]], 24, [[(4, 6), (14, 17)]])
    allowed, bucket, n_q, n_sep = geometry(p)
    assert allowed[0].nonzero().flatten().tolist() == [0, 1, 2, 3, 4, 5, 9]  # sentence 1 (。 included)
    assert allowed[1].nonzero().flatten().tolist() == list(range(10, 17))  # sentence 2 up to its quantity
    assert p["gold_start"].tolist() == [4, 14] and p["gold_end"].tolist() == [5, 16]
    assert bucket[0, 5] == 0 and bucket[0, 9] != bucket[0, 3]  # right before; the sides differ
    assert n_q[1, 10] == 0 and n_q[1, 5] == 1  # 10亩 lies between position 5 and 20亩


def test_window_result_adds_pointer_spans_and_drops_overlapping_tagger_indicators():
    spans = [(0, 3, "INDICATOR", 0.9), (3, 7, "QUANTITY", 0.99), (8, 10, "INDICATOR", 0.8), (10, 12, "QUANTITY", 0.9)]
    kept, links = _window_result(spans, [(3, 7), (10, 12)], [(0, 2), (8, 10)], [0.7, 0.6])
    assert kept == [(0, 2, "INDICATOR", 0.7), (3, 7, "QUANTITY", 0.99), (8, 10, "INDICATOR", 0.8),
                    (10, 12, "QUANTITY", 0.9)]
    assert links == [(1, 0, 0.7), (3, 2, 0.6)]
    kept, links = _window_result(spans, [(3, 7), (10, 12)], [None, None], [0.9, 0.9])
    assert kept == spans and links == [(1, None, 0.9), (3, None, 0.9)]


# ---- a tiny model --------------------------------------------------------------------------

def test_pointer_links_indicators_the_tagger_does_not_tag(pointer_model):
    res, docs, _ = pointer_model
    model = res.model
    model.cfg.indicator_bias = -100.0  # the tagger gives no INDICATOR span at all
    texts = [d.text for d in docs]
    batch = model.featurizer.texts(texts)
    with torch.inference_mode():
        _, logits = model.net.encode(batch)
    seqs = viterbi(logits, [len(t) for t in texts], tag_bias(-100.0))
    assert not any(lab == "INDICATOR" for seq in seqs for _, _, lab in spans_from_tags(seq))
    for gold, pred in zip(docs, model.predict_documents(texts)):
        assert _links(pred) == _links(gold), gold.text
        gold_ind = sorted((e.start, e.end) for e in gold.entities if e.label == "INDICATOR")
        assert sorted((s.start, s.end) for s in pred.spans if s.label == "INDICATOR") == gold_ind
        for s in pred.spans:
            assert gold.text[s.start:s.end] == s.text
        assert all(0.0 <= l.score <= 1.0 for l in pred.links)
    model.cfg.indicator_bias = 0.0


def test_pointer_save_load_round_trip(pointer_model):
    res, docs, out = pointer_model
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["linker"] == "pointer"
    loaded = ZhibiaoModel.from_pretrained(out)
    assert loaded.cfg.linker == "pointer" and loaded.net.pointer is not None
    texts = [d.text for d in docs]
    for x, y in zip(res.model.predict_documents(texts), loaded.predict_documents(texts)):
        assert [(s.start, s.end, s.label, round(s.score, 5)) for s in x.spans] == \
            [(s.start, s.end, s.label, round(s.score, 5)) for s in y.spans]
        assert [(l.quantity.start, l.indicator.start, l.indicator.end, round(l.score, 5)) for l in x.links] == \
            [(l.quantity.start, l.indicator.start, l.indicator.end, round(l.score, 5)) for l in y.links]


# ---- the default linker ----------------------------------------------------------------------

def test_default_linker_is_candidates_and_has_no_pointer(tmp_path):
    from zhibiao.taxonomy import Taxonomy

    assert ModelConfig().linker == "candidates"
    cfg = ModelConfig(hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, span_dim=16, link_hidden=16,
                      lex_dim=4, max_len=32)
    model = ZhibiaoModel.create(cfg, Taxonomy.load(), ["脱贫户776户"])
    assert model.net.pointer is None
    assert not any(k.startswith("pointer.") for k in model.net.state_dict())
    out = model.save_pretrained(tmp_path / "m")
    conf = json.loads((out / "config.json").read_text(encoding="utf-8"))
    for key in ("linker", "pointer_max_len", "pointer_hidden", "pointer_detach_tags"):
        conf.pop(key)  # a model folder written before the pointer existed
    (out / "config.json").write_text(json.dumps(conf, ensure_ascii=False), encoding="utf-8")
    loaded = ZhibiaoModel.from_pretrained(out)
    assert loaded.cfg.linker == "candidates" and loaded.net.pointer is None
    text = "全镇脱贫户776户1605人。"
    a, b = model.predict_documents([text])[0], loaded.predict_documents([text])[0]
    assert [(s.start, s.end, s.label, s.score) for s in a.spans] == [(s.start, s.end, s.label, s.score) for s in b.spans]


# ---- place names (zhibiao.model.places) ---------------------------------------------------------

def test_place_names_and_kinds_of_place():
    from zhibiao.model.places import is_place_name

    for name in ("瓦额村", "保华镇", "杨柳街道", "通仙乡", "肖庄社区"):
        assert is_place_name(name), name
    for kind in ("贫困村", "行政村", "深度贫困村", "非贫困村", "乡镇", "自然村", "示范村", "脱贫户", "村", "镇", "光伏电站"):
        assert not is_place_name(kind), kind


def test_a_place_name_is_never_the_pointers_pick():
    from zhibiao.model.places import is_place_name
    from zhibiao.model.pointer import _without_place_names

    text = "瓦额村脱贫户61户"  # the place at 0..2, the group at 3..5, the quantity at 6..8
    allowed = torch.ones(1, len(text), dtype=torch.bool)
    allowed[0, 6:] = False
    start, end = torch.zeros(1, len(text)), torch.zeros(1, len(text))
    start[0, 0], end[0, 2] = 9.0, 9.0   # the place scores best
    start[0, 3], end[0, 5] = 7.0, 7.0   # the group next
    none = torch.tensor([[-5.0, -5.0]])
    decoded = decode_pointer(start, end, none, allowed, 16)
    assert decoded[0].tolist() == [0] and decoded[1].tolist() == [2]
    first, last, _ = _without_place_names([text], [0], (start, end, none, allowed), decoded, 16)
    assert (first.tolist(), last.tolist()) == ([3], [5])
    # nothing but places in the sentence: no link rather than a place
    start[0, 3], end[0, 5] = 0.0, 0.0
    first, last, _ = _without_place_names([text], [0], (start, end, none, allowed), decoded, 16)
    picked = None if int(first[0]) < 0 else text[int(first[0]):int(last[0]) + 1]
    assert picked is None or not is_place_name(picked)
