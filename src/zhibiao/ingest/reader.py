"""The reader: any mix of files, folders, JSONL files and archives into documents, in a
deterministic order, errors yielded in the place of the document (see :mod:`zhibiao.ingest`)."""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import IngestError, UnreadableFileError
from ..records import Document
from .archives import DEFAULT_MAX_UNPACKED_BYTES, ArchiveReader
from .jsonl import iter_jsonl_file
from .kinds import ARCHIVE_KINDS, is_hidden, kind_of
from .single import PathLike, read_bytes, read_file_bytes

__all__ = ["DocumentReader", "iter_documents", "read_documents"]

log = logging.getLogger(__name__)

_Ancestors = tuple[tuple[int, int], ...]  # (device, inode) of the folders above: symlink loops


class DocumentReader:
    """Reads files, folders and archives; see :mod:`zhibiao.ingest` for the rules.

    ``skipped`` collects the paths / ``archive!member`` names that were not read because of the
    skip rules (unknown extension, hidden, links, nested archives, symlinks leading out of the
    input folder); ``on_skip(name, why)`` hears of each as it happens (the batch runner reports
    them in the errors file).
    """

    def __init__(self, *, max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
                 skipped: list[str] | None = None, on_skip: Callable[[str, str], None] | None = None):
        if max_unpacked_bytes < 0:
            raise ValueError("max_unpacked_bytes must be >= 0")
        self.max_unpacked_bytes = max_unpacked_bytes
        self.skipped: list[str] = [] if skipped is None else skipped
        self.on_skip = on_skip

    def iter_documents(self, inputs: PathLike | Iterable[PathLike]) -> Iterator[Document | IngestError]:
        """Yield a :class:`Document` or an :class:`IngestError` for every document in ``inputs``."""
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        for item in inputs:
            path = Path(item)
            yield from self._iter_path(path, explicit=True, root=os.path.realpath(path))

    def _skip(self, name: str, why: str) -> None:
        self.skipped.append(name)
        log.debug("skipped %s (%s)", name, why)
        if self.on_skip is not None:
            self.on_skip(name, why)

    def _leaves(self, path: Path, root: str) -> bool:
        """Whether ``path`` (found in the input folder ``root``) is a symlink that leads out of it."""
        if not path.is_symlink():
            return False
        target = os.path.realpath(path)
        return not (target == root or target.startswith(root.rstrip(os.sep) + os.sep))

    def _iter_path(self, path: Path, *, explicit: bool, root: str, ancestors: _Ancestors = ()
                   ) -> Iterator[Document | IngestError]:
        doc_id = str(path)
        if not explicit and self._leaves(path, root):
            self._skip(doc_id, f"symlink leading out of the input folder (to {os.path.realpath(path)}), not followed")
            return
        try:
            st = path.stat()
        except FileNotFoundError:
            yield UnreadableFileError(doc_id, "no such file or directory")
            return
        except OSError as exc:
            yield UnreadableFileError(doc_id, f"cannot access: {exc.strerror or exc}")
            return
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                self._skip(doc_id, "symlinked folder loop")
                return
            yield from self._iter_dir(path, root, ancestors + (key,))
        elif not stat.S_ISREG(st.st_mode):
            if explicit:
                yield UnreadableFileError(doc_id, "not a regular file")
            else:
                self._skip(doc_id, "not a regular file")
        else:
            yield from self._iter_file(path, explicit)

    def _iter_file(self, path: Path, explicit: bool) -> Iterator[Document | IngestError]:
        doc_id = str(path)
        kind = kind_of(path.name)
        if kind in ARCHIVE_KINDS:
            yield from ArchiveReader(self.max_unpacked_bytes, self._skip).iter_archive(path, kind)
        elif kind == "jsonl":
            yield from iter_jsonl_file(path)
        elif kind is not None or explicit:
            try:
                yield read_bytes(read_file_bytes(path, doc_id), doc_id, suffix=path.suffix, source=doc_id)
            except IngestError as exc:
                yield exc
        else:
            self._skip(doc_id, "unknown extension")

    def _iter_dir(self, path: Path, root: str, ancestors: _Ancestors) -> Iterator[Document | IngestError]:
        try:
            with os.scandir(path) as it:
                names = sorted(entry.name for entry in it)
        except OSError as exc:
            yield UnreadableFileError(str(path), f"cannot list directory: {exc.strerror or exc}")
            return
        for name in names:
            child = path / name
            if is_hidden([name]):
                self._skip(str(child), "hidden")
                continue
            yield from self._iter_path(child, explicit=False, root=root, ancestors=ancestors)


def iter_documents(inputs: PathLike | Iterable[PathLike], *,
                   max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
                   skipped: list[str] | None = None,
                   on_skip: Callable[[str, str], None] | None = None) -> Iterator[Document | IngestError]:
    """Yield every document of ``inputs`` (a path or an iterable of paths; strings are paths, use
    :func:`read_text` for raw text) as a :class:`Document`, or the :class:`IngestError` that
    stopped it, in a deterministic order. Errors are yielded, never raised, and reading goes on.

    ``max_unpacked_bytes`` limits the bytes unpacked from each archive (0: no member is unpacked,
    every archive with content is refused; negative: ``ValueError``). Names not read because of the
    skip rules are appended to ``skipped`` when a list is given, and passed with the reason to
    ``on_skip(name, why)`` when given.
    """
    reader = DocumentReader(max_unpacked_bytes=max_unpacked_bytes, skipped=skipped, on_skip=on_skip)
    return reader.iter_documents(inputs)


def read_documents(inputs: PathLike | Iterable[PathLike], **kwargs: object) -> list[Document]:
    """Like :func:`iter_documents` but return a list and raise the first :class:`IngestError`."""
    docs: list[Document] = []
    for item in iter_documents(inputs, **kwargs):  # type: ignore[arg-type]
        if isinstance(item, IngestError):
            raise item
        docs.append(item)
    return docs
