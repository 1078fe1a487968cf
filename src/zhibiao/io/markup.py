"""Inline markup for writing gold annotations by hand, and for reviewing them.

A marked span is ``[surface]{TAG}`` where TAG is one of

- ``Q``          a QUANTITY with no link;
- ``Q:k``        a QUANTITY linked (MEASURES) to the indicator with key ``k``;
- ``I:k``        an INDICATOR with key ``k`` (keys are unique within a document);
- ``I:k=type``   the same, with its taxonomy type id.

Keys are ASCII letters, digits or ``_``. Everything outside the markup is the document text,
character for character; ``[``, ``]``, ``{`` and ``}`` must not occur in it otherwise. A file of
markup may start with a metadata line ``#meta {json}``.

:func:`parse_markup` turns markup into an :class:`AnnotatedDocument`; :func:`to_markup` renders
a document back (so a gold file can be read and reviewed as text).
"""
from __future__ import annotations

import json
import re

from ..errors import AnnotationError
from ..records import INDICATOR, QUANTITY, AnnotatedDocument, Span

__all__ = ["parse_markup", "to_markup"]

_MARK = re.compile(r"\[([^\[\]{}]+)\]\{(Q|I)(?::([A-Za-z0-9_]+)(?:=([A-Za-z0-9_]+))?)?\}")
_STRAY = re.compile(r"[\[\]{}]")


def _line_of(src: str, pos: int) -> int:
    return src.count("\n", 0, pos) + 1


def parse_markup(src: str, doc_id: str, where: str | None = None) -> AnnotatedDocument:
    where = where or doc_id
    meta: dict = {}
    body_offset = 0
    if src.startswith("#meta "):
        first, _, rest = src.partition("\n")
        try:
            meta = json.loads(first[len("#meta "):])
        except json.JSONDecodeError as exc:
            raise AnnotationError(f"{where}:1", f"bad #meta line ({exc.msg})") from None
        body_offset = len(first) + 1
        src_body = rest
    else:
        src_body = src
    out: list[str] = []
    entities: list[Span] = []
    quantities: list[tuple[Span, str | None, int]] = []
    indicators: dict[str, Span] = {}
    pos = 0
    n_text = 0
    next_id = 1
    for m in _MARK.finditer(src_body):
        chunk = src_body[pos:m.start()]
        stray = _STRAY.search(chunk)
        if stray:
            line = _line_of(src, body_offset + pos + stray.start())
            raise AnnotationError(f"{where}:{line}", f"stray {stray.group()!r} outside a [span]{{TAG}} mark")
        out.append(chunk)
        n_text += len(chunk)
        surface, kind, key, itype = m.groups()
        start, end = n_text, n_text + len(surface)
        out.append(surface)
        n_text = end
        line = _line_of(src, body_offset + m.start())
        eid = str(next_id)
        next_id += 1
        if kind == "Q":
            if itype:
                raise AnnotationError(f"{where}:{line}", f"a quantity cannot carry a type: {m.group()}")
            span = Span(start, end, QUANTITY, surface, id=eid)
            quantities.append((span, key, line))
        else:
            if not key:
                raise AnnotationError(f"{where}:{line}", f"an indicator needs a key: {m.group()}")
            if key in indicators:
                raise AnnotationError(f"{where}:{line}", f"indicator key {key!r} used twice")
            span = Span(start, end, INDICATOR, surface, id=eid, indicator_type=itype)
            indicators[key] = span
        entities.append(span)
        pos = m.end()
    tail = src_body[pos:]
    stray = _STRAY.search(tail)
    if stray:
        line = _line_of(src, body_offset + pos + stray.start())
        raise AnnotationError(f"{where}:{line}", f"stray {stray.group()!r} outside a [span]{{TAG}} mark")
    out.append(tail)
    relations: list[tuple[str, str]] = []
    for span, key, line in quantities:
        if key is None:
            continue
        if key not in indicators:
            raise AnnotationError(f"{where}:{line}", f"quantity {span.text!r} links to unknown indicator key {key!r}",
                                  entity_id=span.id)
        relations.append((span.id, indicators[key].id))
    return AnnotatedDocument(id=doc_id, text="".join(out), entities=entities, relations=relations, meta=meta)


def to_markup(doc: AnnotatedDocument, with_meta: bool = False) -> str:
    """Render ``doc`` as markup. Indicator keys are ``i<entity id>``."""
    link_of = dict(doc.relations)
    parts: list[str] = []
    if with_meta and doc.meta:
        meta = {k: v for k, v in doc.meta.items() if k != "source"}
        parts.append("#meta " + json.dumps(meta, ensure_ascii=False) + "\n")
    pos = 0
    for e in sorted(doc.entities, key=lambda s: (s.start, s.end)):
        if e.start < pos:  # overlapping spans cannot be written inline; the validator reports them
            continue
        parts.append(doc.text[pos:e.start])
        if e.label == QUANTITY:
            tag = f"Q:i{link_of[e.id]}" if e.id in link_of else "Q"
        else:
            tag = f"I:i{e.id}" + (f"={e.indicator_type}" if e.indicator_type else "")
        parts.append(f"[{doc.text[e.start:e.end]}]{{{tag}}}")
        pos = e.end
    parts.append(doc.text[pos:])
    return "".join(parts)
