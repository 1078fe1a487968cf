"""zhibiao as a spaCy pipeline component::

    import spacy
    nlp = spacy.blank("zh")                 # one token per character (spaCy's default Chinese segmenter)
    nlp.add_pipe("zhibiao")                 # or nlp.add_pipe("zhibiao", config={"model": "path/to/model"})
    doc = nlp("大佛镇脱贫户776户1605人。")
    doc.ents                                # (脱贫户, 776户, 1605人): labels INDICATOR, QUANTITY
    doc._.zhibiao_links                     # [ZhibiaoLink(quantity=776户, indicator=脱贫户, score=0.99), ...]
    doc._.zhibiao_records                   # [Record(...), ...]: what zhibiao.load()(text) returns
    for doc, ctx in nlp.pipe([(text, "doc-1")], as_tuples=True): ...

The factory ``"zhibiao"`` is registered when this module is imported; an installed zhibiao
declares it as a ``spacy_factories`` entry point, so spaCy finds it without the import.

Config: ``model`` (a model folder, ``"rules"``, or null for the shipped model), ``taxonomy``
(an extra taxonomy YAML), ``threads`` (torch threads), ``all_quantities`` (records for unlinked
quantities too), ``batch_size`` (documents per model call in ``nlp.pipe``).

Entities are predicted on ``doc.text`` and aligned to tokens with
``doc.char_span(start, end, alignment_mode="expand")``: with the character segmenter the spans
are exactly the predicted characters; a coarser tokenizer widens them to whole tokens. They
replace the ``doc.ents`` they overlap; other entities stay. Records keep exact character offsets.
A record's ``doc_id`` is the context's (``nlp.pipe(..., as_tuples=True)``: a str, or a dict's
``"doc_id"`` / ``"id"``), else ``None``.

What the component stores is plain data (``doc._.zhibiao_data``: links as character offsets with
their scores, records as dicts), so ``Doc.to_bytes`` / ``DocBin(store_user_data=True)`` keep it;
``doc._.zhibiao_links`` and ``doc._.zhibiao_records`` are computed from it.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, NamedTuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .extract import Extractor, context_doc_id, load
from .records import Prediction, Record

__all__ = ["ZhibiaoComponent", "ZhibiaoLink", "make_zhibiao", "register_extensions"]

DEFAULT_CONFIG: dict[str, Any] = {"model": None, "taxonomy": None, "threads": None, "all_quantities": False,
                                  "batch_size": 32}


class ZhibiaoLink(NamedTuple):
    """One MEASURES link of a Doc: the quantity's and the indicator's spaCy spans and the link score
    (None for the rule baseline, which has none)."""

    quantity: Span
    indicator: Span
    score: float | None


def _links(doc: Doc) -> list[ZhibiaoLink]:
    data = doc._.zhibiao_data or {}
    out = []
    for qs, qe, is_, ie, score in data.get("links", []):
        q = doc.char_span(qs, qe, label="QUANTITY", alignment_mode="expand")
        i = doc.char_span(is_, ie, label="INDICATOR", alignment_mode="expand")
        if q is not None and i is not None:
            out.append(ZhibiaoLink(q, i, None if score is None else float(score)))
    return out


def _records(doc: Doc) -> list[Record]:
    data = doc._.zhibiao_data or {}
    return [Record(**r) for r in data.get("records", [])]


def register_extensions() -> None:
    """``Doc._.zhibiao_data`` (stored), ``Doc._.zhibiao_links`` and ``Doc._.zhibiao_records`` (computed)."""
    if not Doc.has_extension("zhibiao_data"):
        Doc.set_extension("zhibiao_data", default=None)
    if not Doc.has_extension("zhibiao_links"):
        Doc.set_extension("zhibiao_links", getter=_links)
    if not Doc.has_extension("zhibiao_records"):
        Doc.set_extension("zhibiao_records", getter=_records)


class ZhibiaoComponent:
    """The pipeline component: an :class:`~zhibiao.extract.Extractor` that writes into Docs."""

    def __init__(self, extractor: Extractor, name: str = "zhibiao", all_quantities: bool = False,
                 batch_size: int = 32) -> None:
        register_extensions()
        self.extractor = extractor
        self.name = name
        self.all_quantities = all_quantities
        self.batch_size = batch_size

    def __call__(self, doc: Doc) -> Doc:
        return self._annotate([doc])[0]

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        size = max(1, batch_size or self.batch_size)
        buf: list[Doc] = []
        for doc in docs:
            buf.append(doc)
            if len(buf) >= size:
                yield from self._annotate(buf)
                buf = []
        if buf:
            yield from self._annotate(buf)

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        ids = [context_doc_id(getattr(doc, "_context", None)) for doc in docs]
        preds = self.extractor.predict([doc.text for doc in docs], ids)
        for doc, pred in zip(docs, preds):
            self._set(doc, pred)
        return docs

    def _set(self, doc: Doc, pred: Prediction) -> None:
        spans = []
        for s in sorted({(s.start, s.end, s.label) for s in _entities(pred)}):
            span = doc.char_span(s[0], s[1], label=s[2], alignment_mode="expand")
            if span is not None:
                spans.append(span)
        ours = filter_spans(spans)
        taken = {i for span in ours for i in range(span.start, span.end)}
        others = [e for e in doc.ents if not any(i in taken for i in range(e.start, e.end))]
        doc.ents = sorted(ours + others, key=lambda e: e.start)
        links = [[l.quantity.start, l.quantity.end, l.indicator.start, l.indicator.end, None if l.score is None else round(float(l.score), 6)]
                 for l in sorted(pred.links, key=lambda l: (l.quantity.start, l.quantity.end))]
        records = [r.to_dict() for r in self.extractor.records(pred, self.all_quantities)]
        doc._.zhibiao_data = {"links": links, "records": records}


def _entities(pred: Prediction) -> list[Any]:
    """Every predicted span, and the two ends of every link (a link's span is always an entity)."""
    return list(pred.spans) + [s for l in pred.links for s in (l.quantity, l.indicator)]


@Language.factory("zhibiao", default_config=DEFAULT_CONFIG,
                  assigns=["doc.ents", "doc._.zhibiao_data", "doc._.zhibiao_links", "doc._.zhibiao_records"])
def make_zhibiao(nlp: Language, name: str, model: str | None, taxonomy: str | None, threads: int | None,
                 all_quantities: bool, batch_size: int) -> ZhibiaoComponent:
    """The ``"zhibiao"`` factory: loads the model once (``zhibiao.load(model, ...)``)."""
    return ZhibiaoComponent(load(model, threads=threads, taxonomy=taxonomy), name=name,
                            all_quantities=all_quantities, batch_size=batch_size)
