"""Per-character id tables: ``str.translate`` tables that map a whole text to small ids in one
C-level pass (:class:`CodeTable`, :func:`char_ids`), and the character classes (digit, numeral,
punctuation ...) the encoder embeds beside each character.

The vocabulary (:mod:`zhibiao.model.vocab`) and the featurizer (:mod:`zhibiao.model.featurization`)
both build on these tables; this module imports neither.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


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


CLASS_TABLE = CodeTable({}, char_class, remember=True)  # filled as characters are met
