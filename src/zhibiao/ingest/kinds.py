"""What a file or member name says: the kind of document it holds (by suffix) and whether it is
hidden. These decide what is read inside folders and archives (see :mod:`zhibiao.ingest`)."""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterable

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
JSONL_SUFFIXES = frozenset({".jsonl"})
ZIP_SUFFIXES = (".zip",)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")

ARCHIVE_KINDS = ("zip", "tar")
"""Kinds that hold several documents: read member by member."""


def kind_of(name: str) -> str | None:
    """``"text"``, ``"html"``, ``"jsonl"``, ``"zip"``, ``"tar"`` or ``None`` for a file name."""
    lower = name.lower()
    if lower.endswith(ZIP_SUFFIXES):
        return "zip"
    if lower.endswith(TAR_SUFFIXES):
        return "tar"
    suffix = PurePosixPath(lower).suffix
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return None


def is_html(suffix: str | None) -> bool:
    """Whether a file suffix (``".html"``, any case) marks HTML, converted with ``html_to_text``."""
    return suffix is not None and suffix.lower() in HTML_SUFFIXES


def is_hidden(parts: Iterable[str]) -> bool:
    """A path component starting with ``.`` (macOS ``._*`` resource forks included) or ``__MACOSX``."""
    return any((p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts)
