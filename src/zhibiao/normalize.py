"""Normalise report text for the model, keeping an exact map back to the original characters.

The model sees normalised text; users see offsets into the original. :func:`normalize` applies,
in this order:

1. repairs of known mis-decodings (``?,F(xiàn)`` in GBK-mangled pages stands for ``。現``);
2. removal of pinyin annotations glued to a Han character (``鎮(zhèn)``, ``發(fā)布``, ``萬(wàn)人``):
   a parenthesised run of lowercase Latin letters with at least one tone-marked vowel;
3. full-width folding (``１２３．５％`` -> ``123.5%``, ``，`` -> ``,``, ideographic space -> space)
   and ``\\r\\n`` / ``\\r`` -> ``\\n``;
4. traditional -> simplified with OpenCC ``t2s``, character by character (a character whose
   conversion is not exactly one character is kept), so the length never changes;
5. runs of whitespace inside a line collapse to one space (line breaks stay: they end sentences).

Every step only substitutes one character for one character or deletes characters, so each
normalised character comes from exactly one original character. ``Normalized.index[i]`` is the
original offset of normalised character ``i``; a normalised span ``[a, b)`` maps back to
``[index[a], index[b - 1] + 1)``, which also covers anything deleted inside the span (as SPEC.md
asks: "the span covers the characters as they stand in the given text, including stray
artefacts inside it").
"""
from __future__ import annotations

from array import array
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

__all__ = ["Normalized", "normalize", "to_simplified_char", "PINYIN_ARTEFACT"]

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_LETTERS = "a-zü" + _TONED
#: a pinyin annotation glued to a Han character, e.g. the ``(zhèn)`` of ``鎮(zhèn)``
PINYIN_ARTEFACT = re.compile(
    rf"(?<=[{_HAN}])[(（][{_PINYIN_LETTERS}]*[{_TONED}][{_PINYIN_LETTERS}]*[)）]"
)

# Known mis-decodings: (pattern, replacement) where the replacement is given per matched
# character: a string of the same length as the match, "\0" marking a deletion.
_REPAIRS: tuple[tuple[re.Pattern[str], str], ...] = (
    # '。現' mangled through GBK into '?,F(xiàn)': '?'->'。', ','->deleted, 'F'->'现', pinyin deleted
    (re.compile(r"\?,F\(xiàn\)"), "。\0现" + "\0" * 6),
)

_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x00A0: 0x20, 0x09: 0x20, 0x0B: 0x20, 0x0C: 0x20, 0x0D: 0x0A,
              0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x200B: 0x20, 0xFEFF: 0x20})
_SPACE_RUN = re.compile(r" {2,}")
_CRLF = re.compile(r"\r(?=\n)")


@dataclass(frozen=True)
class Normalized:
    """The normalised text of ``original`` and the offset map between the two."""

    text: str
    original: str
    index: Sequence[int]  # index[i]: offset in `original` of normalised character i (an int64 array: 8 bytes a character)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised span ``[start, end)`` to the original text."""
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span [{start}, {end}) outside normalised text of length {len(self.text)}")
        if start == end:
            pos = self.index[start] if start < len(self.index) else len(self.original)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1

    def original_span_text(self, start: int, end: int) -> str:
        a, b = self.to_original(start, end)
        return self.original[a:b]

    def from_original(self, start: int, end: int) -> tuple[int, int]:
        """Map an original span to the smallest normalised span covering its surviving characters."""
        import bisect

        a = bisect.bisect_left(self.index, start)
        b = bisect.bisect_left(self.index, end)
        return a, max(a, b)


def _delete(text: str, index: array, pattern: re.Pattern[str], keep_first: bool = False) -> tuple[str, array]:
    """Delete every match of ``pattern`` (all but its first character when ``keep_first``)."""
    out: list[str] = []
    new_index = array("q")
    pos = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        if keep_first:
            a += 1
        out.append(text[pos:a])
        new_index.extend(index[pos:a])
        pos = b
    if pos == 0:
        return text, index
    out.append(text[pos:])
    new_index.extend(index[pos:])
    return "".join(out), new_index


def _repair(text: str, index: array) -> tuple[str, array]:
    for pattern, replacement in _REPAIRS:
        if not pattern.search(text):
            continue
        out: list[str] = []
        new_index = array("q")
        pos = 0
        for m in pattern.finditer(text):
            a, b = m.span()
            out.append(text[pos:a])
            new_index.extend(index[pos:a])
            for k, ch in enumerate(replacement):
                if ch != "\0":
                    out.append(ch)
                    new_index.append(index[a + k])
            pos = b
        out.append(text[pos:])
        new_index.extend(index[pos:])
        text, index = "".join(out), new_index
    return text, index


@lru_cache(maxsize=1)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


_T2S_CACHE: dict[int, int] = {}


def to_simplified_char(ch: str) -> str:
    """OpenCC t2s of one character; the character itself where t2s is not one character."""
    code = ord(ch)
    hit = _T2S_CACHE.get(code)
    if hit is None:
        converted = _opencc().convert(ch)
        hit = ord(converted) if len(converted) == 1 else code
        _T2S_CACHE[code] = hit
    return chr(hit)


class _T2STable(dict):
    """A lazily filled ``str.translate`` table for t2s, character by character."""

    def __missing__(self, code: int) -> int:
        if code < 0x2E80:  # nothing below the CJK radicals block changes
            self[code] = code
            return code
        value = ord(to_simplified_char(chr(code)))
        self[code] = value
        return value


_T2S_TABLE = _T2STable()


def normalize(text: str) -> Normalized:
    """Normalise ``text`` (see the module docstring) and return it with its offset map."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    index = array("q", range(len(text)))
    s, index = _repair(text, index)
    s, index = _delete(s, index, PINYIN_ARTEFACT)
    s, index = _delete(s, index, _CRLF)  # drop the \r of \r\n; a lone \r folds to \n below
    s = s.translate(_FOLD)
    s = s.translate(_T2S_TABLE)
    s, index = _delete(s, index, _SPACE_RUN, keep_first=True)
    return Normalized(text=s, original=text, index=index)
