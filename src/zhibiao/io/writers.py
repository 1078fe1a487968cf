"""The records output of a batch run, one writer for the local and the Ray engine.

- :class:`RecordsWriter` writes a records file (``.jsonl``, ``.csv``, ``.xlsx`` or ``.parquet``,
  chosen by :func:`output_format`) document by document into a JSONL staging file (the output
  itself for ``.jsonl``) and, on :meth:`~RecordsWriter.close`, converts it, streaming.
- CSV is UTF-8 with a byte-order mark (``utf-8-sig``), so that Excel (Chinese Windows included)
  opens it as UTF-8; Python's ``csv`` with ``encoding="utf-8-sig"`` and pandas read it as they
  read plain UTF-8.
- ``.xlsx`` (openpyxl, write-only): sheet ``records``, a bold, frozen header row with the record
  fields, one row per record; numbers and flags typed, empty fields empty cells, text always text
  (a value starting with ``=`` is never a formula). Characters that XLSX cannot hold (control
  characters) become U+FFFD and text over Excel's 32,767 characters per cell is cut there; past
  1,048,575 records the rows go on in sheets ``records_2``, ``records_3`` ... The file is the same
  bytes for the same records (fixed timestamps): byte-identical across runs and worker counts.
- With ``resumable=True`` (the local engine) a progress log ``OUT.progress.jsonl`` (doc_id, record
  count, byte offset after it) is written beside the staging file: ``resume=True`` truncates the
  staging file to the last logged offset (dropping a document a kill cut in half) and reports the
  logged documents in ``done``, so a resumed run writes exactly the records of an uninterrupted one.
- One line format: :func:`record_line` for records (the SPEC's fields in their fixed order),
  :func:`error_line` for the errors file (doc_id, error_type, message).
"""
from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

from ..errors import ZhibiaoError
from ..records import RECORD_FIELDS

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
    return json.dumps(record, ensure_ascii=False) + "\n"


def error_line(doc_id: str, error_type: str, message: str) -> str:
    """One line of an errors file."""
    return json.dumps({"doc_id": doc_id, "error_type": error_type, "message": message}, ensure_ascii=False) + "\n"


@contextmanager
def open_text(path: str | Path) -> Iterator[IO[str]]:
    """A UTF-8 text file for writing, a local path or a ``pyarrow.fs`` URI."""
    if not is_uri(path):
        with open(path, "w", encoding="utf-8") as fh:
            yield fh
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


class ProgressLog:
    """The staging file plus its progress log; the pair is what makes resuming exact."""

    def __init__(self, staging: Path, resume: bool):
        self.staging = staging
        self.log_path = staging.with_name(staging.name + ".progress.jsonl")
        entries = self._read_log() if resume else []
        self.done: set[str] = {e["doc_id"] for e in entries}
        offset = entries[-1]["offset"] if entries else 0
        self.out = staging.open("r+b" if resume and staging.exists() else "wb")
        self.out.truncate(offset)  # drop whatever a kill left after the last logged document
        self.out.seek(offset)
        self.log = self.log_path.open("w", encoding="utf-8")
        for e in entries:
            self.log.write(json.dumps(e, ensure_ascii=False) + "\n")
        self.log.flush()

    def _read_log(self) -> list[dict]:
        entries = []
        if self.log_path.exists():
            for line in self.log_path.read_text(encoding="utf-8").splitlines():
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a line torn by the kill: nothing after it counts
        return entries

    def write_document(self, doc_id: str, lines: list[str]) -> None:
        data = "".join(lines).encode("utf-8")
        self.out.write(data)
        self.out.flush()  # in the OS once flushed: a killed process loses nothing (no fsync: not power-loss safe)
        entry = {"doc_id": doc_id, "records": len(lines), "offset": self.out.tell()}
        self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.log.flush()
        self.done.add(doc_id)

    def close(self) -> None:
        self.out.close()
        self.log.close()


class RecordsWriter:
    """A records file written document by document; see the module docstring.

    ``write_document`` writes one document's record lines together (logged when ``resumable``),
    ``write_lines`` writes lines with no log entry; ``close`` finishes the file.
    """

    def __init__(self, output: str | Path, *, resume: bool = False, resumable: bool = True):
        self.output = Path(output)
        self.fmt = output_format(self.output)
        check_output_folder(self.output)
        name = self.output.name
        self.staging = self.output if self.fmt == "jsonl" else self.output.with_name(name + ".partial.jsonl")
        self._log = ProgressLog(self.staging, resume) if resumable else None
        self._out = self._log.out if self._log is not None else self.staging.open("wb")
        self.done: set[str] = self._log.done if self._log is not None else set()

    def write_document(self, doc_id: str, lines: list[str]) -> None:
        if self._log is not None:
            self._log.write_document(doc_id, lines)
        else:
            self.write_lines(lines)

    def write_lines(self, lines: list[str]) -> None:
        self._out.write("".join(lines).encode("utf-8"))

    def close(self) -> None:
        """Close the staging file; for CSV, XLSX and Parquet convert it into the output and remove it
        (the progress log is then named after the output)."""
        if self._log is not None:
            self._log.close()
        else:
            self._out.close()
        if self.fmt == "jsonl":
            return
        convert_records(self.staging, self.output, self.fmt)
        self.staging.unlink()
        if self._log is not None:
            self._log.log_path.rename(self.output.with_name(self.output.name + ".progress.jsonl"))


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
            w.writerow(json.loads(line))
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
