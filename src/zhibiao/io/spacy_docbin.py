"""Export annotated documents to a spaCy ``DocBin`` (``.spacy``) and read them back.

Documents are tokenised with ``spacy.blank("zh")`` and the *char* segmenter (one token per
character, no pkuseg/jieba model download), so every character offset is a token boundary.

In each ``Doc``:

- ``doc.ents`` holds the QUANTITY and INDICATOR spans (when two overlap, the longer one; all of
  them are always in the span group ``"entities"``);
- the extension ``doc._.measures`` holds the MEASURES links as a list of
  ``(quantity_start_char, quantity_end_char, indicator_start_char, indicator_end_char)``;
- the span group ``"links"`` holds the two spans of each link in order
  (quantity, indicator, quantity, indicator, ...);
- ``doc.user_data["zhibiao"]`` holds the document id, meta, entity ids and indicator types.

The ``DocBin`` is written with ``store_user_data=True`` so the extension and the id survive.
Use :func:`register_extensions` before reading ``doc._.measures`` from a DocBin you load
yourself. Entity spans whose edges are whitespace are snapped to the characters' tokens (the
validator rejects such spans anyway).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..errors import AnnotationError
from ..records import AnnotatedDocument, Prediction, Span

__all__ = ["blank_nlp", "register_extensions", "to_docbin", "write_docbin", "read_docbin", "docs_from_docbin"]

_NLP = None


def blank_nlp():
    """A cached ``spacy.blank("zh")`` with the char segmenter (works offline)."""
    global _NLP
    if _NLP is None:
        import spacy
        _NLP = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    return _NLP


def register_extensions() -> None:
    """Register ``Doc._.measures`` (default ``None``) if nobody has yet."""
    from spacy.tokens import Doc
    if not Doc.has_extension("measures"):
        Doc.set_extension("measures", default=None)


def _plain(x: Any) -> Any:
    """msgpack hands tuples back for lists; turn them into lists again (recursively)."""
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _to_spacy_doc(doc: AnnotatedDocument):
    from spacy.util import filter_spans
    nlp = blank_nlp()
    sdoc = nlp.make_doc(doc.text)
    where = str(doc.meta.get("source") or doc.id)
    spans = []
    by_id = {}
    for e in doc.entities:
        sp = sdoc.char_span(e.start, e.end, label=e.label, alignment_mode="expand")
        if sp is None or len(sp) == 0:
            raise AnnotationError(where, f"span [{e.start}, {e.end}) {e.label} cannot be aligned to tokens "
                                         f"(out of range or whitespace only)", entity_id=e.id)
        spans.append(sp)
        by_id[e.id] = sp
    sdoc.spans["entities"] = spans
    sdoc.ents = filter_spans(spans)
    measures = []
    link_spans = []
    for a, b in doc.relations:
        if a not in by_id or b not in by_id:
            raise AnnotationError(where, f"relation {a} -> {b} names a missing entity", entity_id=a)
        q, i = by_id[a], by_id[b]
        measures.append((q.start_char, q.end_char, i.start_char, i.end_char))
        link_spans += [q, i]
    sdoc.spans["links"] = link_spans
    sdoc._.measures = measures
    meta = {k: v for k, v in doc.meta.items() if k != "source"}
    sdoc.user_data["zhibiao"] = {
        "id": doc.id, "meta": meta,
        "entity_ids": [e.id for e in doc.entities],
        "indicator_types": [e.indicator_type for e in doc.entities],
    }
    return sdoc


def to_docbin(docs: Iterable[AnnotatedDocument | Prediction]):
    """A ``spacy.tokens.DocBin`` (``store_user_data=True``) holding ``docs``."""
    from spacy.tokens import DocBin
    register_extensions()
    db = DocBin(store_user_data=True)
    for doc in docs:
        if isinstance(doc, Prediction):
            doc = doc.to_annotated()
        db.add(_to_spacy_doc(doc))
    return db


def write_docbin(docs: Iterable[AnnotatedDocument | Prediction], path: str | Path) -> int:
    """Write ``docs`` to a ``.spacy`` file; returns the number of documents."""
    db = to_docbin(docs)
    db.to_disk(path)
    return len(db)


def docs_from_docbin(db, source: str = "<docbin>") -> list[AnnotatedDocument]:
    """Convert the docs of a DocBin back to :class:`AnnotatedDocument` objects."""
    register_extensions()
    out = []
    for n, sdoc in enumerate(db.get_docs(blank_nlp().vocab)):
        info = _plain(sdoc.user_data.get("zhibiao") or {})
        group = list(sdoc.spans["entities"]) if "entities" in sdoc.spans else list(sdoc.ents)
        ids = info.get("entity_ids") or []
        types = info.get("indicator_types") or []
        if len(ids) != len(group):
            ids = [str(k + 1) for k in range(len(group))]
            types = [None] * len(group)
        entities = []
        by_offsets: dict[tuple[int, int], list[Span]] = {}
        for sp, eid, itype in zip(group, ids, types):
            span = Span(sp.start_char, sp.end_char, sp.label_, sp.text, id=str(eid), indicator_type=itype)
            entities.append(span)
            by_offsets.setdefault((span.start, span.end), []).append(span)
        relations = []
        where = f"{source}#{n}"
        for t in _plain(sdoc._.measures or []):
            qs, qe, is_, ie = (int(v) for v in t)
            q = next((s for s in by_offsets.get((qs, qe), []) if s.label == "QUANTITY"), None)
            i = next((s for s in by_offsets.get((is_, ie), []) if s.label == "INDICATOR"), None)
            if q is None or i is None:
                raise AnnotationError(where, f"doc._.measures entry {tuple(t)} does not match a QUANTITY and "
                                             f"an INDICATOR span")
            relations.append((q.id, i.id))
        meta = dict(info.get("meta") or {})
        meta["source"] = where
        out.append(AnnotatedDocument(id=str(info.get("id", where)), text=sdoc.text, entities=entities,
                                     relations=relations, meta=meta))
    return out


def read_docbin(path: str | Path) -> list[AnnotatedDocument]:
    """Read a ``.spacy`` file written by :func:`write_docbin` (or any DocBin with ``doc.ents``)."""
    from spacy.tokens import DocBin
    path = Path(path)
    try:
        db = DocBin().from_disk(path)
    except OSError as exc:
        raise AnnotationError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    except Exception as exc:  # msgpack/zlib errors on a damaged file
        raise AnnotationError(str(path), f"not a spaCy DocBin ({type(exc).__name__}: {exc})") from None
    return docs_from_docbin(db, str(path))
