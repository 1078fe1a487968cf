"""The training configuration (zhibiao.config): defaults, checks, paths, corrections, the LR schedule."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from zhibiao.config import ConfigError, TrainingConfig, check_output_folder, load_config
from zhibiao.errors import AnnotationError
from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup
from zhibiao.model.config import ModelConfig
from zhibiao.train import train, training_documents, warmup_schedule

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def tiny_jsonl(tmp_path):
    docs = [parse_markup("全镇[监测户]{I:a}[94户]{Q:a}[190人]{Q:a}。", "d1"),
            parse_markup("开发[公益性岗位]{I:a}[132个]{Q:a}。", "d2")]
    path = tmp_path / "data" / "tiny.jsonl"
    path.parent.mkdir()
    write_jsonl(docs, path)
    return path


# ---- defaults ----------------------------------------------------------------------------------

def test_model_defaults_come_from_model_config_and_default_yaml_lists_every_key():
    cfg = TrainingConfig()
    assert cfg.model == ModelConfig()  # one set of model defaults: the network's own
    listed = yaml.safe_load((ROOT / "training/default.yaml").read_text(encoding="utf-8"))
    assert {s: sorted(v) for s, v in listed.items()} == {s: sorted(v) for s, v in cfg.to_dict().items()}
    assert "vocab_size" not in cfg.to_dict()["model"]  # derived when a model is created, not a config key


SHARED = ROOT.parent / "shared"


@pytest.mark.parametrize("path", sorted((ROOT / "training").glob("*.yaml")), ids=lambda p: p.name)
def test_every_repository_config_loads_and_names_existing_files(path):
    text = path.read_text(encoding="utf-8")
    if "shared/" in text and not SHARED.is_dir():
        pytest.skip(f"{path.name} trains on ../shared (third-party text, referenced by path), absent here")
    cfg = load_config(path)
    cfg.check_paths()
    assert all(p.exists() for p in cfg.data_paths("train"))


def test_dict_round_trip_and_copy_with_overrides():
    cfg = load_config(None, ["train.epochs=3", "data.oversample={seed: 2}"])
    again = TrainingConfig.from_dict(cfg.to_dict())
    assert again == cfg
    other = cfg.with_overrides(["model.hidden_size=64"])
    assert other.model.hidden_size == 64 and cfg.model.hidden_size == 128  # a copy; the original is unchanged
    assert other.train.epochs == 3 and other.data.oversample == {"seed": 2}


# ---- type and range checks ------------------------------------------------------------------------

@pytest.mark.parametrize("override, message", [
    ("train.epochs=two", "train.epochs: expected int, got 'two'"),
    ("train.epochs=true", "train.epochs: expected int"),
    ("train.epochs=2.5", "train.epochs: expected int"),
    ("train.lr=-0.001", "train.lr: must be greater than 0.0"),
    ("train.lr=0", "train.lr: must be greater than 0.0"),
    ("train.epochs=0", "train.epochs: must be at least 1"),
    ("data.dev_fraction=1.5", "data.dev_fraction: must be at most 1.0"),
    ("train.warmup=-0.1", "train.warmup: must be at least 0.0"),
    ("data.train=annotations/seeds.jsonl", r"data.train: expected list\[str\]"),
    ("data.oversample={seed: many}", "data.oversample.seed: expected int"),
    ("data.format=csv", "data.format: 'csv' is not one of"),
    ("model.pair_features_version=3", "model.pair_features_version: 3 is not one of 1, 2"),
    ("train.noisy_candidates=1", "train.noisy_candidates: expected bool"),
])
def test_bad_values_are_refused_with_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_an_int_is_accepted_where_a_float_is_expected():
    cfg = load_config(None, ["train.lr=1", "train.encoder_lr=null", "train.tune_indicator_bias=[0, 1]"])
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.train.tune_indicator_bias == [0.0, 1.0]


def test_misspelt_keys_get_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'train.epochz'; did you mean 'train.epochs'\?"):
        load_config(None, ["train.epochz=3"])
    with pytest.raises(ConfigError, match=r"unknown section 'trian'; did you mean 'train'\?"):
        load_config(None, ["trian.epochs=3"])
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  hiden_size: 64\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.yaml.model: unknown config key 'hiden_size'; did you mean 'hidden_size'\?"):
        load_config(path)
    path.write_text("dta:\n  train: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown config section 'dta'; did you mean 'data'\?"):
        load_config(path)
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        load_config(None, ["train.epochs"])
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        load_config(None, ["epochs=3"])


def test_the_same_checks_apply_to_config_files(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="train.lr: must be greater than 0.0"):
        load_config(path)
    path.write_text("train: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping of keys"):
        load_config(path)


# ---- paths -------------------------------------------------------------------------------------

def test_paths_in_a_config_file_are_read_from_its_folder(tmp_path, tiny_jsonl, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "c.yaml").write_text("data:\n  train: [../data/tiny.jsonl]\n  dev_fraction: 0\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working directory plays no part
    cfg = load_config(conf / "c.yaml")
    assert cfg.data_paths("train") == [conf / "../data/tiny.jsonl"]
    docs, train_docs, dev = training_documents(cfg, base=elsewhere)  # base: only for file-less configs
    assert [d.id for d in docs] == ["d1", "d2"] and not dev
    # an absolute path stays as it is; an override's relative path is taken from the working directory
    cfg = load_config(conf / "c.yaml", [f"data.train=[{str(tiny_jsonl)!r}]"])
    assert cfg.data_paths("train") == [tiny_jsonl]
    monkeypatch.chdir(tiny_jsonl.parent)
    cfg = load_config(conf / "c.yaml", ["data.train=[tiny.jsonl]"])
    assert cfg.data_paths("train") == [tiny_jsonl]


def test_file_less_configs_read_relative_paths_from_base_dir(tmp_path, tiny_jsonl):
    cfg = TrainingConfig.from_dict({"data": {"train": ["data/tiny.jsonl"], "dev_fraction": 0}})
    docs, _, _ = training_documents(cfg, tmp_path)
    assert len(docs) == 2
    docs, _, _ = training_documents(cfg.to_dict(), tmp_path)  # a plain dict works too
    assert len(docs) == 2


def test_missing_files_and_bad_output_are_refused_before_any_work(tmp_path, tiny_jsonl):
    conf = tmp_path / "c.yaml"
    conf.write_text("data:\n  train: [data/nope.jsonl]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"data.train: .*nope.jsonl does not exist \(relative paths are read from "):
        train(load_config(conf), tmp_path / "out", progress=False)
    conf.write_text("data:\n  train: [data/tiny.jsonl]\n  corrections: [fixes.jsonl]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="data.corrections: .*fixes.jsonl does not exist"):
        train(load_config(conf), None, progress=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    conf.write_text("data:\n  train: [data/tiny.jsonl]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        train(load_config(conf), blocker, progress=False)
    with pytest.raises(ConfigError, match="is not a folder"):
        train(load_config(conf), blocker / "model", progress=False)
    check_output_folder(tmp_path / "new" / "deeper")  # a folder that can be created is fine
    assert not (tmp_path / "new").exists()  # and checking creates nothing


# ---- corrections ---------------------------------------------------------------------------------

def test_data_corrections_are_applied_to_the_documents_read(tmp_path, tiny_jsonl):
    overlay = tmp_path / "fixes.jsonl"
    lines = [{"doc": "d1", "op": "remove", "entity": 3, "text": "190人", "why": "test"},
             {"doc": "d2", "op": "link", "entity": 2, "to": None, "why": "test"},
             {"doc": "other", "op": "remove", "entity": 1, "why": "a document not read: skipped"}]
    overlay.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    conf = tmp_path / "c.yaml"
    conf.write_text("data:\n  train: [data/tiny.jsonl]\n  corrections: [fixes.jsonl]\n  dev_fraction: 0\n",
                    encoding="utf-8")
    before, _, _ = training_documents(load_config(conf, ["data.corrections=[]"]))
    docs, _, _ = training_documents(load_config(conf))
    d1, d2 = docs
    assert [e.text for e in before[0].entities] == ["监测户", "94户", "190人"]
    assert [e.text for e in d1.entities] == ["监测户", "94户"] and len(d1.relations) == 1
    assert before[1].relations and not d2.relations
    stale = {"doc": "d1", "op": "remove", "entity": 3, "text": "191人"}
    overlay.write_text(json.dumps(stale, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="stale correction"):
        training_documents(load_config(conf))


# ---- the learning-rate schedule --------------------------------------------------------------------

def _lrs(make_scheduler, steps: int) -> list[float]:
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_warmup_schedule_learning_rates():
    import torch

    total, warm = 20, 4
    ours = _lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, warmup_schedule(total, warm)), total)
    expected = [0.1 * (s + 1) / warm for s in range(warm)] + [0.1 * (total - s) / (total - warm) for s in range(warm, total)]
    assert ours == pytest.approx(expected, rel=0, abs=1e-15)
    assert ours[0] > 0  # the first step already learns


def test_transformers_schedule_differs_only_in_the_warmup():
    """Why training keeps its own schedule: ``get_linear_schedule_with_warmup`` gives the same
    learning rates after the warm-up but starts it at 0 (step / warm, not (step + 1) / warm), so it
    would change every trained model. Without warm-up the two are equal, step for step."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    for total, warm in ((20, 4), (37, 3), (10, 0)):
        ours = _lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, warmup_schedule(total, warm)), total)
        theirs = _lrs(lambda o: get_linear_schedule_with_warmup(o, warm, total), total)
        assert ours[warm:] == theirs[warm:]
        assert all(a != b for a, b in zip(ours[:warm], theirs[:warm]))
    assert theirs == ours  # warm == 0: the same sequence
