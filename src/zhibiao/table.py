"""Totals that add up: a records file -> one row per document and indicator type (``zhibiao table``).

    from zhibiao.table import read_records, build_table, write_table
    table, cells = build_table(read_records("records.jsonl"))
    write_table(table, cells, "table.xlsx")

**The table** (:data:`TABLE_COLUMNS`): ``doc_id``, ``date``, ``place``, ``indicator_type``,
``indicator_type_zh`` and the sums ``households`` (户), ``persons`` (人, 名, 位), ``person_times`` (人次)
and ``amount_yuan`` (元, 万元 and 亿元 normalised to 元), then ``ranges``, ``approximate``, ``figures``
(the figures summed) and ``left_out`` (the linked figures of the row that were not). A cell sums the
``normalized_value`` of the row's records whose ``normalized_unit`` is the column's and that count the
group itself (SPEC.md: ``qualifier`` null); a cell with no such figure is empty, not 0.

- **Never summed**: a figure with a qualifier (新增 66户 is part of 监测户 94户, not more of it), a rate
  or percentage (a unit with ``/``, ``%``, ``‰``: 300元/亩, 87.25%), a figure whose value did not
  parse, any unit that is not one of the four columns (亩, 个, 户次 ...), and quantities with no
  linked indicator (they have no type).
- **Ranges** (``5—7万元``) add their low end, ``normalized_value`` (the SPEC's ``value``: the figure the
  report commits to); ``ranges`` counts the range figures in the row, so a non-zero count flags a
  cell that may be higher (``normalized_value_max`` is in the records sheet). ``approximate`` counts
  the figures written with 余, 多, 近, 约, 超 or 逾.
- **Date and place** are best effort (:mod:`zhibiao.docinfo`): read from the document's first lines
  when the documents are given (``inputs``: the same paths ``zhibiao extract`` read, matched by
  ``doc_id``), else from the first sentences the records carry (the header itself is then not
  there: a place named in the text, a year written in it, or nothing).

**The records behind each cell** (:data:`CELL_COLUMNS`): every linked record, with the cell it went
to (``column``), whether it was summed (``counted``) and why not (``reason``: ``qualifier 新增``,
``rate or percentage``, ``unit 亩 is not a table column``, ``value not parsed``), then the record
fields. ``.xlsx``: the sheets ``table`` and ``records``; ``.csv`` / ``.parquet``: ``OUT`` and
``OUT.records.csv`` / ``OUT.records.parquet`` beside it (``table.csv`` -> ``table.records.csv``). CSV
is UTF-8 with a BOM, so Excel opens it as such; a text cell Excel would read as a formula starts
with an apostrophe (:mod:`zhibiao.io.csvcells`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import ZhibiaoError
from .records import RECORD_FIELDS
from .io.csvcells import csv_cell, csv_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_records", "build_table", "write_table", "document_headers", "table_paths",
           "UNIT_COLUMNS", "TABLE_COLUMNS", "CELL_COLUMNS"]

#: normalised unit -> table column
UNIT_COLUMNS: dict[str, str] = {"户": "households", "人": "persons", "人次": "person_times", "元": "amount_yuan"}
TABLE_COLUMNS: tuple[str, ...] = ("doc_id", "date", "place", "indicator_type", "indicator_type_zh",
                                  *UNIT_COLUMNS.values(), "ranges", "approximate", "figures", "left_out")
_CELL_HEAD = ("doc_id", "indicator_type", "indicator_type_zh", "column", "counted", "reason")
CELL_COLUMNS: tuple[str, ...] = _CELL_HEAD + tuple(f for f in RECORD_FIELDS if f not in _CELL_HEAD)
OUTPUT_SUFFIXES = (".xlsx", ".csv", ".parquet")
_RATE_MARKS = ("/", "%", "‰")
_FLOATS = ("value", "value_max", "normalized_value", "normalized_value_max", "score", "quantity_score")
_INTS = ("start", "end", "indicator_start", "indicator_end")
_HEADER_SENTENCES = 5
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters a worksheet cannot hold


# ---- reading ------------------------------------------------------------------------------------
def read_records(path: str | Path) -> pd.DataFrame:
    """A records file written by ``zhibiao extract`` (``.jsonl``, ``.csv``, ``.parquet`` or ``.xlsx``)
    as a DataFrame with the record fields, nulls as None. A file written before the ``qualifier``
    field existed is a ZhibiaoError (extract it again)."""
    import pandas as pd

    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise ZhibiaoError(f"{p}: no such records file")
    if suffix == ".jsonl":
        with p.open(encoding="utf-8-sig") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        df = pd.DataFrame(rows, columns=list(rows[0]) if rows else list(RECORD_FIELDS), dtype=object)
    elif suffix == ".csv":
        df = pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False).map(csv_value)
    elif suffix == ".parquet":
        df = pd.read_parquet(p)
    elif suffix == ".xlsx":
        df = pd.read_excel(p, sheet_name=0, dtype=object)
    else:
        raise ZhibiaoError(f"{p}: a records file ends in .jsonl, .csv, .parquet or .xlsx")
    missing = [f for f in ("doc_id", "indicator_type", "quantity", "normalized_value", "normalized_unit",
                           "qualifier") if f not in df.columns]
    if missing:
        raise ZhibiaoError(f"{p}: not a records file of this version (no {', '.join(missing)}); "
                           f"run zhibiao extract again")
    return _typed(df)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """The record fields as Python values (floats, ints, bools, strings; None for null), whatever
    the file format made of them (CSV: all strings)."""
    import pandas as pd

    cols: dict[str, list[Any]] = {}
    n = len(df)
    for f in RECORD_FIELDS:
        raw: list[Any] = df[f].tolist() if f in df.columns else [None] * n
        if f in _FLOATS + _INTS:
            vals: list[Any] = [None if _blank(v) else float(v) for v in raw]
            cols[f] = [None if v is None else int(v) for v in vals] if f in _INTS else vals
        elif f == "approximate":
            cols[f] = [_flag(v) for v in raw]
        else:
            cols[f] = [None if _blank(v) else str(v) for v in raw]
    return pd.DataFrame(cols, columns=list(RECORD_FIELDS), dtype=object)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def _flag(v: Any) -> bool | None:
    if _blank(v):
        return None
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1")
    return bool(v)


# ---- the table ----------------------------------------------------------------------------------
def _cell(rec: Mapping[str, Any]) -> tuple[str | None, bool, str | None]:
    """(column, counted, reason) of one linked record."""
    nunit = rec.get("normalized_unit") or ""
    unit = rec.get("unit") or ""
    column = UNIT_COLUMNS.get(nunit)
    if rec.get("qualifier") is not None:
        return column, False, f"qualifier {rec['qualifier']}"
    if any(m in nunit or m in unit for m in _RATE_MARKS):
        return None, False, "rate or percentage"
    if rec.get("normalized_value") is None:
        return column, False, "value not parsed"
    if column is None:
        return None, False, f"unit {nunit} is not a table column"
    return column, True, None


def document_headers(records: pd.DataFrame, inputs: Iterable[str | Path] | None = None,
                     ) -> dict[str, dict[str, str | None]]:
    """doc_id -> ``{"date", "place"}`` (:mod:`zhibiao.docinfo`): from the documents' first lines when
    ``inputs`` are given and hold the document, else (and for what they do not state) from the
    first sentences of its records."""
    from .docinfo import header_info, header_text

    ids = [d for d in dict.fromkeys(records["doc_id"]) if d is not None]
    out: dict[str, dict[str, str | None]] = {}
    if inputs:
        from .ingest import iter_documents

        wanted = set(ids)
        for doc in iter_documents(list(inputs)):
            if isinstance(doc, ZhibiaoError) or doc.doc_id not in wanted:
                continue
            out[doc.doc_id] = header_info(header_text(doc.text))
    for doc_id in ids:
        info = out.setdefault(doc_id, {"date": None, "place": None})
        if info["date"] and info["place"]:
            continue
        rows = records[records["doc_id"] == doc_id].sort_values("start", kind="stable", na_position="last")
        sentences = list(dict.fromkeys(s for s in rows["sentence"] if s))[:_HEADER_SENTENCES]
        fallback = header_info(sentences)
        for k in ("date", "place"):
            info[k] = info[k] or fallback[k]
    return out


def build_table(records: pd.DataFrame, headers: Mapping[str, Mapping[str, str | None]] | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(table, cells) from records (:func:`read_records`); ``headers``: doc_id -> date and place
    (default: :func:`document_headers` from the records alone). See the module docstring."""
    import pandas as pd

    if headers is None:
        headers = document_headers(records)
    linked = [r for r in records.to_dict("records") if r.get("indicator_type") is not None]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    cells: list[dict[str, Any]] = []
    for rec in linked:
        column, counted, reason = _cell(rec)
        key = (rec["doc_id"], rec["indicator_type"])
        row = rows.get(key)
        if row is None:
            head = headers.get(rec["doc_id"] or "", {})
            row = rows[key] = {"doc_id": rec["doc_id"], "date": head.get("date"), "place": head.get("place"),
                               "indicator_type": rec["indicator_type"],
                               "indicator_type_zh": rec.get("indicator_type_zh"),
                               **{c: None for c in UNIT_COLUMNS.values()},
                               "ranges": 0, "approximate": 0, "figures": 0, "left_out": 0}
        if counted and column is not None:
            row[column] = (row[column] or 0.0) + float(rec["normalized_value"])
            row["figures"] += 1
            row["ranges"] += rec.get("normalized_value_max") is not None
            row["approximate"] += bool(rec.get("approximate"))
        else:
            row["left_out"] += 1
        cells.append({**rec, "column": column, "counted": counted, "reason": reason})
    table = pd.DataFrame(list(rows.values()), columns=list(TABLE_COLUMNS))
    for c in UNIT_COLUMNS.values():
        table[c] = table[c].astype("float64")
    return table, pd.DataFrame(cells, columns=list(CELL_COLUMNS))


# ---- writing ------------------------------------------------------------------------------------
def table_paths(output: str | Path) -> tuple[Path, Path | None]:
    """(the table file, the records file beside it; None for .xlsx, whose second sheet holds them)."""
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ZhibiaoError(f"{out}: the table must end in .xlsx, .csv or .parquet")
    if suffix == ".xlsx":
        return out, None
    return out, out.with_name(out.name[: -len(suffix)] + ".records" + suffix)


def write_table(table: pd.DataFrame, cells: pd.DataFrame, output: str | Path) -> list[Path]:
    """Write the table and the records behind it (see the module docstring); returns the paths."""
    out, beside = table_paths(output)
    if beside is None:
        _write_xlsx(out, {"table": table, "records": cells})
        return [out]
    for frame, path in ((table, out), (cells, beside)):
        if out.suffix.lower() == ".csv":
            frame.map(csv_cell).to_csv(path, index=False, encoding="utf-8-sig")
        else:
            frame.to_parquet(path, index=False)
    return [out, beside]


def _write_xlsx(path: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    import pandas as pd

    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            clean = frame.astype(object).where(frame.notna(), None).map(
                lambda v: _XLSX_ILLEGAL.sub("", v) if isinstance(v, str) else v)
            clean.to_excel(xw, sheet_name=name, index=False)
        for ws in xw.book.worksheets:
            ws.freeze_panes = "A2"
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":  # text that starts with '=' stays text, never a formula
                        c.data_type = "s"
