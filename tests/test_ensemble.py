"""Ensembles (``model.ensemble``): networks of other training seeds that vote at prediction."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup
from zhibiao.model.core import ZhibiaoModel
from zhibiao.train import load_config, train

from test_model import SENTENCES, TINY

POINTER = TINY + ["model.linker=pointer", "train.epochs=4", "train.lr=0.01"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("ens")
    docs = [parse_markup(s, f"s{k}") for k, s in enumerate(SENTENCES)]
    write_jsonl(docs, d / "tiny.jsonl")
    data = f"data.train=[{str(d / 'tiny.jsonl')!r}]"
    out = {}
    for name, extra in {"pair": ["model.ensemble=2", "train.seed=5"], "seed5": ["train.seed=5"],
                        "seed6": ["train.seed=6"]}.items():
        out[name] = train(load_config(None, POINTER + [data] + extra), d / name, progress=False)
    return out, docs, d


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _key(preds, scores: bool = False):
    """Spans and links of predictions (with their scores if asked)."""
    return [(sorted((s.start, s.end, s.label) + ((s.score,) if scores else ()) for s in p.spans),
             sorted((lk.quantity.start, lk.indicator.start, lk.indicator.end) + ((lk.score,) if scores else ())
                    for lk in p.links)) for p in preds]


def test_each_network_trains_as_its_seed_alone(runs):
    out, _, _ = runs
    pair = out["pair"].model
    assert len(pair.nets) == 2 and pair.cfg.ensemble == 2
    assert _same_weights(pair.nets[0], out["seed5"].model.net)
    assert _same_weights(pair.nets[1], out["seed6"].model.net)
    assert not _same_weights(pair.nets[0], pair.nets[1])
    assert len(out["pair"].metrics["history"]) == 2  # one history per network


def test_ensemble_folder_round_trip(runs):
    out, docs, d = runs
    config = json.loads((d / "pair" / "config.json").read_text(encoding="utf-8"))
    assert config["ensemble"] == 2
    with safe_open(str(d / "pair" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any(k.startswith("members.1.") for k in keys) and any(not k.startswith("members.") for k in keys)
    loaded = ZhibiaoModel.from_pretrained(d / "pair")
    assert len(loaded.nets) == 2
    texts = [doc.text for doc in docs]
    assert _key(loaded.predict_documents(texts), scores=True) == _key(out["pair"].model.predict_documents(texts), scores=True)
    single = ZhibiaoModel.from_pretrained(d / "seed5")
    assert len(single.nets) == 1 and json.loads((d / "seed5" / "config.json").read_text())["ensemble"] == 1


def test_votes_differ_from_either_network_and_a_model_with_itself_is_unchanged(runs):
    out, docs, d = runs
    texts = [doc.text for doc in docs]
    a = ZhibiaoModel.from_pretrained(d / "seed5")
    twice = ZhibiaoModel.ensemble([ZhibiaoModel.from_pretrained(d / "seed5"), ZhibiaoModel.from_pretrained(d / "seed5")])
    assert _key(twice.predict_documents(texts)) == _key(a.predict_documents(texts))
    pair = ZhibiaoModel.ensemble([a, ZhibiaoModel.from_pretrained(d / "seed6")])
    probs = [lk.score for p in pair.predict_documents(texts) for lk in p.links]
    alone = [lk.score for p in a.predict_documents(texts) for lk in p.links]
    assert probs != alone  # the second network's vote moves the link probabilities


def test_members_must_share_their_inputs(runs, tmp_path):
    out, _, d = runs
    a = ZhibiaoModel.from_pretrained(d / "seed5")
    b = ZhibiaoModel.from_pretrained(d / "seed6")
    b.vocab.tokens = b.vocab.tokens + ["X"]
    with pytest.raises(ValueError, match="vocabulary"):
        ZhibiaoModel.ensemble([a, b])


def test_candidates_linker_votes_too(runs, tmp_path):
    _, docs, d = runs
    cfg = load_config(None, TINY + [f"data.train=[{str(d / 'tiny.jsonl')!r}]", "train.epochs=3", "train.lr=0.01",
                                    "model.ensemble=2"])
    pair = train(cfg, tmp_path / "cand", progress=False).model
    assert pair.cfg.linker == "candidates" and len(pair.nets) == 2
    texts = [doc.text for doc in docs]
    first = ZhibiaoModel.ensemble([ZhibiaoModel.from_pretrained(tmp_path / "cand")])  # all of the folder's networks
    assert _key(first.predict_documents(texts), scores=True) == _key(pair.predict_documents(texts), scores=True)
    alone = ZhibiaoModel(pair.cfg, pair.net, pair.vocab, pair.lexicon, pair.taxonomy)
    twice = ZhibiaoModel(pair.cfg, pair.net, pair.vocab, pair.lexicon, pair.taxonomy, members=[pair.net])
    assert _key(twice.predict_documents(texts)) == _key(alone.predict_documents(texts))
