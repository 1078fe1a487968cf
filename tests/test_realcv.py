"""training/realcv.py (real-report cross-validation) on a tiny fixture: no ../shared needed."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

import realcv  # noqa: E402

PAGES = [
    "全镇[脱贫户]{I:a}[120户]{Q:a}[410人]{Q:a}。",
    "[监测对象]{I:a}[15户]{Q:a},其中已消除风险[6户]{Q:a}。",
    "开发[公益性岗位]{I:a}[32个]{Q:a}。",
    "为[18名]{Q:a}学生申报[雨露计划]{I:a}。",
]
TINY = ["model.hidden_size=16", "model.num_layers=1", "model.num_heads=2", "model.intermediate_size=32",
        "model.span_dim=16", "model.link_hidden=16", "model.lex_dim=8", "model.max_len=64", "train.epochs=1",
        "train.batch_size=4", "data.dev_fraction=0", "data.exclude_splits=[]", "data.generator_share=0",
        "train.tune_indicator_bias=null"]


def test_split_folds_deals_sorted_ids_round_robin():
    assert realcv.split_folds(["R3", "R1", "R2", "R4", "R5"], 2) == [["R1", "R3", "R5"], ["R2", "R4"]]


def test_realcv_trains_one_model_per_fold_and_scores_held_out_documents(tmp_path):
    docs = [parse_markup(p, f"R{k}") for k, p in enumerate(PAGES)]
    for d in docs:
        d.meta["split"] = "real"
    real = tmp_path / "real.jsonl"
    write_jsonl(docs, real)
    corrections = tmp_path / "corr.jsonl"
    corrections.write_text(json.dumps({"doc": "R2", "op": "link", "entity": 2, "to": None, "why": "test"}) + "\n",
                           encoding="utf-8")
    config = tmp_path / "cfg.yaml"
    config.write_text(f"data:\n  train: [{json.dumps(str(real))}]\n", encoding="utf-8")
    args = ["--config", str(config), "--real", str(real), "--corrections", str(corrections), "--folds", "2",
            "--jobs", "1", "--name", "tiny", "--results", str(tmp_path / "results"), "--models", str(tmp_path / "m")]
    for s in TINY:
        args += ["--set", s]
    assert realcv.main(args) == 0
    result = json.loads((tmp_path / "results" / "realcv-tiny.json").read_text(encoding="utf-8"))
    assert set(result["folds"]) == {"fold0", "fold1"} and not result["shared_model"]
    assert result["folds"]["fold0"]["ids"] == ["R0", "R2"]
    # each fold's model never saw its own documents
    assert (tmp_path / "m" / "fold0").is_dir() and (tmp_path / "m" / "fold1").is_dir()
    for key in ("link_relaxed_f1", "quantity_f1", "value_accuracy"):
        assert 0.0 <= result["mean"][key] <= 1.0
    # the corrected gold is what is scored: R0's two links, R2's one removed by the overlay
    assert result["folds"]["fold0"]["n_gold_links"] == 2
    # --only with --reuse: fold 1 again (its model is reused: same key), fold 0 taken from the earlier run
    again = [a if a != "tiny" else "tiny2" for a in args] + ["--only", "1", "--reuse", "tiny"]
    assert realcv.main(again) == 0
    merged = json.loads((tmp_path / "results" / "realcv-tiny2.json").read_text(encoding="utf-8"))
    assert set(merged["folds"]) == {"fold0", "fold1"} and merged["pooled_folds"] == ["fold1"]
    assert merged["folds"]["fold0"]["reused_from"].startswith("realcv-tiny.json")
    assert merged["folds"]["fold1"]["metrics"] == result["folds"]["fold1"]["metrics"]
    assert merged["mean"] == result["mean"] and "--reuse tiny" in merged["command"]
    # a run of another config is not reused
    other = [a if a != "tiny" else "tiny3" for a in args] + ["--set", "train.seed=99", "--only", "1", "--reuse", "tiny"]
    with pytest.raises(SystemExit, match="differ"):
        realcv.main(other)


def test_ensemble_of_scores_the_vote_of_earlier_runs_fold_models(tmp_path):
    docs = [parse_markup(p, f"R{k}") for k, p in enumerate(PAGES)]
    real = tmp_path / "real.jsonl"
    write_jsonl(docs, real)
    config = tmp_path / "cfg.yaml"
    config.write_text(f"data:\n  train: [{json.dumps(str(real))}]\n", encoding="utf-8")
    base = ["--config", str(config), "--real", str(real), "--corrections", str(tmp_path / "none.jsonl"),
            "--folds", "2", "--jobs", "1", "--results", str(tmp_path / "results")]
    for s in TINY:
        base += ["--set", s]
    for seed in (1, 2):
        assert realcv.main(base + ["--set", f"train.seed={seed}", "--name", f"s{seed}",
                                   "--models", str(tmp_path / f"m{seed}")]) == 0
    assert realcv.main(base + ["--name", "pair", "--ensemble-of", str(tmp_path / "m1"), str(tmp_path / "m2")]) == 0
    pair = json.loads((tmp_path / "results" / "realcv-pair.json").read_text(encoding="utf-8"))
    assert set(pair["folds"]) == {"fold0", "fold1"} and "--ensemble-of" in pair["command"]
    # one folder: the fold models alone, scored as their own run scored them
    assert realcv.main(base + ["--name", "one", "--ensemble-of", str(tmp_path / "m1")]) == 0
    one = json.loads((tmp_path / "results" / "realcv-one.json").read_text(encoding="utf-8"))
    s1 = json.loads((tmp_path / "results" / "realcv-s1.json").read_text(encoding="utf-8"))
    assert one["mean"] == s1["mean"]
