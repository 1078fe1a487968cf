"""The joint network: one encoder pass per sentence window feeds a BIO tagger and a link scorer.

- Encoder: a small randomly initialised BERT-style transformer over the project's character
  vocabulary (:mod:`zhibiao.model.encoder`, plain torch: what ``transformers.BertModel`` computes,
  bit for bit; lexicon features added to its input embeddings), or any Hugging Face encoder given as
  ``base_model`` (name or local path), aligned to characters through ``offset_mapping``, with
  the lexicon features added to its output.
- Tagger: a linear layer over each character, decoded with constrained Viterbi
  (:mod:`zhibiao.model.decoding`: no ``I-X`` without a ``B-X`` before it).
- Linker: for each quantity, a softmax over the indicators of its window plus "none", scored
  from span representations, their order and distance, and what lies between them
  (:mod:`zhibiao.model.featurization`); or, with ``linker: pointer``, a quantity-conditioned
  start/end pointer over the sentence (:mod:`zhibiao.model.pointer`).
"""
from __future__ import annotations

import torch
from torch import nn

from .characters import N_CHAR_CLASSES
from .config import ModelConfig
from .encoder import EncoderShape, TransformerEncoder
from .featurization import N_BUCKETS, n_pair_features
from .pointer import PointerHead


class CharEncoder(nn.Module):
    """A from-scratch BERT-style encoder over characters; lexicon features join the input embeddings."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.bert = TransformerEncoder(EncoderShape(
            vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
            num_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size, max_positions=cfg.max_len,
            dropout=cfg.dropout,
        ))
        self.classes = nn.Embedding(N_CHAR_CLASSES, cfg.hidden_size, padding_idx=0) if cfg.char_classes else None
        k = cfg.conv_kernel
        self.conv = nn.Conv1d(cfg.hidden_size, cfg.hidden_size, k, padding=k // 2) if k else None

    def forward(self, batch: dict[str, torch.Tensor], lex: torch.Tensor | None) -> torch.Tensor:
        emb = self.bert.embeddings.word_embeddings(batch["input_ids"])
        if lex is not None:
            emb = emb + lex
        if self.classes is not None:
            emb = emb + self.classes(batch["char_class"])
        if self.conv is not None:
            mask = batch["attention_mask"].unsqueeze(-1).to(emb.dtype)
            emb = emb + torch.nn.functional.gelu(self.conv((emb * mask).transpose(1, 2))).transpose(1, 2)
        return self.bert(emb, batch["attention_mask"])


class PretrainedEncoder(nn.Module):
    """Any Hugging Face encoder; token states are copied to the characters they cover."""

    def __init__(self, cfg: ModelConfig, model: nn.Module):
        super().__init__()
        self.model = model
        self.classes = nn.Embedding(N_CHAR_CLASSES, cfg.hidden_size, padding_idx=0) if cfg.char_classes else None

    def forward(self, batch: dict[str, torch.Tensor], lex: torch.Tensor | None) -> torch.Tensor:
        out = self.model(input_ids=batch["token_ids"], attention_mask=batch["token_mask"]).last_hidden_state
        idx = batch["char_to_token"].unsqueeze(-1).expand(-1, -1, out.size(-1))
        chars = torch.gather(out, 1, idx)
        if lex is not None:
            chars = chars + lex
        if self.classes is not None:
            chars = chars + self.classes(batch["char_class"])
        return chars


class ZhibiaoNet(nn.Module):
    def __init__(self, cfg: ModelConfig, encoder: nn.Module):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        hidden = cfg.hidden_size
        if cfg.lexicon:
            self.lex_words = nn.Embedding(cfg.n_lex_words, cfg.lex_dim, padding_idx=0)
            nn.init.zeros_(self.lex_words.weight)
            self.lex_cats = nn.Embedding(cfg.n_lex_categories, cfg.lex_dim, padding_idx=0)
            self.lex_proj = nn.Linear(4 * cfg.lex_dim, hidden)
        #: word id -> its category id (set from the lexicon by ZhibiaoModel; not a weight)
        self.word_category: torch.Tensor | None = None
        self.dropout = nn.Dropout(cfg.dropout)
        self.tagger = nn.Linear(hidden, len(cfg.tags))
        self.span = nn.Sequential(nn.Linear(2 * hidden, cfg.span_dim), nn.GELU())
        self.dist = nn.Embedding(2 * N_BUCKETS, 16)
        d_pair = 3 * cfg.span_dim + 16 + n_pair_features(cfg.pair_features_version)
        self.pair_mlp = nn.Sequential(nn.Linear(d_pair, cfg.link_hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                                      nn.Linear(cfg.link_hidden, 1))
        self.none_mlp = nn.Sequential(nn.Linear(cfg.span_dim, cfg.link_hidden), nn.GELU(), nn.Linear(cfg.link_hidden, 1))
        # the span-pointer linker (zhibiao.model.pointer); created last, so that the default network
        # initialises exactly as before
        self.pointer = PointerHead(cfg) if cfg.linker == "pointer" else None

    def lexicon_embedding(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        if not self.cfg.lexicon:
            return None
        w, c = batch["lex_words"], batch["lex_cats"]  # (B, L, 4, K)
        # id 0 (no match) has a zero vector in both tables (padding_idx: never trained), so an empty
        # slot adds nothing to the sum: no mask multiplication needed
        count = (c > 0).sum(3, keepdim=True).clamp(min=1).to(self.lex_cats.weight.dtype)
        if self.word_category is not None and not self.training:
            # each word has one category: one lookup in word + category vectors (the same sums)
            fused = self.lex_words.weight + self.lex_cats.weight[self.word_category]
            vec = nn.functional.embedding(w, fused).sum(3) / count
        else:
            vec = (self.lex_words(w) + self.lex_cats(c)).sum(3) / count  # (B, L, 4, D): mean over a slot's matches
        return self.lex_proj(vec.flatten(2))

    def encode(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        states = self.encoder(batch, self.lexicon_embedding(batch))
        states = self.dropout(states)
        return states, self.tagger(states)

    def span_repr(self, states: torch.Tensor, b: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
        return self.span(torch.cat([states[b, start], states[b, end - 1]], dim=-1))

    def link_logits(self, states: torch.Tensor, links: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(n_quantities, 1 + n_candidates)`` logits; column 0 is "no link", columns past a
        quantity's own candidates are ``-inf``.

        ``links`` (:meth:`Featurizer.links`) lists the real quantity-candidate pairs only. Inference
        scores just those: each candidate's span representation once per window, one pair-MLP row per
        pair. Training scores the ``(n_quantities, max candidates)`` grid the pairs are scattered
        into, padding included, as the committed models were trained (the dropout masks are drawn
        over that grid): the two layouts give the same logits (tested), the packed one in a fraction
        of the memory and time when windows differ in their candidate counts."""
        qb, qs, qe = links["q_batch"], links["q_start"], links["q_end"]
        hq = self.span_repr(states, qb, qs, qe)  # (NQ, D)
        none = self.none_mlp(hq)
        p_q, p_k, p_col = links["p_quantity"], links["p_candidate"], links["p_column"]
        nq, nc = qb.size(0), int(p_col.max()) + 1 if p_col.numel() else 0
        if nc == 0:
            return none
        if self.training:
            grid = lambda values, fill: values.new_full((nq, nc) + values.shape[1:], fill).index_put_((p_q, p_col), values)
            c_start, c_end = grid(links["k_start"][p_k], 0), grid(links["k_end"][p_k], 1)
            hc = self.span_repr(states, qb.unsqueeze(1).expand(nq, nc), c_start, c_end)  # (NQ, C, D)
            hqe = hq.unsqueeze(1).expand_as(hc)
            bucket, feats = grid(links["p_bucket"], 0), grid(links["p_feats"], 0.0)
            pair = torch.cat([hqe, hc, hqe * hc, self.dist(bucket), feats], dim=-1)
            mask = grid(torch.ones_like(p_q, dtype=torch.bool), False)
            return torch.cat([none, self.pair_mlp(pair).squeeze(-1).masked_fill(~mask, float("-inf"))], dim=1)
        hc = self.span_repr(states, links["k_batch"], links["k_start"], links["k_end"])  # (M, D): once each
        a, c = hq[p_q], hc[p_k]
        pair = torch.cat([a, c, a * c, self.dist(links["p_bucket"]), links["p_feats"]], dim=-1)  # (P, d)
        scores = none.new_full((nq, nc), float("-inf")).index_put_((p_q, p_col), self.pair_mlp(pair).squeeze(-1))
        return torch.cat([none, scores], dim=1)
