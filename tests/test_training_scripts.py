"""The scripts in training/ that read results: error listing and leave-one-out model reuse keys."""
from __future__ import annotations

import sys
from pathlib import Path

from zhibiao.io.markup import parse_markup
from zhibiao.records import AnnotatedDocument

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

import errors  # noqa: E402  (training/errors.py)
import loo  # noqa: E402  (training/loo.py)


def test_sentence_errors_lists_missed_and_extra_items_per_sentence():
    gold = parse_markup("[监测户]{I:a}[94户]{Q:a},开展[培训]{I:b}[10次]{Q:b}。[脱贫户]{I:c}[12户]{Q:c}。", "g")
    pred = AnnotatedDocument(id="g", text=gold.text, entities=[e for e in gold.entities if e.text != "培训"],
                             relations=[r for r in gold.relations if r[1] != gold.entities[2].id])
    found = list(errors.sentence_errors(gold, pred))
    assert len(found) == 1  # only the first sentence has an error
    (a, b), mq, xq, ml, xl, untagged = found[0]
    assert gold.text[a:b].startswith("监测户")
    assert not mq and not xq and not xl
    assert [(l.quantity.text, l.indicator.text) for l in ml] == [("10次", "培训")]
    assert [i.text for i in untagged] == ["培训"]


def test_loo_reuses_a_fold_model_only_when_training_keys_match():
    base = {"model": {"hidden_size": 128, "indicator_bias": 0.0, "add_missed_quantities": False},
            "train": {"epochs": 30, "tune_indicator_bias": [0, 1]}, "data": {"train": ["a.jsonl"]}}
    decoding_only = {"model": {"hidden_size": 128, "indicator_bias": 2.0, "add_missed_quantities": True},
                     "train": {"epochs": 30, "tune_indicator_bias": None}, "data": {"train": ["a.jsonl"]}}
    other_model = {"model": {"hidden_size": 256, "indicator_bias": 0.0, "add_missed_quantities": False},
                   "train": {"epochs": 30, "tune_indicator_bias": [0, 1]}, "data": {"train": ["a.jsonl"]}}
    assert loo._training_key(base) == loo._training_key(decoding_only)
    assert loo._training_key(base) != loo._training_key(other_model)
