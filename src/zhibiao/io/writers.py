"""Writers of record files: the JSONL staging file of a batch run becomes CSV or Parquet, streaming."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from ..records import RECORD_FIELDS

_TYPES = {"value": "float64", "value_max": "float64", "normalized_value": "float64", "score": "float64",
          "start": "int64", "end": "int64", "indicator_start": "int64", "indicator_end": "int64", "approximate": "bool"}


def arrow_schema():
    import pyarrow as pa

    kinds = {"float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_()}
    return pa.schema([(f, kinds.get(_TYPES.get(f, ""), pa.string())) for f in RECORD_FIELDS])


def convert_records(jsonl: str | Path, output: str | Path, fmt: str, chunk: int = 50_000) -> int:
    """Stream a records JSONL file into ``fmt`` ("csv" or "parquet"); returns the record count."""
    n = 0
    with Path(jsonl).open(encoding="utf-8") as src:
        if fmt == "csv":
            with Path(output).open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(RECORD_FIELDS))
                w.writeheader()
                for line in src:
                    w.writerow(json.loads(line))
                    n += 1
            return n
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

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
    raise ValueError(f"unknown records format {fmt!r}")
