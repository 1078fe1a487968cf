"""Text that a UTF-8 file can hold: names and ids with unencodable characters escaped.

On Linux a file name is bytes: Python reads a name that is not UTF-8 with ``surrogateescape``
(the byte ``0xff`` becomes ``\\udcff``); a tar member name no codec decodes stays so too, and a
JSONL ``id`` may hold a lone surrogate (``"\\ud800"``). None of them can be written to a UTF-8
file; :func:`printable` spells them out instead.
"""
from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_line", "printable"]


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


#: characters JSON leaves raw (ensure_ascii=False) that line-splitting readers take for line ends
#: (Python's str.splitlines, JavaScript): written as \u escapes, so one JSON object is one line
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_LINE_BREAK = re.compile("[\x85\u2028\u2029]")


def json_line(obj: Any) -> str:
    """``obj`` as one line of a JSONL file (UTF-8 text kept readable, newline at the end): a line
    break character inside a string (U+0085, U+2028, U+2029) is escaped, so that any line-splitting
    reader sees exactly one line."""
    text = json.dumps(obj, ensure_ascii=False)
    return _LINE_BREAK.sub(lambda m: _LINE_BREAKS[m.group()], text) + "\n"
