"""The records output of a batch run, one writer for the local and the Ray engine.

- :class:`RecordsWriter` writes a records file (``.jsonl``, ``.csv``, ``.xlsx`` or ``.parquet``,
  chosen by :func:`output_format`) document by document into a JSONL staging file (the output
  itself for ``.jsonl``) and, on :meth:`~RecordsWriter.close`, converts it, streaming.
- CSV is UTF-8 with a byte-order mark (``utf-8-sig``), so that Excel (Chinese Windows included)
  opens it as UTF-8; Python's ``csv`` with ``encoding="utf-8-sig"`` and pandas read it as they
  read plain UTF-8. A text cell that a spreadsheet would take for a formula (``=``, ``+``, ``-``,
  ``@`` first) is written with a leading apostrophe (:mod:`zhibiao.io.csvcells`).
- ``.xlsx`` (openpyxl, write-only): sheet ``records``, a bold, frozen header row with the record
  fields, one row per record; numbers and flags typed, empty fields empty cells, text always text
  (a value starting with ``=`` is never a formula). Characters that XLSX cannot hold (control
  characters) become U+FFFD and text over Excel's 32,767 characters per cell is cut there; past
  1,048,575 records the rows go on in sheets ``records_2``, ``records_3`` ... The file is the same
  bytes for the same records (fixed timestamps): byte-identical across runs and worker counts.
- With ``resumable=True`` (the local engine) a progress log ``OUT.progress.jsonl`` (doc_id, record
  count, byte offset after it, CRC; the run's fingerprint on the first line) is written beside the
  staging file: ``resume=True`` checks that the staging file is what the log records, truncates it
  to the last logged offset (dropping a document a kill cut in half) and reports the logged
  documents in ``done``, so a resumed run writes exactly the records of an uninterrupted one
  (:mod:`zhibiao.io.progress`).
- ``.csv``, ``.xlsx`` and ``.parquet`` are written to ``OUT.tmp`` and renamed to ``OUT`` when complete:
  an existing ``OUT`` is replaced only by a whole file. A ``.jsonl`` output is written in place,
  document by document (what ``--resume`` continues).
- A document whose records cannot be encoded (a lone surrogate in a JSONL text) raises
  ``UnicodeEncodeError`` before any of its bytes is written; a write that fails (disk full, no
  permission) raises :class:`~zhibiao.errors.OutputWriteError` naming the file.
- One line format: :func:`record_line` for records (the SPEC's fields in their fixed order),
  :func:`error_line` for the errors file (doc_id, error_type, message, status); its text is
  always valid UTF-8 (:func:`printable`).
"""
from __future__ import annotations

import csv
import io
import json
import os
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

from ..errors import OutputWriteError, ZhibiaoError
from ..records import RECORD_FIELDS
from .csvcells import csv_cell
from .escape import json_line, printable
from .progress import ProgressLog
from .run_files import progress_path, staging_path, temporary_path

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
"""Records file suffix -> format."""

_TYPES = {"value": "float64", "value_max": "float64", "normalized_value": "float64",
          "normalized_value_max": "float64", "score": "float64", "quantity_score": "float64",
          "start": "int64", "end": "int64", "indicator_start": "int64", "indicator_end": "int64", "approximate": "bool"}


def is_uri(path: Any) -> bool:
    """An object-storage URI (``s3://``, ``gs://``, ``file://`` ...) rather than a local path."""
    return "://" in str(path)


def output_format(path: str | Path) -> str:
    """``"jsonl"``, ``"csv"``, ``"xlsx"`` or ``"parquet"`` by the suffix of ``path``; any other is a
    ZhibiaoError."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ZhibiaoError(f"{path}: output must end in .jsonl, .csv, .xlsx or .parquet")
    return FORMATS[suffix]


def check_output_folder(path: str | Path) -> None:
    """A ZhibiaoError naming ``path`` when the folder it would be written in does not exist."""
    if is_uri(path):
        return
    folder = Path(path).parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ZhibiaoError(f"{path}: the output folder {folder} {what} (create it first)")


def errors_path_for(output: str | Path) -> str:
    """The default errors file of ``output``: ``OUTPUT.errors.jsonl`` (a folder URI without its ``/``)."""
    return str(output).rstrip("/") + ".errors.jsonl"


def record_line(record: Mapping[str, Any]) -> str:
    """One line of a records JSONL file (``record`` holds the fields in ``RECORD_FIELDS`` order)."""
    return json_line(record)


STATUSES = ("failed", "skipped", "escaped")
"""The ``status`` of an errors-file line: a document that could not be read or extracted (no
records), an entry of an input folder or archive that was not read (not a document zhibiao reads),
a document whose ``doc_id`` had to be escaped (its records are written, under the escaped id)."""


def error_line(doc_id: str, error_type: str, message: str, status: str = "failed") -> str:
    """One line of an errors file (its text escaped with :func:`printable` where needed)."""
    return json_line({"doc_id": printable(doc_id), "error_type": error_type, "message": printable(message),
                      "status": status})


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``path`` into an :class:`OutputWriteError` naming it."""
    try:
        yield
    except OSError as exc:
        raise OutputWriteError(f"{path}: cannot write: {exc.strerror or exc}") from exc


@contextmanager
def open_text(path: str | Path) -> Iterator[IO[str]]:
    """A UTF-8 text file for writing, a local path or a ``pyarrow.fs`` URI (a local file that cannot
    be opened or closed: :class:`OutputWriteError`)."""
    if not is_uri(path):
        with writing(path):
            fh = open(path, "w", encoding="utf-8")
        try:
            yield fh
        except BaseException:
            with suppress(OSError):  # a full disk fails the close too: the first error is the one to report
                fh.close()
            raise
        with writing(path):
            fh.close()
        return
    import pyarrow.fs as pafs

    fs, p = pafs.FileSystem.from_uri(str(path))
    with fs.open_output_stream(p) as raw:
        fh = io.TextIOWrapper(raw, encoding="utf-8")
        try:
            yield fh
        finally:
            fh.flush()
            fh.detach()


class RecordsWriter:
    """A records file written document by document; see the module docstring.

    ``write_document`` writes one document's record lines together (logged when ``resumable``),
    ``write_lines`` writes lines with no log entry; ``close`` finishes the file.
    """

    def __init__(self, output: str | Path, *, resume: bool = False, resumable: bool = True,
                 fingerprint: Mapping[str, Any] | None = None):
        self.output = Path(output)
        self.fmt = output_format(self.output)
        check_output_folder(self.output)
        self.staging = staging_path(self.output)
        with writing(self.staging):
            self._log = ProgressLog(self.staging, resume, fingerprint) if resumable else None
            self._out = self._log.out if self._log is not None else self.staging.open("wb")
        self.done: set[str] = self._log.done if self._log is not None else set()

    def write_document(self, doc_id: str, lines: list[str]) -> None:
        """Write one document's record lines (logged when resumable); ``UnicodeEncodeError`` before
        anything is written when they cannot be encoded."""
        data = "".join(lines).encode("utf-8")
        with writing(self.staging):
            if self._log is not None:
                self._log.write_document(doc_id, data, len(lines))
            else:
                self._out.write(data)

    def write_lines(self, lines: list[str]) -> None:
        data = "".join(lines).encode("utf-8")
        with writing(self.staging):
            self._out.write(data)

    def close(self) -> None:
        """Close the staging file; for CSV, XLSX and Parquet convert it into ``OUT.tmp``, rename that
        to the output and remove the staging file (the progress log is then named after the output)."""
        with writing(self.staging):
            if self._log is not None:
                self._log.close()
            else:
                self._out.close()
        if self.fmt == "jsonl":
            return
        tmp = temporary_path(self.output)
        with writing(tmp):
            convert_records(self.staging, tmp, self.fmt)
            os.replace(tmp, self.output)
        self.staging.unlink()
        if self._log is not None:
            self._log.log_path.rename(progress_path(self.output))


def arrow_schema():
    """The record fields as a ``pyarrow`` schema (numbers and flags typed, the rest strings)."""
    import pyarrow as pa

    kinds = {"float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_()}
    return pa.schema([(f, kinds.get(_TYPES.get(f, ""), pa.string())) for f in RECORD_FIELDS])


def convert_records(jsonl: str | Path, output: str | Path, fmt: str, chunk: int = 50_000) -> int:
    """Stream a records JSONL file into ``fmt`` ("csv", "xlsx" or "parquet"); returns the record count."""
    with Path(jsonl).open(encoding="utf-8") as src:
        if fmt == "csv":
            return _write_csv(src, output)
        if fmt == "xlsx":
            from .excel import write_xlsx

            return write_xlsx((json.loads(line) for line in src), output, list(RECORD_FIELDS))
        if fmt == "parquet":
            return _write_parquet(src, output, chunk)
    raise ValueError(f"unknown records format {fmt!r}")


def _write_csv(src: IO[str], output: str | Path) -> int:
    n = 0
    with Path(output).open("w", encoding="utf-8-sig", newline="") as fh:  # the BOM: Excel reads UTF-8
        w = csv.DictWriter(fh, fieldnames=list(RECORD_FIELDS))
        w.writeheader()
        for line in src:
            w.writerow({k: csv_cell(v) for k, v in json.loads(line).items()})
            n += 1
    return n


def _write_parquet(src: IO[str], output: str | Path, chunk: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 0
    schema = arrow_schema()
    with pq.ParquetWriter(str(output), schema) as writer:
        rows: list[dict] = []
        for line in src:
            rows.append(json.loads(line))
            if len(rows) >= chunk:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                n += len(rows)
                rows = []
        writer.write_table(pa.Table.from_pylist(rows, schema=schema))
        n += len(rows)
    return n
