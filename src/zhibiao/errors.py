"""Typed errors. Every error names the place (file, line, archive member, entity id) and the cause."""
from __future__ import annotations


class ZhibiaoError(Exception):
    """Base class of every error zhibiao raises on purpose; the command line reports it and exits
    with ``exit_status`` (2: a usage error, bad paths or options)."""

    exit_status = 2


class OutputWriteError(ZhibiaoError):
    """A run could not write its output, errors file or progress log (disk full, no permission,
    a read-only file system): the message names the file and the cause; exit status 3."""

    exit_status = 3


class IngestError(ZhibiaoError):
    """A document could not be read. ``doc_id`` names the file / member / line."""

    def __init__(self, doc_id: str, cause: str):
        self.doc_id = doc_id
        self.cause = cause
        super().__init__(f"{doc_id}: {cause}")


class UnreadableFileError(IngestError):
    pass


class BinaryContentError(IngestError):
    pass


class DecodeError(IngestError):
    pass


class EmptyDocumentError(IngestError):
    pass


class UnsafeMemberError(IngestError):
    pass


class ArchiveTooLargeError(IngestError):
    pass


class JsonlRecordError(IngestError):
    pass


class UnsupportedFormatError(IngestError):
    """A file of a kind that holds no text zhibiao can read: an old binary Office file, an image,
    a PDF with no text layer. The cause says what to do with it (save as .docx, OCR it first)."""


class QuantityParseError(ZhibiaoError, ValueError):
    """A quantity string could not be parsed into a value."""


class TaxonomyError(ZhibiaoError):
    """An indicator taxonomy file is invalid (duplicate id or alias, missing field)."""


class AnnotationError(ZhibiaoError):
    """An annotation file is invalid. The message names ``file:line`` and the entity id."""

    def __init__(self, where: str, cause: str, entity_id: str | None = None):
        self.where = where
        self.cause = cause
        self.entity_id = entity_id
        ent = f" (entity {entity_id})" if entity_id is not None else ""
        super().__init__(f"{where}{ent}: {cause}")


class ModelLoadError(ZhibiaoError):
    """A model folder is missing a file, has wrong shapes, or holds anything but safetensors."""
