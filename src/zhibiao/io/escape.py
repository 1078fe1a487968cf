"""Text that a UTF-8 file can hold: names and ids with unencodable characters escaped.

On Linux a file name is bytes: Python reads a name that is not UTF-8 with ``surrogateescape``
(the byte ``0xff`` becomes ``\\udcff``); a tar member name no codec decodes stays so too, and a
JSONL ``id`` may hold a lone surrogate (``"\\ud800"``). None of them can be written to a UTF-8
file; :func:`printable` spells them out instead.
"""
from __future__ import annotations

__all__ = ["printable"]


def printable(text: str) -> str:
    """``text`` itself when it is valid Unicode; else its unencodable characters escaped: bytes of a
    non-UTF-8 file name as ``\\xff`` (``x\\udcff.txt`` -> ``x\\xff.txt``), other lone surrogates as
    ``\\ud800``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
