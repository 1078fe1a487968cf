"""Argument types and options that several commands share: the annotation format and label map of
input files, and output paths that must be writable."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..io.convert import READ_FORMATS
from ..io.writers import check_output_folder


def label_pairs(text: str) -> list[tuple[str, str]]:
    """``THEIRS=OURS[,THEIRS=OURS...]`` -> pairs (an ``argparse`` type: a bad item is a usage error)."""
    pairs = []
    for item in text.split(","):
        theirs, sep, ours = item.strip().partition("=")
        if not sep or not theirs or not ours:
            raise argparse.ArgumentTypeError(f"{item.strip()!r}: expected THEIRS=OURS (several: A=B,C=D)")
        pairs.append((theirs, ours))
    return pairs


def label_map(values: list[list[tuple[str, str]]] | None) -> dict[str, str] | None:
    """The ``--label-map`` flags (each one or more pairs) as one mapping, or ``None``."""
    if not values:
        return None
    return {theirs: ours for pairs in values for theirs, ours in pairs}


def add_label_map(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label-map", action="append", type=label_pairs, metavar="THEIRS=OURS[,...]",
                   help="map the annotation tool's label names to ours, e.g. --label-map 数量=QUANTITY,指标=INDICATOR "
                        "(repeatable; applies to doccano, Label Studio and jsonl input)")


def add_annotation_options(p: argparse.ArgumentParser) -> None:
    """``--format`` and ``--label-map`` of the commands that read annotation files."""
    p.add_argument("--format", default="auto", choices=READ_FORMATS,
                   help="annotation format of the input files (default auto: by extension and content; "
                        "markup: a .txt file or folder of inline markup; docbin: a spaCy .spacy file)")
    add_label_map(p)


def output_file(path: str | Path) -> str:
    """An output path whose folder exists (an ``argparse`` type: a missing folder is a usage error
    that names the path, before any work is done)."""
    from ..errors import ZhibiaoError

    try:
        check_output_folder(path)
    except ZhibiaoError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return str(path)


def non_negative_int(text: str) -> int:
    """An integer >= 0 (an ``argparse`` type: anything else is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value}: must be >= 0")
    return value


def input_path(path: str) -> str:
    """An input file or folder that exists (an ``argparse`` type: a missing one is a usage error
    naming it, exit 2, before anything is read); URIs (``s3://`` ...) are left to the engine."""
    if "://" not in path and not os.path.exists(path):
        raise argparse.ArgumentTypeError(f"{path}: no such file or folder")
    return path
