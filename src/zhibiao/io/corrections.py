"""Stand-off corrections to annotations the project does not own (``annotations/real_corrections.jsonl``).

Third-party annotated text (``../shared/real/real.jsonl``) is never copied into the repository;
where its gold is wrong under SPEC.md, the fix is kept as an overlay, one JSON object a line,
applied when the file is read (``data.corrections`` in a training config)::

    {"doc": "R057", "op": "span",   "entity": 12, "start": 300, "end": 303, "was": "贫困户家", "text": "贫困户", "why": "..."}
    {"doc": "R057", "op": "add",    "entity": "c1", "label": "INDICATOR", "start": 410, "end": 413, "text": "监测户", "why": "..."}
    {"doc": "R057", "op": "remove", "entity": 7, "text": "2019年", "why": "a year, not a quantity"}
    {"doc": "R057", "op": "link",   "entity": 12, "to": "c1", "why": "..."}      # "to": null removes its link

``text`` (and ``was`` for ``span``) is the span as it stands in the document: a check that the
overlay still fits the file (a stale overlay is an error naming its line, never a silent
misfit). ``remove`` drops the entity and its links; ``link`` replaces a quantity's one link.
Corrections apply in file order.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import AnnotationError
from ..records import LABELS, AnnotatedDocument, Span
from .jsonl import iter_json_lines

__all__ = ["read_corrections", "apply_corrections", "OPS"]

OPS = ("span", "add", "remove", "link")


def read_corrections(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """``(file:line, correction)`` pairs of an overlay file, each checked for its fields."""
    out = []
    for where, obj in iter_json_lines(path):
        if not isinstance(obj, dict) or obj.get("op") not in OPS or "doc" not in obj or "entity" not in obj:
            raise AnnotationError(where, f"a correction needs 'doc', 'entity' and 'op' (one of {', '.join(OPS)})")
        out.append((where, obj))
    return out


def _entity_index(doc: AnnotatedDocument, eid: Any, where: str) -> int:
    for k, e in enumerate(doc.entities):
        if e.id == str(eid):
            return k
    raise AnnotationError(where, f"document {doc.id} has no entity {eid!r}")


def _checked_span(doc: AnnotatedDocument, c: dict[str, Any], where: str, label: str, eid: str,
                  indicator_type: str | None = None) -> Span:
    try:
        start, end = c["start"], c["end"]
    except KeyError as exc:
        raise AnnotationError(where, f"'{c['op']}' needs {exc}") from None
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(doc.text)):
        raise AnnotationError(where, f"offsets {start!r}..{end!r} do not fit document {doc.id}")
    seg = doc.text[start:end]
    if "text" in c and c["text"] != seg:
        raise AnnotationError(where, f"stale correction: {doc.id}[{start}:{end}] is {seg!r}, not {c['text']!r}")
    return Span(start, end, label, seg, id=eid, indicator_type=indicator_type)


def _apply_one(doc: AnnotatedDocument, c: dict[str, Any], where: str) -> None:
    op, eid = c["op"], str(c["entity"])
    if op == "add":
        if any(e.id == eid for e in doc.entities):
            raise AnnotationError(where, f"document {doc.id} already has an entity {eid!r}")
        if c.get("label") not in LABELS:
            raise AnnotationError(where, f"'add' needs a label in {LABELS}")
        doc.entities.append(_checked_span(doc, c, where, c["label"], eid, c.get("indicator_type")))
        return
    k = _entity_index(doc, eid, where)
    old = doc.entities[k]
    if op != "span" and "text" in c and c["text"] != old.text:
        raise AnnotationError(where, f"stale correction: entity {eid} of {doc.id} is {old.text!r}, not {c['text']!r}")
    if op == "span":
        if "was" in c and c["was"] != old.text:
            raise AnnotationError(where, f"stale correction: entity {eid} of {doc.id} is {old.text!r}, not {c['was']!r}")
        new = _checked_span(doc, c, where, old.label, eid, old.indicator_type)
        doc.entities[k] = replace(new, indicator_type=c.get("indicator_type", old.indicator_type))
    elif op == "remove":
        del doc.entities[k]
        doc.relations = [(a, b) for a, b in doc.relations if eid not in (a, b)]
    else:  # link
        doc.relations = [(a, b) for a, b in doc.relations if a != eid]
        if c.get("to") is not None:
            _entity_index(doc, c["to"], where)
            doc.relations.append((eid, str(c["to"])))


def apply_corrections(docs: Sequence[AnnotatedDocument], corrections: Iterable[tuple[str, dict[str, Any]]],
                      *, strict: bool = False) -> int:
    """Apply overlay corrections in place to the documents they name; returns how many applied.

    A correction for a document that is not among ``docs`` is ignored (one overlay serves any
    subset of the file) unless ``strict``; one that does not fit its document raises
    :class:`~zhibiao.errors.AnnotationError` naming the overlay's line.
    """
    by_id = {d.id: d for d in docs}
    n = 0
    for where, c in corrections:
        doc = by_id.get(str(c["doc"]))
        if doc is None:
            if strict:
                raise AnnotationError(where, f"no document {c['doc']!r} to correct")
            continue
        _apply_one(doc, c, where)
        n += 1
    return n
