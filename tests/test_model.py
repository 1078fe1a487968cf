"""The model on tiny configurations: seconds, not minutes."""
from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from zhibiao.errors import ModelLoadError
from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup
from zhibiao.model.core import ZhibiaoModel
from zhibiao.model.config import TAGS
from zhibiao.model.decoding import spans_from_tags, viterbi
from zhibiao.train import ConfigError, load_config, train

SENTENCES = [
    "大佛镇[脱贫户]{I:a}[776户]{Q:a}[1605人]{Q:a},[监测户]{I:b}[94户]{Q:b}[190人]{Q:b}。",
    "2023年为[35名]{Q:a}学生申报春季[雨露计划]{I:a}。",
    "开发[公益性岗位]{I:a}[132个]{Q:a},其中[光伏公岗]{I:b}[52个]{Q:b}。",
    "[监测对象]{I:a}[112户]{Q:a},其中已消除风险[16户]{Q:a}[63人]{Q:a}。",
    "用好[到户产业资金]{I:a}[31.1万元]{Q:a},完成投资[20万元]{Q}。",
    "對全鎮(zhèn)[23戶]{Q:a}[78人]{Q:a}[監測對象]{I:a}進行識別。",
]

TINY = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "model.intermediate_size=64",
        "model.span_dim=32", "model.link_hidden=32", "model.lex_dim=8", "model.max_len=64", "model.dropout=0.0",
        "train.batch_size=6", "train.warmup=0.0", "data.dev_fraction=0", "data.exclude_splits=[]", "train.threads=1"]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    docs = [parse_markup(s, f"s{k}") for k, s in enumerate(SENTENCES)]
    path = d / "tiny.jsonl"
    write_jsonl(docs, path)
    return path, docs


@pytest.fixture(scope="module")
def overfit(tiny_data, tmp_path_factory):
    path, docs = tiny_data
    out = tmp_path_factory.mktemp("model") / "m"
    cfg = load_config(None, TINY + [f"data.train=[{str(path)!r}]", "train.epochs=80", "train.lr=0.01"])
    return train(cfg, out, progress=False), docs, out


def test_loss_decreases(overfit):
    res, _, _ = overfit
    losses = [h["loss"] for h in res.metrics["history"]]
    assert losses[-1] < losses[0] * 0.2


def test_overfits_tiny_set_and_reproduces_spans_and_links(overfit):
    res, docs, _ = overfit
    preds = res.model.predict_documents([d.text for d in docs])
    for gold, pred in zip(docs, preds):
        assert sorted((e.start, e.end, e.label) for e in gold.entities) == \
            sorted((s.start, s.end, s.label) for s in pred.spans), gold.text
        gl = sorted(((l.quantity.start, l.quantity.end), (l.indicator.start, l.indicator.end)) for l in gold.links())
        pl = sorted(((l.quantity.start, l.quantity.end), (l.indicator.start, l.indicator.end)) for l in pred.links)
        assert gl == pl, gold.text
        for link in pred.links:
            assert 0.0 <= link.score <= 1.0


def test_model_folder_and_save_load_identical(overfit, tmp_path):
    res, docs, out = overfit
    for name in ("config.json", "model.safetensors", "vocab.txt", "lexicon.json", "taxonomy.yaml",
                 "training_config.yaml", "data_hash.txt", "metrics.json"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["data_hash"] == (out / "data_hash.txt").read_text().strip()
    loaded = ZhibiaoModel.from_pretrained(out)
    texts = [d.text for d in docs]
    a, b = res.model.predict_documents(texts), loaded.predict_documents(texts)
    for x, y in zip(a, b):
        assert [(s.start, s.end, s.label, round(s.score, 5)) for s in x.spans] == \
            [(s.start, s.end, s.label, round(s.score, 5)) for s in y.spans]
        assert [(l.quantity.start, l.indicator.start, round(l.score, 5)) for l in x.links] == \
            [(l.quantity.start, l.indicator.start, round(l.score, 5)) for l in y.links]


def test_same_seed_same_metrics(tiny_data, tmp_path):
    path, _ = tiny_data
    cfg = load_config(None, TINY + [f"data.train=[{str(path)!r}]", "train.epochs=3"])
    m1 = train(cfg, None, progress=False).metrics["history"]
    m2 = train(cfg, None, progress=False).metrics["history"]
    assert m1 == m2


def test_offsets_index_original_traditional_text(overfit):
    res, docs, _ = overfit
    trad = docs[-1].text
    pred = res.model.predict_documents([trad])[0]
    for s in pred.spans:
        assert trad[s.start:s.end] == s.text


def test_viterbi_never_emits_invalid_sequences():
    torch.manual_seed(0)
    logits = torch.randn(8, 30, len(TAGS))
    logits[:, :, TAGS.index("I-QUANTITY")] += 3.0  # tempt it with I- tags everywhere
    for seq in viterbi(logits, [30] * 8):
        for prev, cur in zip([0] + seq, seq):
            if TAGS[cur].startswith("I-"):
                assert TAGS[prev][2:] == TAGS[cur][2:] and TAGS[prev] != "O"
    assert spans_from_tags([1, 2, 0, 3, 4, 4]) == [(0, 2, "QUANTITY"), (3, 6, "INDICATOR")]


def test_viterbi_finds_the_best_valid_sequence_for_each_length():
    import itertools

    torch.manual_seed(1)
    lengths = [5, 3, 1, 4, 0]
    logits = torch.randn(len(lengths), 5, len(TAGS))
    logp = torch.log_softmax(logits, dim=-1)

    def valid(seq):
        return all(not TAGS[c].startswith("I-") or (TAGS[p] != "O" and TAGS[p][2:] == TAGS[c][2:])
                   for p, c in zip([0] + list(seq), seq))

    for b, (n, seq) in enumerate(zip(lengths, viterbi(logits, lengths))):
        assert len(seq) == n
        if n == 0:
            continue
        best = max((s for s in itertools.product(range(len(TAGS)), repeat=n) if valid(s)),
                   key=lambda s: sum(float(logp[b, t, k]) for t, k in enumerate(s)))
        assert tuple(seq) == best


def test_release_memory_is_safe_to_call():
    from zhibiao.model.core import release_memory

    release_memory()
    release_memory()
    # rate-limited: right after a trim, a call that asks for an hour's gap does nothing
    release_memory(min_interval=0.0)
    assert release_memory(min_interval=3600.0) is False


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(None, ["train.epochz=3"])
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        load_config(None, ["train.epochs"])


def test_config_file_free_maps_and_unknown_keys(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data:\n  oversample: {seed: 3, authored: 2}\ntrain:\n  epochs: 2\n", encoding="utf-8")
    got = load_config(cfg)
    assert got.data.oversample == {"seed": 3, "authored": 2} and got.train.epochs == 2
    assert load_config(cfg, ["data.oversample={}"]).data.oversample == {}
    cfg.write_text("train:\n  epochz: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown config key 'epochz'"):
        load_config(cfg)


# ---- bad model folders ---------------------------------------------------------------------

def test_bad_model_folders(overfit, tmp_path):
    _, _, out = overfit
    with pytest.raises(ModelLoadError, match="no such directory"):
        ZhibiaoModel.from_pretrained(tmp_path / "nope")
    missing = tmp_path / "missing"
    shutil.copytree(out, missing)
    (missing / "vocab.txt").unlink()
    with pytest.raises(ModelLoadError, match="missing vocab.txt"):
        ZhibiaoModel.from_pretrained(missing)
    pickled = tmp_path / "pickled"
    shutil.copytree(out, pickled)
    (pickled / "model.safetensors").unlink()
    torch.save({"x": torch.zeros(1)}, pickled / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="pickle"):
        ZhibiaoModel.from_pretrained(pickled)
    shapes = tmp_path / "shapes"
    shutil.copytree(out, shapes)
    cfg = json.loads((shapes / "config.json").read_text())
    cfg["span_dim"] = 48
    (shapes / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="wrong tensor shapes"):
        ZhibiaoModel.from_pretrained(shapes)
    garbage = tmp_path / "garbage"
    shutil.copytree(out, garbage)
    (garbage / "model.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(ModelLoadError, match="safetensors"):
        ZhibiaoModel.from_pretrained(garbage)


# ---- a pretrained (Hugging Face) encoder, made and saved locally: no network ---------------

@pytest.fixture(scope="module")
def tiny_hf_encoder(tmp_path_factory):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    d = tmp_path_factory.mktemp("hf") / "tiny-bert"
    chars = sorted({c for s in SENTENCES for c in s} | set("0123456789"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars
    (d.parent / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(d.parent / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=True)
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=64, max_position_embeddings=128), add_pooling_layer=False)
    model.save_pretrained(d, safe_serialization=True)
    tok.save_pretrained(d)
    return d


def test_pretrained_encoder_path_local_only(tiny_data, tiny_hf_encoder, tmp_path, monkeypatch):
    import transformers

    seen = []
    for cls in (transformers.AutoTokenizer, transformers.AutoModel):
        orig = cls.from_pretrained.__func__

        def spy(c, *a, _orig=orig, **kw):
            seen.append((c.__name__, kw.get("local_files_only"), kw.get("trust_remote_code", False)))
            return _orig(c, *a, **kw)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    path, docs = tiny_data
    cfg = load_config(None, TINY + [f"data.train=[{str(path)!r}]", "train.epochs=2",
                                    f"model.base_model={str(tiny_hf_encoder)!r}", "train.encoder_lr=0.001"])
    res = train(cfg, tmp_path / "ft", progress=False)
    assert ("AutoTokenizer", True, False) in seen and ("AutoModel", True, False) in seen
    assert (tmp_path / "ft" / "tokenizer").is_dir()
    loaded = ZhibiaoModel.from_pretrained(tmp_path / "ft")
    texts = [d.text for d in docs]
    a, b = res.model.predict_documents(texts), loaded.predict_documents(texts)
    assert [[(s.start, s.end, s.label) for s in p.spans] for p in a] == [[(s.start, s.end, s.label) for s in p.spans] for p in b]
    for p, t in zip(b, texts):
        for s in p.spans:
            assert t[s.start:s.end] == s.text


def test_missing_base_model_is_a_clear_error(tiny_data, tmp_path):
    path, _ = tiny_data
    cfg = load_config(None, TINY + [f"data.train=[{str(path)!r}]", "train.epochs=1",
                                    f"model.base_model={str(tmp_path / 'no-such-encoder')!r}"])
    with pytest.raises(ModelLoadError, match="cannot load base model"):
        train(cfg, None, progress=False)


# ---- decoding: quantities snap to the quantity grammar; dates and durations are dropped ---------------
def test_snap_quantities_splits_merges_and_drops_dates():
    from zhibiao.model.decoding import snap_quantities

    text = "2023年监测户94户190人,发放31.1万元,历时3天,5个工作日内完成。"
    q = lambda s: (text.index(s), text.index(s) + len(s), "QUANTITY", 0.9)  # noqa: E731
    ind = (text.index("监测户"), text.index("监测户") + 3, "INDICATOR", 0.9)
    split_money = [(text.index("31."), text.index("31.") + 3, "QUANTITY", 0.9),
                   (text.index("1万元"), text.index("1万元") + 3, "QUANTITY", 0.9)]
    spans = [q("2023年"), ind, q("94户190人")] + split_money + [q("3天"), q("5个")]
    got = [(text[s:e], lab) for s, e, lab, _ in snap_quantities(text, spans)]
    assert got == [("监测户", "INDICATOR"), ("94户", "QUANTITY"), ("190人", "QUANTITY"), ("31.1万元", "QUANTITY")]
    quarter = "一二季度共有109户"  # the grammar reads 一二季度 but it does not parse: still a date
    got = [quarter[s:e] for s, e, _, _ in snap_quantities(quarter, [(0, 4, "QUANTITY", 0.9), (6, 10, "QUANTITY", 0.9)])]
    assert got == ["109户"]


def test_indicator_bias_is_chosen_on_dev_and_saved(tiny_data, tmp_path):
    path, docs = tiny_data
    cfg = load_config(None, TINY + [f"data.train=[{str(path)!r}]", "train.epochs=3", "data.dev_fraction=0.34",
                                    "train.tune_indicator_bias=[0, 1, 2]"])
    res = train(cfg, tmp_path / "m", progress=False)
    dec = res.metrics["decoding"]
    assert set(dec["dev_score_by_bias"]) == {"0.0", "1.0", "2.0"}
    assert dec["indicator_bias"] in (0.0, 1.0, 2.0)
    best = max(dec["dev_score_by_bias"].values())
    assert dec["dev_score_by_bias"][str(dec["indicator_bias"])] == best
    saved = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert saved["indicator_bias"] == dec["indicator_bias"] == res.model.cfg.indicator_bias


def test_a_positive_indicator_bias_tags_more_indicator_characters(overfit):
    res, docs, _ = overfit
    model, texts = res.model, [d.text for d in docs]

    def indicator_chars(bias: float) -> int:
        model.cfg.indicator_bias = bias
        return sum(s.end - s.start for p in model.predict_documents(texts) for s in p.indicators)

    try:
        assert indicator_chars(8.0) > indicator_chars(0.0)
    finally:
        model.cfg.indicator_bias = 0.0


def test_pair_features_version_2_sees_de_between_quantity_and_candidate():
    from zhibiao.model.featurization import between_marks, n_pair_features, pair_features

    text = "已脱贫户、297户595人的监测户"
    q, ind_left, ind_right = (5, 9), (0, 4), (14, 17)
    assert text[5:9] == "297户" and text[14:17] == "监测户"
    v1 = pair_features(text, q, [q, (9, 13)], [ind_left, ind_right], between_marks(1))
    v2 = pair_features(text, q, [q, (9, 13)], [ind_left, ind_right], between_marks(2))
    assert [len(f) for f in v1] == [n_pair_features(1)] * 2 and [len(f) for f in v2] == [n_pair_features(2)] * 2
    de = len(between_marks(2)) + 1  # index of the 的 flag: after the two counts and the other marks
    assert v2[1][de] == 1.0 and v2[0][de] == 0.0  # 的 lies between 297户 and 监测户 only
    assert [f[:de] + f[de + 1:] for f in v2] == v1  # version 2 only adds the flag


def test_snap_quantities_follows_the_spec_span_and_adds_missed_digit_quantities():
    from zhibiao.model.decoding import snap_quantities

    text = "人均收入6500元以上,20xx年建成60KW电站1座、三处车间,县道X877项目,人口17 608人,队伍2支,400余劳动力。"
    at = lambda s, lab="QUANTITY": (text.index(s), text.index(s) + len(s), lab, 0.9)  # noqa: E731
    spans = [at("6500元以上"), at("20x"), at("电站", "INDICATOR"), at("877项"), at("17 608人"), at("伍"),
             at("400余")]
    got = [(text[s:e], lab) for s, e, lab, _ in snap_quantities(text, spans)]
    # 以上 left out; 20x is not a quantity; 877项 is part of the road's name X877
    # a bare number (伍 of 队伍) is not a quantity; one with an approximation marker (400余) is
    assert got == [("6500元", "QUANTITY"), ("电站", "INDICATOR"), ("17 608人", "QUANTITY"), ("400余", "QUANTITY")]
    got = [(text[s:e], lab, sc) for s, e, lab, sc in
           snap_quantities(text, spans, add_missed=True, score=lambda a, b: 0.25)]
    assert ("60KW", "QUANTITY", 0.25) in got and ("1座", "QUANTITY", 0.25) in got
    assert not any(t == "三处" for t, _, _ in got)  # only digit-led matches are added


def test_dev_split_draws_only_from_the_given_splits():
    from zhibiao.records import AnnotatedDocument
    from zhibiao.train import dev_split

    docs = [AnnotatedDocument(id=f"s{k}", text="x", meta={"split": "seed"}) for k in range(5)] + \
           [AnnotatedDocument(id=f"a{k}", text="x", meta={"split": "train"}) for k in range(15)]
    train_docs, dev = dev_split(docs, 0.2, ["train"])
    assert len(dev) == 4 and all(d.meta["split"] == "train" for d in dev)
    assert {d.id for d in train_docs} | {d.id for d in dev} == {d.id for d in docs}
    assert dev_split(docs, 0.2)[1] != dev  # any split: the hash order decides (seeds included)


def test_alias_spans_are_taxonomy_aliases_longest_first():
    from zhibiao.model.lexicon import Lexicon, greedy_spans

    lex = Lexicon.build({"脱贫": "poverty_exited", "脱贫户": "poverty_exited", "监测对象": "monitored", "井": "water"})
    text = "脱贫户776户,监测对象新增,打井61口,已脱贫"
    got = [text[a:b] for a, b in lex.alias_spans(text)]
    assert got == ["脱贫户", "监测对象", "脱贫"]  # longest match wins; 户 (a unit word) and 井 (1 char) are not candidates
    ends: list[int] = []
    lex.features(text, alias_ends=ends)  # the same matches, found in the lexicon features' pass
    assert greedy_spans(ends) == lex.alias_spans(text)


def test_alias_candidates_link_indicators_the_tagger_missed(tiny_data, tmp_path):
    path, docs = tiny_data
    cfg = load_config(None, TINY + [f"data.train=[{str(path)!r}]", "train.epochs=80", "train.lr=0.01",
                                    "model.alias_candidates=true"])
    model = train(cfg, tmp_path / "m", progress=False).model
    text = docs[0].text  # 大佛镇脱贫户776户1605人,监测户94户190人。
    model.cfg.indicator_bias = -50.0  # the tagger now tags no INDICATOR: only alias candidates are left
    pred = model.predict_documents([text])[0]
    assert {(l.quantity.text, l.indicator.text) for l in pred.links} == {
        ("776户", "脱贫户"), ("1605人", "脱贫户"), ("94户", "监测户"), ("190人", "监测户")}
    assert [(s.start, s.end) for s in pred.spans] == sorted((s.start, s.end) for s in pred.spans)
    assert sorted(s.text for s in pred.spans if s.label == "INDICATOR") == ["监测户", "脱贫户"]
    model.cfg.alias_candidates = False  # without them nothing is left to link to
    assert model.predict_documents([text])[0].links == []


def test_pair_features_match_a_brute_force_count():
    """The bisection counts and the per-window mark tables give what a plain scan gives."""
    import random

    from zhibiao.model.featurization import between_marks, pair_features

    def brute(text, q, quantities, indicators, marks):
        out = []
        for i in indicators:
            lo, hi = (q[1], i[0]) if i[0] >= q[1] else (i[1], q[0])
            between = text[lo:hi] if hi > lo else ""
            nq = sum(1 for s in quantities if s != q and lo <= s[0] and s[1] <= hi)
            ni = sum(1 for s in indicators if s != i and lo <= s[0] and s[1] <= hi)
            out.append([min(nq, 3) / 3.0, min(ni, 3) / 3.0]
                       + [1.0 if between and any(m in between for m in g) else 0.0 for g in marks])
        return out

    rnd = random.Random(0)
    for trial in range(400):
        text = "".join(rnd.choice("户人,，其中的、;：含(") for _ in range(60))
        cuts = sorted(rnd.sample(range(61), 14))
        spans = [(cuts[k], cuts[k + 1]) for k in range(0, 14, 2)]
        rnd.shuffle(spans)
        qs, ins = sorted(spans[:3]), sorted(spans[3:])
        if trial % 2:  # overlapping, unsorted candidates take the plain path
            ins = ins + [(ins[0][0], ins[0][1] + 1)] if ins else ins
        marks = between_marks(1 + trial % 3 // 2)
        for q in qs:
            got = [f[:2 + len(marks)] for f in pair_features(text, q, qs, ins, marks)]
            assert got == brute(text, q, qs, ins, marks)


def test_spans_from_valid_tags_agrees_with_the_general_reader():
    from zhibiao.model.decoding import spans_from_valid_tags

    g = torch.Generator().manual_seed(3)
    logits = torch.randn(16, 50, len(TAGS), generator=g) * 3
    for seq in viterbi(logits, [50, 1, 0, 49] * 4):
        assert spans_from_valid_tags(seq) == spans_from_tags(seq)


def test_viterbi_shortcut_equals_the_full_recursion():
    """Rows whose argmax is a valid sequence skip the recursion: the same paths either way."""
    import numpy as np

    from zhibiao.model.decoding import _viterbi_rows

    g = torch.Generator().manual_seed(5)
    logits = torch.randn(64, 40, len(TAGS), generator=g) * 2
    logits[::2, :, TAGS.index("O")] += 6.0  # half the rows are confident (valid argmaxes), the rest random
    lengths = [40 - k % 37 for k in range(64)]
    logp = torch.log_softmax(logits, dim=-1).numpy()
    full = _viterbi_rows(logp, np.asarray(lengths))
    assert viterbi(logits, lengths) == [row[:n] for row, n in zip(full, lengths)]
    greedy_valid = sum(all(not TAGS[c].startswith("I-") or TAGS[p][2:] == TAGS[c][2:] and TAGS[p] != "O"
                           for p, c in zip([0] + r[:n], r[:n]))
                       for r, n in zip(logp.argmax(-1).tolist(), lengths))
    assert 0 < greedy_valid < 64  # both paths were taken


def test_packed_linker_scores_equal_the_training_grid(overfit):
    """Inference scores only the real quantity-candidate pairs; training scores the padded grid.
    Windows with different candidate counts give the same logits both ways."""
    res, docs, _ = overfit
    model = res.model
    texts = [d.text for d in docs]
    qs = [[(e.start, e.end) for e in d.entities if e.label == "QUANTITY"] for d in docs]
    ins = [[(e.start, e.end) for e in d.entities if e.label == "INDICATOR"] for d in docs]
    ins[0] = ins[0] + [(0, 2)]  # a window with one candidate more than the rest
    ins[2] = []  # and one with none
    assert len({len(i) for i in ins}) > 2
    batch = model.featurizer.texts(texts)
    links = model.featurizer.links(texts, qs, ins)
    with torch.no_grad():
        states, _ = model.net.encode(batch)
        model.net.train()  # dropout is 0 in TINY: only the layout differs
        grid = model.net.link_logits(states, links)
        model.net.eval()
        packed = model.net.link_logits(states, links)
    assert grid.shape == packed.shape == (sum(map(len, qs)), 1 + max(map(len, ins)))
    assert torch.equal(torch.isinf(grid), torch.isinf(packed))
    finite = ~torch.isinf(grid)
    assert torch.allclose(grid[finite], packed[finite], atol=1e-5)


def test_bound_kernel_caches_respects_a_user_setting(monkeypatch):
    from zhibiao.extract import ONEDNN_CACHE_ENV, bound_kernel_caches

    monkeypatch.delenv(ONEDNN_CACHE_ENV, raising=False)
    bound_kernel_caches()
    assert os.environ[ONEDNN_CACHE_ENV] == "0"
    monkeypatch.setenv(ONEDNN_CACHE_ENV, "64")
    bound_kernel_caches()
    assert os.environ[ONEDNN_CACHE_ENV] == "64"


def test_distance_bucket_counts_the_edges_below_the_gap():
    from zhibiao.model.featurization import _BUCKET_EDGES, N_BUCKETS, distance_bucket

    for gap in range(0, 100):
        assert distance_bucket((0, 2), (2 + gap, 5 + gap)) == N_BUCKETS + sum(gap > e for e in _BUCKET_EDGES)
        assert distance_bucket((200, 202), (190 - gap, 200 - gap)) == sum(gap > e for e in _BUCKET_EDGES)


def test_lexicon_tensors_hold_each_texts_features():
    from zhibiao.model.lexicon import Lexicon, lexicon_tensors

    lex = Lexicon.build({"脱贫户": "poverty_exited", "脱贫": "poverty_exited", "监测对象": "monitored"})
    texts = ["脱贫户776户1605人,监测对象新增", "", "已脱贫户共计"]
    ends: list[list[int]] = []
    w, c = lexicon_tensors(lex, texts, 24, ends)
    for b, t in enumerate(texts):
        wid, cid = lex.features(t)
        assert (w[b, :len(t)].numpy() == wid).all() and (c[b, :len(t)].numpy() == cid).all()
        assert not w[b, len(t):].any()
    assert w[0].any() and ends[2][1] == 4  # 已[脱贫户]: the longest alias starting at 1 ends at 4


def test_char_ids_translate_like_the_per_character_maps():
    from zhibiao.model.characters import CLASS_TABLE, char_class, char_ids
    from zhibiao.model.vocab import CharVocab

    vocab = CharVocab.build(["脱贫户"])
    texts = ["脱贫户776户,鎮(zhèn)😀\u3000Ａ", "", "监测对象１２户"]
    ids = char_ids(texts, vocab.code_table(), 20)
    cls = char_ids(texts, CLASS_TABLE, 20)
    for b, t in enumerate(texts):
        assert ids[b, :len(t)].tolist() == vocab.encode(t) and not ids[b, len(t):].any()
        assert cls[b, :len(t)].tolist() == [char_class(ch) for ch in t]
    assert 1 in ids[0].tolist()  # 😀 is unknown: [UNK]
    big = CharVocab(["[PAD]", "[UNK]"] + [chr(0x4E00 + k) for k in range(0xD800)])
    assert big.code_table() is None  # ids past U+D800 cannot travel as code points: the list path
