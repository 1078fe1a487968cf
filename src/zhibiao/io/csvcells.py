"""Text cells of the CSV files zhibiao writes, safe to open in Excel.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (CSV injection: a file or archive member named ``=HYPERLINK(...).txt`` becomes a live
formula in every records row of it). :func:`csv_cell` writes such a text cell with a leading
apostrophe, the mark Excel itself uses for "text, not a formula"; a text that already starts with
an apostrophe gets one more, so :func:`csv_value` (used by ``zhibiao table`` when it reads a CSV
records file) gives back exactly the original text. Numbers and empty cells are never changed.
Only CSV needs this: ``.xlsx`` cells are typed as text, ``.jsonl`` and ``.parquet`` are not read as
formulas.
"""
from __future__ import annotations

from typing import Any

__all__ = ["csv_cell", "csv_value", "FORMULA_STARTS"]

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARK = "'"


def csv_cell(value: Any) -> Any:
    """The cell for ``value``: a text starting with a formula character (or the apostrophe) gets a
    leading apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS + (_MARK,)):
        return _MARK + value
    return value


def csv_value(cell: Any) -> Any:
    """The inverse of :func:`csv_cell` for a cell read back as text."""
    if isinstance(cell, str) and cell.startswith(_MARK):
        return cell[1:]
    return cell
