"""The dataclasses every other module shares.

A record is born in :mod:`zhibiao.extract` from the spans and links that :mod:`zhibiao.model`
predicted on text that :mod:`zhibiao.normalize` produced from a :class:`Document` that
:mod:`zhibiao.ingest` read. Offsets are always Python string indices into the text exactly as
the caller (or the file) gave it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

QUANTITY = "QUANTITY"
INDICATOR = "INDICATOR"
LABELS = (QUANTITY, INDICATOR)
MEASURES = "MEASURES"


@dataclass(frozen=True)
class Document:
    """One report as read from a string, a file, an archive member or a JSONL line."""

    doc_id: str
    text: str
    encoding: str | None = None
    source: str | None = None  # the file or archive it came from, when there is one


@dataclass(frozen=True)
class Span:
    """A labelled character span ``text[start:end]``."""

    start: int
    end: int
    label: str
    text: str
    id: str | None = None
    score: float | None = 1.0  # a predictor's confidence in the span; None: it gives none (the rule baseline)
    indicator_type: str | None = None  # INDICATOR spans only, optional in annotations

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} < start {self.start}")


@dataclass(frozen=True)
class Link:
    """A MEASURES relation from a QUANTITY span to an INDICATOR span."""

    quantity: Span
    indicator: Span
    score: float | None = 1.0  # the link probability; None: the predictor gives none (the rule baseline)


@dataclass
class AnnotatedDocument:
    """A document with gold (or predicted) entities and MEASURES relations.

    ``relations`` holds ``(from_id, to_id)`` pairs of entity ids (QUANTITY -> INDICATOR). A
    :class:`Prediction` becomes one with :meth:`Prediction.to_annotated` (the one conversion
    between the two; every writer of annotation formats goes through it).
    """

    id: str
    text: str
    entities: list[Span] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def entity(self, entity_id: str) -> Span:
        for e in self.entities:
            if e.id == entity_id:
                return e
        raise KeyError(entity_id)

    @property
    def quantities(self) -> list[Span]:
        return [e for e in self.entities if e.label == QUANTITY]

    @property
    def indicators(self) -> list[Span]:
        return [e for e in self.entities if e.label == INDICATOR]

    def links(self) -> list[Link]:
        by_id = {e.id: e for e in self.entities}
        return [Link(by_id[a], by_id[b]) for a, b in self.relations]


@dataclass
class Record:
    """What the library returns for each linked quantity (see SPEC.md, 'Record'; fields in its order).

    ``qualifier`` is :func:`zhibiao.qualifier.qualifier`'s word (None: the figure counts the
    indicator's group itself); ``indicator_type_zh`` the type's Chinese name in the taxonomy.
    ``score`` is the link's confidence only (None for an unlinked quantity, and for the rule
    baseline, which has no confidence); ``quantity_score``, a field added to SPEC's record, is the
    tagger's confidence in the quantity span, linked or not (None for the rule baseline).
    """

    indicator: str | None
    indicator_type: str | None
    quantity: str
    value: float | None
    value_max: float | None
    unit: str | None
    normalized_value: float | None
    normalized_unit: str | None
    normalized_value_max: float | None
    qualifier: str | None
    indicator_type_zh: str | None
    approximate: bool
    start: int
    end: int
    indicator_start: int | None
    indicator_end: int | None
    sentence: str
    score: float | None
    doc_id: str | None
    quantity_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        # every field is a scalar: a shallow copy equals ``asdict`` without its deep copies
        # (which cost ~8% of a batch run)
        return {name: getattr(self, name) for name in RECORD_FIELDS}


RECORD_FIELDS: tuple[str, ...] = tuple(Record.__dataclass_fields__)


@dataclass
class Prediction:
    """What a model (or the rule baseline) predicts for one document, in original-text offsets.

    ``spans`` holds every predicted QUANTITY and INDICATOR span (with its tagger score);
    ``links`` holds the MEASURES links (with the link probability as ``score``). A quantity
    appears in at most one link.
    """

    doc_id: str | None
    text: str
    spans: list[Span] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    @property
    def quantities(self) -> list[Span]:
        return [s for s in self.spans if s.label == QUANTITY]

    @property
    def indicators(self) -> list[Span]:
        return [s for s in self.spans if s.label == INDICATOR]

    def to_annotated(self) -> AnnotatedDocument:
        """This prediction as an :class:`AnnotatedDocument` (``id`` = ``doc_id``, ``""`` when None).

        Spans are numbered ``"1"``, ``"2"``, ... in (start, end, label) order and keep their
        scores; a link whose span is not among ``spans`` adds it (numbered after them); each link
        becomes a ``(quantity id, indicator id)`` relation (a repeated pair once). Link scores do
        not fit the relation tuples: :meth:`link_scores` gives them keyed by those relations.
        """
        return self._annotated()[0]

    def link_scores(self) -> dict[tuple[str, str], float | None]:
        """The link scores keyed by the relations of :meth:`to_annotated` (a repeated pair: the
        last link's score)."""
        return self._annotated()[1]

    def _annotated(self) -> tuple[AnnotatedDocument, dict[tuple[str, str], float | None]]:
        spans: list[Span] = []
        key_to_id: dict[tuple[int, int, str], str] = {}

        def add(s: Span) -> str:
            key = (s.start, s.end, s.label)
            if key not in key_to_id:
                sid = str(len(spans) + 1)
                key_to_id[key] = sid
                spans.append(replace(s, id=sid))
            return key_to_id[key]

        for s in sorted(self.spans, key=lambda s: (s.start, s.end, s.label)):
            add(s)
        relations: list[tuple[str, str]] = []
        scores: dict[tuple[str, str], float | None] = {}
        for link in self.links:
            pair = (add(link.quantity), add(link.indicator))
            if pair not in scores:
                relations.append(pair)
            scores[pair] = link.score
        doc = AnnotatedDocument(id=str(self.doc_id) if self.doc_id is not None else "", text=self.text,
                                entities=spans, relations=relations, meta={})
        return doc, scores
