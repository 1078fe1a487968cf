"""Documents into a Ray dataset: :func:`read_documents_dataset` reads local paths or object-storage
URIs on the driver and puts them into the object store block by block."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ...errors import IngestError, ZhibiaoError
from ...io.writers import is_uri
from .predictor import DOC_INDEX, ERROR, error_text, input_schema


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
            if not is_uri(item):
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
    from ...ingest import iter_documents

    kw: dict[str, Any] = {"max_unpacked_bytes": max_unpacked_bytes} if max_unpacked_bytes else {}
    seen: set[str] = set()
    for item in iter_documents(inputs, **kw):
        if isinstance(item, IngestError):
            yield _remap(item.doc_id, prefixes), None, _remap(error_text(item), prefixes)
            continue
        doc_id = _remap(item.doc_id, prefixes)
        if doc_id in seen:
            yield doc_id, None, error_text(ZhibiaoError(f"duplicate doc_id {doc_id!r}"))
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
    import pyarrow as pa
    import ray

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = [str(i) for i in inputs]
    schema = input_schema()
    refs = []
    n = 0
    with _localized(paths) as (local, prefixes):
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

