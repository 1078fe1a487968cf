"""The span-pointer linker (``ModelConfig.linker = "pointer"``): linking that does not depend on the
tagger's INDICATOR recall.

For each quantity, over the characters of its sentence in the window, a start and an end
distribution for its indicator, each with a "none" option (machine-reading style). A position's
score reads the encoder state of the character, the tagger's B-/I-INDICATOR probabilities, the
lexicon's alias marks (B/M/E/S) and whether it lies in a quantity, conditioned on the quantity
(biaffine, for start and end apart):

    score_i = (K h'_i).(Q q) / sqrt(d) + (K' h'_i).D[g] + (Q' q).D'[g] + bias[g, n_q, n_sep] + prior(h'_i)

``h'_i``: the state and features of position i; ``q``: an MLP of the states of the quantity's
first and last characters; ``g``: the signed distance bucket of i from the quantity; ``n_q`` /
``n_sep``: the quantities and the separators (，、；：()) between them (capped at 3). All of it is
matrix products per window and lookups per (quantity, position): no ``(NQ, L, d)`` tensor.

Decoding (:func:`decode_pointer`) takes the best ``(start, end)``: ``start <= end``, at most
``pointer_max_len`` characters, every character inside the quantity's sentence and in no quantity;
"none" when its score (start none + end none) is higher; a place name is never the span
(``skip_place_names``: :mod:`zhibiao.model.places`). A found span becomes the link and, where
the tagger did not tag that span, an INDICATOR span of the prediction; tagger INDICATOR spans that
overlap a found span are dropped (this linker never links them).
"""
from __future__ import annotations

import math
from bisect import bisect_right
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..sentences import split_sentences
from .characters import CodeTable, char_ids
from .config import ModelConfig

SEPARATORS = ",，、;；:：()（）"
SEP_TABLE = CodeTable({}, lambda ch: 1 if ch in SEPARATORS else 0, remember=True)
#: distance edges (characters between the position and the quantity): exact up to 8, then coarser
DIST_EDGES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 26, 32, 48, 64, 96)
N_DIST = len(DIST_EDGES) + 1  # buckets per side
N_POS_FEATS = 2 + 4 + 1       # B-/I-INDICATOR probability, lexicon B/M/E/S marks, in a quantity
DIST_DIM = 16                 # width of the distance terms
NEG = -1e4                    # masked logits in training (finite: a gold position is never masked)

Span = tuple[int, int]


# ---- inputs ----------------------------------------------------------------------------------

def pointer_inputs(texts: Sequence[str], quantities: Sequence[Sequence[Span]], length: int,
                   golds: Sequence[Sequence[Span | None]] | None = None) -> dict[str, torch.Tensor]:
    """Tensors for :class:`PointerHead`: per quantity (``q_*``: window, span, its sentence's bounds
    ``q_lo``/``q_hi``; ``gold_start``/``gold_end``, the gold indicator's first and last character or
    -1), per window (``qmask``: characters in a quantity, ``qstart``: quantity starts, ``sep``:
    separators), all ``(windows, length)``."""
    n = len(texts)
    qmask = np.zeros((n, length), dtype=bool)
    qstart = np.zeros((n, length), dtype=np.int64)
    rows: list[tuple[int, int, int, int, int, int, int]] = []
    for b, (t, qs) in enumerate(zip(texts, quantities)):
        if not qs:
            continue
        sents = split_sentences(t)
        starts = [a for a, _ in sents]
        for k, (s, e) in enumerate(qs):
            qmask[b, s:e] = True
            qstart[b, s] = 1
            j = bisect_right(starts, s) - 1
            lo, hi = sents[j] if j >= 0 and sents[j][1] >= e else (0, len(t))
            g = golds[b][k] if golds is not None else None
            rows.append((b, s, e, lo, hi, g[0] if g else -1, g[1] - 1 if g else -1))
    cols = torch.tensor(rows, dtype=torch.long).view(len(rows), 7).T
    out = dict(zip(("q_batch", "q_start", "q_end", "q_lo", "q_hi", "gold_start", "gold_end"), cols))
    out.update(qmask=torch.from_numpy(qmask), qstart=torch.from_numpy(qstart), sep=char_ids(texts, SEP_TABLE, length))
    return out


def geometry(p: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """``(allowed, bucket, n_quantities_between, n_separators_between)``, each ``(quantities, length)``:
    may the position be part of the quantity's indicator (inside its sentence, in no quantity), its
    signed distance bucket, and the capped counts of quantity starts and separators between."""
    qb, s, e = p["q_batch"], p["q_start"][:, None], p["q_end"][:, None]
    length = p["qmask"].size(1)
    pos = torch.arange(length, device=qb.device).unsqueeze(0).expand(qb.size(0), length)
    before = pos < s
    dist = torch.where(before, s - 1 - pos, pos - e).clamp(min=0)
    edges = torch.tensor(DIST_EDGES, device=qb.device)
    bucket = torch.bucketize(dist, edges) + (~before).long() * N_DIST
    allowed = (pos >= p["q_lo"][:, None]) & (pos < p["q_hi"][:, None]) & ~p["qmask"][qb]

    def between(marks: torch.Tensor) -> torch.Tensor:
        c = F.pad(marks.cumsum(1), (1, 0))[qb]  # c[:, j]: marks before position j
        left = c.gather(1, s) - c[:, 1:]        # marks in (pos, s)
        right = c[:, :-1] - c.gather(1, e)      # marks in [e, pos)
        return torch.where(before, left, right).clamp(0, 3)
    return allowed, bucket, between(p["qstart"]), between(p["sep"])


# ---- the head --------------------------------------------------------------------------------

class PointerHead(nn.Module):
    """Start, end and none logits of each quantity's indicator (see the module doc)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        h, d = cfg.hidden_size, cfg.pointer_hidden
        self.d, self.detach_tags = d, cfg.pointer_detach_tags
        self.tag_ids = [cfg.tags.index("B-INDICATOR"), cfg.tags.index("I-INDICATOR")]
        # per position, for start and end: a content key, a key met by the distance, a prior
        self.keys = nn.Linear(h + N_POS_FEATS, 2 * d + 2 * DIST_DIM + 2)
        # per quantity, for start and end: a query met by the keys, one met by the distance
        self.queries = nn.Sequential(nn.Linear(2 * h, 2 * h), nn.GELU(), nn.Linear(2 * h, 2 * d + 2 * DIST_DIM))
        self.dist = nn.Parameter(torch.randn(2 * N_DIST, 2, DIST_DIM) * 0.1)
        self.dist_q = nn.Parameter(torch.randn(2 * N_DIST, 2, DIST_DIM) * 0.1)
        self.geo_bias = nn.Parameter(torch.zeros(2 * N_DIST * 16, 2))  # distance x quantities x separators
        self.none = nn.Sequential(nn.Linear(2 * h, d), nn.GELU(), nn.Linear(d, 2))

    def position_features(self, states: torch.Tensor, logits: torch.Tensor, batch: dict[str, torch.Tensor],
                          qmask: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(logits.float(), dim=-1)[..., self.tag_ids]
        if self.detach_tags:
            probs = probs.detach()
        if "lex_cats" in batch:
            lex = (batch["lex_cats"] > 0).any(-1).float()
        else:
            lex = probs.new_zeros(probs.shape[:2] + (4,))
        return torch.cat([probs, lex, qmask.unsqueeze(-1).float()], dim=-1).to(states.dtype)

    def forward(self, states: torch.Tensor, logits: torch.Tensor, batch: dict[str, torch.Tensor],
                p: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """``(start, end, none, allowed)``: ``(NQ, L)`` start and end logits, ``(NQ, 2)`` none logits
        (start, end), ``(NQ, L)`` allowed positions.

        Biaffine: each term is a matrix product per window or a table lookup per (quantity,
        position), so that no ``(NQ, L, d)`` tensor is ever built."""
        qb, d, dd = p["q_batch"], self.d, DIST_DIM
        nb, length = states.shape[:2]
        keys = self.keys(torch.cat([states, self.position_features(states, logits, batch, p["qmask"])], -1))
        k_content = keys[..., :2 * d].view(nb, length, 2, d).transpose(1, 2)   # (B, 2, L, d)
        k_dist = keys[..., 2 * d:-2].reshape(nb, length, 2, dd)                # (B, L, 2, dd)
        hq = torch.cat([states[qb, p["q_start"]], states[qb, p["q_end"] - 1]], dim=-1)
        q = self.queries(hq)
        allowed, bucket, n_q, n_sep = geometry(p)
        # content: keys . query, one matrix product per window over its quantities (padded)
        counts = torch.bincount(qb, minlength=nb)
        slot = torch.arange(qb.size(0), device=qb.device) - (counts.cumsum(0) - counts)[qb]
        q_pad = q.new_zeros(nb, int(counts.max()), 2, d).index_put_((qb, slot), q[:, :2 * d].view(-1, 2, d))
        content = torch.matmul(k_content, q_pad.permute(0, 2, 3, 1)) / math.sqrt(d)  # (B, 2, L, Qmax)
        scores = content.permute(0, 3, 2, 1)[qb, slot]                               # (NQ, L, 2)
        # distance: the position's key and the quantity's query each meet the distance bucket
        n_g = self.dist.size(0)
        by_pos = torch.einsum("blsd,gsd->blsg", k_dist, self.dist)                   # (B, L, 2, G)
        by_q = torch.einsum("nsd,gsd->nsg", q[:, 2 * d:].reshape(-1, 2, dd), self.dist_q)  # (NQ, 2, G)
        side = torch.arange(2, device=qb.device)
        flat = ((qb[:, None, None] * length + torch.arange(length, device=qb.device)[None, :, None]) * 2
                + side) * n_g + bucket.unsqueeze(-1)                                 # (NQ, L, 2)
        scores = scores + by_pos.reshape(-1).take(flat)
        scores = scores + by_q.transpose(1, 2).gather(1, bucket.unsqueeze(-1).expand(-1, -1, 2))
        scores = scores + self.geo_bias[bucket * 16 + n_q * 4 + n_sep] + keys[..., -2:][qb]
        return scores[..., 0], scores[..., 1], self.none(hq), allowed


# ---- training and decoding ----------------------------------------------------------------------

def pointer_loss(start: torch.Tensor, end: torch.Tensor, none: torch.Tensor, allowed: torch.Tensor,
                 gold_start: torch.Tensor, gold_end: torch.Tensor) -> torch.Tensor:
    """Mean of the start and end cross-entropies over ``[none, positions]`` (target: the gold
    boundary, or none for an unlinked quantity). Positions outside ``allowed`` are masked, the gold
    ones never."""
    rows = torch.arange(start.size(0), device=start.device)
    linked = gold_start >= 0
    losses = []
    for logit, gold, col in ((start, gold_start, 0), (end, gold_end, 1)):
        ok = allowed.clone()
        ok[rows[linked], gold[linked]] = True
        full = torch.cat([none[:, col:col + 1], logit.masked_fill(~ok, NEG)], dim=1)
        losses.append(F.cross_entropy(full, gold + 1))
    return (losses[0] + losses[1]) / 2


def boundary_log_probs(start: torch.Tensor, end: torch.Tensor, none: torch.Tensor, allowed: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The start and the end log-probabilities over ``[none, positions]``, each ``(NQ, 1 + L)``;
    positions outside ``allowed`` are ``-inf``."""
    ls = torch.log_softmax(torch.cat([none[:, :1], start.masked_fill(~allowed, float("-inf"))], 1).float(), 1)
    le = torch.log_softmax(torch.cat([none[:, 1:2], end.masked_fill(~allowed, float("-inf"))], 1).float(), 1)
    return ls, le


def ensemble_pointer(outputs: Sequence[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    """One ``(start, end, none, allowed)`` from the pointer outputs of several networks: the mean of
    their boundary log-probabilities (a normalised geometric mean of their distributions)."""
    if len(outputs) == 1:
        return outputs[0]
    allowed = outputs[0][3]
    pairs = [boundary_log_probs(start, end, none, allowed) for start, end, none, _ in outputs]
    ls = torch.stack([a for a, _ in pairs]).mean(0)
    le = torch.stack([b for _, b in pairs]).mean(0)
    return ls[:, 1:], le[:, 1:], torch.stack([ls[:, 0], le[:, 0]], 1), allowed


def decode_pointer(start: torch.Tensor, end: torch.Tensor, none: torch.Tensor, allowed: torch.Tensor,
                   max_len: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(first, last, log-prob)`` per quantity: the best span ``[first, last]`` (inclusive) under the
    rules of the module doc, or ``first = last = -1`` where none scores higher. Start and end are
    log-softmaxed over ``[none, allowed positions]``; a span scores the sum of its two, none the
    sum of the two nones. ``O(L * max_len)`` per quantity, batched."""
    n, length = start.shape
    if n == 0:
        return start.new_zeros(0, dtype=torch.long), start.new_zeros(0, dtype=torch.long), start.new_zeros(0)
    ls, le = boundary_log_probs(start, end, none, allowed)
    m = max(1, min(max_len, length))
    ends = F.pad(le[:, 1:], (0, m - 1), value=float("-inf")).unfold(1, m, 1)  # (N, L, m): le[i + k]
    bad = F.pad((~allowed).long().cumsum(1), (1, 0))  # bad[:, j]: disallowed positions before j
    bad_after = F.pad(bad[:, 1:], (0, m - 1), value=length + 1).unfold(1, m, 1)  # bad[i + k + 1]
    ok = (bad_after - bad[:, :length, None]) == 0
    scores = (ls[:, 1:, None] + ends).masked_fill(~ok, float("-inf")).view(n, -1)
    best, flat = scores.max(1)
    first, last = flat // m, flat // m + flat % m
    none_score = ls[:, 0] + le[:, 0]
    is_none = none_score >= best
    first = first.masked_fill(is_none, -1)
    last = last.masked_fill(is_none, -1)
    return first, last, torch.where(is_none, none_score, best)


def pointer_train_loss(net, texts: Sequence[str], quantities: Sequence[Sequence[Span]],
                       golds: Sequence[Sequence[Span | None]], batch: dict[str, torch.Tensor],
                       states: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The pointer's loss on a training batch (gold quantities, gold indicator per quantity)."""
    p = {k: v.to(states.device) for k, v in pointer_inputs(texts, quantities, states.size(1), golds).items()}
    start, end, none, allowed = net.pointer(states, logits, batch, p)
    return pointer_loss(start, end, none, allowed, p["gold_start"], p["gold_end"])


def pointer_predictions(nets: Sequence, cfg: ModelConfig, texts: Sequence[str], batch: dict[str, torch.Tensor],
                        encoded: Sequence[tuple[torch.Tensor, torch.Tensor]], spans_per: list[list[tuple]]
                        ) -> list[tuple[list[tuple], list[tuple[int, int | None, float]]]]:
    """Per window, ``(spans, links)`` as :class:`~zhibiao.model.core.WindowPrediction` holds them.
    ``encoded``: each network's ``(states, tag logits)``; several networks vote
    (:func:`ensemble_pointer`)."""
    qs = [[(s, e) for s, e, lab, _ in sp if lab == "QUANTITY"] for sp in spans_per]
    if not any(qs):
        return [(sp, []) for sp in spans_per]
    states = encoded[0][0]
    p = {k: v.to(states.device) for k, v in pointer_inputs(texts, qs, states.size(1)).items()}
    outputs = [net.pointer(st, lg, batch, p) for net, (st, lg) in zip(nets, encoded)]
    start, end, none, allowed = ensemble_pointer(outputs)
    first, last, logp = decode_pointer(start, end, none, allowed, cfg.pointer_max_len)
    if cfg.skip_place_names:
        first, last, logp = _without_place_names(texts, p["q_batch"].tolist(), (start, end, none, allowed),
                                                 (first, last, logp), cfg.pointer_max_len)
    found, probs = torch.stack([first, last], 1).tolist(), logp.exp().tolist()
    out, row = [], 0
    for b, spans in enumerate(spans_per):
        picks = []
        for a, z in found[row:row + len(qs[b])]:
            picks.append(None if a < 0 else (a, z + 1))
        prob = probs[row:row + len(qs[b])]
        row += len(qs[b])
        out.append(_window_result(spans, qs[b], picks, prob))
    return out


def _without_place_names(texts: Sequence[str], windows: list[int], scores: tuple[torch.Tensor, ...],
                         decoded: tuple[torch.Tensor, ...], max_len: int, rounds: int = 8) -> tuple[torch.Tensor, ...]:
    """``decoded`` again for the quantities whose span is a place name (:mod:`zhibiao.model.places`):
    decoded anew with that span's characters disallowed (the next best span, or none), up to
    ``rounds`` times."""
    from .places import is_place_name

    start, end, none, allowed = scores
    first, last, logp = (t.clone() for t in decoded)
    for _ in range(rounds):
        rows = [r for r, (a, z) in enumerate(zip(first.tolist(), last.tolist()))
                if a >= 0 and is_place_name(texts[windows[r]][a:z + 1])]
        if not rows:
            break
        allowed = allowed.clone()
        for r in rows:
            allowed[r, int(first[r]):int(last[r]) + 1] = False
        idx = torch.tensor(rows, dtype=torch.long)
        f, z, lp = decode_pointer(start[idx], end[idx], none[idx], allowed[idx], max_len)
        first[idx], last[idx], logp[idx] = f, z, lp
    return first, last, logp


def _window_result(spans: list[tuple], qs: list[Span], picks: list[Span | None], prob: list[float]):
    """One window's spans (pointer-found indicators added, overlapping tagger indicators dropped)
    and links (quantity index, indicator index or None, probability)."""
    chosen: dict[Span, float] = {}
    for span, pr in zip(picks, prob):
        if span is not None:
            chosen[span] = max(chosen.get(span, 0.0), pr)
    kept = [sp for sp in spans if sp[2] != "INDICATOR" or (sp[0], sp[1]) in chosen
            or not any(sp[0] < z and a < sp[1] for a, z in chosen)]
    tagged = {(sp[0], sp[1]) for sp in kept if sp[2] == "INDICATOR"}
    kept += [(a, z, "INDICATOR", pr) for (a, z), pr in chosen.items() if (a, z) not in tagged]
    kept.sort(key=lambda sp: (sp[0], sp[1]))
    index = {(sp[0], sp[1], sp[2]): k for k, sp in enumerate(kept)}
    links = [(index[(s, e, "QUANTITY")], None if span is None else index[(span[0], span[1], "INDICATOR")], pr)
             for (s, e), span, pr in zip(qs, picks, prob)]
    return kept, links
