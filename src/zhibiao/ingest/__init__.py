"""Read reports from strings, files, folders, JSONL files and archives into :class:`Document` objects.

Inputs
------
:func:`read_text` wraps a string, :func:`read_bytes` decodes bytes, :func:`read_file` reads one
file as one document, and :func:`iter_documents` / :func:`read_documents` read any mix of

- files: ``.txt``, ``.text``, ``.md``, ``.markdown`` (text, kept as decoded), ``.html``, ``.htm``,
  ``.xhtml`` (converted with :func:`html_to_text`), ``.docx`` (the body in reading order: a line
  per paragraph, a line per table row with its cells joined by a tab; python-docx), ``.pdf`` with
  a text layer (pages in order joined by a line break; pdfplumber), ``.jsonl`` (one document per
  non-blank line, an object with a string ``text`` and an optional ``id``); record offsets index
  the text so read;
- files that hold no text zhibiao reads: ``.doc``, ``.wps``, ``.rtf``, ``.odt``, ``.xls``,
  ``.xlsx``, ``.et``, ``.ppt``, ``.pptx`` ..., images (``.png``, ``.jpg``, ``.tif`` ...), a PDF
  with no text layer (a scan): each is an :class:`UnsupportedFormatError` saying why and what to
  do (save as .docx, OCR it first), in folders and archives too, never skipped;
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
archives only the known extensions above are read (or reported as unsupported) (``.jsonl`` included; archives also inside
folders, but not archives inside archives). Everything else is not read but *listed*: its path or
``archive!member`` goes to ``DocumentReader.skipped`` (or the ``skipped`` list passed to
:func:`iter_documents`), is passed with its reason to ``on_skip(name, why)`` when given (the batch
runner lists each in its errors file) and is logged at DEBUG level. Listed the same way: hidden
entries (a path component starting with ``.``, which includes macOS ``._*`` resource forks),
``__MACOSX/`` folders, tar links and device members, symlinked folders that would loop, and
symlinks (to files or folders) inside an input folder that lead out of it: they are not followed.
Directory entries of archives are ignored. File names that are not UTF-8 are read (Python's
``surrogateescape``); their ``doc_id`` keeps the escaped characters (the batch runner writes them
as ``\\xff``).

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
- :class:`UnsupportedFormatError`: a kind that holds no readable text (old Office formats, images,
  a PDF with no text layer), with what to do about it; the bytes of such a file are not read;
- a ``.docx`` or ``.pdf`` that python-docx / pdfplumber cannot open (torn, password-protected) is
  an :class:`UnreadableFileError` saying so;
- :class:`UnsafeMemberError`: an archive member name that is absolute or has a ``..`` component
  (the member is reported and not read; the other members are);
- :class:`ArchiveTooLargeError`: an archive whose members to read unpack to more than
  ``max_unpacked_bytes`` (default 2 GiB; 0: nothing is unpacked). Zip archives are checked against
  their declared sizes before anything is read (the whole archive is refused); for every archive
  the bytes actually unpacked are also counted while reading (in 1 MiB chunks), and reading stops
  at the member that crosses the limit; a text member whose chunks show binary content (NUL bytes,
  no byte-order mark) is a :class:`BinaryContentError` at that chunk, the rest not unpacked;
- :class:`JsonlRecordError`: a JSONL line that is not UTF-8, not JSON, not an object, lacks a
  string ``text`` or has an ``id`` that is neither a string nor an integer.

Modules
-------
:mod:`~zhibiao.ingest.decode` (bytes to text), :mod:`~zhibiao.ingest.html` (HTML to text),
:mod:`~zhibiao.ingest.office` (``.docx`` and ``.pdf`` to text),
:mod:`~zhibiao.ingest.kinds` (what a file name says), :mod:`~zhibiao.ingest.single` (one document
from a string, bytes or a file), :mod:`~zhibiao.ingest.jsonl` (JSONL lines),
:mod:`~zhibiao.ingest.archives` (zip / tar and their security rules) and
:mod:`~zhibiao.ingest.reader` (files, folders and archives in order: :class:`DocumentReader`).
"""
from __future__ import annotations

from .archives import DEFAULT_MAX_UNPACKED_BYTES
from .decode import decode_bytes
from .html import html_to_text
from .reader import DocumentReader, iter_documents, read_documents
from .single import read_bytes, read_file, read_text

# names the single-module ``zhibiao.ingest`` had, kept importable from here
from .archives import _LimitExceeded, _read_capped  # noqa: F401,E402  (tests of the size budget)
from .kinds import HTML_SUFFIXES, JSONL_SUFFIXES, TAR_SUFFIXES, TEXT_SUFFIXES, ZIP_SUFFIXES  # noqa: F401,E402
from .single import PathLike  # noqa: F401,E402

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
