"""One document from a string (:func:`read_text`), bytes (:func:`read_bytes`) or a file
(:func:`read_file`): by suffix, Word ``.docx`` and PDF read with :mod:`~zhibiao.ingest.office`,
HTML converted, the kinds that hold no readable text refused with their reason, anything else
decoded as text; refused when empty."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from ..errors import EmptyDocumentError, UnreadableFileError, UnsupportedFormatError
from ..records import Document
from .decode import decode_bytes
from .html import html_to_text
from .kinds import ARCHIVE_KINDS, DOCX_SUFFIXES, PDF_SUFFIXES, is_html, kind_of, unsupported_reason
from .office import docx_text, pdf_text

__all__ = ["read_bytes", "read_file", "read_text"]

PathLike = Union[str, "os.PathLike[str]"]


def _non_empty(doc_id: str, text: str, what: str = "document") -> None:
    if not text:
        raise EmptyDocumentError(doc_id, f"empty {what} (no text)")
    if not text.strip():
        raise EmptyDocumentError(doc_id, f"empty {what} (whitespace only)")


def read_text(text: str, doc_id: str = "<string>") -> Document:
    """Wrap a string as a :class:`Document`; empty or whitespace-only text raises
    :class:`EmptyDocumentError`. The text is kept exactly as given."""
    if not isinstance(text, str):
        raise TypeError(f"read_text expects str, got {type(text).__name__} (use read_bytes for bytes)")
    _non_empty(doc_id, text)
    return Document(doc_id=doc_id, text=text)


def read_bytes(data: bytes, doc_id: str, *, suffix: str | None = None, source: str | None = None) -> Document:
    """Read ``data`` into one :class:`Document`, by ``suffix`` (any case):

    - ``.docx``: the body text in reading order (paragraphs, table rows with tab-separated cells),
      ``.pdf``: the text layer, pages joined by ``"\\n"`` (see :mod:`~zhibiao.ingest.office`);
      ``encoding`` is ``None``;
    - the kinds that hold no readable text (``.doc``, ``.xls``, ``.ppt``, images ..., see
      :data:`~zhibiao.ingest.kinds.UNSUPPORTED_SUFFIXES`) raise :class:`UnsupportedFormatError`
      with the reason and what to do;
    - HTML (``.html``, ``.htm``, ``.xhtml``): decoded (see :func:`decode_bytes`), then
      :func:`html_to_text`;
    - any other suffix, or none: decoded and kept as it is (a ``.jsonl`` suffix is not split into
      records here: use :func:`iter_documents`).
    """
    lower = None if suffix is None else suffix.lower()
    reason = unsupported_reason(lower)
    if reason is not None:
        raise UnsupportedFormatError(doc_id, reason)
    if lower in DOCX_SUFFIXES or lower in PDF_SUFFIXES:
        what = ".docx body" if lower in DOCX_SUFFIXES else "PDF"
        text = docx_text(data, doc_id) if lower in DOCX_SUFFIXES else pdf_text(data, doc_id)
        _non_empty(doc_id, text, f"document (the {what} holds no text)")
        return Document(doc_id=doc_id, text=text, encoding=None, source=source)
    text, encoding = decode_bytes(data, doc_id)
    if is_html(suffix):
        _non_empty(doc_id, text)
        text = html_to_text(text)
        _non_empty(doc_id, text, "document after HTML conversion")
    else:
        _non_empty(doc_id, text)
    return Document(doc_id=doc_id, text=text, encoding=encoding, source=source)


def read_file_bytes(path: Path, doc_id: str) -> bytes:
    """The bytes of ``path``; an :class:`UnreadableFileError` naming ``doc_id`` says why not. A
    suffix that holds no readable text is an :class:`UnsupportedFormatError` before anything is
    read (a folder of scans costs no reading)."""
    reason = unsupported_reason(path.suffix)
    if reason is not None:
        raise UnsupportedFormatError(doc_id, reason)
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise UnreadableFileError(doc_id, "is a directory, expected a file") from None
    except FileNotFoundError:
        raise UnreadableFileError(doc_id, "no such file") from None
    except PermissionError:
        raise UnreadableFileError(doc_id, "permission denied") from None
    except OSError as exc:
        raise UnreadableFileError(doc_id, f"cannot read file: {exc.strerror or exc}") from None


def read_file(path: PathLike, *, doc_id: str | None = None) -> Document:
    """Read one file as one document (by suffix as :func:`read_bytes`: ``.docx`` and ``.pdf`` read,
    HTML converted, unreadable kinds refused, anything else read as text).

    ``doc_id`` defaults to ``str(path)``. Raises an :class:`IngestError`; a ``.jsonl`` file or an
    archive raises :class:`ValueError` (they hold many documents: use :func:`iter_documents`).
    """
    path = Path(path)
    doc_id = str(path) if doc_id is None else doc_id
    if kind_of(path.name) in ("jsonl", *ARCHIVE_KINDS):
        raise ValueError(f"{doc_id} holds several documents; read it with iter_documents()")
    if path.exists() and not path.is_dir() and not path.is_file():
        raise UnreadableFileError(doc_id, "not a regular file")
    data = read_file_bytes(path, doc_id)
    return read_bytes(data, doc_id, suffix=path.suffix, source=str(path))

