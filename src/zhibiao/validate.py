"""Check annotation documents against SPEC.md's structural rules.

Checks: offsets in range, labels known, entity text not blank, ids unique, QUANTITY spans not
overlapping, relation endpoints exist and go QUANTITY -> INDICATOR within one sentence, at most
one link per quantity. Every problem names ``file:line`` (or the document id) and the entity id.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import AnnotationError
from .io.jsonl import doc_from_dict, iter_json_lines
from .records import INDICATOR, LABELS, QUANTITY, AnnotatedDocument
from .sentences import sentence_of, sentence_starts, split_sentences

__all__ = ["Problem", "validate_document", "validate_files"]


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
    qs = sorted((e for e in good.values() if e.label == QUANTITY), key=lambda s: (s.start, s.end))
    for a, b in zip(qs, qs[1:]):
        if b.start < a.end:
            problems.append(Problem(where, f"QUANTITY {b.text!r} overlaps QUANTITY {a.text!r} (entity {a.id})", b.id))
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


def validate_files(paths: Iterable[str | Path]) -> list[Problem]:
    """Validate project JSONL files (read with :func:`~zhibiao.io.jsonl.iter_json_lines`, the
    reader ``stats`` and ``train`` use, so a UTF-8 BOM is fine); malformed lines are problems too
    (the rest is still checked)."""
    problems: list[Problem] = []

    def line_problem(exc: AnnotationError) -> None:
        problems.append(Problem(exc.where, exc.cause, exc.entity_id))

    for path in paths:
        try:
            for where, obj in iter_json_lines(path, on_error=line_problem):
                try:
                    doc = doc_from_dict(obj, where)
                except AnnotationError as exc:
                    line_problem(exc)
                    continue
                problems.extend(validate_document(doc, where))
        except AnnotationError as exc:  # unreadable file or not UTF-8: the rest of it cannot be read
            problems.append(Problem(exc.where, f"cannot read file: {exc.cause}"))
    return problems
