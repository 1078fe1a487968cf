"""The files a batch run writes, and the check that none of them can destroy an input or another.

A ``zhibiao extract`` run writes the records file ``OUT``, the errors file (``OUT.errors.jsonl``
unless ``--errors`` names another), the progress log ``OUT.progress.jsonl`` and, for ``.csv``,
``.xlsx`` and ``.parquet``, a staging file ``OUT.partial.jsonl`` (with its own progress log while
the run lasts) and a temporary file ``OUT.tmp`` renamed to ``OUT`` at the end.
:func:`check_run_files` refuses, before anything is read or written, any of them that

- is an input file (``extract docs.jsonl -o docs.jsonl`` would truncate the input before reading it),
- lies inside an input folder (``extract dir/ -o dir/out.jsonl`` would read its own output and errors
  file as new inputs, and never end), whatever its extension, or
- is another of them (``--errors x.jsonl -o x.jsonl``).

Paths are compared resolved (:func:`os.path.realpath`: symlinks, ``..``, relative paths), so a
symlink to an input is refused too. URIs (``s3://`` ...) are not checked.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..errors import ZhibiaoError

__all__ = ["check_run_files", "progress_path", "run_files", "staging_path", "temporary_path"]


def _is_uri(path: object) -> bool:
    return "://" in str(path)


def staging_path(output: str | Path) -> Path:
    """Where records are written document by document: ``output`` itself for ``.jsonl``, else
    ``OUTPUT.partial.jsonl`` (converted into ``output`` at the end)."""
    output = Path(output)
    return output if output.suffix.lower() == ".jsonl" else output.with_name(output.name + ".partial.jsonl")


def progress_path(path: str | Path) -> Path:
    """The progress log of the staging file (or finished output) ``path``: ``PATH.progress.jsonl``."""
    path = Path(path)
    return path.with_name(path.name + ".progress.jsonl")


def temporary_path(output: str | Path) -> Path:
    """The file a whole-file format (``.csv``, ``.xlsx``, ``.parquet``) is written to before it is
    renamed to ``output``: ``OUTPUT.tmp`` in the same folder (the rename is atomic there)."""
    output = Path(output)
    return output.with_name(output.name + ".tmp")


def run_files(output: str | Path, errors: str | Path) -> dict[str, Path]:
    """Every file a run writing ``output`` and ``errors`` creates, by role (for messages)."""
    files = {"output": Path(output), "errors file": Path(errors), "progress log": progress_path(output)}
    staging = staging_path(output)
    if staging != Path(output):
        files.update({"staging file": staging, "staging progress log": progress_path(staging),
                      "temporary output": temporary_path(output)})
    return files


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_run_files(inputs: Iterable[str | os.PathLike], files: dict[str, Path]) -> None:
    """A :class:`ZhibiaoError` (exit 2) naming the first written file in ``files`` (see
    :func:`run_files`) that is an input, inside an input folder, or equal to another written file."""
    local = {role: os.path.realpath(p) for role, p in files.items() if not _is_uri(p)}
    seen: dict[str, str] = {}
    for role, real in local.items():
        if real in seen:
            raise ZhibiaoError(f"the {role} {files[role]} is the same file as the {seen[real]} "
                               f"{files[seen[real]]}: give them different names")
        seen[real] = role
    for item in inputs:
        if _is_uri(item):
            continue
        real_in = os.path.realpath(item)
        is_dir = os.path.isdir(real_in)
        for role, real in local.items():
            if real == real_in:
                raise ZhibiaoError(f"the {role} {files[role]} is the input {os.fsdecode(item)}: "
                                   "writing it would destroy the input; write elsewhere")
            if is_dir and _inside(real, real_in):
                raise ZhibiaoError(f"the {role} {files[role]} is inside the input folder {os.fsdecode(item)}: "
                                   "the run would read its own output; write it outside the input folders")
