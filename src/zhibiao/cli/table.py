"""``zhibiao table``: a records file -> totals per document and indicator type (:mod:`zhibiao.table`)."""
from __future__ import annotations

import argparse
import sys

from .options import output_file


def add_table(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "table", help="totals per document and indicator type (households, persons, person-times, yuan)",
        description="One row per document and indicator type: households (户), persons (人), person-times "
                    "(人次) and amounts (元) summed over the figures that count the group itself (qualifier "
                    "null; never rates or percentages; a range adds its low end and is counted in 'ranges'), "
                    "with the document's date and place (best effort) and the type's Chinese name; the records "
                    "behind each cell go to a second sheet (.xlsx) or a second file (OUT.records.csv/.parquet).")
    p.add_argument("records", metavar="RECORDS",
                   help="a records file written by zhibiao extract: .jsonl, .csv, .parquet (or .xlsx)")
    p.add_argument("-o", "--output", required=True, type=output_file,
                   help="the table: .xlsx (sheets 'table' and 'records'), .csv or .parquet (plus "
                        "OUT.records.csv / OUT.records.parquet beside it); CSV is UTF-8 with a BOM")
    p.add_argument("--inputs", nargs="+", default=None, metavar="INPUT",
                   help="the reports the records came from (the paths given to zhibiao extract), to read each "
                        "document's date and place from its first lines; default: from the records' sentences")
    p.set_defaults(func=cmd_table)


def cmd_table(args: argparse.Namespace) -> int:
    """The ``zhibiao table`` command."""
    from ..table import build_table, document_headers, read_records, table_paths, write_table

    table_paths(args.output)  # a wrong suffix fails before anything is read
    records = read_records(args.records)
    table, cells = build_table(records, document_headers(records, args.inputs))
    paths = write_table(table, cells, args.output)
    docs = table["doc_id"].nunique()
    print(f"zhibiao table: {len(table)} rows ({docs} documents, {int(table['figures'].sum())} figures summed, "
          f"{int(table['left_out'].sum())} left out) -> {', '.join(map(str, paths))}", file=sys.stderr)
    return 0
