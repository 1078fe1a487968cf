"""Documents from zip and tar archives, read member by member in memory, with their security rules.

- Nothing is extracted to disk; at most one member's bytes are held at a time (tar files are read
  as a stream).
- A member name that is absolute or has a ``..`` component is an :class:`UnsafeMemberError` (the
  member is not read, the others are).
- Hidden members, ``__MACOSX/``, archives inside the archive, tar links and device members and
  unknown extensions are skipped (listed through the ``skip`` callback); directory entries are
  ignored.
- The size budget: members to read may unpack to at most ``max_unpacked_bytes``. Zip archives are
  checked against their declared sizes before anything is read (the whole archive is refused);
  for every archive the bytes actually unpacked are counted while reading, and reading stops with
  an :class:`ArchiveTooLargeError` at the member that crosses the limit.
- Members are unpacked in 1 MiB chunks: a text or HTML member whose first chunks already show
  binary content (NUL bytes, no byte-order mark) is refused there, without inflating the rest (a
  zip of 2 GB of zeros costs one chunk of memory); a member of a kind that holds no readable text
  (``.doc``, images ...) is refused without unpacking it. A member that is read is held whole.
"""
from __future__ import annotations

import io
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator

from ..errors import ArchiveTooLargeError, IngestError, UnreadableFileError, UnsafeMemberError, UnsupportedFormatError
from ..records import Document
from .decode import check_not_binary, starts_with_bom
from .jsonl import iter_jsonl_lines
from .kinds import ARCHIVE_KINDS, is_hidden, kind_of, unsupported_reason
from .single import read_bytes

__all__ = ["DEFAULT_MAX_UNPACKED_BYTES", "ArchiveReader"]

DEFAULT_MAX_UNPACKED_BYTES = 2 * 1024**3
"""Default limit on the bytes unpacked from one archive (2 GiB)."""

_CHUNK = 1 << 20

_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError,
                   NotImplementedError, RuntimeError, ValueError)


def unsafe_reason(name: str) -> str | None:
    """Why the member ``name`` must not be read (absolute, or a ``..`` component), or ``None``."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "absolute member path"
    if ".." in norm.split("/"):
        return "member path contains '..'"
    return None


def _decode_member_name(raw: bytes) -> str | None:
    for codec in ("utf-8", "gb18030", "big5"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return None


class _LimitExceeded(Exception):
    def __init__(self, read: int):
        self.read = read


def _read_capped(stream: IO[bytes], budget: int, sniff: str | None = None) -> bytes:
    """Read ``stream`` to its end, raising :class:`_LimitExceeded` once more than ``budget``
    bytes came out (it never reads more than ``budget + 1`` bytes). With ``sniff`` (the member's
    doc_id) each chunk is checked with :func:`check_not_binary` as it comes (unless the first one
    starts with a byte-order mark): a :class:`BinaryContentError` stops the reading there."""
    chunks: list[bytes] = []
    n = 0
    while True:
        chunk = stream.read(min(_CHUNK, budget - n + 1))
        if not chunk:
            return b"".join(chunks)
        n += len(chunk)
        if n > budget:
            raise _LimitExceeded(n)
        if sniff is not None and not chunks and starts_with_bom(chunk):
            sniff = None  # UTF-16/32 (or UTF-8) with a byte-order mark: NUL bytes are no sign
        if sniff is not None:
            check_not_binary(chunk, sniff)
        chunks.append(chunk)


@dataclass
class _Budget:
    limit: int
    used: int = 0

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


class ArchiveReader:
    """Reads the documents of zip and tar archives; ``skip(name, why)`` hears of every member not
    read because of the skip rules."""

    def __init__(self, max_unpacked_bytes: int, skip: Callable[[str, str], None]):
        self.max_unpacked_bytes = max_unpacked_bytes
        self.skip = skip

    def iter_archive(self, path: Path, kind: str) -> Iterator[Document | IngestError]:
        """The documents of the archive ``path`` of ``kind`` ``"zip"`` or ``"tar"``."""
        return self.iter_zip(path) if kind == "zip" else self.iter_tar(path)

    # -- members -------------------------------------------------------------------------------

    def _member(self, archive: str, name: str, data: bytes) -> Iterator[Document | IngestError]:
        member_id = f"{archive}!{name}"
        if kind_of(name) == "jsonl":
            yield from iter_jsonl_lines(io.BytesIO(data), member_id)
            return
        try:
            yield read_bytes(data, member_id, suffix=PurePosixPath(name).suffix, source=archive)
        except IngestError as exc:
            yield exc

    def _member_filter(self, archive: str, name: str) -> IngestError | bool:
        """An error for an unsafe name, ``True`` to read the member, ``False`` when skipped."""
        member_id = f"{archive}!{name}"
        reason = unsafe_reason(name)
        if reason is not None:
            return UnsafeMemberError(member_id, f"unsafe {reason}; member not read")
        parts = name.replace("\\", "/").split("/")
        if is_hidden(parts):
            self.skip(member_id, "hidden")
            return False
        kind = kind_of(name)
        if kind in ARCHIVE_KINDS:
            self.skip(member_id, "archive inside an archive")
            return False
        if kind is None:
            self.skip(member_id, "unknown extension")
            return False
        return True

    def _too_large(self, member_id: str, budget: _Budget, amount: str) -> ArchiveTooLargeError:
        return ArchiveTooLargeError(
            member_id, f"archive unpacks to more than max_unpacked_bytes={budget.limit} "
                       f"({budget.used} bytes read before this member, which {amount}); "
                       "this and the remaining members not read")

    def _read_member(self, stream: IO[bytes], member_id: str, declared: int, budget: _Budget
                     ) -> bytes | IngestError:
        """The member's bytes, or why not: an :class:`ArchiveTooLargeError` (the rest of the archive
        is not read) or another :class:`IngestError` for this member alone."""
        reason = unsupported_reason(PurePosixPath(member_id).suffix)
        if reason is not None:
            return UnsupportedFormatError(member_id, reason)
        if declared > budget.left:
            return self._too_large(member_id, budget, f"declares {declared} bytes")
        sniff = member_id if kind_of(member_id) in ("text", "html") else None
        try:
            data = _read_capped(stream, budget.left, sniff)
        except _LimitExceeded as exc:
            return self._too_large(member_id, budget, f"unpacked to more than {exc.read - 1} bytes")
        except IngestError as exc:  # binary content, found in the first chunks
            return exc
        budget.used += len(data)
        return data

    # -- zip -----------------------------------------------------------------------------------

    def _zip_plan(self, zf: zipfile.ZipFile, archive: str, errors: list[IngestError]
                  ) -> list[tuple[zipfile.ZipInfo, str]]:
        """The members to read with their decoded names; unsafe names go to ``errors``."""
        plan: list[tuple[zipfile.ZipInfo, str]] = []
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if not info.flag_bits & 0x800:  # name not flagged UTF-8: zipfile read it as cp437
                try:
                    name = _decode_member_name(name.encode("cp437")) or name
                except UnicodeEncodeError:
                    pass
            verdict = self._member_filter(archive, name)
            if isinstance(verdict, IngestError):
                errors.append(verdict)
            elif verdict:
                plan.append((info, name))
        return plan

    def iter_zip(self, path: Path) -> Iterator[Document | IngestError]:
        """The documents of a zip archive, in archive order (declared sizes checked first)."""
        archive = str(path)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            yield UnreadableFileError(archive, f"cannot open zip archive: {getattr(exc, 'strerror', None) or exc}")
            return
        with zf:
            errors: list[IngestError] = []
            plan = self._zip_plan(zf, archive, errors)
            yield from errors
            declared = sum(info.file_size for info, _ in plan)
            if declared > self.max_unpacked_bytes:
                yield ArchiveTooLargeError(
                    archive, f"members to read declare {declared} bytes unpacked, more than "
                             f"max_unpacked_bytes={self.max_unpacked_bytes}; archive not read")
                return
            budget = _Budget(self.max_unpacked_bytes)
            for info, name in plan:
                member_id = f"{archive}!{name}"
                try:
                    with zf.open(info) as stream:
                        data = self._read_member(stream, member_id, info.file_size, budget)
                except _ARCHIVE_ERRORS as exc:
                    yield UnreadableFileError(member_id, f"cannot read zip member: {exc}")
                    continue
                if isinstance(data, IngestError):
                    yield data
                    if isinstance(data, ArchiveTooLargeError):
                        return
                    continue
                yield from self._member(archive, name, data)

    # -- tar -----------------------------------------------------------------------------------

    def _tar_verdict(self, archive: str, info: tarfile.TarInfo, name: str) -> IngestError | bool:
        """As :meth:`_member_filter`, links and special members skipped (unless unsafe)."""
        if not info.isreg() and unsafe_reason(name) is None:
            self.skip(f"{archive}!{name}", "link or special tar member")
            return False
        return self._member_filter(archive, name)

    def iter_tar(self, path: Path) -> Iterator[Document | IngestError]:
        """The documents of a (compressed) tar archive, read as a stream in one pass."""
        archive = str(path)
        try:
            tf = tarfile.open(path, mode="r|*")  # a stream: one pass, no seeking, nothing extracted
        except _ARCHIVE_ERRORS as exc:
            yield UnreadableFileError(archive, f"cannot open tar archive: {getattr(exc, 'strerror', None) or exc}")
            return
        budget = _Budget(self.max_unpacked_bytes)
        last = "the first member"
        with tf:
            members = iter(tf)
            while True:
                try:
                    info = next(members)
                except StopIteration:
                    return
                except _ARCHIVE_ERRORS as exc:
                    yield UnreadableFileError(archive, f"corrupt tar archive after {last}: {exc}; "
                                                       "the remaining members could not be read")
                    return
                name = info.name
                if any("\udc80" <= c <= "\udcff" for c in name):  # non-UTF-8 name bytes
                    name = _decode_member_name(name.encode("utf-8", "surrogateescape")) or name
                last = f"member {name!r}"
                if info.isdir():
                    continue
                verdict = self._tar_verdict(archive, info, name)
                if verdict is not True:
                    if verdict is not False:
                        yield verdict
                    continue
                member_id = f"{archive}!{name}"
                try:
                    stream = tf.extractfile(info)
                    if stream is None:  # pragma: no cover - regular members always have data
                        raise tarfile.TarError("no data")
                    data = self._read_member(stream, member_id, info.size, budget)
                except _ARCHIVE_ERRORS as exc:
                    yield UnreadableFileError(member_id, f"cannot read tar member: {exc}; "
                                                         "the remaining members could not be read")
                    return
                if isinstance(data, IngestError):
                    yield data
                    if isinstance(data, ArchiveTooLargeError):
                        return
                    continue
                yield from self._member(archive, name, data)
