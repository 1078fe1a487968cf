"""``zhibiao train`` refuses a bad config, bad data paths and a bad ``--output`` with exit 2 and a
message naming the key or path, before any training (issue 16, case 7)."""
from __future__ import annotations

import os
import sys

import pytest

from zhibiao.cli import main
from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup


@pytest.fixture()
def config(tmp_path):
    docs = [parse_markup("全镇[监测户]{I:a}[94户]{Q:a}[190人]{Q:a}。", "d1")]
    write_jsonl(docs, tmp_path / "tiny.jsonl")
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  train: [tiny.jsonl]\ntrain:\n  epochs: 1\n", encoding="utf-8")
    return path


def _train(capsys, *args: str) -> tuple[int, str]:
    rc = main(["train", *args])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("override, message", [
    ("train.lr=-0.01", "train.lr: must be greater than 0.0, got -0.01"),
    ("train.epochs=0", "train.epochs: must be at least 1, got 0"),
    ("train.epochs=abc", "train.epochs: expected int, got 'abc'"),
    ("train.batch_size=[1]", "train.batch_size: expected int"),
    ("train.nope=1", "unknown key"),
    ("train.lr", "expected key.sub=value"),
])
def test_bad_settings_exit_2_before_training(capsys, tmp_path, config, override, message):
    out = tmp_path / "model"
    rc, err = _train(capsys, "--config", str(config), "--set", override, "--output", str(out), "--quiet")
    assert rc == 2 and message in err and "Traceback" not in err, err
    assert not out.exists()  # nothing trained, nothing written


def test_missing_data_path_exits_2(capsys, tmp_path, config):
    out = tmp_path / "model"
    rc, err = _train(capsys, "--config", str(config), "--set", "data.train=[nope.jsonl]", "--output", str(out))
    assert rc == 2 and "data.train" in err and "nope.jsonl does not exist" in err, err
    assert not out.exists()


def test_existing_non_empty_output_exits_2_unless_overwrite(capsys, tmp_path, config):
    out = tmp_path / "model"
    out.mkdir()
    (out / "keep.txt").write_text("x", encoding="utf-8")
    rc, err = _train(capsys, "--config", str(config), "--output", str(out), "--quiet")
    assert rc == 2 and "exists and is not empty" in err and "--overwrite" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_output_that_is_a_file_exits_2(capsys, tmp_path, config):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    rc, err = _train(capsys, "--config", str(config), "--output", str(blocker / "model"), "--quiet")
    assert rc == 2 and "is not a folder" in err, err


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_output_exits_2(capsys, tmp_path, config):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        rc, err = _train(capsys, "--config", str(config), "--output", str(locked / "model"), "--quiet")
    finally:
        locked.chmod(0o700)
    assert rc == 2 and "no write permission" in err, err
