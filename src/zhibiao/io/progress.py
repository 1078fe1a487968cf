"""The progress log of a resumable run, and what ``--resume`` checks before it continues one.

The log ``STAGING.progress.jsonl`` (``OUT.progress.jsonl`` for a ``.jsonl`` output) holds one JSON
line per document whose records are committed: ``doc_id``, ``records`` (count), ``offset`` (the
staging file's length in bytes after them) and ``crc`` (CRC-32 of the document's record bytes).
The first line also holds the run's ``fingerprint`` (:func:`run_fingerprint`): the inputs (each
input path with a digest of the paths, sizes and modification times of the files under it), the
model (its folder with a digest of its files' names, sizes and modification times, or ``rules``)
and the options that change the records (batch size, ``--all-quantities``, ``--quantize``, the
taxonomy, ``--max-unpacked-bytes``).

A resume (:class:`ProgressLog` with ``resume=True``) refuses with a :class:`ZhibiaoError` (exit 2)
naming what changed, and writes nothing, when

- the fingerprint differs from the one recorded (inputs, model or options changed);
- the staging file is missing or shorter than the last logged offset (removed, truncated, replaced);
- the bytes of a logged document no longer have their CRC (the file was edited or rewritten; the
  whole staging file is read once to check this);
- the staging file holds bytes but there is no progress log (nothing says what they are).

A staging file longer than the last logged offset is what a kill leaves (a document written but
not yet logged, or cut in half): that tail is dropped and its document written again.
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import ZhibiaoError
from .escape import json_line, printable
from .run_files import progress_path

__all__ = ["ProgressLog", "file_digest", "run_fingerprint"]


def _digest(rows: Iterable[str]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(row.encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()[:16]


def _stat_row(path: str, rel: str) -> str:
    try:
        st = os.stat(path)
        return f"{rel}\t{st.st_size}\t{st.st_mtime_ns}"
    except OSError as exc:
        return f"{rel}\tunreadable {exc.errno}"


def file_digest(path: str | os.PathLike) -> str:
    """A digest of the names, sizes and modification times of the file ``path`` or of every file
    under the folder ``path`` (symlinked folders are listed by their target, not walked)."""
    top = os.fspath(path)
    if not os.path.isdir(top):
        return _digest([_stat_row(top, "")])
    rows = []
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, top)
            rows.append(_stat_row(full, rel) + (f"\t-> {os.path.realpath(full)}" if os.path.islink(full) else ""))
    return _digest(rows)


def run_fingerprint(inputs: Iterable[str | os.PathLike], model: str | os.PathLike | None,
                    options: Mapping[str, Any]) -> dict[str, Any]:
    """What a resumed run must share with the run it continues (see the module docstring);
    ``model`` is a model folder or ``"rules"``, ``options`` JSON values."""
    ins = {printable(os.path.abspath(p)): file_digest(p) for p in inputs if "://" not in os.fspath(p)}
    mod = "rules" if model == "rules" or model is None else f"{os.path.abspath(model)} {file_digest(model)}"
    return {"inputs": ins, "model": mod, "options": dict(options)}


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    old_in, new_in = old.get("inputs", {}), new.get("inputs", {})
    for path in sorted(set(old_in) | set(new_in)):
        if path not in new_in:
            out.append(f"input {path} is no longer given")
        elif path not in old_in:
            out.append(f"input {path} is new")
        elif old_in[path] != new_in[path]:
            out.append(f"input {path} changed (files added, removed or modified)")
    if old.get("model") != new.get("model"):
        out.append(f"the model changed ({old.get('model')} -> {new.get('model')})")
    old_opt, new_opt = old.get("options", {}), new.get("options", {})
    for key in sorted(set(old_opt) | set(new_opt)):
        if old_opt.get(key) != new_opt.get(key):
            out.append(f"option {key} changed ({old_opt.get(key)!r} -> {new_opt.get(key)!r})")
    return out


class ProgressLog:
    """The staging file plus its progress log; the pair is what makes resuming exact."""

    def __init__(self, staging: Path, resume: bool, fingerprint: Mapping[str, Any] | None = None):
        self.staging = staging
        self.log_path = progress_path(staging)
        self.fingerprint = fingerprint
        entries = self._read_log() if resume else []
        offset = self._check_resume(entries) if resume else 0
        self.entries = len(entries)
        self.done: set[str] = {e["doc_id"] for e in entries}
        self.out = staging.open("r+b" if resume and staging.exists() else "wb")
        self.out.truncate(offset)  # drop whatever a kill left after the last logged document
        self.out.seek(offset)
        self.log = self.log_path.open("w", encoding="utf-8")
        for e in entries:
            self.log.write(json_line(e))
        self.log.flush()

    def _read_log(self) -> list[dict]:
        entries = []
        if self.log_path.exists():
            for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    entry["offset"] = int(entry["offset"])
                    str(entry["doc_id"])
                    entries.append(entry)
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    break  # a line torn by the kill: nothing after it counts
        return entries

    def _check_resume(self, entries: list[dict]) -> int:
        """The offset to continue from; a ZhibiaoError when what is there is not what was logged."""
        cannot = f"cannot resume {self.staging}"
        redo = "; rerun without --resume to start over"
        if not entries:
            if not self.log_path.exists() and self.staging.exists() and self.staging.stat().st_size:
                raise ZhibiaoError(f"{cannot}: it holds records but there is no progress log {self.log_path} "
                                   f"to say which{redo}")
            return 0
        recorded = entries[0].get("fingerprint")
        if self.fingerprint is not None and recorded is not None and recorded != self.fingerprint:
            changes = "; ".join(_changes(recorded, self.fingerprint))
            raise ZhibiaoError(f"{cannot}: since the interrupted run {changes}{redo}")
        offset = entries[-1]["offset"]
        size = self.staging.stat().st_size if self.staging.exists() else None
        if size is None or size < offset:
            what = "is missing" if size is None else f"holds {size} bytes"
            raise ZhibiaoError(f"{cannot}: it {what} but the progress log {self.log_path} records "
                               f"{len(entries)} document(s) in {offset} bytes{redo} (or restore the file)")
        with self.staging.open("rb") as fh:
            start = 0
            for e in entries:
                data = fh.read(e["offset"] - start)
                if e.get("crc") is not None and zlib.crc32(data) != e["crc"]:
                    raise ZhibiaoError(f"{cannot}: its records of {e['doc_id']!r} (bytes {start}-{e['offset']}) "
                                       f"are not those the progress log {self.log_path} records: the file was "
                                       f"changed{redo}")
                start = e["offset"]
        return offset

    def write_document(self, doc_id: str, data: bytes, records: int) -> None:
        """Append one document's record bytes and log them (OSError: the caller reports it)."""
        start = self.out.tell()
        self.out.write(data)
        self.out.flush()  # in the OS once flushed: a killed process loses nothing (no fsync: not power-loss safe)
        entry: dict[str, Any] = {"doc_id": doc_id, "records": records, "offset": start + len(data),
                                 "crc": zlib.crc32(data)}
        if not self.entries and self.fingerprint is not None:
            entry["fingerprint"] = self.fingerprint
        self.log.write(json_line(entry))
        self.log.flush()
        self.entries += 1
        self.done.add(doc_id)

    def close(self) -> None:
        self.out.close()
        self.log.close()
