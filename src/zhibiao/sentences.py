"""Sentence split per SPEC.md and windows for the model.

A sentence ends at ``。！？!?`` or a line break; semicolons and commas do not end it. A closing
quote or bracket right after the end mark stays with the sentence. ``31.1`` and ``87.25%`` are
never split (``.`` and ``%`` are not end marks). Offsets are into the text as given; the spans are
trimmed of surrounding whitespace and empty sentences are dropped.

Very long sentences are cut for the model's window by :func:`windows`: at the last comma-like
mark before the limit (or hard at the limit where there is none), offsets kept.
"""
from __future__ import annotations

import bisect
import re
from typing import Sequence

__all__ = ["split_sentences", "sentence_of", "sentence_starts", "windows", "sentence_windows", "NUMERAL", "END_MARKS"]

END_MARKS = "。！？!?"
_CLOSERS = "”’」』)）】》\"'"
_SENTENCE_END = re.compile(rf"[{END_MARKS}]+[{re.escape(_CLOSERS)}]*|\r\n|[\n\r\u2028\u2029]")
_CUT_MARKS = set(",，;；、:：")


def _trimmed(text: str, a: int, b: int) -> tuple[int, int] | None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if a < b else None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end() if text[m.start()] in END_MARKS else m.start()
        span = _trimmed(text, pos, end)
        if span:
            spans.append(span)
        pos = m.end()
    span = _trimmed(text, pos, len(text))
    if span:
        spans.append(span)
    return spans


def sentence_starts(spans: Sequence[tuple[int, int]]) -> list[int]:
    """The start offsets of ``spans``, for repeated :func:`sentence_of` look-ups over one text."""
    return [s for s, _ in spans]


def sentence_of(spans: Sequence[tuple[int, int]], offset: int, starts: Sequence[int] | None = None) -> int | None:
    """Index of the sentence span containing character ``offset`` (None if between sentences).

    A caller looking up many offsets in one text passes ``starts`` (:func:`sentence_starts` of
    ``spans``, built once): each look-up is then a binary search, O(log n), and a whole document
    stays linear in its length."""
    if starts is None:
        starts = sentence_starts(spans)
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and spans[i][0] <= offset < spans[i][1]:
        return i
    return None


def windows(text: str, start: int, end: int, max_len: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most ``max_len`` characters.

    Each cut falls right after the last comma-like mark (，,；;、：:) inside the limit; where a piece
    has none, it is cut hard at the limit.
    """
    if max_len < 1:
        raise ValueError("max_len must be >= 1")
    pieces: list[tuple[int, int]] = []
    a = start
    while end - a > max_len:
        cut = None
        for k in range(a + max_len, a + max_len // 4, -1):
            if text[k - 1] in _CUT_MARKS:
                cut = k
                break
        cut = cut or a + max_len
        pieces.append((a, cut))
        a = cut
    if a < end:
        pieces.append((a, end))
    return pieces


#: a window with none of these cannot hold a quantity, so the encoder skips it
NUMERAL = re.compile(r"[0-9零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟兩萬億]")


def sentence_windows(text: str, max_len: int) -> list[tuple[int, int]]:
    """The model's windows: the sentences of ``text``, long ones cut by :func:`windows`."""
    out: list[tuple[int, int]] = []
    for a, b in split_sentences(text):
        out.extend(windows(text, a, b, max_len))
    return out
