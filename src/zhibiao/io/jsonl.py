"""The project's own annotation format: JSONL, one document per line, doccano-relation compatible.

    {"id": "seed-000", "text": "...",
     "entities": [{"id": 1, "label": "QUANTITY", "start_offset": 0, "end_offset": 4},
                  {"id": 2, "label": "INDICATOR", "start_offset": 5, "end_offset": 8,
                   "indicator_type": "tuopin_hu"}],
     "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "MEASURES"}],
     "meta": {...}}

Offsets index ``text`` exactly as stored (traditional script and pinyin artefacts included).
Entity ids may be ints or strings; they are read as strings.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import AnnotationError
from ..records import LABELS, MEASURES, AnnotatedDocument, Span
from .escape import json_line

__all__ = ["doc_from_dict", "doc_to_dict", "read_jsonl", "iter_jsonl", "iter_json_lines", "write_jsonl",
           "integer_offset"]


def integer_offset(value: Any, where: str, what: str, eid: str | None) -> int:
    """An offset as an int; a bool, a string or a fraction (13.9) is an :class:`AnnotationError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise AnnotationError(where, f"{what} must be an integer, got {value!r}", entity_id=eid)
    return int(value)


def doc_from_dict(obj: Any, where: str) -> AnnotatedDocument:
    """Build an :class:`AnnotatedDocument` from one parsed JSON object; errors name ``where``."""
    if not isinstance(obj, dict):
        raise AnnotationError(where, f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str):
        raise AnnotationError(where, "missing or non-string 'text'")
    doc_id = str(obj.get("id", where))
    entities: list[Span] = []
    for k, e in enumerate(obj.get("entities") or []):
        if not isinstance(e, dict):
            raise AnnotationError(where, f"entity #{k} is not an object")
        eid = e.get("id")
        missing = [key for key in ("label", "start_offset", "end_offset") if key not in e]
        if missing:
            raise AnnotationError(where, f"entity #{k} lacks {'/'.join(missing)}",
                                  entity_id=None if eid is None else str(eid))
        start = integer_offset(e["start_offset"], where, f"entity #{k} start_offset", None if eid is None else str(eid))
        end = integer_offset(e["end_offset"], where, f"entity #{k} end_offset", None if eid is None else str(eid))
        label = str(e["label"])
        if eid is None:
            raise AnnotationError(where, f"entity #{k} has no id")
        seg = text[start:end] if 0 <= start <= end <= len(text) else ""
        try:
            span = Span(start, end, label, seg, id=str(eid), indicator_type=e.get("indicator_type"))
        except ValueError as exc:
            raise AnnotationError(where, str(exc), entity_id=str(eid)) from None
        entities.append(span)
    relations: list[tuple[str, str]] = []
    for k, r in enumerate(obj.get("relations") or []):
        if not isinstance(r, dict) or "from_id" not in r or "to_id" not in r:
            raise AnnotationError(where, f"relation #{k} needs from_id and to_id")
        rtype = r.get("type", MEASURES)
        if rtype != MEASURES:
            raise AnnotationError(where, f"relation #{k} has unknown type {rtype!r} (expected {MEASURES})")
        relations.append((str(r["from_id"]), str(r["to_id"])))
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise AnnotationError(where, f"'meta' must be an object, got {type(meta).__name__}")
    return AnnotatedDocument(id=doc_id, text=text, entities=entities, relations=relations, meta=dict(meta))


def doc_to_dict(doc: AnnotatedDocument) -> dict[str, Any]:
    ents = []
    for e in sorted(doc.entities, key=lambda s: (s.start, s.end, s.label)):
        d: dict[str, Any] = {"id": _id_out(e.id), "label": e.label, "start_offset": e.start, "end_offset": e.end}
        if e.indicator_type:
            d["indicator_type"] = e.indicator_type
        ents.append(d)
    rels = [{"id": k + 1, "from_id": _id_out(a), "to_id": _id_out(b), "type": MEASURES}
            for k, (a, b) in enumerate(doc.relations)]
    return {"id": doc.id, "text": doc.text, "entities": ents, "relations": rels, "meta": doc.meta}


def _id_out(eid: str | None) -> Any:
    return int(eid) if eid is not None and eid.isdigit() else eid


def iter_json_lines(path: str | Path,
                    on_error: Callable[[AnnotationError], None] | None = None) -> Iterator[tuple[str, Any]]:
    """``(file:line, parsed object)`` for each non-blank line of a JSONL file (a UTF-8 BOM is
    allowed): the one JSONL reader of the annotation tools (``validate``, ``stats``, ``train``,
    ``convert``). Unreadable files, non-UTF-8 bytes and invalid JSON raise
    :class:`AnnotationError` naming the file and line; with ``on_error``, a line of invalid JSON
    is handed to it instead and reading goes on with the next line."""
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise AnnotationError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    with fh:
        lineno = 0
        try:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    error = AnnotationError(where, f"invalid JSON ({exc.msg} at column {exc.colno}); "
                                                   f"truncated or not JSONL?")
                    if on_error is None:
                        raise error from None
                    on_error(error)
                    continue
                yield where, obj
        except UnicodeDecodeError as exc:
            raise AnnotationError(f"{path}:{lineno + 1}", f"not UTF-8 ({exc.reason})") from None


def iter_jsonl(path: str | Path) -> Iterator[AnnotatedDocument]:
    """Read a project JSONL file; malformed lines raise :class:`AnnotationError` naming ``file:line``."""
    for where, obj in iter_json_lines(path):
        doc = doc_from_dict(obj, where)
        doc.meta.setdefault("source", where)
        yield doc


def read_jsonl(path: str | Path) -> list[AnnotatedDocument]:
    return list(iter_jsonl(path))


def write_jsonl(docs: Iterable[AnnotatedDocument], path: str | Path) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for doc in docs:
            d = doc_to_dict(doc)
            d["meta"] = {k: v for k, v in d["meta"].items() if k != "source"}
            fh.write(json_line(d))
            n += 1
    return n


_ = LABELS  # re-exported for readers of this module
