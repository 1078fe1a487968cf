"""``.xlsx`` files of rows (openpyxl, write-only: memory stays flat), the same bytes for the same rows.

:func:`write_workbook` writes sheets of rows under a bold, frozen header row; :func:`write_xlsx`
one sheet. Records files reach it through :class:`~zhibiao.io.writers.RecordsWriter`.

- Numbers, booleans and ``None`` (an empty cell) keep their type; every string is stored as text,
  never as a formula (a value starting with ``=`` stays a string).
- Characters that XLSX cannot hold (C0 control characters other than tab and line breaks) become
  U+FFFD; a string longer than Excel's 32,767 characters per cell is cut there.
- A sheet holds at most 1,048,575 rows under its header; more rows go on in ``NAME_2``,
  ``NAME_3`` ... with the same header.
- Reproducible: fixed document properties and zip timestamps, so the same rows give the same bytes
  (openpyxl stamps the time of saving; the package is rewritten with fixed ones).
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

__all__ = ["write_workbook", "write_xlsx", "MAX_SHEET_ROWS", "MAX_CELL_CHARS"]

MAX_SHEET_ROWS = 1_048_575  # data rows under the header row (Excel's limit is 1,048,576 rows)
MAX_CELL_CHARS = 32_767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip time; also the workbook's created / modified
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_WIDTHS = {"sentence": 60, "indicator": 24, "quantity": 16, "doc_id": 30, "indicator_type": 20}

Sheet = tuple[str, Sequence[str], Iterable[Mapping[str, Any]]]


def _cell(ws: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("\ufffd", value)[:MAX_CELL_CHARS]
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # text as text: openpyxl would make '=...' a formula
    return cell


def _new_sheet(wb: Any, title: str, columns: Sequence[str]) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, name in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(name, 12)
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    return ws


def _fill(wb: Any, name: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    ws, n, part = _new_sheet(wb, name, columns), 0, 1
    for row in rows:
        if n and n % MAX_SHEET_ROWS == 0:
            part += 1
            ws = _new_sheet(wb, f"{name}_{part}", columns)
        ws.append([_cell(ws, row.get(c)) for c in columns])
        n += 1
    return n


def _reproducible(src: Path, dst: Path) -> None:
    """Copy the package ``src`` to ``dst`` with fixed timestamps (entries, order and content kept)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
        for info in zin.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o644 << 16
            if info.filename == "docProps/core.xml":
                stamp = rb"\g<1>1980-01-01T00:00:00Z\g<2>"
                zout.writestr(out, _MODIFIED.sub(stamp, zin.read(info)))
                continue
            with zin.open(info) as r, zout.open(out, "w", force_zip64=info.file_size > 1 << 30) as w:
                shutil.copyfileobj(r, w, 1 << 20)


def write_workbook(output: str | Path, sheets: Sequence[Sheet]) -> list[int]:
    """Write ``sheets`` (name, columns, rows as mappings) to the ``.xlsx`` file ``output``; returns
    the row count of each. Rows are read once, as they come (an iterator is fine)."""
    import datetime

    from openpyxl import Workbook

    output = Path(output)
    wb = Workbook(write_only=True)
    wb.properties.creator = "zhibiao"
    wb.properties.created = wb.properties.modified = datetime.datetime(*_FIXED_TIME)
    counts = [_fill(wb, name, columns, rows) for name, columns, rows in sheets]
    raw = output.with_name(output.name + ".partial.xlsx")
    try:
        wb.save(str(raw))
        _reproducible(raw, output)
    finally:
        raw.unlink(missing_ok=True)
    return counts


def write_xlsx(rows: Iterable[Mapping[str, Any]] | Iterator[Mapping[str, Any]], output: str | Path,
               columns: Sequence[str], *, sheet: str = "records") -> int:
    """Write ``rows`` (mappings; ``columns`` in order, a missing key an empty cell) to one sheet of
    the ``.xlsx`` file ``output``; returns the row count."""
    return write_workbook(output, [(sheet, columns, rows)])[0]
