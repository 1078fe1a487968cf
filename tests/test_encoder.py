"""The plain-torch encoder (zhibiao.model.encoder) against transformers' BertModel: the same
weights from the same seed, the same outputs bit for bit (padding included), the same dropout
draws and gradients in training."""
from __future__ import annotations

import pytest
import torch

from zhibiao.model.config import ModelConfig
from zhibiao.model.encoder import EncoderShape, TransformerEncoder
from zhibiao.model.modules import CharEncoder

transformers = pytest.importorskip("transformers")  # a declared dependency: present wherever the suite runs

SHAPE = EncoderShape(vocab_size=97, hidden_size=64, num_layers=2, num_heads=4, intermediate_size=96,
                     max_positions=40, dropout=0.1)


def _bert_config(shape: EncoderShape):
    return transformers.BertConfig(
        vocab_size=shape.vocab_size, hidden_size=shape.hidden_size, num_hidden_layers=shape.num_layers,
        num_attention_heads=shape.num_heads, intermediate_size=shape.intermediate_size,
        max_position_embeddings=shape.max_positions, type_vocab_size=1, hidden_dropout_prob=shape.dropout,
        attention_probs_dropout_prob=shape.dropout, pad_token_id=0)


def _bert(shape: EncoderShape):
    return transformers.BertModel(_bert_config(shape), add_pooling_layer=False)


@pytest.fixture(scope="module")
def pair():
    torch.manual_seed(7)
    bert = _bert(SHAPE)
    after_bert = torch.get_rng_state()
    torch.manual_seed(7)
    plain = TransformerEncoder(SHAPE)
    assert torch.equal(after_bert, torch.get_rng_state()), "initialisation draws a different amount of randomness"
    return bert, plain


def _inputs(batch: int, length: int, pad: bool) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(batch, length, SHAPE.hidden_size)
    mask = torch.ones(batch, length, dtype=torch.long)
    if pad:
        for i in range(1, batch):
            mask[i, length - min(length - 1, 3 * i):] = 0
    return x, mask


def test_same_seed_same_parameters_under_the_same_names(pair):
    bert, plain = pair
    a, b = bert.state_dict(), plain.state_dict()
    assert list(a) == list(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [n for n, _ in bert.named_parameters()] == [n for n, _ in plain.named_parameters()]


@pytest.mark.parametrize("batch,length,pad", [(1, 40, False), (3, 16, False), (4, 32, True), (5, 7, True)])
def test_eval_outputs_are_bit_identical(pair, batch, length, pad):
    bert, plain = pair
    bert.eval()
    plain.eval()
    torch.manual_seed(batch * 100 + length)
    x, mask = _inputs(batch, length, pad)
    with torch.inference_mode():
        expected = bert(inputs_embeds=x, attention_mask=mask).last_hidden_state
        got = plain(x, mask)
    assert torch.equal(expected, got), f"max abs difference {(expected - got).abs().max().item()}"


def test_training_draws_the_same_dropout_and_gradients(pair):
    bert, plain = pair
    bert.train()
    plain.train()
    x, mask = _inputs(3, 24, True)
    torch.manual_seed(11)
    expected = bert(inputs_embeds=x, attention_mask=mask).last_hidden_state
    torch.manual_seed(11)
    got = plain(x, mask)
    assert torch.equal(expected, got)
    assert not torch.equal(got, plain.eval()(x, mask)), "dropout is on in training"
    expected.pow(2).sum().backward()
    got.pow(2).sum().backward()
    grads = {n: p.grad for n, p in bert.named_parameters()}
    for name, p in plain.named_parameters():
        assert (p.grad is None and grads[name] is None) or torch.equal(p.grad, grads[name]), name
    bert.zero_grad()
    plain.zero_grad()


def test_char_encoder_loads_a_bert_state_dict_unchanged():
    """A model folder saved with the transformers-backed encoder (keys ``bert.embeddings...``) loads
    with strict key matching."""
    cfg = ModelConfig(vocab_size=SHAPE.vocab_size, hidden_size=SHAPE.hidden_size, num_heads=SHAPE.num_heads,
                      intermediate_size=SHAPE.intermediate_size, max_len=SHAPE.max_positions)
    enc = CharEncoder(cfg)
    bert_keys = {f"bert.{k}" for k in _bert(SHAPE).state_dict()}
    assert bert_keys == {k for k in enc.state_dict() if k.startswith("bert.")}


def test_uneven_heads_are_refused():
    with pytest.raises(ValueError, match="multiple of the number of attention heads"):
        TransformerEncoder(EncoderShape(vocab_size=5, hidden_size=10, num_layers=1, num_heads=3,
                                        intermediate_size=8, max_positions=4, dropout=0.0))


def test_training_with_either_encoder_saves_the_same_bytes(tmp_path, monkeypatch):
    """A tiny training run (dropout on) with the plain encoder and with transformers' BertModel in
    its place writes byte-identical weights: training is what it was."""
    import zhibiao.model.modules as modules
    from zhibiao.io.jsonl import write_jsonl
    from zhibiao.io.markup import parse_markup
    from zhibiao.train import load_config, train

    class HFBert(transformers.BertModel):
        def forward(self, inputs_embeds, padding):  # the plain encoder's call
            return super().forward(inputs_embeds=inputs_embeds, attention_mask=padding).last_hidden_state

    sentences = ["大佛镇[脱贫户]{I:a}[776户]{Q:a}[1605人]{Q:a},[监测户]{I:b}[94户]{Q:b}[190人]{Q:b}。",
                 "开发[公益性岗位]{I:a}[132个]{Q:a},其中[光伏公岗]{I:b}[52个]{Q:b}。"]
    data = tmp_path / "tiny.jsonl"
    write_jsonl([parse_markup(s, f"s{k}") for k, s in enumerate(sentences)], data)
    overrides = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.intermediate_size=64",
                 "model.span_dim=32", "model.link_hidden=32", "model.lex_dim=8", "model.max_len=64",
                 "model.dropout=0.1", "train.batch_size=2", "train.epochs=3", "data.dev_fraction=0",
                 "data.exclude_splits=[]", "train.threads=1", f"data.train=[{str(data)!r}]"]
    train(load_config(None, overrides), tmp_path / "plain", progress=False)
    monkeypatch.setattr(modules, "TransformerEncoder", lambda shape: HFBert(_bert_config(shape), add_pooling_layer=False))
    train(load_config(None, overrides), tmp_path / "hf", progress=False)
    assert (tmp_path / "plain" / "model.safetensors").read_bytes() == (tmp_path / "hf" / "model.safetensors").read_bytes()
