"""The from-scratch character encoder's transformer, in plain torch: a BERT-style encoder that
computes exactly what ``transformers.BertModel`` (``add_pooling_layer=False``, SDPA attention,
exact-erf GELU, post-LayerNorm) computes, without importing transformers (~5 s of start-up).

It is a drop-in for the ``BertModel`` the from-scratch encoder used to hold: the same parameter
names (``embeddings.word_embeddings.weight`` ... ``encoder.layer.0.attention.self.query.weight``
...), so saved model folders load unchanged; the same operations in the same order (outputs equal
bit for bit, ``tests/test_encoder.py``); the same dropout placement and the same initialisation
(the same random numbers drawn in the same order), so training runs as before.

- embeddings: ``inputs_embeds + token_type(0) + position`` → LayerNorm → dropout
- each layer: self-attention (``scaled_dot_product_attention``, padded keys masked; no mask when a
  batch has no padding, as transformers does) → dense → dropout → LayerNorm(+ residual) →
  dense → GELU → dense → dropout → LayerNorm(+ residual)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

LAYER_NORM_EPS = 1e-12       # BertConfig.layer_norm_eps
INITIALIZER_RANGE = 0.02     # BertConfig.initializer_range


@dataclass(frozen=True)
class EncoderShape:
    """What ``BertConfig`` said about the network (the fields the from-scratch encoder sets)."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    dropout: float            # hidden_dropout_prob and attention_probs_dropout_prob alike
    pad_token_id: int = 0
    type_vocab_size: int = 1


class Embeddings(nn.Module):
    position_ids: torch.Tensor  # a buffer (not saved: the state-dict keys stay BertModel's)

    def __init__(self, shape: EncoderShape):
        super().__init__()
        h = shape.hidden_size
        self.word_embeddings = nn.Embedding(shape.vocab_size, h, padding_idx=shape.pad_token_id)
        self.position_embeddings = nn.Embedding(shape.max_positions, h)
        self.token_type_embeddings = nn.Embedding(shape.type_vocab_size, h)
        self.LayerNorm = nn.LayerNorm(h, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(shape.dropout)
        self.register_buffer("position_ids", torch.arange(shape.max_positions).expand((1, -1)), persistent=False)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        batch_size, seq_length = inputs_embeds.shape[:2]
        position_ids = self.position_ids[:, :seq_length]
        token_type_ids = torch.zeros_like(position_ids).expand(batch_size, seq_length)
        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings))


class SelfAttention(nn.Module):
    def __init__(self, shape: EncoderShape):
        super().__init__()
        if shape.hidden_size % shape.num_heads:
            raise ValueError(f"The hidden size ({shape.hidden_size}) is not a multiple of the number of attention "
                             f"heads ({shape.num_heads})")
        self.head_size = shape.hidden_size // shape.num_heads
        self.scaling = self.head_size ** -0.5
        self.query = nn.Linear(shape.hidden_size, shape.hidden_size)
        self.key = nn.Linear(shape.hidden_size, shape.hidden_size)
        self.value = nn.Linear(shape.hidden_size, shape.hidden_size)
        self.dropout = nn.Dropout(shape.dropout)  # its p is what the attention kernel drops (no weights)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        split = (*hidden.shape[:-1], -1, self.head_size)
        q, k, v = (proj(hidden).view(*split).transpose(1, 2) for proj in (self.query, self.key, self.value))
        out = nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout.p if self.training else 0.0, scale=self.scaling,
            is_causal=False)
        out = out.transpose(1, 2).contiguous()
        return out.reshape(*hidden.shape[:-1], -1).contiguous()


class DenseResidual(nn.Module):
    """dense → dropout → LayerNorm(x + residual): BERT's ``SelfOutput`` and ``Output`` alike."""

    def __init__(self, d_in: int, shape: EncoderShape):
        super().__init__()
        self.dense = nn.Linear(d_in, shape.hidden_size)
        self.LayerNorm = nn.LayerNorm(shape.hidden_size, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(shape.dropout)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class Attention(nn.Module):
    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.self = SelfAttention(shape)
        self.output = DenseResidual(shape.hidden_size, shape)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, mask), hidden)


class Intermediate(nn.Module):
    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.dense = nn.Linear(shape.hidden_size, shape.intermediate_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.dense(hidden))


class Layer(nn.Module):
    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.attention = Attention(shape)
        self.intermediate = Intermediate(shape)
        self.output = DenseResidual(shape.intermediate_size, shape)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)


class LayerStack(nn.Module):
    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.layer = nn.ModuleList([Layer(shape) for _ in range(shape.num_layers)])

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for layer in self.layer:
            hidden = layer(hidden, mask)
        return hidden


def attention_mask(padding: torch.Tensor, length: int) -> torch.Tensor | None:
    """The ``(B, 1, L, L)`` boolean mask (True: attend) of a ``(B, L)`` padding mask; ``None`` when
    nothing is padded (SDPA then runs unmasked, as under transformers)."""
    keep = padding.to(torch.bool)
    if bool(keep.all()):
        return None
    return keep[:, None, None, :].expand(keep.size(0), 1, length, length).contiguous()


class TransformerEncoder(nn.Module):
    """Embeddings + ``num_layers`` transformer layers; ``forward(inputs_embeds, attention_mask)``
    returns the last hidden states ``(B, L, hidden)``."""

    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.embeddings = Embeddings(shape)
        self.encoder = LayerStack(shape)
        self.apply(_init_weights)

    def forward(self, inputs_embeds: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        hidden = self.embeddings(inputs_embeds)
        return self.encoder(hidden, attention_mask(padding, hidden.size(1)))


@torch.no_grad()
def _init_weights(module: nn.Module) -> None:
    """BERT's initialisation (``PreTrainedModel._init_weights``), module by module in the same
    (post-)order, so the same seed gives the same weights."""
    if isinstance(module, nn.Linear):
        module.weight.normal_(mean=0.0, std=INITIALIZER_RANGE)
        if module.bias is not None:
            module.bias.zero_()
    elif isinstance(module, nn.Embedding):
        module.weight.normal_(mean=0.0, std=INITIALIZER_RANGE)
        if module.padding_idx is not None:
            module.weight[module.padding_idx].zero_()
    elif isinstance(module, nn.LayerNorm):
        module.weight.fill_(1.0)
        module.bias.zero_()
