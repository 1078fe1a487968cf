"""The ``zhibiao`` argument parser, assembled from the command modules (each command's arguments
are declared next to the code that runs it)."""
from __future__ import annotations

import argparse

from .annotation import add_convert, add_prelabel, add_stats, add_validate
from .render import add_render
from .reports import add_extract, add_normalize
from .table import add_table
from .training import add_evaluate, add_train


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    ap = argparse.ArgumentParser(prog="zhibiao",
                                 description="Indicator-linked quantities from Chinese rural-revitalisation reports")
    ap.add_argument("--version", action="version", version=f"zhibiao {__version__}",
                    help="print the version and exit")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND",
                            help="the command to run (zhibiao COMMAND --help: its arguments)")
    add_extract(sub)
    add_train(sub)
    add_evaluate(sub)
    add_validate(sub)
    add_stats(sub)
    add_convert(sub)
    add_prelabel(sub)
    add_normalize(sub)
    add_table(sub)
    add_render(sub)
    return ap
