"""Check annotation documents against SPEC.md's structural rules.

Checks: offsets integers and in range, labels known, entity text not blank, entity ids unique,
spans of one label (QUANTITY, INDICATOR) not overlapping, relation endpoints exist and go
QUANTITY -> INDICATOR within one sentence, at most one link per quantity, document ids unique
across everything checked, ``meta`` an object. Every problem names ``file:line`` (a Label Studio
task by its index and id) and the entity id.

:func:`validate_paths` takes files in any format :func:`~zhibiao.io.convert.read_any` reads
(project or doccano JSONL line by line; a Label Studio export task by task, through the
converter's reader; markup; DocBin) and folders (every annotation file inside, recursively). What
it could not check is said: a file or folder without documents is a problem, Label Studio tasks
without an annotation and files of other kinds in a folder are listed as skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import AnnotationError
from .io.jsonl import doc_from_dict, iter_json_lines
from .records import INDICATOR, LABELS, QUANTITY, AnnotatedDocument
from .sentences import sentence_of, sentence_starts, split_sentences

__all__ = ["Problem", "Validation", "validate_document", "validate_files", "validate_paths", "ANNOTATION_SUFFIXES"]

#: the files a folder given to :func:`validate_paths` is searched for
ANNOTATION_SUFFIXES = (".jsonl", ".json", ".txt", ".spacy")


@dataclass(frozen=True)
class Problem:
    where: str
    message: str
    entity_id: str | None = None

    def __str__(self) -> str:
        ent = f" (entity {self.entity_id})" if self.entity_id is not None else ""
        return f"{self.where}{ent}: {self.message}"


def validate_document(doc: AnnotatedDocument, where: str | None = None) -> list[Problem]:
    where = where or str(doc.meta.get("source") or doc.id)
    problems: list[Problem] = []
    text = doc.text
    seen: dict[str, object] = {}
    good = {}
    for e in doc.entities:
        if e.id in seen:
            problems.append(Problem(where, "duplicate entity id", e.id))
            continue
        seen[e.id] = e
        if e.label not in LABELS:
            problems.append(Problem(where, f"unknown label {e.label!r} (expected one of {', '.join(LABELS)})", e.id))
            continue
        if not (0 <= e.start < e.end <= len(text)):
            problems.append(Problem(where, f"offsets [{e.start}, {e.end}) out of range for text of length {len(text)}", e.id))
            continue
        if not text[e.start:e.end].strip():
            problems.append(Problem(where, "entity text is blank", e.id))
            continue
        if text[e.start:e.end] != text[e.start:e.end].strip():
            problems.append(Problem(where, f"entity {text[e.start:e.end]!r} has leading/trailing whitespace", e.id))
        good[e.id] = e
    for label in LABELS:
        spans = sorted((e for e in good.values() if e.label == label), key=lambda s: (s.start, s.end))
        reach = None  # the span reaching furthest so far
        for b in spans:
            if reach is not None and b.start < reach.end:
                problems.append(Problem(where, f"{label} {b.text!r} overlaps {label} {reach.text!r} (entity {reach.id})",
                                        b.id))
            if reach is None or b.end > reach.end:
                reach = b
    sents = split_sentences(text)
    starts = sentence_starts(sents)
    linked: dict[str, str] = {}
    for src, dst in doc.relations:
        if src not in good:
            problems.append(Problem(where, f"relation from missing or invalid entity {src!r}", src))
            continue
        if dst not in good:
            problems.append(Problem(where, f"relation to missing or invalid entity {dst!r}", src))
            continue
        q, i = good[src], good[dst]
        if q.label != QUANTITY or i.label != INDICATOR:
            problems.append(Problem(where, f"relation must go QUANTITY -> INDICATOR, got {q.label} -> {i.label}", src))
            continue
        if src in linked:
            problems.append(Problem(where, f"quantity {q.text!r} has more than one link", src))
            continue
        linked[src] = dst
        sq, si = sentence_of(sents, q.start, starts), sentence_of(sents, i.start, starts)
        si_end = sentence_of(sents, i.end - 1, starts)
        if sq is None or sq != si or si != si_end:
            problems.append(Problem(where, f"link {q.text!r} -> {i.text!r} crosses a sentence boundary", src))
    return problems


@dataclass
class Validation:
    """What :func:`validate_paths` checked: the problems, the documents and files read, and what
    it skipped (``(place, reason)``: never counted as checked)."""

    problems: list[Problem] = field(default_factory=list)
    documents: int = 0
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def validate_files(paths: Iterable[str | Path]) -> list[Problem]:
    """The problems :func:`validate_paths` finds in ``paths`` (any format, folders too)."""
    return validate_paths(paths).problems


def validate_paths(paths: Iterable[str | Path], fmt: str = "auto",
                   label_map: Mapping[str, str] | None = None) -> Validation:
    """Validate annotation files and folders (see the module doc); malformed lines and tasks are
    problems too, and the rest of the file is still checked."""
    out = Validation()
    seen_ids: dict[str, str] = {}

    def check(doc: AnnotatedDocument, where: str) -> None:
        out.documents += 1
        out.problems.extend(validate_document(doc, where))
        if doc.id in seen_ids:
            out.problems.append(Problem(where, f"duplicate document id {doc.id!r} (first at {seen_ids[doc.id]})"))
        else:
            seen_ids[doc.id] = where

    for path in paths:
        for file in _files(Path(path), fmt, out):
            before = (out.documents, len(out.problems), len(out.skipped))
            out.files += 1
            try:
                _validate_file(file, fmt, label_map, check, out)
            except AnnotationError as exc:  # unreadable file or not UTF-8: the rest of it cannot be read
                out.problems.append(Problem(exc.where, f"cannot read file: {exc.cause}", exc.entity_id))
                continue
            if (out.documents, len(out.problems), len(out.skipped)) == before:  # nothing read, nothing said
                out.problems.append(Problem(str(file), "no documents in this file: nothing was checked"))
    return out


def _files(path: Path, fmt: str, out: Validation) -> list[Path]:
    """``path``, or the annotation files of the folder ``path`` (others go to ``out.skipped``)."""
    if not path.is_dir() or fmt == "markup":
        return [path]
    found: list[Path] = []
    for f in sorted(path.rglob("*")):
        if not f.is_file() or any(part.startswith(".") for part in f.relative_to(path).parts):
            continue
        if f.suffix.lower() in ANNOTATION_SUFFIXES:
            found.append(f)
        else:
            out.skipped.append((str(f), f"not an annotation file (suffix {f.suffix or 'none'!r})"))
    if not found:
        out.problems.append(Problem(str(path), f"no annotation files ({', '.join(ANNOTATION_SUFFIXES)}) in this "
                                               "folder: nothing was checked"))
    return found


def _validate_file(path: Path, fmt: str, label_map: Mapping[str, str] | None, check: Any, out: Validation) -> None:
    from .io.convert import detect_format, read_any

    def bad(exc: AnnotationError) -> None:
        out.problems.append(Problem(exc.where, exc.cause, exc.entity_id))

    if not path.exists():
        raise AnnotationError(str(path), "no such file or folder")
    kind = detect_format(path) if fmt == "auto" else fmt
    if kind in ("jsonl", "doccano"):
        from .io.doccano import doccano_from_dict

        for where, obj in iter_json_lines(path, on_error=bad):
            try:
                relation_shaped = isinstance(obj, dict) and ("entities" in obj or "relations" in obj)
                doc = (doc_from_dict(obj, where) if kind == "jsonl" or (relation_shaped and not label_map)
                       else doccano_from_dict(obj, where, label_map))
            except AnnotationError as exc:
                bad(exc)
                continue
            check(doc, where)
        return
    if kind == "labelstudio":
        from .io.labelstudio import read_labelstudio

        def skipped(where: str) -> None:
            out.skipped.append((where, "no annotation (not cancelled): not checked; convert reads no document from it"))

        docs = read_labelstudio(path, label_map=label_map, on_skip=skipped, on_error=bad)
    else:
        docs = read_any(path, kind, label_map)
    for doc in docs:
        check(doc, str(doc.meta.get("source") or f"{path}:{doc.id}"))
