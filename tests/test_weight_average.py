"""``train.average_last``: the model keeps the mean of the weights at the end of the last epochs."""
from __future__ import annotations

import pytest
import torch

from zhibiao import train as train_module
from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup
from zhibiao.train import _WeightAverage, load_config, train

from test_model import SENTENCES, TINY


def test_average_of_the_last_epochs_only():
    net = torch.nn.Linear(2, 1)
    net.register_buffer("steps", torch.tensor(0))
    avg = _WeightAverage(2, epochs=4)
    seen = []
    for epoch in range(4):
        with torch.no_grad():
            net.weight.fill_(float(epoch))
            net.steps.fill_(epoch)
        seen.append(avg.add(net, epoch))
    assert seen == [False, False, True, True]
    state = avg.state(net)
    assert torch.allclose(state["weight"], torch.full((1, 2), 2.5))  # epochs 2 and 3 (0-based)
    assert state["weight"].dtype == torch.float32
    assert int(state["steps"]) == 3  # integer buffers keep their last value


def test_config_rejects_zero():
    with pytest.raises(Exception, match="average_last"):
        load_config(None, ["train.average_last=0"])


def test_trained_model_holds_the_mean_of_its_last_epochs(tmp_path, monkeypatch):
    docs = [parse_markup(s, f"s{k}") for k, s in enumerate(SENTENCES)]
    write_jsonl(docs, tmp_path / "tiny.jsonl")
    data = f"data.train=[{str(tmp_path / 'tiny.jsonl')!r}]"
    states = []
    add = _WeightAverage.add

    def recording_add(self, net, epoch):
        if add(self, net, epoch):
            states.append({k: v.detach().clone() for k, v in net.state_dict().items()})
            return True
        return False

    monkeypatch.setattr(train_module._WeightAverage, "add", recording_add)
    overrides = TINY + [data, "train.epochs=4", "train.lr=0.01", "train.average_last=2"]
    run = train(load_config(None, overrides), tmp_path / "avg", progress=False)
    history = run.metrics["history"]
    assert [bool(e.get("averaged")) for e in history] == [False, False, True, True]
    assert len(states) == 2
    assert any(not torch.equal(states[0][k], states[1][k]) for k in states[0])  # the epochs moved the weights
    final = run.model.net.state_dict()
    for k, v in final.items():
        if v.is_floating_point():
            assert torch.allclose(v, (states[0][k] + states[1][k]) / 2, atol=1e-6), k
