"""Shared fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory) -> Path:
    """The five seed reports as ``.txt`` files: ``../shared/seeds`` where the checkout has it, else
    written from ``annotations/seeds.jsonl`` (the same texts, character for character), so that the
    tests over the seeds run on any clean checkout."""
    if SHARED_SEEDS.is_dir() and len(list(SHARED_SEEDS.glob("*.txt"))) == 5:
        return SHARED_SEEDS
    from zhibiao.io.jsonl import read_jsonl

    out = tmp_path_factory.mktemp("seeds")
    for doc in read_jsonl(ROOT / "annotations" / "seeds.jsonl"):
        (out / f"{doc.id}.txt").write_text(doc.text, encoding="utf-8")
    return out
