"""Documents from JSONL: one per non-blank line, an object with a string ``text`` and an optional
``id`` (string or integer); a line that is not such an object is a :class:`JsonlRecordError`."""
from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import IO, Iterator

from ..errors import EmptyDocumentError, IngestError, JsonlRecordError, UnreadableFileError
from ..records import Document

__all__ = ["iter_jsonl_file", "iter_jsonl_lines"]


def iter_jsonl_file(path: Path) -> Iterator[Document | IngestError]:
    """One document (or error) per non-blank line of the file ``path``."""
    locator = str(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield UnreadableFileError(locator, f"cannot read file: {exc.strerror or exc}")
        return
    with fh:
        try:
            yield from iter_jsonl_lines(fh, locator)
        except OSError as exc:
            yield UnreadableFileError(locator, f"read error: {exc.strerror or exc}")


def iter_jsonl_lines(stream: IO[bytes], locator: str) -> Iterator[Document | IngestError]:
    """One document (or error) per non-blank line of a JSONL stream; ``locator`` names the file."""
    for lineno, raw in enumerate(stream, 1):
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        if not raw.strip():
            continue
        where = f"{locator}:{lineno}"
        try:
            yield jsonl_record(raw, where, locator)
        except IngestError as exc:
            yield exc


def jsonl_record(raw: bytes, where: str, locator: str) -> Document:
    """The document of one JSONL line ``raw``; ``where`` is ``file:line``, ``locator`` the file."""
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
