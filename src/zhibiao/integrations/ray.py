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

``zhibiao extract --engine ray`` is :func:`run_ray_extract`: see its docstring.
"""
from __future__ import annotations

import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..errors import IngestError, ZhibiaoError
from ..records import RECORD_FIELDS, Document

__all__ = ["ZhibiaoPredictor", "read_documents_dataset", "run_ray_extract", "input_schema", "output_schema"]

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
    from ..io.writers import arrow_schema

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


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _split_error(error: str) -> tuple[str, str]:
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
        from ..extract import bound_kernel_caches, load

        bound_kernel_caches()  # an actor predicts for as long as the job runs: keep its memory flat
        self.extractor = load(model, device=device, quantize=quantize, threads=threads, taxonomy=taxonomy)
        self.all_quantities = all_quantities
        self.keep_empty = keep_empty

    def extract(self, docs: list[Document]) -> list:
        """Records per document, or the exception that stopped it (a failing batch is retried one
        document at a time, exactly like the local runner)."""
        from ..batch import _predict

        return _predict(self.extractor, docs, self.all_quantities)

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
                row_error[i] = _error_text(ZhibiaoError(f"{ids[i]}: no text"))
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
            if with_index:
                out[DOC_INDEX].append(None if _missing(index[i]) else int(index[i]))

        for i in range(n):
            if i in row_error:
                row(None, ids[i], row_error[i], i)
                continue
            res = results[i]
            if isinstance(res, BaseException):
                row(None, ids[i], _error_text(res), i)
                continue
            if not res and self.keep_empty:
                row(None, ids[i], None, i)
            for r in res:
                d = r.to_dict()
                d["doc_id"] = ids[i]
                row(d, ids[i], None, i)
        return pa.Table.from_pydict(out, schema=output_schema(with_index))


# -- reading -----------------------------------------------------------------------------------

def _is_uri(path: Any) -> bool:
    return "://" in str(path)


@contextmanager
def _localized(inputs: Sequence[str]) -> Iterator[tuple[list[str], list[tuple[str, str]]]]:
    """Copy remote inputs (``s3://``, ``gs://``, ``file://`` ... anything ``pyarrow.fs`` opens) to a
    temporary folder; yields the local paths and ``(local prefix, uri)`` pairs to map doc_ids back."""
    tmp = None
    local: list[str] = []
    prefixes: list[tuple[str, str]] = []
    try:
        for k, item in enumerate(inputs):
            item = str(item)
            if not _is_uri(item):
                local.append(item)
                continue
            import pyarrow.fs as pafs

            if tmp is None:
                tmp = tempfile.mkdtemp(prefix="zhibiao-ray-")
            fs, path = pafs.FileSystem.from_uri(item)
            info = fs.get_file_info(path)
            name = Path(path.rstrip("/")).name or f"input{k}"
            dest = Path(tmp) / str(k) / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if info.type == pafs.FileType.NotFound:
                raise ZhibiaoError(f"{item}: not found")
            if info.type == pafs.FileType.Directory:
                for f in fs.get_file_info(pafs.FileSelector(path, recursive=True)):
                    if f.type != pafs.FileType.File:
                        continue
                    rel = f.path[len(path.rstrip("/")) + 1:]
                    target = dest / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with fs.open_input_stream(f.path) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
            else:
                with fs.open_input_stream(path) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            local.append(str(dest))
            prefixes.append((str(dest), item.rstrip("/") if info.type == pafs.FileType.Directory else item))
        yield local, prefixes
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _remap(text: str, prefixes: list[tuple[str, str]]) -> str:
    for loc, uri in prefixes:
        if loc in text:
            text = text.replace(loc, uri)
    return text


def _iter_rows(inputs: Sequence[str], max_unpacked_bytes: int | None,
               prefixes: list[tuple[str, str]]) -> Iterator[tuple[str, str | None, str | None]]:
    """(doc_id, text, error) per document, in input order; duplicates become error rows."""
    from ..ingest import iter_documents

    kw = {"max_unpacked_bytes": max_unpacked_bytes} if max_unpacked_bytes else {}
    seen: set[str] = set()
    for item in iter_documents(inputs, **kw):
        if isinstance(item, IngestError):
            yield _remap(item.doc_id, prefixes), None, _remap(_error_text(item), prefixes)
            continue
        doc_id = _remap(item.doc_id, prefixes)
        if doc_id in seen:
            yield doc_id, None, _error_text(ZhibiaoError(f"duplicate doc_id {doc_id!r}"))
            continue
        seen.add(doc_id)
        yield doc_id, item.text, None


def read_documents_dataset(inputs: str | os.PathLike | Iterable[str | os.PathLike], *,
                           max_unpacked_bytes: int | None = None, chunk_size: int = 1000,
                           _stats: dict | None = None):
    """Read an archive, a folder, JSONL files, or any mix (as :func:`zhibiao.ingest.iter_documents`)
    into a Ray dataset with columns ``doc_index`` (input order), ``doc_id``, ``text``, ``error``.

    A document that cannot be read (and a repeated ``doc_id``) becomes a row with ``text`` null and
    ``error = "ErrorType: message"``, so it reaches the errors output of the job and is never lost.

    Inputs may be local paths or URIs that ``pyarrow.fs`` opens (``s3://bucket/reports.zip``,
    ``gs://...``, ``file://...``): a URI is first copied to a temporary folder on the driver (a
    folder URI: every file under it) and read from there; doc_ids name the URI, not the copy.

    Memory: reading happens on the driver, one ``chunk_size`` block of documents at a time; each
    block is put into the Ray object store (which spills to disk when full) before the next is
    read, so the driver holds one block, not the corpus. Ray must be initialised (``ray.init``).
    """
    import ray

    pa = _pa()
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    inputs = [str(i) for i in inputs]
    schema = input_schema()
    refs = []
    n = 0
    with _localized(inputs) as (local, prefixes):
        buf: dict[str, list] = {DOC_INDEX: [], "doc_id": [], "text": [], ERROR: []}

        def flush():
            refs.append(ray.put(pa.Table.from_pydict(buf, schema=schema)))
            for v in buf.values():
                v.clear()

        for doc_id, text, error in _iter_rows(local, max_unpacked_bytes, prefixes):
            buf[DOC_INDEX].append(n)
            buf["doc_id"].append(doc_id)
            buf["text"].append(text)
            buf[ERROR].append(error)
            if _stats is not None:
                _stats.setdefault("lengths", []).append(len(text) if text is not None else 0)
            n += 1
            if len(buf["doc_id"]) >= chunk_size:
                flush()
        if buf["doc_id"] or not refs:
            flush()
    if _stats is not None:
        _stats["documents"] = n
    return ray.data.from_arrow_refs(refs)


# -- the CLI -----------------------------------------------------------------------------------

@contextmanager
def _open_text(path: str, mode: str = "w"):
    """A text file for writing, local or a ``pyarrow.fs`` URI."""
    if _is_uri(path):
        import pyarrow.fs as pafs

        fs, p = pafs.FileSystem.from_uri(path)
        with fs.open_output_stream(p) as raw:
            fh = io.TextIOWrapper(raw, encoding="utf-8")
            try:
                yield fh
            finally:
                fh.flush()
                fh.detach()
    else:
        with open(path, mode, encoding="utf-8") as fh:
            yield fh


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


def run_ray_extract(args) -> int:
    """``zhibiao extract INPUT... -o OUTPUT --engine ray [--ray-address ADDR]``.

    - Connects to ``--ray-address`` (``auto``, ``ray://host:10001``, ...) or, without it, starts a
      local Ray instance (or joins the one ``RAY_ADDRESS`` names, as ``ray.init`` does); an already
      initialised Ray (e.g. in a notebook) is used as it is.
    - Reads the inputs on the driver (:func:`read_documents_dataset`; URIs are copied locally first),
      runs :class:`ZhibiaoPredictor` on an autoscaling pool of up to (cluster CPUs / ``--threads``)
      actors, ``--batch-size`` documents per call, then sorts the records by (input order, start,
      end): the records equal those of ``--engine local``, row for row and byte for byte.
    - A local ``OUTPUT`` (``.jsonl``, ``.csv``, ``.parquet``) is one file written like the local
      runner's (no ``.progress.jsonl``). An ``OUTPUT`` URI (anything with ``://``, e.g.
      ``s3://bucket/out/``) is written by Ray itself as a *folder* of files, in parallel:
      ``write_json`` when it ends in ``.jsonl``, ``write_csv`` for ``.csv``, ``write_parquet``
      otherwise (the folder holds no file when there is no record). Ray numbers the files by
      partition, so reading the folder in file-name order (as pyarrow and pandas do) gives the
      sorted order (checked with Ray 2.60 through ``file://``); the values equal the local run's,
      the bytes of Ray's JSON/CSV writers may differ from the local writers'.
    - Failed documents go to ``--errors`` (default ``OUTPUT + '.errors.jsonl'``; for a URI
      ``OUTPUT`` without the trailing ``/``), one JSON line each: doc_id, error_type, message.
    - Returns 1 if any document failed, 0 otherwise. ``--resume`` is not supported (a Ray job is
      retried as a whole; Ray retries failed tasks itself).
    """
    if getattr(args, "resume", False):
        raise ZhibiaoError("--resume is not supported with --engine ray (rerun the job; Ray retries failed tasks)")
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ZhibiaoError('--engine ray needs Ray: pip install "zhibiao[ray]"') from exc
    from ..batch import Summary, output_format

    output = str(args.output)
    remote = _is_uri(output)
    if remote:
        suffix = Path(output.rstrip("/")).suffix.lower()
        fmt = {".jsonl": "jsonl", ".csv": "csv"}.get(suffix, "parquet")
    else:
        fmt = output_format(output)
    errors_path = args.errors or (output.rstrip("/") if remote else output) + ".errors.jsonl"

    started = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"address": args.ray_address or None, "log_to_driver": False}
        if not args.ray_address:
            kw["include_dashboard"] = False
        ray.init(**kw)
        started = True
    elif args.ray_address:
        print("zhibiao extract: Ray is already initialised; --ray-address ignored", file=sys.stderr)
    ctx = ray.data.DataContext.get_current()
    old_bars = ctx.enable_progress_bars
    if getattr(args, "no_progress", False):
        ctx.enable_progress_bars = False
    t0 = time.time()
    try:
        stats: dict = {}
        docs = read_documents_dataset(args.inputs, max_unpacked_bytes=args.max_unpacked_bytes, _stats=stats)
        threads = int(args.threads or 1)
        actors = max(1, _cluster_cpus() // threads)
        actors = min(actors, max(1, math.ceil(stats["documents"] / max(1, args.batch_size))))
        out = docs.map_batches(
            ZhibiaoPredictor,
            fn_constructor_kwargs={"model": args.model, "quantize": args.quantize, "threads": args.threads,
                                   "taxonomy": args.taxonomy, "all_quantities": args.all_quantities},
            batch_size=args.batch_size, batch_format="pyarrow", num_cpus=threads,
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors),
        ).materialize()
        failed = sorted((r for b in out.map_batches(_error_rows, batch_format="pyarrow").iter_batches(
            batch_format="pyarrow") for r in b.to_pylist()), key=lambda r: r[DOC_INDEX])
        n_records = out.count() - len(failed)  # metadata of the materialised blocks: no extra pass
        records = out.map_batches(_drop_error_rows, batch_format="pyarrow")
        if n_records:
            records = records.sort([DOC_INDEX, "start", "end"])
        records = records.map_batches(_drop_doc_index, batch_format="pyarrow")

        if remote:
            if n_records:
                {"jsonl": records.write_json, "csv": records.write_csv, "parquet": records.write_parquet}[fmt](output)
        else:
            _write_local(records if n_records else None, output, fmt)
        with _open_text(errors_path) as err:
            for e in failed:
                kind, message = _split_error(e[ERROR])
                err.write(json.dumps({"doc_id": e["doc_id"], "error_type": kind, "message": message},
                                     ensure_ascii=False) + "\n")
    finally:
        ctx.enable_progress_bars = old_bars
        if started:
            ray.shutdown()
    lengths = stats.get("lengths", [])
    failed_idx = {e[DOC_INDEX] for e in failed}
    summary = Summary(documents=stats.get("documents", 0), records=n_records, failures=len(failed),
                      characters=sum(n for i, n in enumerate(lengths) if i not in failed_idx),
                      seconds=time.time() - t0)
    print(f"zhibiao extract (ray): {summary.line()} -> {output}", file=sys.stderr)
    if summary.failures:
        print(f"zhibiao extract: {summary.failures} document(s) failed, see {errors_path}", file=sys.stderr)
    return 1 if summary.failures else 0


def _write_local(records, output: str, fmt: str) -> None:
    """Stream the sorted records into a JSONL file (the staging file for csv/parquet), then convert
    it exactly as the local runner does."""
    out = Path(output)
    staging = out if fmt == "jsonl" else out.with_name(out.name + ".partial.jsonl")
    with staging.open("w", encoding="utf-8") as fh:
        if records is not None:
            for batch in records.iter_batches(batch_format="pyarrow", batch_size=4096):
                for row in batch.select(list(RECORD_FIELDS)).to_pylist():
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    if fmt != "jsonl":
        from ..io.writers import convert_records

        convert_records(staging, out, fmt)
        staging.unlink()
