"""Corpus statistics for annotated documents (what ``zhibiao stats`` prints).

:func:`stats` counts documents, characters, spans per label, links, unlinked quantities and
indicators, links per indicator type, and documents/spans/links per ``meta["split"]`` and
``meta["script"]``. :func:`format_stats` renders the result as Markdown tables.

A link's indicator type is the INDICATOR span's ``indicator_type`` when the annotation has one;
else, when a taxonomy is given, the taxonomy's classification of the indicator text; else
``"(untyped)"``.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from .records import INDICATOR, QUANTITY, AnnotatedDocument

__all__ = ["stats", "format_stats", "UNTYPED", "NO_VALUE"]

UNTYPED = "(untyped)"
NO_VALUE = "(none)"


def _load_taxonomy(taxonomy: Any):
    if taxonomy is None or hasattr(taxonomy, "classify"):
        return taxonomy
    try:
        from .taxonomy import Taxonomy
    except ImportError as exc:  # the taxonomy module is optional here
        raise ValueError(f"cannot load a taxonomy ({exc})") from None
    if taxonomy is True or taxonomy == "default":
        return Taxonomy.load()
    if isinstance(taxonomy, (str, Path)):
        return Taxonomy.load(taxonomy)
    raise TypeError(f"taxonomy must be None, True, a path or an object with .classify, got {type(taxonomy).__name__}")


def _group_counts() -> dict[str, int]:
    return {"documents": 0, "characters": 0, "quantities": 0, "indicators": 0, "links": 0}


def stats(docs: Iterable[AnnotatedDocument], taxonomy: Any = None) -> dict[str, Any]:
    """Counts over ``docs``; ``taxonomy`` is None, a Taxonomy (anything with ``.classify``),
    a taxonomy file path, or True for the packaged default."""
    tax = _load_taxonomy(taxonomy)
    out: dict[str, Any] = {
        "documents": 0, "characters": 0, "entities": 0, "quantities": 0, "indicators": 0, "links": 0,
        "linked_quantities": 0, "unlinked_quantities": 0, "unlinked_indicators": 0, "documents_without_entities": 0,
    }
    labels: Counter[str] = Counter()
    types: Counter[str] = Counter()
    by_split: dict[str, dict[str, int]] = {}
    by_script: dict[str, dict[str, int]] = {}
    classified: dict[str, str] = {}
    for doc in docs:
        by_id = {e.id: e for e in doc.entities}
        linked_q = {a for a, _ in doc.relations if a in by_id}
        linked_i = {b for _, b in doc.relations if b in by_id}
        nq = sum(1 for e in doc.entities if e.label == QUANTITY)
        ni = sum(1 for e in doc.entities if e.label == INDICATOR)
        nl = len(doc.relations)
        out["documents"] += 1
        out["characters"] += len(doc.text)
        out["entities"] += len(doc.entities)
        out["quantities"] += nq
        out["indicators"] += ni
        out["links"] += nl
        out["linked_quantities"] += sum(1 for i in linked_q if by_id[i].label == QUANTITY)
        out["unlinked_quantities"] += sum(1 for e in doc.entities if e.label == QUANTITY and e.id not in linked_q)
        out["unlinked_indicators"] += sum(1 for e in doc.entities if e.label == INDICATOR and e.id not in linked_i)
        if not doc.entities:
            out["documents_without_entities"] += 1
        labels.update(e.label for e in doc.entities)
        for _, b in doc.relations:
            ind = by_id.get(b)
            if ind is None:
                types["(missing indicator)"] += 1
                continue
            if ind.indicator_type:
                t = ind.indicator_type
            elif tax is not None:
                surface = ind.text or doc.text[ind.start:ind.end]
                if surface not in classified:
                    classified[surface] = str(tax.classify(surface))
                t = classified[surface]
            else:
                t = UNTYPED
            types[t] += 1
        for key, table in (("split", by_split), ("script", by_script)):
            val = doc.meta.get(key)
            g = table.setdefault(NO_VALUE if val in (None, "") else str(val), _group_counts())
            g["documents"] += 1
            g["characters"] += len(doc.text)
            g["quantities"] += nq
            g["indicators"] += ni
            g["links"] += nl
    out["labels"] = dict(sorted(labels.items()))
    out["indicator_types"] = dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0])))
    out["splits"] = dict(sorted(by_split.items()))
    out["scripts"] = dict(sorted(by_script.items()))
    return out


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[k]) for r in cells) for k in range(len(header))]

    def line(r: list[str]) -> str:
        parts = []
        for k, c in enumerate(r):
            pad = " " * (widths[k] - _width(c))
            parts.append(c + pad if k == 0 else pad + c)
        return "| " + " | ".join(parts) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":" if k else "-" * (w + 2)) for k, w in enumerate(widths)) + "|"
    return [line(cells[0]), sep] + [line(r) for r in cells[1:]]


def _width(s: str) -> int:
    """Display width: CJK and other wide characters count 2 (keeps tables aligned in a terminal)."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def format_stats(d: dict[str, Any]) -> str:
    """Render :func:`stats` output as Markdown tables (readable as plain text too)."""
    lines = ["## Corpus", ""]
    order = ["documents", "characters", "entities", "quantities", "indicators", "links", "linked_quantities",
             "unlinked_quantities", "unlinked_indicators", "documents_without_entities"]
    lines += _table(["count", "value"], [[k.replace("_", " "), d[k]] for k in order if k in d])
    if d.get("labels"):
        lines += ["", "## Spans per label", ""]
        lines += _table(["label", "spans"], [[k, v] for k, v in d["labels"].items()])
    if d.get("indicator_types"):
        total = sum(d["indicator_types"].values()) or 1
        lines += ["", "## Links per indicator type", ""]
        lines += _table(["indicator type", "links", "share"],
                        [[k, v, f"{100 * v / total:.1f}%"] for k, v in d["indicator_types"].items()])
    for key, title in (("splits", "split"), ("scripts", "script")):
        groups = d.get(key) or {}
        if groups and set(groups) != {NO_VALUE}:
            lines += ["", f"## Per {title} (meta.{title})", ""]
            lines += _table([title, "documents", "characters", "quantities", "indicators", "links"],
                            [[k, g["documents"], g["characters"], g["quantities"], g["indicators"], g["links"]]
                             for k, g in groups.items()])
    return "\n".join(lines) + "\n"
