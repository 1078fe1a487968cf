"""The engine of ``zhibiao extract --engine ray``: :func:`run_ray_extract` reads, predicts on a
pool of Ray actors, restores the local runner's order and writes the records and errors files."""
from __future__ import annotations

import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from ...batch import Summary
from ...errors import ZhibiaoError
from ...io.writers import (RecordsWriter, error_line, errors_path_for, is_uri, open_text, output_format,
                           record_line)
from ...records import RECORD_FIELDS
from .dataset import read_documents_dataset
from .predictor import DOC_INDEX, ERROR, ZhibiaoPredictor, split_error


def _only(batch, errors: bool):
    import pyarrow.compute as pc

    mask = pc.is_valid(batch[ERROR])
    return batch.filter(mask if errors else pc.invert(mask))


def _drop_error_rows(batch):
    return _only(batch, errors=False).drop_columns([ERROR])


def _drop_doc_index(batch):
    return batch.drop_columns([DOC_INDEX])


def _error_rows(batch):
    return _only(batch, errors=True).select([DOC_INDEX, "doc_id", ERROR])


def _cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


@contextmanager
def _ray_session(address: str | None, progress: bool) -> Iterator[None]:
    """Ray for the job: the one already initialised, else ``ray.init`` (``address``, else a local
    instance or the one ``RAY_ADDRESS`` names), shut down afterwards; Ray's bars off without
    ``progress``."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ZhibiaoError('--engine ray needs Ray: pip install "zhibiao[ray]"') from exc
    started = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"address": address or None, "log_to_driver": False}
        if not address:
            kw["include_dashboard"] = False
        ray.init(**kw)
        started = True
    elif address:
        print("zhibiao extract: Ray is already initialised; --ray-address ignored", file=sys.stderr)
    ctx = ray.data.DataContext.get_current()
    old_bars = ctx.enable_progress_bars
    if not progress:
        ctx.enable_progress_bars = False
    try:
        yield
    finally:
        ctx.enable_progress_bars = old_bars
        if started:
            ray.shutdown()


def _predict_dataset(docs, n_docs: int, batch_size: int, threads: int | None, predictor_kwargs: dict):
    """Run :class:`ZhibiaoPredictor` over ``docs`` on up to (cluster CPUs / ``threads``) actors, at
    most one per batch; the materialised output."""
    import ray.data

    per_actor = int(threads or 1)
    actors = max(1, _cluster_cpus() // per_actor)
    actors = min(actors, max(1, math.ceil(n_docs / max(1, batch_size))))
    return docs.map_batches(
        ZhibiaoPredictor, fn_constructor_kwargs={**predictor_kwargs, "threads": threads},
        batch_size=batch_size, batch_format="pyarrow", num_cpus=per_actor,
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors),
    ).materialize()


def _sorted_records(out, n_records: int):
    """The record rows of the predictor's output, in the local runner's order (input order, start,
    end), without the ``error`` and ``doc_index`` columns."""
    records = out.map_batches(_drop_error_rows, batch_format="pyarrow")
    if n_records:
        records = records.sort([DOC_INDEX, "start", "end"])
    return records.map_batches(_drop_doc_index, batch_format="pyarrow")


def _remote_format(output: str) -> str:
    """The format Ray writes an output URI's folder in; ``.xlsx`` (one workbook) is a ZhibiaoError."""
    suffix = Path(output.rstrip("/")).suffix.lower()
    if suffix == ".xlsx":
        raise ZhibiaoError(f"{output}: an .xlsx output is one local file; give a local path, or an output URI "
                           f"ending in .jsonl, .csv or .parquet (or a folder: Parquet)")
    return {".jsonl": "jsonl", ".csv": "csv"}.get(suffix, "parquet")


def _write_records(records, n_records: int, output: str) -> None:
    """An output URI: a folder written by Ray; a local output: the local runner's writer."""
    if is_uri(output):
        if n_records:
            fmt = _remote_format(output)
            {"jsonl": records.write_json, "csv": records.write_csv, "parquet": records.write_parquet}[fmt](output)
        return
    writer = RecordsWriter(output, resumable=False)
    try:
        if n_records:
            for batch in records.iter_batches(batch_format="pyarrow", batch_size=4096):
                writer.write_lines([record_line(row) for row in batch.select(list(RECORD_FIELDS)).to_pylist()])
    finally:
        writer.close()


def _write_errors(failed: list[dict], errors_path: str) -> None:
    with open_text(errors_path) as err:
        for e in failed:
            kind, message = split_error(e[ERROR])
            err.write(error_line(e["doc_id"], kind, message))


def run_ray_extract(inputs: Sequence[str], output: str, *, errors: str | None = None, model: str | None = None,
                    quantize: bool = False, threads: int | None = None, taxonomy: str | None = None,
                    all_quantities: bool = False, batch_size: int = 64, max_unpacked_bytes: int | None = None,
                    ray_address: str | None = None, progress: bool = True) -> Summary:
    """What ``zhibiao extract INPUT... -o OUTPUT --engine ray [--ray-address ADDR]`` runs.

    - Connects to ``ray_address`` (``auto``, ``ray://host:10001``, ...) or, without it, starts a
      local Ray instance (or joins the one ``RAY_ADDRESS`` names, as ``ray.init`` does); an already
      initialised Ray (e.g. in a notebook) is used as it is.
    - Reads the inputs on the driver (:func:`read_documents_dataset`; URIs are copied locally first),
      runs :class:`ZhibiaoPredictor` on an autoscaling pool of up to (cluster CPUs / ``threads``)
      actors, ``batch_size`` documents per call, then sorts the records by (input order, start,
      end): the records equal those of the local engine, row for row and byte for byte.
    - A local ``output`` (``.jsonl``, ``.csv``, ``.parquet``) is one file written by the local
      runner's :class:`~zhibiao.io.writers.RecordsWriter` (no ``.progress.jsonl``). An ``output``
      URI (anything with ``://``, e.g. ``s3://bucket/out/``) is written by Ray itself as a *folder*
      of files, in parallel: ``write_json`` when it ends in ``.jsonl``, ``write_csv`` for ``.csv``,
      ``write_parquet`` otherwise (the folder holds no file when there is no record). Ray numbers
      the files by partition, so reading the folder in file-name order (as pyarrow and pandas do)
      gives the sorted order (checked with Ray 2.60 through ``file://``); the values equal the
      local run's, the bytes of Ray's JSON/CSV writers may differ from the local writers'.
    - Failed documents go to ``errors`` (default ``OUTPUT + '.errors.jsonl'``; for a URI ``OUTPUT``
      without the trailing ``/``), one JSON line each: doc_id, error_type, message.
    - Returns the run's :class:`~zhibiao.batch.Summary`. There is no resume (a Ray job is retried
      as a whole; Ray retries failed tasks itself).
    """
    output = str(output)
    if not is_uri(output):
        output_format(output)
    else:
        _remote_format(output)
    errors_path = errors or errors_path_for(output)
    t0 = time.time()
    with _ray_session(ray_address, progress):
        stats: dict = {}
        docs = read_documents_dataset(inputs, max_unpacked_bytes=max_unpacked_bytes, _stats=stats)
        out = _predict_dataset(docs, stats["documents"], batch_size, threads,
                               {"model": model, "quantize": quantize, "taxonomy": taxonomy,
                                "all_quantities": all_quantities})
        failed = sorted((r for b in out.map_batches(_error_rows, batch_format="pyarrow").iter_batches(
            batch_format="pyarrow") for r in b.to_pylist()), key=lambda r: r[DOC_INDEX])
        n_records = out.count() - len(failed)  # metadata of the materialised blocks: no extra pass
        _write_records(_sorted_records(out, n_records), n_records, output)
        _write_errors(failed, errors_path)
    failed_idx = {e[DOC_INDEX] for e in failed}
    characters = sum(n for i, n in enumerate(stats.get("lengths", [])) if i not in failed_idx)
    return Summary(documents=stats.get("documents", 0), records=n_records, failures=len(failed),
                   characters=characters, seconds=time.time() - t0)
