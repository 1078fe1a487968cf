"""The streaming batch runner: documents through an extractor into a records file, losing none.

- Every document read (:mod:`zhibiao.ingest`) is either written to the output with all its records
  or written to the errors file (doc_id, error type, message, ``status`` "failed"); entries of the
  input folders and archives that are not read (unknown extension, hidden, nested archive, link)
  go there too (``status`` "skipped", the reason in ``message``), and a document whose ``doc_id``
  cannot be written as UTF-8 (a non-UTF-8 file name, a lone surrogate in a JSONL id) gets its id
  escaped (:func:`~zhibiao.io.escape.printable`: ``x\\xff.txt``) and a line with ``status``
  "escaped"; :class:`Summary` counts all of them.
- A document whose records cannot be encoded fails alone (errors file); a write that fails
  (disk full, permission) stops the run with :class:`~zhibiao.errors.OutputWriteError`.
- With ``inputs`` given, no written file may be an input, lie inside an input folder or be another
  written file (:mod:`zhibiao.io.run_files`); with ``fingerprint`` given, ``resume=True`` refuses
  to continue a run whose inputs, model or options differ (:mod:`zhibiao.io.progress`).
- A document's records are written together and logged in the progress file, so a run killed with
  SIGKILL and resumed (``resume=True``) gives exactly the records of an uninterrupted run, each once
  (:class:`~zhibiao.io.writers.RecordsWriter`).
- Output is deterministic: documents in input order, records in text order, fixed key order,
  byte-identical whatever the batch size or the number of worker processes
  (:mod:`zhibiao.workers`).

The ``zhibiao extract`` command that calls this lives in :mod:`zhibiao.cli.reports`.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from .errors import IngestError, ZhibiaoError
from .io.escape import printable
from .io.run_files import check_run_files, run_files
from .io.writers import (RecordsWriter, check_output_folder, error_line, errors_path_for, open_text, record_line,
                         writing)
from .records import Document
from .workers import MAX_AUTO_WORKERS, ExtractorPool, is_loader, resolve_workers  # noqa: F401 (the last two: names batch had)

__all__ = ["Summary", "extract_documents", "predict_records"]



class Skip(NamedTuple):
    """An entry of an input folder or archive that was not read, and why (from the reader)."""

    name: str
    why: str


Item = Document | IngestError | Skip
Result = list[str] | str  # a document's record lines, or (a str) its errors-file line

ESCAPED = ("the name or id is not valid Unicode (a non-UTF-8 file name, an archive member name no codec "
           "decodes, or a lone surrogate in a JSONL id): its unencodable characters are escaped in the doc_id "
           "of its records")


@dataclass
class Summary:
    documents: int = 0
    skipped: int = 0
    records: int = 0
    failures: int = 0
    characters: int = 0
    seconds: float = 0.0
    not_read: int = 0  # entries of input folders and archives not read (status "skipped")
    escaped: int = 0  # documents whose doc_id was escaped (status "escaped")

    def line(self) -> str:
        rate = self.characters / self.seconds if self.seconds else 0.0
        escaped = f", {self.escaped} ids escaped" if self.escaped else ""
        return (f"{self.documents} documents ({self.skipped} already done), {self.records} records, "
                f"{self.failures} failures, {self.not_read} entries not read (skipped){escaped}, "
                f"{self.seconds:.1f} s, {rate:,.0f} characters/s")


# ---- prediction ------------------------------------------------------------------------------

def predict_records(extractor: Any, docs: list[Document], all_quantities: bool) -> list:
    """Records per document, or the exception that stopped it; a batch that fails is retried one
    document at a time (the Ray predictor uses this too)."""
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


def predict_lines(extractor: Any, docs: list[Document], all_quantities: bool) -> list[Result]:
    """Per document: its record lines, or (a ``str``) its errors-file line."""
    return [_document_lines(d.doc_id, res) for d, res in zip(docs, predict_records(extractor, docs, all_quantities))]


def _document_lines(doc_id: str, res: Any) -> Result:
    if isinstance(res, BaseException):
        return _exception_line(doc_id, res)
    try:
        return [record_line(r.to_dict()) for r in res]
    except Exception as exc:  # noqa: BLE001 - this document fails alone
        return _exception_line(doc_id, exc)


def _exception_line(doc_id: str, exc: BaseException) -> str:
    return error_line(doc_id, type(exc).__name__, str(exc))


# ---- batches ---------------------------------------------------------------------------------

def _with_skips(items: Iterable[Document | IngestError], skipped: list[tuple[str, str]] | None) -> Iterator[Item]:
    """The items, each preceded by the :class:`Skip` notices the reader appended to ``skipped`` while
    reading up to it (so they travel with the batches, in the same place whatever the read-ahead)."""
    for item in items:
        if skipped:
            yield from (Skip(*s) for s in skipped)
            skipped.clear()
        yield item
    if skipped:
        yield from (Skip(*s) for s in skipped)
        skipped.clear()


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Batches of ``size`` documents (or errors), with the skip notices found among them."""
    buf: list[Item] = []
    n = 0
    for item in items:
        buf.append(item)
        n += not isinstance(item, Skip)
        if n >= size:
            yield buf
            buf, n = [], 0
    if buf:
        yield buf


def _documents(batch: list[Item]) -> int:
    return sum(not isinstance(item, Skip) for item in batch)


def _plan_workers(workers: int, batches: Iterator[list[Item]]) -> tuple[int, Iterator[list[Item]]]:
    """Never more worker processes than batches: up to ``workers`` batches are read ahead, and with
    one batch (a single small file) no pool starts at all."""
    if workers <= 1:
        return 1, batches
    ahead = list(islice(batches, workers))
    return max(1, min(workers, len(ahead))), chain(ahead, batches)


class _Run:
    """One run's bookkeeping: which documents to predict, and writing what came back, in order."""

    def __init__(self, writer: RecordsWriter, err, err_path: str | Path, t0: float, total: int | None,
                 progress: bool):
        from tqdm.auto import tqdm

        self.writer, self.err, self.err_path, self.t0 = writer, err, err_path, t0
        self.summary = Summary()
        self.seen: set[str] = set()
        self.bar = tqdm(total=total, unit="doc", disable=not progress, dynamic_ncols=True, file=sys.stderr)

    def report(self, line: str) -> None:
        """Write one errors-file line (a failed write: :class:`OutputWriteError`)."""
        with writing(self.err_path):
            self.err.write(line)

    def _fail(self, doc_id: str, exc: BaseException) -> None:
        self.summary.failures += 1
        self.report(_exception_line(doc_id, exc))

    def _escaped(self, item: Document) -> Document:
        safe = printable(item.doc_id)
        if safe == item.doc_id:
            return item
        self.summary.escaped += 1
        self.report(error_line(safe, "EscapedName", ESCAPED, status="escaped"))
        return dataclasses.replace(item, doc_id=safe)

    def admit(self, batch: list[Item]) -> tuple[list[Document], bool]:
        """The batch's readable, first-seen documents, and whether any of them is still to do."""
        members: list[Document] = []
        for item in batch:
            if isinstance(item, Skip):
                self.summary.not_read += 1
                self.report(error_line(item.name, "Skipped", f"not read: {item.why}", status="skipped"))
                continue
            if isinstance(item, IngestError):
                self._fail(item.doc_id, item)
                continue
            item = self._escaped(item)
            if item.doc_id in self.seen:
                self._fail(item.doc_id, ZhibiaoError(f"duplicate doc_id {item.doc_id!r}"))
            else:
                self.seen.add(item.doc_id)
                members.append(item)
        todo = sum(d.doc_id not in self.writer.done for d in members)
        self.summary.skipped += len(members) - todo
        return members, todo > 0

    def write(self, n_read: int, members: list[Document], results: list[Result]) -> None:
        """Write the results of a batch of ``n_read`` items (documents done before are skipped)."""
        s = self.summary
        for doc, res in zip(members, results):
            if doc.doc_id in self.writer.done:
                continue
            if isinstance(res, str):  # a failure: its errors-file line
                s.failures += 1
                self.report(res)
                continue
            try:
                self.writer.write_document(doc.doc_id, res)
            except UnicodeEncodeError as exc:  # a record the output cannot hold: this document fails alone
                s.failures += 1
                self.report(error_line(doc.doc_id, type(exc).__name__, "its records cannot be written as UTF-8: "
                                       f"the text holds a lone surrogate ({exc.reason})"))
                continue
            s.records += len(res)
            s.characters += len(doc.text)
        with writing(self.err_path):
            self.err.flush()
        s.documents += n_read
        self.bar.update(n_read)
        elapsed = max(1e-9, time.time() - self.t0)
        self.bar.set_postfix(chars_s=f"{s.characters / elapsed:,.0f}", records=s.records, failed=s.failures)

    def run_here(self, extractor: Any, batches: Iterable[list[Item]], all_quantities: bool) -> None:
        """Predict every batch in this process."""
        for batch in batches:
            members, todo = self.admit(batch)
            # A resumed batch is predicted whole, done documents included, so every document is
            # computed in the same company as in an uninterrupted run: identical records, scores too.
            self.write(_documents(batch), members, predict_lines(extractor, members, all_quantities) if todo else [])

    def run_pool(self, pool: ExtractorPool, batches: Iterable[list[Item]], all_quantities: bool) -> None:
        """Predict batches in the pool, at most ``2 * workers`` in flight (memory stays bounded
        whatever the input size), writing results in input order."""
        pending: deque = deque()

        def drain(limit: int) -> None:
            while len(pending) > limit:
                n_read, members, job = pending.popleft()
                self.write(n_read, members, job.get() if job is not None else [])

        for batch in batches:
            members, todo = self.admit(batch)
            job = pool.submit(predict_lines, members, all_quantities) if todo else None
            pending.append((_documents(batch), members, job))
            drain(2 * pool.workers)
        drain(0)


def extract_documents(extractor: Any, documents: Iterable[Document | IngestError], output: str | Path, *,
                      errors: str | Path | None = None, resume: bool = False, all_quantities: bool = False,
                      batch_size: int = 64, total: int | None = None, progress: bool = True,
                      workers: int = 1, worker_threads: int = 1, inputs: Iterable[str | os.PathLike] | None = None,
                      fingerprint: Mapping[str, Any] | None = None,
                      skipped: list[tuple[str, str]] | None = None) -> Summary:
    """Run ``extractor`` over ``documents`` into ``output``; failures go to ``errors``.

    ``extractor`` is an :class:`~zhibiao.extract.Extractor`, or a picklable zero-argument callable
    that loads one (``functools.partial(zhibiao.load, path)``). With ``workers > 1`` the batches
    are predicted by up to that many worker processes (never more than there are batches; none for
    a single batch), each with its own extractor (loaded there from the callable, or copied) and
    ``worker_threads`` torch threads, while this process reads the input and writes the output.
    Batches are formed here, the same way whatever the worker count, and written in input order:
    the output is byte-identical to a single-process run. A worker that cannot load the model
    stops the run with that error.

    ``inputs`` (the paths ``documents`` are read from) are checked against the files the run writes
    before anything is written (:func:`~zhibiao.io.run_files.check_run_files`); ``fingerprint``
    (:func:`~zhibiao.io.progress.run_fingerprint`) is recorded in the progress log and checked on
    ``resume``; ``skipped`` is the list the reader appends ``(name, why)`` to (``on_skip`` of
    :func:`~zhibiao.ingest.iter_documents`): each goes to the errors file with status "skipped".
    Raises :class:`ZhibiaoError` for bad paths or a resume that does not match, and
    :class:`~zhibiao.errors.OutputWriteError` when the output cannot be written.
    """
    errors_path = errors if errors else errors_path_for(output)
    check_output_folder(errors_path)
    if inputs is not None:
        check_run_files(inputs, run_files(output, errors_path))
    writer = RecordsWriter(output, resume=resume, fingerprint=fingerprint)
    t0 = time.time()
    workers, batches = _plan_workers(workers, _batches(_with_skips(documents, skipped), batch_size))
    if workers <= 1 and is_loader(extractor):
        t_load = time.time()
        extractor = extractor()
        t0 += time.time() - t_load  # loading the model here is not extraction time (as when the caller loads it)
    with ExitStack() as stack:
        err = stack.enter_context(open_text(errors_path))
        run = _Run(writer, err, errors_path, t0, total, progress)
        if workers <= 1:
            run.run_here(extractor, batches, all_quantities)
        else:
            with ExtractorPool(extractor, workers, worker_threads) as pool:
                run.run_pool(pool, batches, all_quantities)
        with writing(errors_path):
            err.flush()
    run.bar.close()
    writer.close()
    run.summary.seconds = time.time() - t0
    return run.summary
