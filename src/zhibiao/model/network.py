"""The joint network: one encoder pass per sentence window feeds a BIO tagger and a link scorer.

- Encoder: a small randomly initialised ``BertModel`` over the project's character vocabulary
  (lexicon features added to its input embeddings), or any Hugging Face encoder given as
  ``base_model`` (name or local path), aligned to characters through ``offset_mapping``, with
  the lexicon features added to its output.
- Tagger: a linear layer over each character, decoded with constrained Viterbi (no ``I-X``
  without a ``B-X`` before it).
- Linker: for each quantity, a softmax over the indicators of its window plus "none", scored
  from span representations, their order and distance, and what lies between them.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from .lexicon import Lexicon, greedy_spans, lexicon_tensors
from .vocab import CharVocab

TAGS = ("O", "B-QUANTITY", "I-QUANTITY", "B-INDICATOR", "I-INDICATOR")
TAG_ID = {t: i for i, t in enumerate(TAGS)}
N_BUCKETS = 10
_BUCKET_EDGES = (0, 1, 2, 3, 5, 8, 15, 31, 63)
BETWEEN_MARKS = ((",", "，"), ("、",), (";", "；"), (":", "："), ("(", ")", "（", "）"), ("其中",), ("含",))
#: marks added by ``ModelConfig.pair_features_version`` 2: 的 (``297户595人的监测户``)
BETWEEN_MARKS_V2 = BETWEEN_MARKS + (("的",),)


def between_marks(version: int) -> tuple[tuple[str, ...], ...]:
    return BETWEEN_MARKS_V2 if version >= 2 else BETWEEN_MARKS


def n_pair_features(version: int) -> int:
    return 2 + len(between_marks(version)) + 3


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (saved as ``config.json`` in a model folder)."""

    base_model: str | None = None
    vocab_size: int = 0
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 512
    max_len: int = 160
    dropout: float = 0.1
    lexicon: bool = True
    lex_dim: int = 32
    n_lex_words: int = 0
    n_lex_categories: int = 0
    lex_slots: int = 3
    span_dim: int = 128
    link_hidden: int = 128
    char_classes: bool = True      # embedding of the character's class (digit, numeral, punctuation ...)
    snap_quantities: bool = True   # decoding: predicted quantity edges snap to the quantity grammar
    indicator_bias: float = 0.0    # decoding: added to the INDICATOR tags' log-probabilities (chosen on dev)
    pair_features_version: int = 1  # 2: the linker also sees whether 的 lies between quantity and candidate
    add_missed_quantities: bool = False  # decoding: digit-led grammar quantities the tagger missed are added
    conv_kernel: int = 3           # residual local convolution before the transformer (0: off)
    alias_candidates: bool = False  # taxonomy-alias matches the tagger left untagged are linker candidates too
    tags: tuple[str, ...] = TAGS
    encoder_config: dict[str, Any] = field(default_factory=dict)  # HF config of a pretrained encoder

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tags"] = list(self.tags)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        d = dict(d)
        if "tags" in d:
            d["tags"] = tuple(d["tags"])
        return cls(**d)


def distance_bucket(q: tuple[int, int], i: tuple[int, int]) -> int:
    """Signed, log-spaced distance bucket: 0..9 indicator before the quantity, 10..19 after."""
    if i[0] >= q[1]:
        d, side = i[0] - q[1], 1
    else:
        d, side = max(0, q[0] - i[1]), 0
    return side * N_BUCKETS + bisect_left(_BUCKET_EDGES, d)  # the number of edges below d


def _span_counter(spans: Sequence[tuple[int, int]]):
    """``count(lo, hi, self)``: the spans other than ``self`` lying inside ``[lo, hi)``. Spans that
    are sorted and do not overlap (what the tagger and the gold give) are counted by bisection,
    others one by one."""
    ok = all(spans[k][1] <= spans[k + 1][0] and spans[k][0] < spans[k][1] for k in range(len(spans) - 1))
    if not ok:
        return lambda lo, hi, me: sum(1 for s in spans if s != me and lo <= s[0] and s[1] <= hi)
    starts, ends = [s[0] for s in spans], [s[1] for s in spans]

    def count(lo: int, hi: int, me: tuple[int, int]) -> int:
        n = max(0, bisect_right(ends, hi) - bisect_left(starts, lo))
        return n - 1 if n and lo <= me[0] and me[1] <= hi and me in spans else n
    return count


def mark_finder(text: str, marks=BETWEEN_MARKS):
    """``present(lo, hi)``: for each group of ``marks``, 1.0 if one of its strings lies wholly inside
    ``text[lo:hi]``, else 0.0. One pass per window finds where each group's strings start; per
    group that occurs at all, the sorted starts and, from each start on, the earliest end answer a
    range by one bisection (groups absent from the window cost nothing)."""
    found = []  # (group index, sorted starts, suffix-minimum of the ends)
    for g, group in enumerate(marks):
        hits = []
        for m in group:
            k = text.find(m)
            while k >= 0:
                hits.append((k, k + len(m)))
                k = text.find(m, k + 1)
        if hits:
            hits.sort()
            ends = [e for _, e in hits]
            for k in range(len(ends) - 2, -1, -1):
                ends[k] = min(ends[k], ends[k + 1])
            found.append((g, [st for st, _ in hits], ends))
    n_groups = len(marks)

    def present(lo: int, hi: int) -> list[float]:
        out = [0.0] * n_groups
        for g, starts, ends in found:
            k = bisect_left(starts, lo)
            if k < len(starts) and ends[k] <= hi:
                out[g] = 1.0
        return out
    return present


def pair_features(text: str, q: tuple[int, int], quantities: Sequence[tuple[int, int]],
                  indicators: Sequence[tuple[int, int]], marks=BETWEEN_MARKS, finder=None,
                  counters=None) -> list[list[float]]:
    """For quantity ``q`` and each candidate indicator in ``indicators``: what lies between them
    (other quantities and indicators, punctuation, 其中, 含), whether it is the nearest candidate on
    its side, and whether it comes first. ``finder`` (:func:`mark_finder` of ``text`` and ``marks``)
    and ``counters`` (:func:`_span_counter` of ``quantities`` and of ``indicators``): built once per
    window by the caller."""
    present = finder or mark_finder(text, marks)
    left = [s for s in indicators if s[1] <= q[0]]
    right = [s for s in indicators if s[0] >= q[1]]
    near_left = max(left, key=lambda s: s[1]) if left else None
    near_right = min(right, key=lambda s: s[0]) if right else None
    count_q, count_i = counters or (_span_counter(quantities), _span_counter(indicators))
    out = []
    for i in indicators:
        lo, hi = (q[1], i[0]) if i[0] >= q[1] else (i[1], q[0])
        nq = count_q(lo, hi, q)
        ni = count_i(lo, hi, i)
        feats = [min(nq, 3) / 3.0, min(ni, 3) / 3.0]
        feats += present(lo, hi) if hi > lo else [0.0] * len(marks)
        feats += [1.0 if i == near_left else 0.0, 1.0 if i == near_right else 0.0, 1.0 if i[1] <= q[0] else 0.0]
        out.append(feats)
    return out


class CodeTable(dict):
    """A ``str.translate`` table from code points to small ids (below U+D800, so that the translated
    text encodes as UTF-32): one C-level pass maps a whole text (:func:`char_ids`). A code point not
    in the table gets ``missing(character)``, stored when ``remember`` is set."""

    def __init__(self, ids: dict[int, int], missing, remember: bool = False):
        super().__init__(ids)
        self.missing, self.remember = missing, remember

    def __missing__(self, code: int) -> int:
        value = self.missing(chr(code))
        if self.remember:
            self[code] = value
        return value


def char_ids(texts: Sequence[str], table: CodeTable, length: int) -> torch.Tensor:
    """``(len(texts), length)`` long tensor of each text's ids under ``table``, zero-padded."""
    out = np.zeros((len(texts), length), dtype=np.int64)
    for b, t in enumerate(texts):
        if t:
            out[b, :len(t)] = np.frombuffer(t.translate(table).encode("utf-32-le"), dtype=np.uint32)
    return torch.from_numpy(out)


_CN_NUMERALS = set("零〇一二两三四五六七八九十百千万亿")
_DAXIE = set("壹贰叁肆伍陆柒捌玖拾佰仟")
_MARKERS = set("余多近约超逾")
N_CHAR_CLASSES = 11


def char_class(ch: str) -> int:
    """0 pad, 1 digit, 2 Chinese numeral, 3 大写 numeral, 4 approximation marker, 5 ASCII letter,
    6 decimal point / percent / slash, 7 other punctuation, 8 space, 9 Han, 10 other."""
    if "0" <= ch <= "9":
        return 1
    if ch in _CN_NUMERALS:
        return 2
    if ch in _DAXIE:
        return 3
    if ch in _MARKERS:
        return 4
    if ch.isascii() and ch.isalpha():
        return 5
    if ch in ".%/‰":
        return 6
    if ch.isspace():
        return 8
    if "\u3400" <= ch <= "\u9fff":
        return 9
    if not ch.isalnum():
        return 7
    return 10


_CLASS_TABLE = CodeTable({}, char_class, remember=True)  # filled as characters are met


class CharEncoder(nn.Module):
    """A from-scratch ``BertModel`` over characters; lexicon features join the input embeddings."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        from transformers import BertConfig, BertModel

        bert_cfg = BertConfig(
            vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
            num_attention_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size,
            max_position_embeddings=cfg.max_len, type_vocab_size=1, hidden_dropout_prob=cfg.dropout,
            attention_probs_dropout_prob=cfg.dropout, pad_token_id=0,
        )
        self.bert = BertModel(bert_cfg, add_pooling_layer=False)
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
        out = self.bert(inputs_embeds=emb, attention_mask=batch["attention_mask"])
        return out.last_hidden_state


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


def free_alias_spans(lexicon: Lexicon | None, text: str, taken: Sequence[tuple[int, int]],
                     ends: list[int] | None = None) -> list[tuple[int, int]]:
    """Taxonomy-alias matches in ``text`` (:meth:`Lexicon.alias_spans`; from ``ends`` when the
    lexicon features' pass found them already) that overlap no span in ``taken``: with
    ``ModelConfig.alias_candidates`` they join the linker's candidates, so that a quantity can still
    link to an indicator the tagger missed (a chosen one becomes an INDICATOR)."""
    if lexicon is None:
        return []
    spans = greedy_spans(ends) if ends is not None else lexicon.alias_spans(text)
    return [(a, b) for a, b in spans if not any(a < te and ts < b for ts, te in taken)]


# ---- batching ------------------------------------------------------------------------------

def _padded(rows: Sequence[Sequence[int]], length: int) -> torch.Tensor:
    """``(len(rows), length)`` long tensor, each row left-aligned, zero-padded."""
    flat = []
    for r in rows:
        flat.extend(r)
        flat.extend([0] * (length - len(r)))
    return torch.tensor(flat, dtype=torch.long).view(len(rows), length)


def padded_length(n: int, multiple: int, max_len: int) -> int:
    """``n`` rounded up to a multiple of ``multiple``, but never past ``max_len`` (nor below ``n``)."""
    return max(n, min(max_len, -(-n // multiple) * multiple))


class Featurizer:
    """Turns window texts (and spans) into tensors for :class:`ZhibiaoNet`."""

    def __init__(self, cfg: ModelConfig, vocab: CharVocab | None, lexicon: Lexicon | None, tokenizer=None):
        self.cfg, self.vocab, self.lexicon, self.tokenizer = cfg, vocab, lexicon, tokenizer

    def texts(self, texts: Sequence[str], pad_multiple: int = 1,
              alias_ends: list[list[int]] | None = None) -> dict[str, torch.Tensor]:
        """Batch tensors, padded to the longest text rounded up to ``pad_multiple`` (capped at
        ``max_len``). Inference rounds up so that few distinct shapes reach the encoder: every new
        shape costs kernel caches and fragments the heap (RSS then grows with input size).
        ``alias_ends`` (a list, lexicon features on) receives each text's taxonomy-alias ends, found
        in the same pass (:meth:`~zhibiao.model.lexicon.Lexicon.features`)."""
        length = padded_length(max(1, max(len(t) for t in texts)), pad_multiple, self.cfg.max_len)
        batch: dict[str, torch.Tensor] = {}
        batch["attention_mask"] = (torch.arange(length).unsqueeze(0)
                                   < torch.tensor([len(t) for t in texts]).unsqueeze(1)).long()
        if self.cfg.char_classes:
            batch["char_class"] = char_ids(texts, _CLASS_TABLE, length)
        if self.tokenizer is None:
            table = self.vocab.code_table()
            batch["input_ids"] = (char_ids(texts, table, length) if table is not None
                                  else _padded([self.vocab.encode(t) for t in texts], length))
        else:
            batch.update(self._tokenize(texts, length))
        if self.cfg.lexicon:
            batch["lex_words"], batch["lex_cats"] = lexicon_tensors(self.lexicon, list(texts), length, alias_ends)
        return batch

    def _tokenize(self, texts: Sequence[str], length: int) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(list(texts), return_offsets_mapping=True, padding=True, truncation=True,
                             max_length=self.cfg.max_len + 2, return_tensors="pt")
        c2t = torch.zeros(len(texts), length, dtype=torch.long)
        for b, t in enumerate(texts):
            last = 0
            owner = [-1] * len(t)
            for k, (a, e) in enumerate(enc["offset_mapping"][b].tolist()):
                for c in range(a, min(e, len(t))):
                    if owner[c] < 0:
                        owner[c] = k
            for c in range(len(t)):
                last = owner[c] if owner[c] >= 0 else last
                c2t[b, c] = last
        return {"token_ids": enc["input_ids"], "token_mask": enc["attention_mask"], "char_to_token": c2t}

    @staticmethod
    def tags(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int, str]]]) -> torch.Tensor:
        length = max(1, max(len(t) for t in texts))
        tags = torch.full((len(texts), length), -100, dtype=torch.long)
        for b, (t, ss) in enumerate(zip(texts, spans)):
            tags[b, : len(t)] = 0
            for s, e, label in ss:
                tags[b, s] = TAG_ID["B-" + label]
                tags[b, s + 1: e] = TAG_ID["I-" + label]
        return tags

    def links(self, texts: Sequence[str], quantities: Sequence[Sequence[tuple[int, int]]],
              indicators: Sequence[Sequence[tuple[int, int]]], targets: Sequence[Sequence[int]] | None = None
              ) -> dict[str, torch.Tensor]:
        """Tensors for the linker. ``targets[b][k]`` is the candidate index of quantity k's indicator
        in window b, or -1 for none (it becomes the class index ``1 + index``, 0 for none).

        Quantities (``q_*``, one row each), the candidates of each window that has quantities
        (``k_*``, listed once: every quantity of a window has the same candidates) and the pairs
        (``p_*``: quantity row, candidate row, column = the candidate's index in its window, distance
        bucket, features)."""
        marks = between_marks(self.cfg.pair_features_version)
        q_batch, q_spans, target = [], [], []
        k_batch, k_spans = [], []
        p_q, p_k, p_col, buckets, feats = [], [], [], [], []
        for b, (t, qs, ins) in enumerate(zip(texts, quantities, indicators)):
            if not qs:
                continue
            if ins:
                finder, counters = mark_finder(t, marks), (_span_counter(qs), _span_counter(ins))
                r0, k0, m = len(q_batch), len(k_spans), len(ins)
                for r, q in enumerate(qs):
                    p_q += [r0 + r] * m
                    p_k += range(k0, k0 + m)
                    p_col += range(m)
                    buckets += [distance_bucket(q, i) for i in ins]
                    feats += pair_features(t, q, qs, ins, marks, finder, counters)
                k_batch += [b] * m
                k_spans += ins
            q_batch += [b] * len(qs)
            q_spans += qs
            target += [0] * len(qs) if targets is None else [x + 1 for x in targets[b]]
        n_feats = n_pair_features(self.cfg.pair_features_version)
        long = lambda xs: torch.tensor(xs, dtype=torch.long)
        return {
            "q_batch": long(q_batch), "q_start": long([q[0] for q in q_spans]), "q_end": long([q[1] for q in q_spans]),
            "k_batch": long(k_batch), "k_start": long([k[0] for k in k_spans]), "k_end": long([k[1] for k in k_spans]),
            "p_quantity": long(p_q), "p_candidate": long(p_k), "p_column": long(p_col), "p_bucket": long(buckets),
            "p_feats": torch.tensor(feats, dtype=torch.float32).view(len(buckets), n_feats),
            "target": long(target),
        }


# ---- decoding ------------------------------------------------------------------------------

def _allowed() -> torch.Tensor:
    n = len(TAGS)
    allowed = torch.ones(n, n, dtype=torch.bool)  # allowed[prev, cur]
    for cur, tag in enumerate(TAGS):
        if tag.startswith("I-"):
            label = tag[2:]
            for prev, ptag in enumerate(TAGS):
                allowed[prev, cur] = ptag in ("B-" + label, "I-" + label)
    return allowed


_ALLOWED = _allowed()
_START_OK = torch.tensor([not t.startswith("I-") for t in TAGS])
_ALLOWED_NP = _ALLOWED.numpy()
_TRANS_NP = np.where(_ALLOWED_NP, 0.0, -1e9).astype(np.float32)
_START_NP = np.where(_START_OK.numpy(), 0.0, -1e9).astype(np.float32)


def tag_bias(indicator_bias: float) -> torch.Tensor | None:
    """Per-tag decoding bias: ``indicator_bias`` on B-/I-INDICATOR, else 0 (None when 0)."""
    if not indicator_bias:
        return None
    return torch.tensor([float(indicator_bias) if t.endswith("INDICATOR") else 0.0 for t in TAGS])


def _valid_rows(tags: np.ndarray) -> np.ndarray:
    """Per row of a ``(batch, length)`` tag-id array: is it a valid BIO sequence (every I-X right
    after a B-X or an I-X, none first)?"""
    prev = np.concatenate([np.zeros_like(tags[:, :1]), tags[:, :-1]], axis=1)
    return ~(~_ALLOWED_NP[prev, tags]).any(1)


def viterbi(logits: torch.Tensor, lengths: Sequence[int], bias: torch.Tensor | None = None) -> list[list[int]]:
    """Constrained Viterbi over ``(batch, length, tags)`` logits: only valid BIO sequences.

    ``bias`` (per tag) is added to the log-probabilities: a positive INDICATOR bias
    (:func:`tag_bias`) trades indicator precision for recall, giving the linker more candidates.
    Allowed transitions score 0, so a row whose per-position argmax is already a valid sequence
    has that sequence as its Viterbi path (the usual case): only the other rows run the recursion,
    in float32 numpy (a 5x5 step per position: numpy's per-call cost is a fraction of torch's),
    over their longest real length only."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    if bias is not None:
        logp = logp + bias
    bsz, _, n_tags = logp.shape
    length = max(lengths, default=0)
    if not length:
        return [[] for _ in range(bsz)]
    lp = logp[:, :length].numpy()
    lens = np.asarray(lengths)
    greedy = lp.argmax(-1)
    greedy[np.arange(length)[None, :] >= lens[:, None]] = 0  # padding reads as O: never invalid
    out = greedy.tolist()
    hard = np.flatnonzero(~_valid_rows(greedy))
    if hard.size:
        for k, row in zip(hard.tolist(), _viterbi_rows(lp[hard], lens[hard])):
            out[k] = row
    return [row[:n] for row, n in zip(out, lengths)]


def _viterbi_rows(lp: np.ndarray, lens: np.ndarray) -> list[list[int]]:
    """The constrained recursion over ``(rows, length, tags)`` log-probabilities. Positions past a
    row's length are forced to O (in a copy): that carries the row's best final tag through
    unchanged and needs no per-step masking."""
    bsz, _, n_tags = lp.shape
    length = int(lens.max(initial=0))
    if not length:
        return [[] for _ in range(bsz)]
    lp = lp[:, :length].copy()
    lp[np.arange(length)[None, :] >= lens.reshape(-1, 1)] = np.where(np.arange(n_tags) == TAG_ID["O"], 0.0, -1e9)
    trans = _TRANS_NP  # (prev, cur): 0 allowed, -1e9 not
    score = lp[:, 0] + _START_NP
    back = np.empty((max(0, length - 1), bsz, n_tags), dtype=np.int64)
    for t in range(1, length):
        cand = score[:, :, None] + trans  # (B, prev, cur)
        back[t - 1] = cand.argmax(1)
        score = cand.max(1) + lp[:, t]
    # backtrack the whole batch at once: a shorter row ends in forced O's whose pointers lead back
    # to its own best last tag
    tags = np.empty((bsz, length), dtype=np.int64)
    tags[:, -1] = score.argmax(1)
    rows = np.arange(bsz)
    for t in range(length - 2, -1, -1):
        tags[:, t] = back[t, rows, tags[:, t + 1]]
    return tags.tolist()


_TAG_CHARS = "".join(chr(ord("a") + k) for k in range(len(TAGS)))  # one letter per tag id
_SPAN_RE = re.compile("|".join(f"{_TAG_CHARS[TAGS.index('B-' + lab)]}{_TAG_CHARS[TAGS.index('I-' + lab)]}*"
                               for lab in ("QUANTITY", "INDICATOR")))
_SPAN_LABEL = {_TAG_CHARS[TAGS.index("B-" + lab)]: lab for lab in ("QUANTITY", "INDICATOR")}


def spans_from_valid_tags(tags: Sequence[int]) -> list[tuple[int, int, str]]:
    """:func:`spans_from_tags` for a valid BIO sequence (what :func:`viterbi` returns): each B-X
    with the I-X after it, found by a regular expression over one letter per tag."""
    text = "".join(map(_TAG_CHARS.__getitem__, tags))
    return [(m.start(), m.end(), _SPAN_LABEL[text[m.start()]]) for m in _SPAN_RE.finditer(text)]


def spans_from_tags(tags: Sequence[int]) -> list[tuple[int, int, str]]:
    spans = []
    start, label = None, None
    for k, t in enumerate(list(tags) + [0]):
        name = TAGS[t]
        if name.startswith("I-") and label == name[2:]:
            continue
        if start is not None:
            spans.append((start, k, label))
            start, label = None, None
        if name.startswith("B-"):
            start, label = k, name[2:]
    return spans


#: postfixes the quantity grammar reads but the SPEC leaves out of a QUANTITY span (5万元以上 -> 5万元)
_NOT_GLUED = ("以上", "以下", "以内", "左右", "上下")


def grammar_quantities(text: str) -> list[tuple[int, int]]:
    """Spans of the quantity grammar (:data:`~zhibiao.quantity.QUANTITY_PATTERN`) in ``text``, cut
    to the SPEC's quantity span: without the postfixes 以上, 以下, 以内, 左右, 上下."""
    from ..quantity import QUANTITY_PATTERN

    out = []
    for m in QUANTITY_PATTERN.finditer(text):
        a, b = m.span()
        for post in _NOT_GLUED:
            if text.endswith(post, a, b) and b - len(post) > a:
                b -= len(post)
                break
        out.append((a, b))
    return out


def _digit_led(t: str) -> bool:
    return t[:1].isdigit() or (t[:1] in "近约超逾" and t[1:2].isdigit())


def snap_quantities(text: str, spans: list[tuple[int, int, str, float]], *, add_missed: bool = False,
                    score=None) -> list[tuple[int, int, str, float]]:
    """Snap predicted QUANTITY spans to the quantity grammar of :mod:`zhibiao.quantity`.

    The model decides which numbers are quantities; where a predicted quantity overlaps matches
    of the grammar (:func:`grammar_quantities`), it is replaced by those matches (a merged
    ``94户190人`` becomes two quantities, a split ``31.`` + ``1万元`` one). A span with no
    overlapping match, or with digits no match covers (``17 608人``: the grammar reads ``608人``),
    is kept as predicted if it parses as a quantity with a unit or an approximation marker (``20x``
    of ``20xx年`` and a bare ``2`` do not; ``400余`` does); an INDICATOR that a snapped quantity
    would overlap is kept and the quantity is left as predicted. Dates and durations
    (:func:`is_date_or_duration`) and numbers that continue a code (an ASCII letter or digit right
    before them: 县道X877) are dropped: the SPEC excludes them.

    ``add_missed``: grammar matches that begin with an Arabic digit (``60KW``, ``约138户``) and
    overlap no predicted span become quantities too, scored by ``score(start, end)`` (over the
    annotated texts, dates and codes left out, 3,516 of 3,548 such matches are gold quantities).
    """
    from ..errors import QuantityParseError
    from ..quantity import parse_quantity

    matches = grammar_quantities(text)
    indicators = [(s, e) for s, e, lab, _ in spans if lab != "QUANTITY"]
    out: list[tuple[int, int, str, float]] = []
    seen: set[tuple[int, int]] = set()
    for s, e, lab, sc in spans:
        if lab != "QUANTITY":
            out.append((s, e, lab, sc))
            continue
        hits = [(a, b) for a, b in matches if a < e and s < b]
        if not hits or any(a < ie and ia < b for a, b in hits for ia, ie in indicators) \
                or any(text[k].isdigit() and not any(a <= k < b for a, b in hits) for k in range(s, e)):
            try:
                q = parse_quantity(text[s:e])
            except QuantityParseError:
                continue
            if q.unit is None and not q.approximate:
                continue  # a bare number (2, 伍 of 队伍): the SPEC's quantity has a unit
            hits = [(s, e)]
        for a, b in hits:
            if (a, b) not in seen:
                seen.add((a, b))
                out.append((a, b, lab, sc))
    if add_missed:
        taken = [(s, e) for s, e, _, _ in spans] + list(seen)
        for a, b in matches:
            if _digit_led(text[a:b]) and not any(a < te and ts < b for ts, te in taken):
                out.append((a, b, "QUANTITY", score(a, b) if score else 0.0))
    out.sort(key=lambda x: (x[0], x[1]))
    # drop quantities that now overlap an earlier quantity (keep the first), dates and durations
    # (2023年, 10月, 3天), and numbers inside codes (县道X877, 202384): the SPEC excludes them
    final, last_end = [], -1
    for sp in out:
        if sp[2] == "QUANTITY":
            if sp[0] < last_end or is_date_or_duration(text[sp[0]:sp[1]], text[sp[1]:sp[1] + 3]) \
                    or (sp[0] > 0 and text[sp[0] - 1].isascii() and text[sp[0] - 1].isalnum()):
                continue
            last_end = sp[1]
        final.append(sp)
    return final


#: base units of time: a number with one of these is a date or a duration, never a SPEC quantity
TIME_UNITS = frozenset({"年", "月", "日", "天", "周", "季度", "小时"})
_TIME_AFTER_GE = ("工作日", "月", "小时", "星期", "周", "季度", "年", "日", "天")
_TIME_CHARS = frozenset("年月日天周季时")
_TIME_ENDINGS = tuple(sorted(TIME_UNITS))


@lru_cache(maxsize=8192)  # dates repeat across reports (2023年, 10月底); a pure function of its arguments
def is_date_or_duration(quantity_text: str, following: str = "") -> bool:
    """``2023年``, ``10月``, ``3天``, ``两个月``: the parsed unit is a unit of time (``元/年`` is
    not); ``5个`` when the text goes on with a time word (``5个工作日``); a bare number the text
    goes on with 年, 月, 日 or 号 (``2016`` of ``2016年``)."""
    from ..errors import QuantityParseError
    from ..quantity import parse_quantity

    if _TIME_CHARS.isdisjoint(quantity_text) and not following.startswith(_TIME_AFTER_GE + ("号",)):
        return False  # the common case, without parsing
    try:
        unit = parse_quantity(quantity_text).normalized_unit
    except QuantityParseError:  # 一二季度, 3个季度: no value, but a time unit all the same
        return quantity_text.endswith(_TIME_ENDINGS)
    return unit in TIME_UNITS or (unit == "个" and following.startswith(_TIME_AFTER_GE)) \
        or (unit is None and following[:1] in ("年", "月", "日", "号"))
