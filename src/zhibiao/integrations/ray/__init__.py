"""Scale extraction out on a Ray cluster: the same records as the local batch runner, many machines.

    import ray, zhibiao
    from zhibiao.integrations.ray import ZhibiaoPredictor, read_documents_dataset

    ds = read_documents_dataset("s3://bucket/reports.zip")          # doc_index, doc_id, text, error
    out = ds.map_batches(ZhibiaoPredictor, fn_constructor_kwargs={"model": None}, batch_size=16,
                         batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(min_size=1, max_size=8))
    out.write_parquet("s3://bucket/out/")                            # one row per record

Rows of the predictor's output
------------------------------
One row per :class:`~zhibiao.records.Record`, with the SPEC's record fields as columns, named and
typed like :func:`zhibiao.io.writers.arrow_schema`, plus

- ``error`` (string): null for a record; for a document that could not be read (an ingest error
  passed through from :func:`read_documents_dataset`) or whose extraction raised, the document
  gives exactly **one** row with ``doc_id``, ``error = "ErrorType: message"`` and every other
  record field null. A failing document never fails the job.
- ``doc_index`` (int64), when the input has it (:func:`read_documents_dataset` adds it): the
  document's position in the input, so ``sort(["doc_index", "start", "end"])`` restores the
  local runner's order.

A document that was read and extracted but has **no record** gives **zero rows** (the records
file of the local runner has no line for it either). To account for every document anyway, count
the input (``ds.count()``): documents = (distinct ``doc_id`` among the output rows) + (documents
with no record); or pass ``keep_empty=True``, which gives such a document one row with null record
fields and null ``error`` (filter ``start IS NOT NULL`` to get the records back).

``zhibiao extract --engine ray`` calls :func:`run_ray_extract`: see its docstring.

Modules: :mod:`~zhibiao.integrations.ray.predictor` (:class:`ZhibiaoPredictor`, the schemas),
:mod:`~zhibiao.integrations.ray.dataset` (:func:`read_documents_dataset`, URI inputs) and
:mod:`~zhibiao.integrations.ray.engine` (:func:`run_ray_extract`).
"""
from __future__ import annotations

from .dataset import read_documents_dataset
from .engine import run_ray_extract
from .predictor import ZhibiaoPredictor, input_schema, output_schema

__all__ = ["ZhibiaoPredictor", "read_documents_dataset", "run_ray_extract", "input_schema", "output_schema"]
