"""Decoding: tagger logits -> spans under the SPEC.

- Constrained Viterbi over the BIO tags (with an optional per-tag bias) and the span readers.
- SPEC snapping: predicted quantities cut or merged to the quantity grammar of
  :mod:`zhibiao.quantity`, bare numbers, dates, durations and code digits dropped.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

from .config import TAG_ID, TAGS

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


#: comparison words before a number stay outside its span (the SPEC's glued markers are the single
#: characters 近 约 超 逾: ``超过[50万元]``, ``不足[5万元]``, as the gold of every annotated set has it)
OUTSIDE_PREFIXES = ("将近", "接近", "超过", "不足", "不到", "大约")


def trim_outside_prefix(text: str, start: int, end: int) -> int:
    """``start`` moved past a comparison word (:data:`OUTSIDE_PREFIXES`) that opens ``text[start:end]``."""
    for p in OUTSIDE_PREFIXES:
        if text.startswith(p, start) and end - start > len(p):
            return start + len(p)
    return start


def original_span(norm, start: int, end: int) -> tuple[int, int]:
    """A predicted span of the normalised text in original offsets, with the SPEC's edges: no
    whitespace at either end, and a pinyin artefact glued to its last character inside it
    (``[53個(gè)]``, ``[鄉鎮(zhèn)]``: the span covers the characters as they stand)."""
    from ..normalize import PINYIN_ARTEFACT

    a, b = norm.to_original(start, end)
    text = norm.original
    lo, hi = a, b
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    if lo == hi:
        return a, b
    m = PINYIN_ARTEFACT.match(text, hi)
    return lo, (m.end() if m else hi)


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

    A comparison word that opens a quantity (:data:`OUTSIDE_PREFIXES`) is cut off.

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
            sp = (trim_outside_prefix(text, sp[0], sp[1]),) + sp[1:]
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
