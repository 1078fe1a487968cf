"""What a file or member name says: the kind of document it holds (by suffix) and whether it is
hidden. These decide what is read inside folders and archives (see :mod:`zhibiao.ingest`)."""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterable

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
JSONL_SUFFIXES = frozenset({".jsonl"})
DOCX_SUFFIXES = frozenset({".docx"})
PDF_SUFFIXES = frozenset({".pdf"})

_SAVE_AS_DOCX = "save it as .docx (or .txt)"
_NOT_A_REPORT = "zhibiao reads report text (.txt, .docx, .pdf with a text layer, .html): copy the text out"
_IMAGE = "no text to read (a scanned page?): OCR it first"
UNSUPPORTED_SUFFIXES: dict[str, str] = {
    ".doc": f"old binary Word .doc: {_SAVE_AS_DOCX}",
    ".dot": f"old binary Word template .dot: {_SAVE_AS_DOCX}",
    ".docm": f"macro-enabled Word .docm: {_SAVE_AS_DOCX}",
    ".wps": f"WPS Writer .wps: {_SAVE_AS_DOCX}",
    ".rtf": f"RTF document: {_SAVE_AS_DOCX}",
    ".odt": f"OpenDocument text .odt: {_SAVE_AS_DOCX}",
    ".xls": f"old binary Excel .xls: {_NOT_A_REPORT}",
    ".xlsx": f"Excel workbook .xlsx: {_NOT_A_REPORT}",
    ".xlsm": f"Excel workbook .xlsm: {_NOT_A_REPORT}",
    ".et": f"WPS spreadsheet .et: {_NOT_A_REPORT}",
    ".ods": f"OpenDocument spreadsheet .ods: {_NOT_A_REPORT}",
    ".ppt": f"old binary PowerPoint .ppt: {_NOT_A_REPORT}",
    ".pptx": f"PowerPoint .pptx: {_NOT_A_REPORT}",
    ".dps": f"WPS presentation .dps: {_NOT_A_REPORT}",
    **{s: f"image {s}: {_IMAGE}" for s in (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")},
}
"""Suffixes of files that hold no text zhibiao reads, with the reason given in the errors file.
They are reported as :class:`~zhibiao.errors.UnsupportedFormatError` (never skipped silently);
their bytes are not read."""
ZIP_SUFFIXES = (".zip",)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")

ARCHIVE_KINDS = ("zip", "tar")
"""Kinds that hold several documents: read member by member."""


def kind_of(name: str) -> str | None:
    """``"text"``, ``"html"``, ``"jsonl"``, ``"docx"``, ``"pdf"``, ``"unsupported"`` (see
    :data:`UNSUPPORTED_SUFFIXES`), ``"zip"``, ``"tar"`` or ``None`` for a file name."""
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
    if suffix in DOCX_SUFFIXES:
        return "docx"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in UNSUPPORTED_SUFFIXES:
        return "unsupported"
    return None


def unsupported_reason(suffix: str | None) -> str | None:
    """Why a file with ``suffix`` (any case) cannot be read, or ``None`` when it can be tried."""
    return None if suffix is None else UNSUPPORTED_SUFFIXES.get(suffix.lower())


def is_html(suffix: str | None) -> bool:
    """Whether a file suffix (``".html"``, any case) marks HTML, converted with ``html_to_text``."""
    return suffix is not None and suffix.lower() in HTML_SUFFIXES


def is_hidden(parts: Iterable[str]) -> bool:
    """A path component starting with ``.`` (macOS ``._*`` resource forks included) or ``__MACOSX``."""
    return any((p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts)
