"""Batch extraction: stream documents through an extractor into a records file, losing none.

- Every document read (:mod:`zhibiao.ingest`) is either written to the output with all its records
  or written to the errors file (doc_id, error type, message); the exit status says whether any
  failed.
- A document's records are written together, then the document is logged in a progress file
  (``OUT.progress.jsonl``: doc_id, record count, byte offset after it). ``--resume`` truncates the
  staging file to the last logged offset (dropping a document a kill cut in half) and skips the
  logged documents, so a run killed with SIGKILL and resumed gives exactly the records of an
  uninterrupted run, each once.
- Records go to a JSONL staging file (the output itself for ``.jsonl``); ``.csv`` and ``.parquet``
  are written from it, streaming, when the run completes.
- Output is deterministic: documents in input order, records in text order, fixed key order.
"""
from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import IngestError, ZhibiaoError
from .records import Document

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass
class Summary:
    documents: int = 0
    skipped: int = 0
    records: int = 0
    failures: int = 0
    characters: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.characters / self.seconds if self.seconds else 0.0
        return (f"{self.documents} documents ({self.skipped} already done), {self.records} records, "
                f"{self.failures} failures, {self.seconds:.1f} s, {rate:,.0f} characters/s")


def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ZhibiaoError(f"{path}: output must end in .jsonl, .csv or .parquet")
    return FORMATS[suffix]


class ProgressLog:
    """The staging file plus its progress log; the pair is what makes resuming exact."""

    def __init__(self, staging: Path, resume: bool):
        self.staging = staging
        self.log_path = staging.with_name(staging.name + ".progress.jsonl")
        entries = self._read_log() if resume else []
        self.done: set[str] = {e["doc_id"] for e in entries}
        offset = entries[-1]["offset"] if entries else 0
        self.out = staging.open("r+b" if resume and staging.exists() else "wb")
        self.out.truncate(offset)  # drop whatever a kill left after the last logged document
        self.out.seek(offset)
        self.log = self.log_path.open("w", encoding="utf-8")
        for e in entries:
            self.log.write(json.dumps(e, ensure_ascii=False) + "\n")
        self.log.flush()

    def _read_log(self) -> list[dict]:
        entries = []
        if self.log_path.exists():
            for line in self.log_path.read_text(encoding="utf-8").splitlines():
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a line torn by the kill: nothing after it counts
        return entries

    def write_document(self, doc_id: str, lines: list[str]) -> None:
        data = "".join(lines).encode("utf-8")
        self.out.write(data)
        self.out.flush()  # in the OS once flushed: a killed process loses nothing (no fsync: not power-loss safe)
        entry = {"doc_id": doc_id, "records": len(lines), "offset": self.out.tell()}
        self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.log.flush()
        self.done.add(doc_id)

    def close(self) -> None:
        self.out.close()
        self.log.close()


def _record_lines(records) -> list[str]:
    return [json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records]


def _error_line(doc_id: str, exc: BaseException) -> str:
    return json.dumps({"doc_id": doc_id, "error_type": type(exc).__name__, "message": str(exc)},
                      ensure_ascii=False) + "\n"


def _batches(items: Iterable[Document | IngestError], size: int) -> Iterator[list[Document | IngestError]]:
    buf: list[Document | IngestError] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def extract_documents(extractor, documents: Iterable[Document | IngestError], output: str | Path, *,
                      errors: str | Path | None = None, resume: bool = False, all_quantities: bool = False,
                      batch_size: int = 64, total: int | None = None, progress: bool = True,
                      workers: int = 1, worker_threads: int = 1) -> Summary:
    """Run ``extractor`` over ``documents`` into ``output``; failures go to ``errors``.

    ``extractor`` is an :class:`~zhibiao.extract.Extractor`, or a picklable zero-argument callable
    that loads one (``functools.partial(zhibiao.load, path)``). With ``workers > 1`` the batches
    are predicted by that many worker processes (each with its own extractor, loaded there from the
    callable or copied, and ``worker_threads`` torch threads) while this process reads the input and
    writes the output. Batches are formed here, the same way whatever the worker count, and
    written in input order: the output is byte-identical to a single-process run. A worker that
    cannot load the model stops the run with that error.
    """
    from tqdm.auto import tqdm

    output = Path(output)
    fmt = output_format(output)
    staging = output if fmt == "jsonl" else output.with_name(output.name + ".partial.jsonl")
    errors_path = Path(errors) if errors else output.with_name(output.name + ".errors.jsonl")
    log = ProgressLog(staging, resume)
    summary = Summary()
    t0 = time.time()
    bar = tqdm(total=total, unit="doc", disable=not progress, dynamic_ncols=True, file=sys.stderr)
    seen: set[str] = set()

    def admit(batch: list[Document | IngestError], err) -> tuple[list[Document], bool]:
        """The batch's readable, first-seen documents, and whether any of them is still to do."""
        members: list[Document] = []
        for item in batch:
            if isinstance(item, IngestError):
                summary.failures += 1
                err.write(_error_line(item.doc_id, item))
                continue
            if item.doc_id in seen:
                summary.failures += 1
                err.write(_error_line(item.doc_id, ZhibiaoError(f"duplicate doc_id {item.doc_id!r}")))
                continue
            seen.add(item.doc_id)
            members.append(item)
        todo = sum(d.doc_id not in log.done for d in members)
        summary.skipped += len(members) - todo
        return members, todo > 0

    def write(n_read: int, members: list[Document], results: list, err) -> None:
        for doc, res in zip(members, results):
            if doc.doc_id in log.done:
                continue
            if isinstance(res, str):  # a failure: its errors-file line
                summary.failures += 1
                err.write(res)
                continue
            log.write_document(doc.doc_id, res)
            summary.records += len(res)
            summary.characters += len(doc.text)
        err.flush()
        summary.documents += n_read
        bar.update(n_read)
        elapsed = max(1e-9, time.time() - t0)
        bar.set_postfix(chars_s=f"{summary.characters / elapsed:,.0f}", records=summary.records,
                        failed=summary.failures)

    if workers <= 1 and _is_loader(extractor):
        extractor = extractor()
    with errors_path.open("w", encoding="utf-8") as err:
        if workers <= 1:
            for batch in _batches(documents, batch_size):
                members, todo = admit(batch, err)
                # A resumed batch is predicted whole, done documents included, so every document is
                # computed in the same company as in an uninterrupted run: identical records, scores too.
                write(len(batch), members, _predict_lines(extractor, members, all_quantities) if todo else [], err)
        else:
            _run_pool(extractor, _batches(documents, batch_size), admit, write, err, all_quantities,
                      workers, worker_threads)
    bar.close()
    log.close()
    if fmt != "jsonl":
        from .io.writers import convert_records

        convert_records(staging, output, fmt)
        staging.unlink()
        log.log_path.rename(output.with_name(output.name + ".progress.jsonl"))
    summary.seconds = time.time() - t0
    return summary


def _predict_lines(extractor, docs: list[Document], all_quantities: bool) -> list[list[str] | str]:
    """Per document: its record lines, or (a ``str``) its errors-file line."""
    return [_error_line(d.doc_id, res) if isinstance(res, BaseException) else _record_lines(res)
            for d, res in zip(docs, _predict(extractor, docs, all_quantities))]


# ---- worker processes ------------------------------------------------------------------------
_WORKER_EXTRACTOR = None
_WORKER_ERROR: BaseException | None = None


def _is_loader(extractor) -> bool:
    """A callable that loads an extractor, rather than an extractor (which has ``predict``)."""
    return callable(extractor) and not hasattr(extractor, "predict")


MAX_AUTO_WORKERS = 8


def resolve_workers(workers: int | str | None, n_batches: int | None = None) -> int:
    """``"auto"``: one worker process per CPU this process may use, at most :data:`MAX_AUTO_WORKERS`
    and at most one per batch when the batch count is known (1: predict in this process)."""
    import os

    if workers in (None, "auto"):
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n = os.cpu_count() or 1
        n = min(n, MAX_AUTO_WORKERS)
        return max(1, min(n, n_batches) if n_batches is not None else n)
    try:
        n = int(workers)
    except ValueError:
        n = 0
    if n < 1:
        raise ZhibiaoError(f"--workers must be >= 1 or 'auto', got {workers}")
    return n


def _worker_init(extractor, threads: int) -> None:
    global _WORKER_EXTRACTOR, _WORKER_ERROR
    try:
        import torch

        from .extract import bound_kernel_caches

        bound_kernel_caches()
        torch.set_num_threads(max(1, threads))
        _WORKER_EXTRACTOR = extractor() if _is_loader(extractor) else extractor
    except Exception as exc:  # noqa: BLE001 - raised again with the first batch (an initializer
        _WORKER_ERROR = exc  # that fails would make the pool start workers forever)


def _worker_predict(docs: list[Document], all_quantities: bool) -> list[list[str] | str]:
    if _WORKER_ERROR is not None:
        raise ZhibiaoError(f"worker could not load the model: {type(_WORKER_ERROR).__name__}: {_WORKER_ERROR}")
    return _predict_lines(_WORKER_EXTRACTOR, docs, all_quantities)


def _run_pool(extractor, batches, admit, write, err, all_quantities: bool, workers: int, threads: int) -> None:
    """Predict batches in ``workers`` spawned processes, at most ``2 * workers`` in flight (memory
    stays bounded whatever the input size), writing results in input order."""
    import multiprocessing as mp
    from collections import deque

    ctx = mp.get_context("spawn")  # never fork a process that has started torch threads
    pending: deque = deque()
    with ctx.Pool(workers, initializer=_worker_init, initargs=(extractor, threads)) as pool:
        def drain(limit: int) -> None:
            while len(pending) > limit:
                n_read, members, job = pending.popleft()
                write(n_read, members, job.get() if job is not None else [], err)

        for batch in batches:
            members, todo = admit(batch, err)
            job = pool.apply_async(_worker_predict, (members, all_quantities)) if todo else None
            pending.append((len(batch), members, job))
            drain(2 * workers)
        drain(0)


def _predict(extractor, docs: list[Document], all_quantities: bool) -> list:
    """Records per document; a batch that fails is retried one document at a time."""
    if not docs:
        return []
    try:
        preds = extractor.predict([d.text for d in docs], [d.doc_id for d in docs])
        return [extractor.records(p, all_quantities) for p in preds]
    except Exception:  # noqa: BLE001 - isolate the failing document below
        out = []
        for d in docs:
            try:
                out.append(extractor.records(extractor.predict([d.text], [d.doc_id])[0], all_quantities))
            except Exception as exc:  # noqa: BLE001 - reported in the errors file
                out.append(exc)
        return out


def run_extract(args) -> int:
    """The ``zhibiao extract`` command."""
    from .extract import bound_kernel_caches, load, model_folder
    from .ingest import iter_documents

    if args.engine == "ray":
        from .integrations.ray import run_ray_extract

        return run_ray_extract(args)  # it checks its own outputs (object-storage URIs too)
    output_format(args.output)
    bound_kernel_caches()  # flat memory over long runs; spawned workers inherit it
    kw = {}
    if args.max_unpacked_bytes:
        kw["max_unpacked_bytes"] = args.max_unpacked_bytes
    total = None
    if not args.no_progress:
        total = sum(1 for _ in iter_documents(args.inputs, **kw))
    workers = resolve_workers(getattr(args, "workers", 1),
                              None if total is None else -(-total // max(1, args.batch_size)))
    if workers > 1:  # each worker loads the model; this process only reads and writes
        if args.model != "rules":
            model_folder(args.model)  # a missing folder fails here, before any worker starts
        extractor = functools.partial(load, args.model, quantize=args.quantize, threads=args.threads or 1,
                                      taxonomy=args.taxonomy)
    else:
        extractor = load(args.model, quantize=args.quantize, threads=args.threads, taxonomy=args.taxonomy)
    summary = extract_documents(extractor, iter_documents(args.inputs, **kw), args.output, errors=args.errors,
                                resume=args.resume, all_quantities=args.all_quantities,
                                batch_size=args.batch_size, total=total, progress=not args.no_progress,
                                workers=workers, worker_threads=args.threads or 1)
    print(f"zhibiao extract: {summary.line()} -> {args.output}", file=sys.stderr)
    if summary.failures:
        errors = args.errors or f"{args.output}.errors.jsonl"
        print(f"zhibiao extract: {summary.failures} document(s) failed, see {errors}", file=sys.stderr)
    return 1 if summary.failures else 0
