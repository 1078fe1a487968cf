"""The character vocabulary of the from-scratch encoder: a plain per-character id map.

Ids: 0 ``[PAD]``, 1 ``[UNK]``, then printable ASCII, the GB2312 symbol rows, the 6,763 GB2312
hanzi (levels 1 and 2: practically every character of modern simplified text, and the model
only ever sees simplified text: see :mod:`zhibiao.normalize`), then characters met in training
that are not yet covered. One id per character keeps offsets exact (no digit grouping, no
word pieces).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from .characters import CodeTable

PAD, UNK = "[PAD]", "[UNK]"


def _gb2312(rows: range) -> list[str]:
    out = []
    for hi in rows:
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def _unknown_id(ch: str) -> int:
    """The id of a character not in the vocabulary: 1, [UNK] (a module-level function: an
    extractor must stay picklable for worker processes)."""
    return 1


class CharVocab:
    def __init__(self, tokens: Sequence[str]):
        if list(tokens[:2]) != [PAD, UNK]:
            raise ValueError("a vocabulary starts with [PAD] and [UNK]")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("duplicate token in vocabulary")

    @classmethod
    def build(cls, extra_texts: Iterable[str] = ()) -> "CharVocab":
        tokens = [PAD, UNK]
        seen = set(tokens)

        def add(ch: str) -> None:
            if ch not in seen and len(ch) == 1 and (ch == " " or not ch.isspace()):
                seen.add(ch)
                tokens.append(ch)

        for ch in map(chr, range(0x20, 0x7F)):
            add(ch)
        for ch in _gb2312(range(0xA1, 0xAA)) + _gb2312(range(0xB0, 0xF8)):
            add(ch)
        for ch in "〇—–～·•℃㎡％‰":
            add(ch)
        for text in extra_texts:
            for ch in sorted(set(text)):
                add(ch)
        return cls(tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        get = self.index.get
        return [get(ch, 1) for ch in text]

    def code_table(self):
        """:meth:`encode` as a ``str.translate`` table (:class:`~zhibiao.model.characters.CodeTable`:
        unknown characters map to 1, [UNK]); None for a vocabulary too large to translate through."""
        if not hasattr(self, "_code_table"):
            ok = len(self.tokens) < 0xD800  # ids must stay below the surrogates to encode as UTF-32
            self._code_table = CodeTable({ord(t): i for t, i in self.index.items() if len(t) == 1},
                                         _unknown_id) if ok else None
        return self._code_table

    def save(self, path: str | Path) -> None:
        # one token per line; a space token is written as the escape "\\u0020"
        lines = ["\\u0020" if t == " " else t for t in self.tokens]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "CharVocab":
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls([" " if t == "\\u0020" else t for t in lines])
