"""doccano JSONL import and export.

Two doccano export shapes are read, one document per line:

- the *relation* export (also the project's own JSONL format, see :mod:`zhibiao.io.jsonl`)::

    {"id": 7, "text": "...",
     "entities": [{"id": 1, "label": "数量", "start_offset": 3, "end_offset": 7}, ...],
     "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "measures"}, ...]}

- the plain *sequence-labeling* export (no relations, no entity ids; ids ``"1"``, ``"2"``, ...
  are assigned in the order of the list)::

    {"id": 7, "text": "...", "label": [[3, 7, "数量"], [0, 3, "指标"]]}      # or "labels"

``label_map`` renames doccano labels and relation types to the project's names
(``{"数量": "QUANTITY", "指标": "INDICATOR", "measures": "MEASURES"}``); names that are already
the project's pass through. A label that is not ``QUANTITY``/``INDICATOR`` after mapping, a
relation type that is not ``MEASURES``, a relation naming a missing entity id or a malformed
line raises :class:`~zhibiao.errors.AnnotationError` naming ``file:line`` and the entity id.
Offsets are *not* range-checked here: :func:`zhibiao.validate.validate_document` reports spans
outside the text (the span's ``text`` is then empty).

:func:`write_doccano` writes the relation export (importable into a doccano "sequence labeling
with relations" project); entity ids are written as integers (renumbered 1..n in text order
when the document's ids are not all unique digit strings).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..errors import AnnotationError
from ..records import LABELS, MEASURES, AnnotatedDocument, Prediction
from .escape import json_line
from .jsonl import doc_from_dict, doc_to_dict, integer_offset, iter_json_lines
from .labels import map_label

__all__ = ["read_doccano", "iter_doccano", "write_doccano", "doccano_from_dict", "map_label", "doccano_line"]


_offset = integer_offset


def doccano_from_dict(obj: Any, where: str, label_map: Mapping[str, str] | None = None) -> AnnotatedDocument:
    """Build a document from one parsed doccano line (relation or plain export)."""
    if not isinstance(obj, dict):
        raise AnnotationError(where, f"expected a JSON object, got {type(obj).__name__}")
    if not isinstance(obj.get("text"), str):
        raise AnnotationError(where, "missing or non-string 'text'")
    if "entities" in obj or "relations" in obj:
        return _relation_doc(obj, where, label_map)
    return _plain_doc(obj, where, label_map)


def _relation_doc(obj: dict, where: str, label_map: Mapping[str, str] | None) -> AnnotatedDocument:
    ents_in = obj.get("entities") or []
    rels_in = obj.get("relations") or []
    if not isinstance(ents_in, list):
        raise AnnotationError(where, "'entities' must be a list")
    if not isinstance(rels_in, list):
        raise AnnotationError(where, "'relations' must be a list")
    entities: list[dict] = []
    ids: set[str] = set()
    for k, e in enumerate(ents_in):
        if not isinstance(e, dict):
            raise AnnotationError(where, f"entity #{k} is not an object")
        eid = None if e.get("id") is None else str(e.get("id"))
        if eid is None:
            raise AnnotationError(where, f"entity #{k} has no id")
        if eid in ids:
            raise AnnotationError(where, "duplicate entity id", entity_id=eid)
        ids.add(eid)
        for key in ("start_offset", "end_offset"):
            if key not in e:
                raise AnnotationError(where, f"entity #{k} has no {key}", entity_id=eid)
            _offset(e[key], where, key, eid)
        if "label" not in e:
            raise AnnotationError(where, f"entity #{k} has no label", entity_id=eid)
        label = map_label(e["label"], label_map, LABELS, where, "label", eid)
        entities.append({**e, "label": label})
    relations: list[dict] = []
    for k, r in enumerate(rels_in):
        if not isinstance(r, dict) or "from_id" not in r or "to_id" not in r:
            raise AnnotationError(where, f"relation #{k} needs from_id and to_id")
        rid = r.get("id", f"#{k}")
        src, dst = str(r["from_id"]), str(r["to_id"])
        rtype = map_label(r.get("type", MEASURES), label_map, (MEASURES,), where,
                          f"relation type (relation {rid})", src)
        for end_name, end_id in (("from_id", src), ("to_id", dst)):
            if end_id not in ids:
                raise AnnotationError(where, f"relation {rid}: {end_name} {end_id} names no entity of this document",
                                      entity_id=src)
        relations.append({**r, "type": rtype})
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        meta = {"meta": meta}
    clean = {"id": obj.get("id", where), "text": obj["text"], "entities": entities,
             "relations": relations, "meta": meta or {}}
    return doc_from_dict(clean, where)


def _plain_doc(obj: dict, where: str, label_map: Mapping[str, str] | None) -> AnnotatedDocument:
    key = "label" if "label" in obj else "labels"
    items = obj.get(key) or []
    if not isinstance(items, list):
        raise AnnotationError(where, f"{key!r} must be a list of [start, end, label]")
    entities = []
    for k, item in enumerate(items):
        eid = str(k + 1)
        if isinstance(item, dict):  # some doccano versions write {"start_offset", "end_offset", "label"}
            item = [item.get("start_offset"), item.get("end_offset"), item.get("label")]
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise AnnotationError(where, f"{key}[{k}] must be [start, end, label], got {item!r}", entity_id=eid)
        start = _offset(item[0], where, f"{key}[{k}] start", eid)
        end = _offset(item[1], where, f"{key}[{k}] end", eid)
        label = map_label(item[2], label_map, LABELS, where, f"label ({key}[{k}])", eid)
        entities.append({"id": eid, "label": label, "start_offset": start, "end_offset": end})
    meta = obj.get("meta")
    clean = {"id": obj.get("id", where), "text": obj["text"], "entities": entities, "relations": [],
             "meta": meta if isinstance(meta, dict) else {}}
    return doc_from_dict(clean, where)


def iter_doccano(path: str | Path, label_map: Mapping[str, str] | None = None) -> Iterator[AnnotatedDocument]:
    for where, obj in iter_json_lines(path):
        doc = doccano_from_dict(obj, where, label_map)
        doc.meta.setdefault("source", where)
        yield doc


def read_doccano(path: str | Path, label_map: Mapping[str, str] | None = None) -> list[AnnotatedDocument]:
    """Read a doccano relation or plain sequence-labeling JSONL export (see the module doc)."""
    return list(iter_doccano(path, label_map))


def doccano_line(doc: AnnotatedDocument | Prediction) -> dict[str, Any]:
    """One document as a doccano relation-export object (integer entity ids)."""
    if isinstance(doc, Prediction):
        doc = doc.to_annotated()
    ids = [e.id for e in doc.entities]
    if all(i is not None and i.isdigit() for i in ids) and len(set(ids)) == len(ids):
        renum = {i: i for i in ids}
        d = doc_to_dict(doc)
    else:
        ordered = sorted(doc.entities, key=lambda s: (s.start, s.end, s.label))
        renum = {}
        for k, e in enumerate(ordered, 1):
            renum.setdefault(e.id, str(k))
        d = doc_to_dict(AnnotatedDocument(
            id=doc.id, text=doc.text,
            entities=[_with_id(e, renum[e.id]) for e in doc.entities],
            relations=[(renum.get(a, a), renum.get(b, b)) for a, b in doc.relations], meta=doc.meta))
    d["meta"] = {k: v for k, v in d["meta"].items() if k != "source"}
    return d


def _with_id(span, new_id):
    from dataclasses import replace
    return replace(span, id=new_id)


def write_doccano(docs: Iterable[AnnotatedDocument | Prediction], path: str | Path) -> int:
    """Write documents as a doccano relation JSONL export; returns the number written."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json_line(doccano_line(doc)))
            n += 1
    return n
