"""Read and write annotations in any supported format (what the CLI's convert/stats call).

Read formats (``fmt``):

- ``"jsonl"``       the project JSONL (:mod:`zhibiao.io.jsonl`);
- ``"doccano"``     doccano relation or plain sequence-labeling JSONL (:mod:`zhibiao.io.doccano`);
- ``"labelstudio"`` a Label Studio JSON export (:mod:`zhibiao.io.labelstudio`);
- ``"markup"``      a ``.txt`` file of inline markup (:mod:`zhibiao.io.markup`, one document per
  file) or a folder of them (``*.txt``, sorted by name);
- ``"docbin"``      a spaCy ``.spacy`` file written by :func:`write_any`;
- ``"auto"``        by the path: a folder or ``.txt`` -> markup; ``.json`` -> Label Studio;
  ``.spacy`` -> docbin; ``.jsonl`` -> the first non-empty line decides: ``entities`` with
  ``start_offset`` (or a ``relations`` key) -> the relation format (doccano relation and
  project JSONL are the same shape and read by the same reader, which also applies
  ``label_map`` and checks labels), ``label``/``labels`` as a list of ``[start, end, label]``
  -> doccano plain.

Write formats: ``"jsonl"``, ``"doccano"``, ``"labelstudio"`` (tasks with ``predictions``),
``"labelstudio-annotations"`` (tasks with ``annotations``), ``"docbin"``, ``"markup"`` (a folder
of ``.txt`` files, one per document), or ``"auto"`` by suffix (``.jsonl``, ``.json``,
``.spacy``, no suffix -> markup folder).
"""
from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import AnnotationError
from ..records import AnnotatedDocument, Prediction
from .doccano import read_doccano, write_doccano
from .jsonl import iter_json_lines, read_jsonl, write_jsonl
from .labelstudio import read_labelstudio, write_labelstudio_tasks
from .markup import parse_markup, to_markup

__all__ = ["READ_FORMATS", "WRITE_FORMATS", "detect_format", "read_any", "write_any", "read_markup"]

READ_FORMATS = ("auto", "jsonl", "doccano", "labelstudio", "markup", "docbin")
WRITE_FORMATS = ("auto", "jsonl", "doccano", "labelstudio", "labelstudio-annotations", "docbin", "markup")


def detect_format(path: str | Path) -> str:
    """The reader ``read_any(path, "auto")`` would use: doccano, labelstudio, markup or docbin."""
    path = Path(path)
    if path.is_dir():
        return "markup"
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "markup"
    if suffix == ".json":
        return "labelstudio"
    if suffix == ".spacy":
        return "docbin"
    if suffix == ".jsonl":
        return _peek_jsonl(path)
    raise AnnotationError(str(path), f"cannot tell the format from the suffix {suffix!r}; "
                                     f"pass fmt= one of {', '.join(READ_FORMATS[1:])}")


def _peek_jsonl(path: Path) -> str:
    with closing(iter_json_lines(path)) as lines:
        first = next(lines, None)
    if first is None:
        return "doccano"  # empty file: no documents either way
    where, obj = first
    if isinstance(obj, dict):
        ents = obj.get("entities")
        if "relations" in obj or (isinstance(ents, list) and (not ents or isinstance(ents[0], dict)
                                                              and "start_offset" in ents[0])):
            return "doccano"
        for key in ("label", "labels"):
            val = obj.get(key)
            if isinstance(val, list) and (not val or isinstance(val[0], (list, dict))):
                return "doccano"
        if "text" in obj:
            return "doccano"  # a text with no annotations yet
    raise AnnotationError(where, "neither the relation format (entities/relations) nor the doccano "
                                              "plain format (label: [[start, end, label], ...]); pass fmt=")


def read_markup(path: str | Path) -> list[AnnotatedDocument]:
    """Read a markup ``.txt`` file (one document, id = file stem) or a folder of them."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".txt" and p.is_file()) if path.is_dir() else [path]
    docs = []
    for f in files:
        try:
            src = f.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise AnnotationError(str(f), f"cannot read file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise AnnotationError(str(f), f"not UTF-8 ({exc.reason})") from None
        doc = parse_markup(src, f.stem, where=str(f))
        doc.meta.setdefault("source", str(f))
        docs.append(doc)
    return docs


def read_any(path: str | Path, fmt: str = "auto", label_map: Mapping[str, str] | None = None,
             **kwargs) -> list[AnnotatedDocument]:
    """Read annotated documents from ``path`` in format ``fmt`` (see the module doc).

    ``label_map`` applies to doccano and Label Studio input; extra keyword arguments go to the
    Label Studio reader (``data_key``, ``use_predictions``).
    """
    path = Path(path)
    if fmt not in READ_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(READ_FORMATS)}")
    if not path.exists():
        raise AnnotationError(str(path), "no such file or folder")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "jsonl":
        docs = read_jsonl(path)
        return _apply_map(docs, label_map) if label_map else docs
    if fmt == "doccano":
        return read_doccano(path, label_map=label_map)
    if fmt == "labelstudio":
        return read_labelstudio(path, label_map=label_map, **kwargs)
    if fmt == "markup":
        return read_markup(path)
    from .spacy_docbin import read_docbin
    return read_docbin(path)


def _apply_map(docs: list[AnnotatedDocument], label_map: Mapping[str, str]) -> list[AnnotatedDocument]:
    from dataclasses import replace
    for d in docs:
        d.entities = [replace(e, label=label_map.get(e.label, e.label)) for e in d.entities]
    return docs


def _safe_name(doc_id: str, k: int) -> str:
    name = re.sub(r"[^\w.-]+", "_", Path(str(doc_id)).name).strip("._") or "doc"
    return f"{k:04d}_{name}"[:120]


def write_any(docs: Iterable[AnnotatedDocument | Prediction], path: str | Path, fmt: str = "auto", **kwargs) -> int:
    """Write ``docs`` (annotated documents or predictions) to ``path``; returns the document count.

    Extra keyword arguments go to :func:`~zhibiao.io.labelstudio.write_labelstudio_tasks`
    (``model_version``).
    """
    path = Path(path)
    if fmt not in WRITE_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(WRITE_FORMATS)}")
    if fmt == "auto":
        fmt = {".jsonl": "jsonl", ".json": "labelstudio", ".spacy": "docbin", "": "markup"}.get(path.suffix.lower(), "")
        if not fmt:
            raise ValueError(f"cannot tell the output format from {path.suffix!r}; pass fmt=")
    docs = list(docs)
    if fmt == "doccano":
        return write_doccano(docs, path)
    if fmt in ("labelstudio", "labelstudio-annotations"):
        return write_labelstudio_tasks(docs, path, as_predictions=(fmt == "labelstudio"), **kwargs)
    if fmt == "docbin":
        from .spacy_docbin import write_docbin
        return write_docbin(docs, path)
    adocs = [d.to_annotated() if isinstance(d, Prediction) else d for d in docs]
    if fmt == "jsonl":
        return write_jsonl(adocs, path)
    path.mkdir(parents=True, exist_ok=True)
    for k, d in enumerate(adocs):
        (path / (_safe_name(d.id, k) + ".txt")).write_text(to_markup(d, with_meta=True), encoding="utf-8")
    return len(adocs)
