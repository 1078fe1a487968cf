"""The library API: ``zhibiao.load()`` -> :class:`Extractor` -> :class:`~zhibiao.records.Record` s.

    nlp = zhibiao.load()                                  # the shipped default model
    records = nlp("脱贫户776户1605人", doc_id="x")        # list[Record]
    for recs in nlp.pipe(texts_or_text_context_pairs, batch_size=32):   # (text, doc_id): spaCy's order
        ...

A record is born here from the spans and links the model predicted (``Prediction``, offsets in
the caller's text) plus the parsed value of the quantity and the taxonomy type of the indicator.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Literal, Mapping, Protocol, Sequence, Union, overload

from .errors import QuantityParseError, ZhibiaoError
from .qualifier import qualifier
from .records import RECORD_FIELDS, Prediction, Record, Span
from .sentences import sentence_of, sentence_starts, split_sentences

if TYPE_CHECKING:
    import pandas as pd

    from .taxonomy import Taxonomy

#: what ``load(taxonomy=...)`` accepts: a YAML file, a dict of the file schema, or a list of them
TaxonomySource = Union[str, Path, Mapping[str, Any], Sequence[Union[str, Path, Mapping[str, Any]]]]

__all__ = ["Extractor", "load", "default_model_path", "records_to_dataframe", "context_doc_id", "pipe_item"]


class Predictor(Protocol):
    def predict_documents(self, texts: Sequence[str], doc_ids: Sequence[str | None] | None = None,
                          batch_size: int = 64) -> list[Prediction]: ...


def model_folder(path: str | Path | None) -> Path:
    """The model folder ``load(path)`` reads: ``path``, or :func:`default_model_path`; it must exist."""
    folder = Path(path) if path is not None else default_model_path()
    if not folder.exists():
        raise ZhibiaoError(f"model folder {folder} does not exist")
    return folder


def default_model_path() -> Path:
    """``$ZHIBIAO_MODEL``, else the shipped ``models/default``."""
    env = os.environ.get("ZHIBIAO_MODEL")
    if env:
        return Path(env)
    return Path(str(resources.files("zhibiao_models") / "default"))


class Extractor:
    """Text in, records out. Load once (``zhibiao.load``), call many times; calls are independent."""

    def __init__(self, predictor: Predictor, taxonomy: Taxonomy, name: str = "model") -> None:
        self.predictor = predictor
        self.taxonomy = taxonomy
        self.name = name

    def __repr__(self) -> str:
        return f"Extractor({self.name})"

    def __call__(self, text: str, doc_id: str | None = None, all_quantities: bool = False) -> list[Record]:
        if not isinstance(text, str):
            raise TypeError(f"Extractor expects a str, got {type(text).__name__}")
        return self.records(self.predictor.predict_documents([text], [doc_id])[0], all_quantities)

    @overload
    def pipe(self, texts: Iterable[str | tuple[str, Any]], batch_size: int = ..., all_quantities: bool = ...,
             as_tuples: Literal[False] = ...) -> Iterator[list[Record]]: ...

    @overload
    def pipe(self, texts: Iterable[tuple[str, Any]], batch_size: int = ..., all_quantities: bool = ..., *,
             as_tuples: Literal[True]) -> Iterator[tuple[list[Record], Any]]: ...

    def pipe(self, texts: Iterable[Any], batch_size: int = 32, all_quantities: bool = False,
             as_tuples: bool = False) -> Iterator[Any]:
        """Records per document, in input order, for texts or ``(text, context)`` pairs (spaCy's order).

        ``context`` names the document: a str doc_id, a dict with ``"doc_id"`` or ``"id"``, an int, or
        ``None`` (:func:`context_doc_id`). A pair whose first item is not a str, or whose context looks
        like the text (a line break, or longer than the "text" and holding Chinese), is refused: the
        order of zhibiao 0.1 was ``(doc_id, text)``. With ``as_tuples=True`` every item is a pair and
        ``(records, context)`` pairs come back, the context as given (``nlp.pipe(..., as_tuples=True)``).
        """
        buf: list[tuple[str, Any]] = []
        for item in texts:
            buf.append(pipe_item(item, as_tuples))
            if len(buf) >= batch_size:
                yield from self._run(buf, all_quantities, as_tuples)
                buf = []
        if buf:
            yield from self._run(buf, all_quantities, as_tuples)

    def _run(self, items: list[tuple[str, Any]], all_quantities: bool, as_tuples: bool) -> Iterator[Any]:
        preds = self.predictor.predict_documents([t for t, _ in items], [context_doc_id(c) for _, c in items])
        for p, (_, context) in zip(preds, items):
            records = self.records(p, all_quantities)
            yield (records, context) if as_tuples else records

    def predict(self, texts: Sequence[str], doc_ids: Sequence[str | None] | None = None) -> list[Prediction]:
        return self.predictor.predict_documents(list(texts), doc_ids)

    def records(self, pred: Prediction, all_quantities: bool = False) -> list[Record]:
        """The records of one prediction: one per linked quantity (plus unlinked ones if asked)."""
        text = pred.text
        sents = split_sentences(text)
        starts = sentence_starts(sents)  # one binary search per quantity: linear in the document's length
        sentence_texts: dict[int, str] = {}  # one str per sentence, shared by its records
        linked = {(l.quantity.start, l.quantity.end): l for l in pred.links}
        out = []
        for q in sorted(pred.quantities, key=lambda s: (s.start, s.end)):
            link = linked.get((q.start, q.end))
            if link is None and not all_quantities:
                continue
            k = sentence_of(sents, q.start, starts)
            if k is None:
                s0, sentence = q.start, text[q.start:q.end]
            else:
                s0 = sents[k][0]
                sentence = sentence_texts.get(k) or sentence_texts.setdefault(k, text[s0:sents[k][1]])
            out.append(self._record(q, link.indicator if link else None, link.score if link else None,
                                    sentence, pred.doc_id, s0))
        return out

    def _record(self, q: Span, ind: Span | None, score: float | None, sentence: str, doc_id: str | None,
                sentence_start: int = 0) -> Record:
        """One record; ``sentence_start`` is the sentence's offset in the text (for the qualifier)."""
        from .quantity import parse_quantity

        value: float | None
        vmax: float | None
        nval: float | None
        nvmax: float | None
        unit: str | None
        nunit: str | None
        try:
            # the unit as written is parse_quantity's: the original characters of the multiplier
            # and unit, pinyin artefacts and whitespace dropped (萬(wàn)元 -> 萬元)
            v = parse_quantity(q.text)
            value, vmax, unit, nval, nunit, nvmax, approx = (v.value, v.value_max, v.unit, v.normalized_value,
                                                             v.normalized_unit, v.normalized_value_max, v.approximate)
        except QuantityParseError:
            value = vmax = nval = nvmax = None
            unit = nunit = None
            approx = False
        itype = self.taxonomy.classify(ind.text) if ind else None
        in_sentence = (ind.start - sentence_start, ind.end - sentence_start) if ind else None
        return Record(
            indicator=ind.text if ind else None, indicator_type=itype,
            quantity=q.text, value=value, value_max=vmax, unit=unit, normalized_value=nval, normalized_unit=nunit,
            normalized_value_max=nvmax,
            qualifier=qualifier(sentence, (q.start - sentence_start, q.end - sentence_start), in_sentence),
            indicator_type_zh=self.taxonomy.name_zh(itype), approximate=approx, start=q.start, end=q.end,
            indicator_start=ind.start if ind else None, indicator_end=ind.end if ind else None,
            sentence=sentence, score=_rounded(score), doc_id=doc_id, quantity_score=_rounded(q.score),
        )


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(float(score), 6)


PIPE_ORDER = "Extractor.pipe takes (text, context) pairs, spaCy's order: the text first, then its doc_id"


def pipe_item(item: Any, pair_required: bool = False) -> tuple[str, Any]:
    """``(text, context)`` of one item of :meth:`Extractor.pipe`; a swapped or malformed pair is refused."""
    if isinstance(item, str) and not pair_required:
        return item, None
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        want = "(text, context) pairs" if pair_required else "str texts or (text, context) pairs"
        raise TypeError(f"Extractor.pipe expects {want}, got {type(item).__name__}"
                        + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))
    text, context = item
    if not isinstance(text, str):
        hint = " (it looks like (doc_id, text): swap them)" if isinstance(context, str) else ""
        raise TypeError(f"{PIPE_ORDER}; got a pair whose first item is {type(text).__name__}{hint}")
    if isinstance(context, str) and _looks_like_text(context, text):
        raise ValueError(f"{PIPE_ORDER} (or a dict {{'doc_id': ...}}); this pair looks swapped, (doc_id, text) as in "
                         f"zhibiao 0.1: its context {context[:20]!r}... reads like a text (a line break, or longer "
                         f"than the text {text[:20]!r} and holding Chinese). Pass (text, doc_id); a doc_id that "
                         "really looks like that goes in a dict context: (text, {'doc_id': ...})")
    return text, context


def _looks_like_text(context: str, text: str) -> bool:
    return "\n" in context or "\r" in context or (len(context) > len(text) and any(
        "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in context))


def context_doc_id(context: Any) -> str | None:
    """The doc_id a pipe context names: a str itself, a dict's ``"doc_id"`` (else ``"id"``), an int as
    str; ``None`` for anything else (the context still comes back with ``as_tuples``)."""
    if isinstance(context, str):
        return context
    if isinstance(context, Mapping):
        value = context.get("doc_id", context.get("id"))
        return None if value is None else str(value)
    if isinstance(context, int) and not isinstance(context, bool):
        return str(context)
    return None


ONEDNN_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"


def bound_kernel_caches() -> None:
    """Turn off oneDNN's primitive cache for this process unless the user set its size.

    oneDNN (behind torch's CPU convolution) keeps a compiled primitive, with its buffers, for each
    input shape it sees, up to 1,024 of them. Measured in one process over 12,000 documents: the
    cache's live memory grew by 24 MB and the heap fragmented around it (peak RSS 562 MB after
    3,200 documents, 576 MB after 11,500); without it the heap stays flat (467 MB) at the same
    speed. oneDNN reads the variable when it first builds a primitive, so call this before the
    first forward pass: ``zhibiao extract``, its workers and the Ray actor do; a library user who
    wants it calls it before :func:`load`."""
    os.environ.setdefault(ONEDNN_CACHE_ENV, "0")


def load(path: str | Path | None = None, device: str = "cpu", *, quantize: bool = False,
         threads: int | None = None, taxonomy: TaxonomySource | None = None) -> Extractor:
    """Load an :class:`Extractor`.

    Args:
        path: a model folder (as written by ``zhibiao train``); ``None`` for the shipped default
            model (or ``$ZHIBIAO_MODEL``, see :func:`default_model_path`); ``"rules"`` for the
            rule baseline (no model, no torch weights).
        device: the torch device the model runs on (``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...).
        quantize: quantise the model's linear layers to int8 (CPU; faster, scores may move in
            the last digits).
        threads: torch's intra-op thread count for this process (default: torch's own choice).
        taxonomy: user taxonomy YAML file(s) (or dicts of the same schema) extending the
            model's taxonomy, which changes ``Record.indicator_type`` only.

    Raises:
        ZhibiaoError: the model folder does not exist (``ModelLoadError`` when it is incomplete).
    """
    import torch

    if threads:
        torch.set_num_threads(int(threads))
    if path is not None and str(path) == "rules":
        from .baseline import RuleBaseline
        from .taxonomy import Taxonomy

        tax = Taxonomy.load(extend=taxonomy)
        return Extractor(RuleBaseline(tax), tax, name="rules")
    from .model.core import ZhibiaoModel

    model_path = model_folder(path)
    model = ZhibiaoModel.from_pretrained(model_path, device=device)
    if quantize:
        model.quantize()
    if taxonomy is not None:
        from .taxonomy import Taxonomy

        model.taxonomy = Taxonomy.load(model_path / "taxonomy.yaml", extend=taxonomy)
    return Extractor(model, model.taxonomy, name=str(model_path))


def records_to_dataframe(records: Iterable[Record] | Iterable[Iterable[Record]]) -> pd.DataFrame:
    """Records as a pandas DataFrame (one row per record, the SPEC's columns, in order).

    Takes records (``nlp(text)``) or an iterable of record lists (``nlp.pipe(texts)``), or a mix.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for item in records:
        if isinstance(item, Record):
            rows.append(item.to_dict())
            continue
        if isinstance(item, (str, bytes, Mapping)) or not isinstance(item, Iterable):
            raise TypeError(f"records_to_dataframe expects Records or lists of Records, got {type(item).__name__}")
        for r in item:
            if not isinstance(r, Record):
                raise TypeError(f"records_to_dataframe expects Records or lists of Records, "
                                f"got a list holding {type(r).__name__}")
            rows.append(r.to_dict())
    return pd.DataFrame(rows, columns=list(RECORD_FIELDS))
