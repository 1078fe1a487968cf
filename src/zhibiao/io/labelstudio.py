"""Label Studio import and export (the pre-annotation loop).

Labeling config
---------------
Create the Label Studio project with :data:`LABEL_CONFIG` (Settings -> Labeling Interface ->
Code). It has one ``Labels`` control named ``label`` over the ``Text`` object named ``text``
(character granularity, which Chinese needs), with ``QUANTITY`` and ``INDICATOR``, and a
``Relations`` control with ``MEASURES``. Draw a relation from the quantity to its indicator.

Loop: ``write_labelstudio_tasks(predictions, "tasks.json")`` -> import ``tasks.json`` into the
project (each task carries the model's output as ``predictions``, shown as pre-annotations) ->
annotators correct and submit -> *Export* -> *JSON* -> ``read_labelstudio("export.json")``.

Import
------
A Label Studio JSON export is a list of tasks ``{"id", "data": {"text": ...}, "annotations":
[{"result": [...], "was_cancelled": false}, ...]}``. The first annotation that is not
cancelled is used; tasks without one are skipped (or, with ``use_predictions=True``, read from
their first prediction, e.g. to re-read a file written by :func:`write_labelstudio_tasks`).
Result items of ``type: "labels"`` become spans (the region ``id`` becomes the entity id),
``type: "relation"`` items become links (``direction: "left"`` swaps the ends; ``"bi"`` is
oriented QUANTITY -> INDICATOR), other result types are ignored. ``label_map`` renames labels
and relation labels as in :mod:`zhibiao.io.doccano`. The document id is ``data.doc_id`` when
present (as written by the exporter), else the task id.

Offsets: Label Studio offsets are treated as Python code-point indices. When a region's
``value.text`` does not match ``text[start:end]`` but does match under UTF-16 code-unit offsets
(the browser's indexing, which differs only around characters outside the BMP), the offsets
are converted; when it matches neither, an :class:`AnnotationError` is raised. Offsets outside
the text are kept for :func:`zhibiao.validate.validate_document` to report.

Every error names the file, the task (index and id) and the result id.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..errors import AnnotationError
from ..records import INDICATOR, LABELS, MEASURES, QUANTITY, AnnotatedDocument, Prediction, Span
from .labels import map_label

__all__ = ["LABEL_CONFIG", "read_labelstudio", "tasks_from_json", "to_labelstudio_tasks",
           "write_labelstudio_tasks", "prediction_to_document"]

#: Label Studio labeling config matching the exported tasks (``from_name="label"``,
#: ``to_name="text"``, relation label ``MEASURES``, data key ``$text``).
LABEL_CONFIG = """\
<View>
  <Labels name="label" toName="text">
    <Label value="QUANTITY" background="#F4A261"/>
    <Label value="INDICATOR" background="#2A9D8F"/>
  </Labels>
  <Relations>
    <Relation value="MEASURES"/>
  </Relations>
  <Text name="text" value="$text" granularity="symbol"/>
</View>
"""

#: ``on_skip`` of :func:`tasks_from_json`: called with the place of a task that has no annotation
OnTask = Callable[[str], None]
FROM_NAME = "label"
TO_NAME = "text"


# --------------------------------------------------------------------------- import

def read_labelstudio(path: str | Path, label_map: Mapping[str, str] | None = None, data_key: str = "text",
                     use_predictions: bool = False, on_skip: OnTask | None = None,
                     on_error: Callable[[AnnotationError], None] | None = None) -> list[AnnotatedDocument]:
    """Read a Label Studio JSON export (a list of tasks) into documents; see the module doc and
    :func:`tasks_from_json` for ``on_skip`` and ``on_error``."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AnnotationError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise AnnotationError(str(path), f"not UTF-8 ({exc.reason})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        cause = f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        if exc.pos >= len(raw.rstrip()) - 1:
            cause += "; the file looks truncated"
        raise AnnotationError(str(path), cause) from None
    return tasks_from_json(data, str(path), label_map=label_map, data_key=data_key,
                           use_predictions=use_predictions, on_skip=on_skip, on_error=on_error)


def tasks_from_json(data: Any, source: str = "<tasks>", label_map: Mapping[str, str] | None = None,
                    data_key: str = "text", use_predictions: bool = False, on_skip: OnTask | None = None,
                    on_error: Callable[[AnnotationError], None] | None = None) -> list[AnnotatedDocument]:
    """Convert already-parsed Label Studio tasks (a list, or one task object).

    ``on_skip(where)`` hears of each task skipped for want of an annotation (``where`` names the
    file, the task's index and its id); with ``on_error``, a malformed task is handed to it and
    the next task is read (without, the first one raises)."""
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise AnnotationError(source, f"expected a JSON list of tasks, got {type(data).__name__}")
    docs = []
    for index, task in enumerate(data):
        try:
            doc = _task_doc(task, index, source, label_map, data_key, use_predictions)
        except AnnotationError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        if doc is not None:
            docs.append(doc)
        elif on_skip is not None:
            on_skip(_task_where(source, index, task))
    return docs


def _task_where(source: str, index: int, task: Any) -> str:
    tid = task.get("id") if isinstance(task, dict) else None
    return f"{source}: task #{index}" + (f" (id {tid})" if tid is not None else "")


def _task_doc(task: Any, index: int, source: str, label_map, data_key: str,
              use_predictions: bool) -> AnnotatedDocument | None:
    where = _task_where(source, index, task)
    if not isinstance(task, dict):
        raise AnnotationError(where, f"a task must be an object, got {type(task).__name__}")
    data = task.get("data")
    if not isinstance(data, dict):
        raise AnnotationError(where, "task has no 'data' object")
    text = data.get(data_key)
    if not isinstance(text, str):
        raise AnnotationError(where, f"task data has no string {data_key!r} (set data_key to the text field)")
    annotations = task.get("annotations", task.get("completions")) or []
    if not isinstance(annotations, list):
        raise AnnotationError(where, "'annotations' must be a list")
    chosen = next((a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")), None)
    origin = "annotation"
    if chosen is None and use_predictions:
        preds = task.get("predictions") or []
        chosen = next((p for p in preds if isinstance(p, dict)), None)
        origin = "prediction"
    if chosen is None:
        return None
    result = chosen.get("result") or []
    if not isinstance(result, list):
        raise AnnotationError(where, f"{origin} 'result' must be a list")
    entities: dict[str, Span] = {}
    rel_items: list[tuple[int, dict]] = []
    for k, item in enumerate(result):
        if not isinstance(item, dict):
            raise AnnotationError(where, f"result #{k} is not an object")
        rtype = item.get("type")
        if rtype == "relation":
            rel_items.append((k, item))
        elif rtype == "labels":
            span = _region(item, k, text, where, label_map)
            old = entities.get(span.id)
            if old is not None and (old.start, old.end, old.label) != (span.start, span.end, span.label):
                raise AnnotationError(where, "region id used by two different spans", entity_id=span.id)
            entities.setdefault(span.id, span)
    relations: list[tuple[str, str]] = []
    for k, item in rel_items:
        src, dst = item.get("from_id"), item.get("to_id")
        rname = f"relation result #{k}"
        if src is None or dst is None:
            raise AnnotationError(where, f"{rname} needs from_id and to_id", entity_id=item.get("id"))
        src, dst = str(src), str(dst)
        for lab in item.get("labels") or [MEASURES]:
            map_label(lab, label_map, (MEASURES,), where, f"relation label ({rname})", src)
        for end_name, end_id in (("from_id", src), ("to_id", dst)):
            if end_id not in entities:
                raise AnnotationError(where, f"{rname} ({src} -> {dst}): {end_name} {end_id} names no labelled region",
                                      entity_id=src)
        direction = item.get("direction", "right")
        if direction == "left":
            src, dst = dst, src
        elif direction == "bi" and entities[src].label == INDICATOR and entities[dst].label == QUANTITY:
            src, dst = dst, src
        elif direction not in ("right", "bi"):
            raise AnnotationError(where, f"{rname} has unknown direction {direction!r}", entity_id=src)
        if (src, dst) not in relations:
            relations.append((src, dst))
    meta = dict(data.get("meta") or {}) if isinstance(data.get("meta"), dict) else {}
    if task.get("id") is not None:
        meta.setdefault("labelstudio_task_id", task["id"])
    meta["source"] = where
    doc_id = data.get("doc_id", task.get("id", f"{source}#{index}"))
    return AnnotatedDocument(id=str(doc_id), text=text, entities=list(entities.values()),
                             relations=relations, meta=meta)


def _region(item: dict, k: int, text: str, where: str, label_map) -> Span:
    rid = item.get("id")
    if rid is None:
        raise AnnotationError(where, f"labels result #{k} has no id")
    rid = str(rid)
    value = item.get("value")
    if not isinstance(value, dict):
        raise AnnotationError(where, f"labels result #{k} has no 'value' object", entity_id=rid)
    try:
        start, end = value["start"], value["end"]
        if isinstance(start, bool) or isinstance(end, bool) or int(start) != start or int(end) != end:
            raise TypeError
        start, end = int(start), int(end)
    except (KeyError, TypeError, ValueError):
        raise AnnotationError(where, f"labels result #{k} needs integer value.start and value.end "
                                     f"(got {value.get('start')!r}, {value.get('end')!r})", entity_id=rid) from None
    labels = value.get("labels")
    if not isinstance(labels, list) or not labels:
        raise AnnotationError(where, f"labels result #{k} has no value.labels", entity_id=rid)
    mapped = {map_label(lab, label_map, LABELS, where, "label", rid) for lab in labels}
    if len(mapped) > 1:
        raise AnnotationError(where, f"region has more than one label: {sorted(mapped)}", entity_id=rid)
    if end < start:
        raise AnnotationError(where, f"value.end {end} < value.start {start}", entity_id=rid)
    surface = value.get("text")
    if isinstance(surface, str) and 0 <= start <= end <= len(text) and text[start:end] != surface:
        conv = _utf16_to_cp(text, start, end)
        if conv is not None and text[conv[0]:conv[1]] == surface:
            start, end = conv
        else:
            raise AnnotationError(where, f"value.text {surface!r} does not match text[{start}:{end}] "
                                         f"{text[start:end]!r}", entity_id=rid)
    seg = text[start:end] if 0 <= start <= end <= len(text) else ""
    score = item.get("score", 1.0)
    try:
        score = float(score) if score is not None else 1.0
    except (TypeError, ValueError):
        score = 1.0
    itype = value.get("indicator_type")
    return Span(start, end, mapped.pop(), seg, id=rid, score=score,
                indicator_type=str(itype) if itype else None)


def _utf16_to_cp(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Convert UTF-16 code-unit offsets to code-point offsets (None when they split a pair)."""
    pos16 = 0
    out: dict[int, int] = {}
    for cp, ch in enumerate(text):
        out[pos16] = cp
        pos16 += 2 if ord(ch) > 0xFFFF else 1
    out[pos16] = len(text)
    if start in out and end in out:
        return out[start], out[end]
    return None


# --------------------------------------------------------------------------- export

def prediction_to_document(pred: Prediction) -> AnnotatedDocument:
    """Kept for old callers: :meth:`Prediction.to_annotated`."""
    return pred.to_annotated()


def _result_items(doc: AnnotatedDocument, link_scores: Mapping[tuple[str, str], float | None] | None,
                  with_scores: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    region_id: dict[str | None, str] = {}
    for k, e in enumerate(sorted(doc.entities, key=lambda s: (s.start, s.end, s.label)), 1):
        rid = e.id if e.id else f"r{k}"
        region_id[e.id] = rid
        value: dict[str, Any] = {"start": e.start, "end": e.end, "text": doc.text[e.start:e.end], "labels": [e.label]}
        if e.indicator_type:
            value["indicator_type"] = e.indicator_type
        item: dict[str, Any] = {"id": rid, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
                                "value": value}
        if with_scores and e.score is not None:
            item["score"] = float(e.score)
        items.append(item)
    for a, b in doc.relations:
        rel: dict[str, Any] = {"from_id": region_id.get(a, a), "to_id": region_id.get(b, b), "type": "relation",
                               "direction": "right", "labels": [MEASURES]}
        score = link_scores.get((a, b)) if with_scores and link_scores is not None else None
        if score is not None:
            rel["score"] = float(score)
        items.append(rel)
    return items


def to_labelstudio_tasks(docs_or_predictions: Iterable[AnnotatedDocument | Prediction],
                         model_version: str = "zhibiao", as_predictions: bool = True) -> list[dict[str, Any]]:
    """Label Studio tasks for ``docs_or_predictions`` (see :func:`write_labelstudio_tasks`)."""
    tasks = []
    for x in docs_or_predictions:
        if isinstance(x, Prediction):
            doc, link_scores = x.to_annotated(), x.link_scores()
            scores = [s for s in [s.score for s in x.spans] + [link.score for link in x.links] if s is not None]
        elif isinstance(x, AnnotatedDocument):
            doc, link_scores = x, None
            scores = [s.score for s in x.entities if s.score is not None]
        else:
            raise TypeError(f"expected AnnotatedDocument or Prediction, got {type(x).__name__}")
        data: dict[str, Any] = {TO_NAME: doc.text, "doc_id": doc.id}
        meta = {k: v for k, v in doc.meta.items() if k not in ("source", "labelstudio_task_id")}
        if meta:
            data["meta"] = meta
        task: dict[str, Any] = {"data": data}
        if as_predictions:
            task["predictions"] = [{"model_version": model_version,
                                    "score": float(min(scores)) if scores else 1.0,
                                    "result": _result_items(doc, link_scores, with_scores=True)}]
        else:
            task["annotations"] = [{"result": _result_items(doc, None, with_scores=False), "was_cancelled": False}]
        tasks.append(task)
    return tasks


def write_labelstudio_tasks(docs_or_predictions: Iterable[AnnotatedDocument | Prediction], path: str | Path,
                            model_version: str = "zhibiao", as_predictions: bool = True) -> int:
    """Write a Label Studio task file (JSON list) for the pre-annotation loop; returns the task count.

    Each task is ``{"data": {"text", "doc_id", "meta"?}, "predictions": [{"model_version",
    "score", "result"}]}`` (or ``"annotations": [{"result"}]`` with ``as_predictions=False``).
    ``result`` holds one ``labels`` item per span (``id``, ``from_name="label"``,
    ``to_name="text"``, ``value: {start, end, text, labels}``, ``score`` for predictions) and one
    ``relation`` item per link (``from_id``, ``to_id``, ``direction="right"``,
    ``labels=["MEASURES"]``, ``score`` when the link has one). The prediction's ``score`` is the
    lowest span or link score, so sorting tasks by it puts the least certain first.
    Use :data:`LABEL_CONFIG` as the project's labeling config.
    """
    tasks = to_labelstudio_tasks(docs_or_predictions, model_version=model_version, as_predictions=as_predictions)
    Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(tasks)
