"""Featurization: window texts and spans -> the tensors :class:`~zhibiao.model.modules.ZhibiaoNet` reads.

- Character ids (vocabulary or a pretrained tokenizer aligned through ``offset_mapping``), the
  character classes (:mod:`zhibiao.model.characters`) and the lexicon features
  (:mod:`zhibiao.model.lexicon`).
- Tag targets for the BIO tagger.
- The linker's pairs: for each quantity, the candidate indicators of its window with their distance
  bucket and pair features (what lies between them, nearest on its side, order).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Sequence

import torch

from .characters import CLASS_TABLE, char_ids
from .config import TAG_ID, ModelConfig
from .lexicon import Lexicon, greedy_spans, lexicon_tensors

if TYPE_CHECKING:
    from .vocab import CharVocab

N_BUCKETS = 10
_BUCKET_EDGES = (0, 1, 2, 3, 5, 8, 15, 31, 63)
BETWEEN_MARKS = ((",", "，"), ("、",), (";", "；"), (":", "："), ("(", ")", "（", "）"), ("其中",), ("含",))
#: marks added by ``ModelConfig.pair_features_version`` 2: 的 (``297户595人的监测户``)
BETWEEN_MARKS_V2 = BETWEEN_MARKS + (("的",),)


def between_marks(version: int) -> tuple[tuple[str, ...], ...]:
    return BETWEEN_MARKS_V2 if version >= 2 else BETWEEN_MARKS


def n_pair_features(version: int) -> int:
    return 2 + len(between_marks(version)) + 3



# ---- pair features ---------------------------------------------------------------------

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
            batch["char_class"] = char_ids(texts, CLASS_TABLE, length)
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

