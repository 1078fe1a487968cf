"""Label names from other tools: :func:`map_label` renames a label through a user's label map and
checks it against the labels the project knows (shared by the doccano and Label Studio readers)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..errors import AnnotationError

__all__ = ["map_label"]


def map_label(label: Any, label_map: Mapping[str, str] | None, allowed: Iterable[str], where: str,
              what: str, entity_id: str | None = None) -> str:
    """Map ``label`` through ``label_map`` and check it is one of ``allowed``; else AnnotationError."""
    allowed = tuple(allowed)
    raw = str(label) if label is not None else ""
    mapped = (label_map or {}).get(raw, raw)
    if mapped not in allowed:
        hint = "" if label_map else "; pass label_map to rename labels"
        shown = f"{raw!r}" if mapped == raw else f"{raw!r} (mapped to {mapped!r})"
        raise AnnotationError(where, f"unknown {what} {shown}: expected one of {', '.join(allowed)}{hint}",
                              entity_id=entity_id)
    return mapped
