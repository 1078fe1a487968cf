"""Read reports from strings, files, folders, JSONL files and archives into :class:`Document` objects.

Inputs
------
:func:`read_text` wraps a string, :func:`read_bytes` decodes bytes, :func:`read_file` reads one
file as one document, and :func:`iter_documents` / :func:`read_documents` read any mix of

- files: ``.txt``, ``.text``, ``.md``, ``.markdown`` (text, kept as decoded), ``.html``, ``.htm``,
  ``.xhtml`` (converted with :func:`html_to_text`), ``.jsonl`` (one document per non-blank line,
  an object with a string ``text`` and an optional ``id``);
- folders, walked recursively in a deterministic order: the entries of each folder sorted by name,
  a sub-folder read where its name sorts (``a/x.txt`` before ``a.txt`` before ``b/``);
- archives ``.zip``, ``.tar``, ``.tar.gz`` / ``.tgz``, ``.tar.bz2`` / ``.tbz2``, ``.tar.xz`` /
  ``.txz``, read member by member in memory, in archive order. Nothing is ever extracted to disk
  and at most one member's bytes are held at a time (tar files are read as a stream).

doc_id scheme
-------------
- a string: the ``doc_id`` argument (default ``"<string>"``);
- a file: the path as given, ``str(path)``; files found in a folder: ``str(folder / relative)``;
- an archive member: ``"<archive path>!<member name>"``, e.g. ``reports.zip!2023/县报告.txt``;
- a JSONL line: its ``id`` field (a string or integer) when present, otherwise
  ``"<file>:<line>"`` with 1-based line numbers, e.g. ``data.jsonl:3`` or ``a.zip!d.jsonl:3``.

``Document.source`` names the container the bytes came from: the file, the archive (for members)
or the JSONL file (for its lines). ``Document.encoding`` is the detected encoding (see
:func:`decode_bytes`); JSONL documents are always ``"utf-8"``, strings ``None``.

Skip rules
----------
A file named explicitly is always read: with an unknown extension it is read as text (and fails
with :class:`BinaryContentError` or :class:`DecodeError` if it is not text). Inside folders and
archives only the known extensions above are read (``.jsonl`` included; archives also inside
folders, but not archives inside archives). Everything else is not read but *listed*: its path or
``archive!member`` goes to ``DocumentReader.skipped`` (or the ``skipped`` list passed to
:func:`iter_documents`) and is logged at DEBUG level. Listed the same way: hidden entries (a path
component starting with ``.``, which includes macOS ``._*`` resource forks), ``__MACOSX/`` folders,
tar links and device members, and symlinked folders that would loop. Directory entries of archives
are ignored.

Errors
------
Every problem is an :class:`~zhibiao.errors.IngestError` whose ``doc_id`` names the file,
``archive!member`` or ``file.jsonl:LINE``. The single-document functions raise it;
:func:`iter_documents` *yields* it in the place of the document and goes on with the rest, so a
batch run can log failures and never loses a document silently. A problem with a whole input
(a missing path, an archive that cannot be opened) is yielded once, naming the path.

- :class:`UnreadableFileError`: missing path, no permission, a folder where a file was expected,
  a corrupt archive or member;
- :class:`BinaryContentError`: NUL bytes (outside UTF-16/32) or more than 5% control characters;
- :class:`DecodeError`: bytes that no supported encoding decodes plausibly;
- :class:`EmptyDocumentError`: no text, or only whitespace (after HTML conversion for HTML);
- :class:`UnsafeMemberError`: an archive member name that is absolute or has a ``..`` component
  (the member is reported and not read; the other members are);
- :class:`ArchiveTooLargeError`: an archive whose members to read unpack to more than
  ``max_unpacked_bytes`` (default 2 GiB). Zip archives are checked against their declared sizes
  before anything is read (the whole archive is refused); for every archive the bytes actually
  unpacked are also counted while reading, and reading stops at the member that crosses the limit;
- :class:`JsonlRecordError`: a JSONL line that is not UTF-8, not JSON, not an object, lacks a
  string ``text`` or has an ``id`` that is neither a string nor an integer.
"""
from __future__ import annotations

import codecs
import io
import json
import logging
import os
import re
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO, Iterable, Iterator, Union

from .errors import (
    ArchiveTooLargeError,
    BinaryContentError,
    DecodeError,
    EmptyDocumentError,
    IngestError,
    JsonlRecordError,
    UnreadableFileError,
    UnsafeMemberError,
)
from .records import Document

__all__ = [
    "DEFAULT_MAX_UNPACKED_BYTES",
    "DocumentReader",
    "decode_bytes",
    "html_to_text",
    "iter_documents",
    "read_bytes",
    "read_documents",
    "read_file",
    "read_text",
]

log = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_MAX_UNPACKED_BYTES = 2 * 1024**3
"""Default limit on the bytes unpacked from one archive (2 GiB)."""

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
JSONL_SUFFIXES = frozenset({".jsonl"})
ZIP_SUFFIXES = (".zip",)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")

_CHUNK = 1 << 20
_CONTROL_SHARE_LIMIT = 0.05
_PLAUSIBILITY_THRESHOLD = 0.5
_SCORE_SAMPLE = 200_000  # non-ASCII characters scored at most


# ---------------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)

# control bytes / characters other than \t \n \v \f \r (form feeds separate pages in pdftotext output)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")

# scripts that show up when Big5 is misread as GB18030 (and vice versa) but hardly in reports
_NOT_PLAUSIBLE = re.compile("[\u0370-\u04ff\u2500-\u257f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf]")


def _table_chars(codec: str, leads: Iterable[int], trails: Iterable[int], last: int | None = None) -> set[str]:
    out: set[str] = set()
    trails = list(trails)
    for lead in leads:
        for trail in trails:
            if last is not None and (lead << 8 | trail) > last:
                break
            try:
                out.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                pass
    return out


@lru_cache(maxsize=1)
def _plausible_chars() -> frozenset[str]:
    """Characters expected in Chinese prose, built from the code tables themselves.

    The 3755 level-1 (most common) hanzi of GB2312 (rows B0-D7), the 5401 frequent hanzi of Big5
    (A440-C67E), the punctuation/number/full-width rows of GB2312 (A1-A3) and the symbol rows of
    Big5 (A140-A3BF), minus Greek, Cyrillic, kana, bopomofo and box drawing.
    """
    big5_trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    chars = _table_chars("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))
    chars |= _table_chars("big5", range(0xA4, 0xC7), big5_trails, last=0xC67E)
    symbols = _table_chars("gb2312", range(0xA1, 0xA4), range(0xA1, 0xFF))
    symbols |= _table_chars("big5", range(0xA1, 0xA4), big5_trails, last=0xA3BF)
    chars |= {c for c in symbols if not _NOT_PLAUSIBLE.match(c)}
    chars |= {chr(c) for c in range(0xA0, 0x100)}  # Latin-1 symbols: ° × ÷ ± § ·
    return frozenset(chars)


def _plausibility(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common hanzi or common symbols."""
    plausible = _plausible_chars()
    n = hits = 0
    for ch in text:
        if ch < "\x80":
            continue
        n += 1
        hits += ch in plausible
        if n >= _SCORE_SAMPLE:
            break
    return hits / n if n else 1.0


def _decode_prefix(data: bytes, codec: str) -> str:
    """Decode strictly, tolerating only an incomplete multibyte sequence at the very end (a file
    cut in the middle of a character); those trailing bytes are dropped."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    text = decoder.decode(data, final=False)
    rest = decoder.getstate()[0]
    if rest:
        log.debug("dropping %d trailing byte(s) of an incomplete %s character", len(rest), codec)
    return text


def _control_share(data: bytes | str) -> float:
    if not data:
        return 0.0
    if isinstance(data, bytes):
        return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)
    return len(_CONTROL_CHARS.findall(data)) / len(data)


def _check_controls(data: bytes | str, doc_id: str) -> None:
    share = _control_share(data)
    if share > _CONTROL_SHARE_LIMIT:
        raise BinaryContentError(doc_id, f"binary content ({share:.0%} control characters)")


def decode_bytes(data: bytes, doc_id: str) -> tuple[str, str]:
    """Decode report bytes; return ``(text, encoding)``.

    The cascade is deterministic:

    1. a byte-order mark decides: ``utf-8-sig``, ``utf-16`` (LE or BE) or ``utf-32``;
    2. otherwise NUL bytes or more than 5% control bytes mean binary content;
    3. strict UTF-8 -> ``utf-8``;
    4. strict GB18030 and strict Big5 (CP950 as a fallback for its extensions) are both tried and
       scored by the share of their non-ASCII characters that are common hanzi or common symbols
       (Big5 text read as GB18030 turns into rare characters, kana and private-use code points;
       GBK text is usually not even valid Big5). The higher score wins, GB18030 on a tie, if it is
       at least 0.5 -> ``gb18030`` or ``big5``;
    5. charset-normalizer as a last resort, for other (non-CJK) encodings; its answer is taken
       only if it is not one of the encodings rejected above nor BOM-less UTF-16/32.

    In steps 1, 3 and 4 an incomplete multibyte character at the very end is dropped.

    Raises :class:`BinaryContentError` or :class:`DecodeError`, both naming ``doc_id``.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = _decode_prefix(data, codec)
            except UnicodeDecodeError as exc:
                raise DecodeError(doc_id, f"starts with a {name} byte-order mark but is not valid {name} "
                                          f"({exc.reason} at byte {exc.start})") from None
            _check_controls(text, doc_id)
            return text, name

    if b"\x00" in data:
        raise BinaryContentError(doc_id, "binary content (NUL bytes, and no UTF-16/32 byte-order mark)")
    _check_controls(data, doc_id)

    try:
        return _decode_prefix(data, "utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = f"{exc.reason} at byte {exc.start}"

    candidates: list[tuple[float, int, str, str]] = []  # (score, preference, encoding, text)
    for preference, (name, codec_names) in enumerate((("gb18030", ("gb18030",)), ("big5", ("big5", "cp950")))):
        for codec in codec_names:
            try:
                text = _decode_prefix(data, codec)
            except UnicodeDecodeError:
                continue
            candidates.append((_plausibility(text), -preference, name, text))
            break
    if candidates:
        score, _, name, text = max(candidates)
        log.debug("%s: decoding scores %s", doc_id, {c[2]: round(c[0], 3) for c in candidates})
        if score >= _PLAUSIBILITY_THRESHOLD:
            return text, name

    fallback = _charset_normalizer_guess(data)
    if fallback is not None:
        return fallback
    tried = ", ".join(f"{c[2]} decodes to implausible text ({c[0]:.0%} common characters)" for c in candidates)
    raise DecodeError(doc_id, "cannot decode the bytes: not valid UTF-8 (" + utf8_error + ")"
                      + ("; " + tried if tried else "; not valid GB18030 or Big5 either")
                      + "; no other encoding fits")


_REJECTED_FALLBACKS = ("utf", "gb", "big5", "cp950", "cp936", "hz")


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    best = from_bytes(data).best()
    if best is None:
        return None
    try:
        name = codecs.lookup(best.encoding).name
    except LookupError:  # pragma: no cover
        return None
    if name.replace("_", "-").startswith(_REJECTED_FALLBACKS):
        return None
    text = str(best)
    if _control_share(text) > _CONTROL_SHARE_LIMIT:
        return None
    return text, name


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_DROP_TAGS = frozenset({"script", "style", "nav", "noscript", "head", "title", "template", "svg",
                        "math", "iframe", "object", "embed", "canvas"})
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend",
    "li", "main", "menu", "ol", "optgroup", "option", "p", "pre", "section", "summary", "table",
    "tbody", "textarea", "tfoot", "thead", "tr", "ul",
})
_CELL_TAGS = frozenset({"td", "th"})
_WIDE = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
# CSS Text 3: a segment break between two East Asian wide characters disappears
_CJK_SEGMENT_BREAK = re.compile(rf"(?<=[{_WIDE}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_WIDE}])")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
_LINE_SPACE = " \t\r\f\v\u3000\xa0"


def html_to_text(html: str) -> str:
    """Turn an HTML page into text, one block per line.

    Block elements (``p``, ``div``, ``li``, ``tr``, ``h1``-``h6``, ``section``, ``table``, ...)
    start and end lines, each ``<br>`` ends a line, table cells are separated by a tab.
    ``script``, ``style``, ``nav``, ``noscript``, ``head`` (with ``title``), ``template``, ``svg``,
    ``iframe`` and similar are dropped, as are comments. Entities are unescaped. Inside a line
    HTML whitespace collapses to one space (and a source line break between two Chinese characters
    disappears, as browsers render it); ``<pre>`` keeps its line breaks. Lines are stripped
    (including full-width and no-break spaces) and blank lines collapse to at most one.
    """
    from selectolax.lexbor import LexborHTMLParser, LexborNode

    tree = LexborHTMLParser(html)
    root = tree.root
    if root is None:
        return ""
    out: list[str] = []

    def last_char() -> str:
        for piece in reversed(out):
            if piece:
                return piece[-1]
        return "\n"

    def soft_break() -> None:
        if last_char() != "\n":
            out.append("\n")

    pre_depth = 0
    # iterative walk (deeply nested pages must not hit the recursion limit): (node, entering)
    stack: list[tuple[LexborNode, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        tag = node.tag or ""
        if not entering:
            if tag in _BLOCK_TAGS:
                soft_break()
                if tag == "pre":
                    pre_depth -= 1
            elif tag in _CELL_TAGS and last_char() not in "\n\t":
                out.append("\t")
            continue
        if tag == "-text":
            text = node.text_content or ""
            if pre_depth:
                out.append(text)
            else:
                text = _HTML_SPACE.sub(" ", _CJK_SEGMENT_BREAK.sub("", text))
                if text.startswith(" ") and last_char() in " \t\n":
                    text = text[1:]
                out.append(text)
            continue
        if tag in _DROP_TAGS or tag.startswith("-") or tag.startswith("!"):
            continue  # comments, doctype, dropped elements
        if tag == "br":
            out.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            soft_break()
            if tag == "pre":
                pre_depth += 1
        stack.append((node, False))
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, True) for c in reversed(children))

    lines = [line.strip(_LINE_SPACE) for line in "".join(out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


# ---------------------------------------------------------------------------------------------
# single documents
# ---------------------------------------------------------------------------------------------

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
    """Decode ``data`` (see :func:`decode_bytes`) into one :class:`Document`.

    With an HTML ``suffix`` (``.html``, ``.htm``, ``.xhtml``) the text goes through
    :func:`html_to_text`; any other suffix, or none, keeps the decoded text as it is (a ``.jsonl``
    suffix is not split into records here: use :func:`iter_documents`).
    """
    text, encoding = decode_bytes(data, doc_id)
    is_html = suffix is not None and suffix.lower() in HTML_SUFFIXES
    if is_html:
        _non_empty(doc_id, text)
        text = html_to_text(text)
        _non_empty(doc_id, text, "document after HTML conversion")
    else:
        _non_empty(doc_id, text)
    return Document(doc_id=doc_id, text=text, encoding=encoding, source=source)


def _read_file_bytes(path: Path, doc_id: str) -> bytes:
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
    """Read one file as one document (HTML converted by suffix, anything else read as text).

    ``doc_id`` defaults to ``str(path)``. Raises an :class:`IngestError`; a ``.jsonl`` file or an
    archive raises :class:`ValueError` (they hold many documents: use :func:`iter_documents`).
    """
    path = Path(path)
    doc_id = str(path) if doc_id is None else doc_id
    if _kind(path.name) in ("jsonl", "zip", "tar"):
        raise ValueError(f"{doc_id} holds several documents; read it with iter_documents()")
    if path.exists() and not path.is_dir() and not path.is_file():
        raise UnreadableFileError(doc_id, "not a regular file")
    data = _read_file_bytes(path, doc_id)
    return read_bytes(data, doc_id, suffix=path.suffix, source=str(path))


# ---------------------------------------------------------------------------------------------
# many documents
# ---------------------------------------------------------------------------------------------

def _kind(name: str) -> str | None:
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


def _is_hidden(parts: Iterable[str]) -> bool:
    return any((p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts)


def _unsafe_reason(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "absolute member path"
    if ".." in norm.split("/"):
        return "member path contains '..'"
    return None


def _decode_member_name(raw: bytes) -> str | None:
    for codec in ("utf-8", "gb18030", "big5"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return None


class _LimitExceeded(Exception):
    def __init__(self, read: int):
        self.read = read


def _read_capped(stream: IO[bytes], budget: int) -> bytes:
    """Read ``stream`` to its end, raising :class:`_LimitExceeded` once more than ``budget``
    bytes came out (it never reads more than ``budget + 1`` bytes)."""
    chunks: list[bytes] = []
    n = 0
    while True:
        chunk = stream.read(min(_CHUNK, budget - n + 1))
        if not chunk:
            return b"".join(chunks)
        n += len(chunk)
        if n > budget:
            raise _LimitExceeded(n)
        chunks.append(chunk)


@dataclass
class _Budget:
    limit: int
    used: int = 0

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError,
                   NotImplementedError, RuntimeError, ValueError)


class DocumentReader:
    """Reads files, folders and archives; see the module docstring for the rules.

    ``skipped`` collects the paths / ``archive!member`` names that were not read because of the
    skip rules (unknown extension, hidden, links, nested archives).
    """

    def __init__(self, *, max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
                 skipped: list[str] | None = None):
        if max_unpacked_bytes < 0:
            raise ValueError("max_unpacked_bytes must be >= 0")
        self.max_unpacked_bytes = max_unpacked_bytes
        self.skipped: list[str] = [] if skipped is None else skipped

    # -- entry point ---------------------------------------------------------------------------

    def iter_documents(self, inputs: PathLike | Iterable[PathLike]) -> Iterator[Document | IngestError]:
        """Yield a :class:`Document` or an :class:`IngestError` for every document in ``inputs``."""
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        for item in inputs:
            path = Path(item)
            yield from self._iter_path(path, explicit=True)

    # -- paths ---------------------------------------------------------------------------------

    def _skip(self, name: str, why: str) -> None:
        self.skipped.append(name)
        log.debug("skipped %s (%s)", name, why)

    def _iter_path(self, path: Path, *, explicit: bool, ancestors: tuple[tuple[int, int], ...] = ()
                   ) -> Iterator[Document | IngestError]:
        doc_id = str(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            yield UnreadableFileError(doc_id, "no such file or directory")
            return
        except OSError as exc:
            yield UnreadableFileError(doc_id, f"cannot access: {exc.strerror or exc}")
            return
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                self._skip(doc_id, "symlinked folder loop")
                return
            yield from self._iter_dir(path, ancestors + (key,))
            return
        if not stat.S_ISREG(st.st_mode):
            if explicit:
                yield UnreadableFileError(doc_id, "not a regular file")
            else:
                self._skip(doc_id, "not a regular file")
            return
        kind = _kind(path.name)
        if kind == "zip":
            yield from self._iter_zip(path)
        elif kind == "tar":
            yield from self._iter_tar(path)
        elif kind == "jsonl":
            yield from self._iter_jsonl_file(path)
        elif kind is not None or explicit:
            try:
                yield read_bytes(_read_file_bytes(path, doc_id), doc_id, suffix=path.suffix, source=doc_id)
            except IngestError as exc:
                yield exc
        else:
            self._skip(doc_id, "unknown extension")

    def _iter_dir(self, path: Path, ancestors: tuple[tuple[int, int], ...]) -> Iterator[Document | IngestError]:
        try:
            with os.scandir(path) as it:
                names = sorted(entry.name for entry in it)
        except OSError as exc:
            yield UnreadableFileError(str(path), f"cannot list directory: {exc.strerror or exc}")
            return
        for name in names:
            child = path / name
            if _is_hidden([name]):
                self._skip(str(child), "hidden")
                continue
            yield from self._iter_path(child, explicit=False, ancestors=ancestors)

    # -- JSONL ---------------------------------------------------------------------------------

    def _iter_jsonl_file(self, path: Path) -> Iterator[Document | IngestError]:
        locator = str(path)
        try:
            fh = path.open("rb")
        except OSError as exc:
            yield UnreadableFileError(locator, f"cannot read file: {exc.strerror or exc}")
            return
        with fh:
            try:
                yield from _iter_jsonl_lines(fh, locator)
            except OSError as exc:
                yield UnreadableFileError(locator, f"read error: {exc.strerror or exc}")

    # -- archives ------------------------------------------------------------------------------

    def _member(self, archive: str, name: str, data: bytes, source: str) -> Iterator[Document | IngestError]:
        member_id = f"{archive}!{name}"
        kind = _kind(name)
        if kind == "jsonl":
            yield from _iter_jsonl_lines(io.BytesIO(data), member_id)
            return
        try:
            yield read_bytes(data, member_id, suffix=PurePosixPath(name).suffix, source=source)
        except IngestError as exc:
            yield exc

    def _member_filter(self, archive: str, name: str) -> IngestError | bool:
        """An error for an unsafe name, ``True`` to read the member, ``False`` when skipped."""
        member_id = f"{archive}!{name}"
        reason = _unsafe_reason(name)
        if reason is not None:
            return UnsafeMemberError(member_id, f"unsafe {reason}; member not read")
        parts = name.replace("\\", "/").split("/")
        if _is_hidden(parts):
            self._skip(member_id, "hidden")
            return False
        kind = _kind(name)
        if kind in ("zip", "tar"):
            self._skip(member_id, "archive inside an archive")
            return False
        if kind is None:
            self._skip(member_id, "unknown extension")
            return False
        return True

    def _too_large(self, member_id: str, budget: _Budget, amount: str) -> ArchiveTooLargeError:
        return ArchiveTooLargeError(
            member_id, f"archive unpacks to more than max_unpacked_bytes={budget.limit} "
                       f"({budget.used} bytes read before this member, which {amount}); "
                       "this and the remaining members not read")

    def _read_member(self, stream: IO[bytes], member_id: str, declared: int, budget: _Budget) -> bytes | ArchiveTooLargeError:
        if declared > budget.left:
            return self._too_large(member_id, budget, f"declares {declared} bytes")
        try:
            data = _read_capped(stream, budget.left)
        except _LimitExceeded as exc:
            return self._too_large(member_id, budget, f"unpacked to more than {exc.read - 1} bytes")
        budget.used += len(data)
        return data

    def _iter_zip(self, path: Path) -> Iterator[Document | IngestError]:
        archive = str(path)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            yield UnreadableFileError(archive, f"cannot open zip archive: {getattr(exc, 'strerror', None) or exc}")
            return
        with zf:
            plan: list[tuple[zipfile.ZipInfo, str]] = []
            for info in zf.infolist():
                if info.is_dir():
                    continue
                name = info.filename
                if not info.flag_bits & 0x800:  # name not flagged UTF-8: zipfile read it as cp437
                    try:
                        name = _decode_member_name(name.encode("cp437")) or name
                    except UnicodeEncodeError:
                        pass
                verdict = self._member_filter(archive, name)
                if isinstance(verdict, IngestError):
                    yield verdict
                elif verdict:
                    plan.append((info, name))
            declared = sum(info.file_size for info, _ in plan)
            if declared > self.max_unpacked_bytes:
                yield ArchiveTooLargeError(
                    archive, f"members to read declare {declared} bytes unpacked, more than "
                             f"max_unpacked_bytes={self.max_unpacked_bytes}; archive not read")
                return
            budget = _Budget(self.max_unpacked_bytes)
            for info, name in plan:
                member_id = f"{archive}!{name}"
                try:
                    with zf.open(info) as stream:
                        data = self._read_member(stream, member_id, info.file_size, budget)
                except _ARCHIVE_ERRORS as exc:
                    yield UnreadableFileError(member_id, f"cannot read zip member: {exc}")
                    continue
                if isinstance(data, ArchiveTooLargeError):
                    yield data
                    return
                yield from self._member(archive, name, data, archive)

    def _iter_tar(self, path: Path) -> Iterator[Document | IngestError]:
        archive = str(path)
        try:
            tf = tarfile.open(path, mode="r|*")  # a stream: one pass, no seeking, nothing extracted
        except _ARCHIVE_ERRORS as exc:
            yield UnreadableFileError(archive, f"cannot open tar archive: {getattr(exc, 'strerror', None) or exc}")
            return
        budget = _Budget(self.max_unpacked_bytes)
        last = "the first member"
        with tf:
            members = iter(tf)
            while True:
                try:
                    info = next(members)
                except StopIteration:
                    return
                except _ARCHIVE_ERRORS as exc:
                    yield UnreadableFileError(archive, f"corrupt tar archive after {last}: {exc}; "
                                                       "the remaining members could not be read")
                    return
                name = info.name
                if any("\udc80" <= c <= "\udcff" for c in name):  # non-UTF-8 name bytes
                    name = _decode_member_name(name.encode("utf-8", "surrogateescape")) or name
                last = f"member {name!r}"
                if info.isdir():
                    continue
                member_id = f"{archive}!{name}"
                if not info.isreg():
                    if _unsafe_reason(name) is None:
                        self._skip(member_id, "link or special tar member")
                        continue
                verdict = self._member_filter(archive, name)
                if isinstance(verdict, IngestError):
                    yield verdict
                    continue
                if not verdict:
                    continue
                try:
                    stream = tf.extractfile(info)
                    if stream is None:  # pragma: no cover - regular members always have data
                        raise tarfile.TarError("no data")
                    data = self._read_member(stream, member_id, info.size, budget)
                except _ARCHIVE_ERRORS as exc:
                    yield UnreadableFileError(member_id, f"cannot read tar member: {exc}; "
                                                         "the remaining members could not be read")
                    return
                if isinstance(data, ArchiveTooLargeError):
                    yield data
                    return
                yield from self._member(archive, name, data, archive)


def _iter_jsonl_lines(stream: IO[bytes], locator: str) -> Iterator[Document | IngestError]:
    """One document (or error) per non-blank line of a JSONL stream; ``locator`` names the file."""
    for lineno, raw in enumerate(stream, 1):
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        if not raw.strip():
            continue
        where = f"{locator}:{lineno}"
        try:
            yield _jsonl_record(raw, where, locator)
        except IngestError as exc:
            yield exc


def _jsonl_record(raw: bytes, where: str, locator: str) -> Document:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonlRecordError(where, f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise JsonlRecordError(where, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise JsonlRecordError(where, f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str):
        what = "missing" if text is None else f"not a string ({type(text).__name__})"
        raise JsonlRecordError(where, f"field 'text' is {what}")
    rid = obj.get("id")
    if rid is None:
        doc_id = where
    elif isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid) != "":
        doc_id = str(rid)
    else:
        raise JsonlRecordError(where, f"field 'id' must be a non-empty string or an integer, got {rid!r}")
    if not text.strip():
        raise EmptyDocumentError(doc_id, f"empty 'text'{'' if doc_id == where else f' (at {where})'}")
    return Document(doc_id=doc_id, text=text, encoding="utf-8", source=locator)


def iter_documents(inputs: PathLike | Iterable[PathLike], *,
                   max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
                   skipped: list[str] | None = None) -> Iterator[Document | IngestError]:
    """Yield every document of ``inputs`` (a path or an iterable of paths; strings are paths, use
    :func:`read_text` for raw text) as a :class:`Document`, or the :class:`IngestError` that
    stopped it, in a deterministic order. Errors are yielded, never raised, and reading goes on.

    ``max_unpacked_bytes`` limits the bytes unpacked from each archive. Names not read because of
    the skip rules are appended to ``skipped`` when a list is given.
    """
    reader = DocumentReader(max_unpacked_bytes=max_unpacked_bytes, skipped=skipped)
    return reader.iter_documents(inputs)


def read_documents(inputs: PathLike | Iterable[PathLike], **kwargs: object) -> list[Document]:
    """Like :func:`iter_documents` but return a list and raise the first :class:`IngestError`."""
    docs: list[Document] = []
    for item in iter_documents(inputs, **kwargs):  # type: ignore[arg-type]
        if isinstance(item, IngestError):
            raise item
        docs.append(item)
    return docs
