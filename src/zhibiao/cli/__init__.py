"""The ``zhibiao`` command line: thin, it parses arguments and calls the modules that do the work.

    zhibiao extract INPUT... -o records.jsonl      batch extraction (folders, archives, JSONL)
    zhibiao train --config training/default.yaml --output models/mine
    zhibiao evaluate --model models/default annotations/seeds.jsonl
    zhibiao validate annotations/*.jsonl           zhibiao stats annotations/*.jsonl
    zhibiao convert export.json gold.jsonl         zhibiao prelabel reports/ -o tasks.json
    zhibiao normalize INPUT... -o normalized.jsonl

:mod:`~zhibiao.cli.parser` assembles the parser; each command lives with its arguments in
:mod:`~zhibiao.cli.reports` (extract, normalize), :mod:`~zhibiao.cli.training` (train, evaluate)
and :mod:`~zhibiao.cli.annotation` (prelabel, convert, validate, stats); shared options in
:mod:`~zhibiao.cli.options`.
"""
from __future__ import annotations

import sys

from ..errors import ZhibiaoError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run one ``zhibiao`` command; returns its exit status (2 for an error it explains, 3 when
    ``zhibiao extract`` could not write its output: the error's ``exit_status``)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ZhibiaoError as exc:
        print(f"zhibiao {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except OSError as exc:  # a file that cannot be read or written: the message names it
        print(f"zhibiao {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
