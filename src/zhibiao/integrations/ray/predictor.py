"""The Ray predictor: a ``Dataset.map_batches`` class that turns (doc_id, text) rows into record
rows, and the schemas of its input and output (see :mod:`zhibiao.integrations.ray`)."""
from __future__ import annotations

import math
from typing import Any

from ...batch import predict_records
from ...errors import ZhibiaoError
from ...io.writers import arrow_schema
from ...records import RECORD_FIELDS, Document

ERROR = "error"
DOC_INDEX = "doc_index"


def _pa():
    import pyarrow as pa

    return pa


def input_schema():
    """The columns of :func:`read_documents_dataset`: doc_index, doc_id, text, error."""
    pa = _pa()
    return pa.schema([(DOC_INDEX, pa.int64()), ("doc_id", pa.string()), ("text", pa.string()), (ERROR, pa.string())])


def output_schema(with_doc_index: bool = True):
    """The record fields (``arrow_schema()``) + ``error`` (+ ``doc_index``)."""
    pa = _pa()
    schema = arrow_schema().append(pa.field(ERROR, pa.string()))
    if with_doc_index:
        schema = schema.append(pa.field(DOC_INDEX, pa.int64()))
    return schema


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas comes with ray[data]
        pass
    return isinstance(v, float) and math.isnan(v)


def _columns(batch: Any) -> dict[str, list]:
    """A batch in any Ray batch format (pyarrow, pandas, dict of numpy arrays) as python lists."""
    pa = _pa()
    if isinstance(batch, pa.Table):
        return batch.to_pydict()
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):  # pandas DataFrame
        return {c: batch[c].tolist() for c in batch.columns}
    if isinstance(batch, dict):
        return {k: list(v.tolist() if hasattr(v, "tolist") else v) for k, v in batch.items()}
    raise TypeError(f"unsupported batch type {type(batch).__name__}")


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def split_error(error: str) -> tuple[str, str]:
    """``"ErrorType: message"`` -> (error_type, message) as in the local runner's errors file."""
    kind, sep, message = error.partition(": ")
    if not sep or not kind.isidentifier():
        return "Error", error
    return kind, message


class ZhibiaoPredictor:
    """A callable class for ``Dataset.map_batches``: loads the extractor once per actor.

    Constructor keyword arguments (``fn_constructor_kwargs``): ``model`` (a model folder reachable
    from every worker, ``"rules"``, or None for the shipped default), ``device``, ``quantize``,
    ``threads``, ``taxonomy`` — as for :func:`zhibiao.load` — and ``all_quantities`` (also emit
    quantities without a linked indicator) and ``keep_empty`` (see the module docstring).

    Input batch columns: ``doc_id`` and ``text``; optional ``error`` (rows with an error are passed
    through as error rows, their text is not read) and ``doc_index`` (passed through). Any Ray batch
    format is accepted; the output is always a ``pyarrow.Table`` with :func:`output_schema` columns.
    """

    def __init__(self, model: str | None = None, *, device: str = "cpu", quantize: bool = False,
                 threads: int | None = None, taxonomy: str | None = None, all_quantities: bool = False,
                 keep_empty: bool = False):
        from ...extract import bound_kernel_caches, load

        bound_kernel_caches()  # an actor predicts for as long as the job runs: keep its memory flat
        self.extractor = load(model, device=device, quantize=quantize, threads=threads, taxonomy=taxonomy)
        self.all_quantities = all_quantities
        self.keep_empty = keep_empty

    def extract(self, docs: list[Document]) -> list:
        """Records per document, or the exception that stopped it (a failing batch is retried one
        document at a time, exactly like the local runner)."""
        return predict_records(self.extractor, docs, self.all_quantities)

    def __call__(self, batch: Any):
        pa = _pa()
        cols = _columns(batch)
        if "doc_id" not in cols or "text" not in cols:
            raise ZhibiaoError(f"ZhibiaoPredictor needs columns doc_id and text, got {sorted(cols)}")
        n = len(cols["doc_id"])
        ids = [None if _missing(v) else str(v) for v in cols["doc_id"]]
        texts = cols["text"]
        errors = cols.get(ERROR, [None] * n)
        index = cols.get(DOC_INDEX)
        with_index = index is not None

        todo: list[int] = []
        row_error: dict[int, str] = {}
        for i in range(n):
            if not _missing(errors[i]):
                row_error[i] = str(errors[i])
            elif not isinstance(texts[i], str):
                row_error[i] = error_text(ZhibiaoError(f"{ids[i]}: no text"))
            else:
                todo.append(i)
        results = dict(zip(todo, self.extract([Document(ids[i] or "", texts[i]) for i in todo])))

        out: dict[str, list] = {f: [] for f in RECORD_FIELDS}
        out[ERROR] = []
        if with_index:
            out[DOC_INDEX] = []

        def row(rec: dict | None, doc_id: str | None, error: str | None, i: int) -> None:
            for f in RECORD_FIELDS:
                out[f].append(rec[f] if rec is not None else None)
            if rec is None:
                out["doc_id"][-1] = doc_id
            out[ERROR].append(error)
            if index is not None:
                out[DOC_INDEX].append(None if _missing(index[i]) else int(index[i]))

        for i in range(n):
            if i in row_error:
                row(None, ids[i], row_error[i], i)
                continue
            res = results[i]
            if isinstance(res, BaseException):
                row(None, ids[i], error_text(res), i)
                continue
            if not res and self.keep_empty:
                row(None, ids[i], None, i)
            for r in res:
                d = r.to_dict()
                d["doc_id"] = ids[i]
                row(d, ids[i], None, i)
        return pa.Table.from_pydict(out, schema=output_schema(with_index))

