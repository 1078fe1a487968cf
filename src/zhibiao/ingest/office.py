"""Text of Word ``.docx`` files (python-docx) and of PDFs with a text layer (pdfplumber), from bytes.

- ``.docx``: the body in reading order: one line per paragraph (empty paragraphs give empty
  lines), a table where it stands with one line per row, the cells of a row joined by a tab (the
  paragraphs of one cell, and tables inside a cell, joined by a space); content controls are read
  through. Headers, footers, footnotes, comments and text boxes are not read; deleted text
  (tracked changes) is not, inserted text is.
- ``.pdf``: the text of each page as pdfplumber's ``extract_text()`` gives it (lines by position,
  a space where characters stand apart), pages in order joined by a line break. A PDF whose pages
  hold no text (a scan) is an :class:`UnsupportedFormatError`: OCR it first.

A file that python-docx or pdfplumber cannot open is an :class:`UnreadableFileError` saying why.
Both libraries are imported on first use.
"""
from __future__ import annotations

import io
import zipfile
from typing import Any, Iterator

from ..errors import UnreadableFileError, UnsupportedFormatError

__all__ = ["docx_text", "pdf_text", "DOCX_MAX_UNPACKED_BYTES"]

DOCX_MAX_UNPACKED_BYTES = 512 * 1024**2
"""A ``.docx`` whose parts declare more unpacked bytes than this is refused (a zip bomb)."""

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Office / encrypted Office files
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _R, _TBL, _TR, _TC = f"{_W}p", f"{_W}r", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_SDT, _SDT_CONTENT = f"{_W}sdt", f"{_W}sdtContent"


# -- docx --------------------------------------------------------------------------------------

def _children(el: Any) -> Iterator[Any]:
    """The children of ``el``, with content controls (``w:sdt``) replaced by their content."""
    for child in el.iterchildren():
        if child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _children(content)
        else:
            yield child


def _paragraph_text(p: Any) -> str:
    """The runs of paragraph ``p`` (in hyperlinks, insertions, fields and content controls too),
    not those of paragraphs nested in it (text boxes)."""
    parts = []
    for r in p.iter(_R):
        owner = r.getparent()
        while owner is not None and owner.tag != _P:
            owner = owner.getparent()
        if owner is p:
            parts.append(r.text)  # python-docx's CT_R.text: w:t, w:tab, w:br ... as text
    return "".join(parts)


def _cell_text(tc: Any) -> str:
    return " ".join(_block_lines(tc))


def _block_lines(parent: Any) -> Iterator[str]:
    """One line per paragraph and per table row of ``parent`` (the body or a cell), in order."""
    for child in _children(parent):
        if child.tag == _P:
            yield _paragraph_text(child)
        elif child.tag == _TBL:
            for tr in _children(child):
                if tr.tag == _TR:
                    yield "\t".join(_cell_text(tc) for tc in _children(tr) if tc.tag == _TC)


def _check_docx_package(data: bytes, doc_id: str) -> None:
    if data.startswith(_OLE_MAGIC):
        raise UnsupportedFormatError(doc_id, "an old binary Word file (or a password-protected one) under a .docx "
                                             "name: save it as .docx without a password")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            declared = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise UnreadableFileError(doc_id, f"not a valid .docx (not a zip package: {exc})") from None
    if declared > DOCX_MAX_UNPACKED_BYTES:
        raise UnreadableFileError(doc_id, f".docx parts declare {declared} bytes unpacked, more than "
                                          f"{DOCX_MAX_UNPACKED_BYTES}; not read")


def docx_text(data: bytes, doc_id: str) -> str:
    """The text of a ``.docx`` file's body in reading order (see the module docstring)."""
    _check_docx_package(data, doc_id)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise UnreadableFileError(doc_id, f"not a valid .docx ({type(exc).__name__}: {exc})") from None
    return "\n".join(_block_lines(document.element.body))


# -- pdf ---------------------------------------------------------------------------------------

def _pdf_failure(doc_id: str, exc: BaseException) -> UnreadableFileError:
    chain = [exc, *(e for e in (exc.__cause__, exc.__context__) if e is not None), *exc.args]
    if any("Password" in type(e).__name__ for e in chain):
        return UnreadableFileError(doc_id, "password-protected PDF: remove the password first")
    return UnreadableFileError(doc_id, f"not a readable PDF ({type(exc).__name__}: {exc})")


def pdf_text(data: bytes, doc_id: str) -> str:
    """The text layer of a PDF, pages in order joined by ``"\\n"`` (see the module docstring)."""
    import pdfplumber

    pages: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                pages.append(page.extract_text() or "")
                page.close()  # drop the page's cached objects: memory stays flat over long PDFs
    except Exception as exc:  # pdfminer raises many kinds on a broken file
        raise _pdf_failure(doc_id, exc) from None
    if not any(p.strip() for p in pages):
        raise UnsupportedFormatError(doc_id, f"PDF has no text layer (scanned?), {len(pages)} page(s): OCR it first")
    return "\n".join(pages)
