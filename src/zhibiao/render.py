"""An HTML view of reports: the text with its QUANTITY and INDICATOR spans marked, every link
visible, and the records table below (``zhibiao render INPUT -o report.html``)::

    from zhibiao.render import render_html
    html = render_html(zhibiao.load(), [text, (other_text, "doc-2")])

One self-contained page (inline CSS and a few lines of inline JavaScript, no network: a
Content-Security-Policy forbids every external load), one section per document:

- each INDICATOR that a quantity measures gets a colour and a number; its quantities are outlined
  in the same colour and carry the same number, so a link reads without hovering (and in print);
  hovering a mark or a table row highlights its indicator, the indicator's quantities and their
  rows;
- a link whose score is below :data:`LOW_CONFIDENCE` (0.5) is drawn dashed, with ``?`` after its
  number, and its row is shaded: the linker was unsure; check those first;
- spans with no link are grey (an indicator that no quantity measures, a quantity with no
  indicator in its sentence);
- the records table: one row per record (``--all-quantities``: unlinked quantities too).

Every mark is a ``<mark class="ent ...">`` with ``data-label``, ``data-start`` and ``data-end``
(character offsets into the document's text, as in the records); all text is HTML-escaped.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Sequence

from ._version import __version__
from .records import INDICATOR, QUANTITY, Document, Prediction, Record

if TYPE_CHECKING:
    from .extract import Extractor

__all__ = ["LOW_CONFIDENCE", "Section", "document_section", "error_section", "page", "render_html"]

#: a link scored below this is marked low-confidence (dashed, "?", shaded row)
LOW_CONFIDENCE = 0.5

GOLDEN_ANGLE = 137.508  # successive hues as far apart as possible


class Section(NamedTuple):
    """One document's part of the page."""

    anchor: str
    doc_id: str
    summary: str
    html: str
    failed: bool = False


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _hue(group: int) -> int:
    return round((group * GOLDEN_ANGLE) % 360)


class _Marks:
    """The marks of one document: which link group (indicator) each span belongs to, and its score."""

    def __init__(self, pred: Prediction, records: Sequence[Record], prefix: str) -> None:
        doc = pred.to_annotated()
        scores = pred.link_scores()
        self.entities = sorted(doc.entities, key=lambda e: (e.start, -e.end, e.label))
        by_id = {e.id: e for e in doc.entities}
        linked_inds = sorted({b for _, b in doc.relations}, key=lambda i: (by_id[i].start, by_id[i].end))
        self.group = {iid: n + 1 for n, iid in enumerate(linked_inds)}  # indicator id -> link number
        self.link_of: dict[str | None, tuple[str, float | None]] = {}          # quantity id -> (indicator id, score)
        self.quantities_of: dict[str, list[str]] = {}
        self.number_at: dict[tuple[int, int], int] = {}                   # quantity (start, end) -> link number
        for q, i in doc.relations:
            self.link_of[q] = (i, scores[(q, i)])
            self.quantities_of.setdefault(i, []).append(by_id[q].text)
            self.number_at[(by_id[q].start, by_id[q].end)] = self.group[i]
        self.types = {(r.indicator_start, r.indicator_end): r.indicator_type for r in records if r.indicator}
        self.by_id = by_id
        self.prefix = prefix

    def gid(self, n: int) -> str:
        return f"{self.prefix}-g{n}"

    def mark_id(self, start: int, label: str) -> str:
        return f"{self.prefix}-{'q' if label == QUANTITY else 'i'}{start}"

    def open_tag(self, e: Any) -> str:
        attrs = {"data-label": e.label, "data-start": e.start, "data-end": e.end, "id": self.mark_id(e.start, e.label)}
        classes = ["ent", "q" if e.label == QUANTITY else "i"]
        if e.label == QUANTITY and e.id in self.link_of:
            iid, score = self.link_of[e.id]
            n = self.group[iid]
            attrs.update({"data-g": self.gid(n), "data-n": n, "style": f"--h:{_hue(n)}"})
            if score is not None:  # the rule baseline scores no link
                attrs["data-score"] = f"{score:.3f}"
            low = _low(score)
            classes += ["low"] if low else []
            attrs["title"] = (f"QUANTITY {e.text} → {self.by_id[iid].text} (link {n}, score {_score_text(score)}"
                              + (", low confidence)" if low else ")"))
        elif e.label == INDICATOR and e.id in self.group:
            n = self.group[e.id]
            kind = self.types.get((e.start, e.end))
            attrs.update({"data-g": self.gid(n), "data-n": n, "style": f"--h:{_hue(n)}",
                          "title": f"INDICATOR {e.text}" + (f" ({kind})" if kind else "")
                          + f" ← {', '.join(self.quantities_of[e.id])} (link {n})"})
        else:
            classes.append("free")
            attrs["title"] = f"{e.label} {e.text} (no link)"
        attrs["class"] = " ".join(classes)
        return "<mark " + " ".join(f'{k}="{_esc(v)}"' for k, v in attrs.items()) + ">"


def _marked_text(text: str, marks: _Marks) -> str:
    """The document's text, escaped, with one ``<mark>`` per entity (an overlapping one is clipped)."""
    out: list[str] = []
    pos = 0
    for e in marks.entities:
        start = max(e.start, pos)
        if start >= e.end:
            continue  # wholly inside the previous span (decoding never gives that)
        out.append(_esc(text[pos:start]))
        out.append(marks.open_tag(e) + _esc(text[start:e.end]) + "</mark>")
        pos = e.end
    out.append(_esc(text[pos:]))
    return "".join(out)


def _number(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4f}".rstrip("0").rstrip(".")


def _columns() -> list[tuple[str, Any]]:
    """Table columns: (header, getter); fields that only some zhibiao versions have appear when present."""
    from .records import RECORD_FIELDS

    cols: list[tuple[str, Any]] = [
        ("quantity 数量", None), ("indicator 指标", lambda r: r.indicator or ""),
        ("type 类型", lambda r: r.indicator_type or "")]
    cols += [(h, (lambda r, f=f: getattr(r, f) or "")) for f, h in
             (("indicator_type_zh", "类型"), ("qualifier", "qualifier 限定")) if f in RECORD_FIELDS]
    cols += [
        ("value 值", lambda r: _number(r.value) + (f"–{_number(r.value_max)}" if r.value_max is not None else "")
         + (" ≈" if r.approximate else "")),
        ("unit 单位", lambda r: r.unit or ""),
        ("normalised 归一", lambda r: f"{_number(r.normalized_value)} {r.normalized_unit or ''}".strip()),
        ("score", lambda r: _score_text(r.score)), ("offsets", lambda r: f"{r.start}–{r.end}")]
    return cols


def _low(link_score: float | None) -> bool:
    """A link scored below :data:`LOW_CONFIDENCE` (the link score only; none: not marked)."""
    return link_score is not None and link_score < LOW_CONFIDENCE


def _score_text(score: float | None) -> str:
    return "–" if score is None else f"{score:.2f}"


def _records_table(records: Sequence[Record], marks: _Marks) -> str:
    if not records:
        return '<p class="none">No records.</p>'
    cols = _columns()
    head = "".join(f"<th>{_esc(h)}</th>" for h, _ in [("link", None)] + cols)
    rows = []
    for r in records:
        n = marks.number_at.get((r.start, r.end))
        low = r.indicator is not None and _low(r.score)
        attrs = (f' data-g="{marks.gid(n)}" style="--h:{_hue(n)}"' if n else "") + (' class="low"' if low else "")
        cells = [f'<td class="n">{n or ""}{"?" if low else ""}</td>',
                 f'<td><a href="#{marks.mark_id(r.start, QUANTITY)}">{_esc(r.quantity)}</a></td>']
        cells += [f"<td>{_esc(get(r))}</td>" for _, get in cols[1:]]
        rows.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    return (f'<table class="records"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows)
            + "\n</tbody></table>")


def document_section(pred: Prediction, records: Sequence[Record], index: int) -> Section:
    """The section of one document: its marked text and its records table."""
    anchor = f"d{index}"
    marks = _Marks(pred, records, anchor)
    n_low = sum(1 for _, s in marks.link_of.values() if _low(s))
    n_q = sum(1 for e in marks.entities if e.label == QUANTITY)
    summary = (f"{n_q} QUANTITY, {len(marks.entities) - n_q} INDICATOR · {_plural(len(marks.link_of), 'link')}"
               + (f" ({n_low} below {LOW_CONFIDENCE})" if n_low else "") + f" · {_plural(len(records), 'record')}")
    doc_id = pred.doc_id if pred.doc_id is not None else f"document {index}"
    body = (f'<section class="doc" id="{anchor}">\n<h2>{_esc(doc_id)}</h2>\n<p class="summary">{_esc(summary)}</p>\n'
            f'<div class="text" lang="zh">{_marked_text(pred.text, marks)}</div>\n'
            f"{_records_table(records, marks)}\n</section>")
    return Section(anchor, doc_id, summary, body)


def error_section(doc_id: str, message: str, index: int) -> Section:
    """The section of a document that could not be read or extracted: its id and the reason."""
    anchor = f"d{index}"
    body = (f'<section class="doc error" id="{anchor}">\n<h2>{_esc(doc_id)}</h2>\n'
            f'<p class="error">Not rendered: {_esc(message)}</p>\n</section>')
    return Section(anchor, doc_id, "failed", body, failed=True)


CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",
 sans-serif;max-width:1100px;margin:0 auto;padding:1rem 2rem;color:#222;line-height:1.5}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .2rem;word-break:break-all}
.meta,.summary{color:#666;font-size:.9rem;margin:.2rem 0}
.legend{font-size:.9rem;line-height:2.2;margin:.6rem 0}.legend .ent{margin-right:.3rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:16px;line-height:2.1;border:1px solid #ddd;
 border-radius:6px;padding:.8rem 1rem;background:#fcfcfc}
.ent{color:inherit;border-radius:3px;padding:0 1px;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.ent.i{background:hsl(var(--h) 85% 84%);box-shadow:inset 0 -2px 0 hsl(var(--h) 55% 38%)}
.ent.q{background:hsl(var(--h) 90% 96%);outline:2px solid hsl(var(--h) 55% 42%);outline-offset:-1px}
.ent.q.low{outline-style:dashed;background:#fff}
.ent.free{background:#ececec;outline:1px dotted #999;box-shadow:none}
.ent[data-n]::after{content:attr(data-n);font-size:.62em;vertical-align:super;margin-left:1px;font-weight:bold;
 color:hsl(var(--h) 55% 30%)}
.ent.low::after{content:attr(data-n) "?";color:#b00}
.ent.hl{filter:brightness(.82) saturate(1.6);outline-width:3px}
table.records{border-collapse:collapse;margin:.8rem 0 1.5rem;font-size:.85rem;width:100%}
table.records th,table.records td{border-bottom:1px solid #e3e3e3;padding:.2rem .45rem;text-align:left}
table.records th{background:#f3f3f3;position:sticky;top:0}
table.records td.n{font-weight:bold;color:hsl(var(--h,0) 55% 30%)}
tr.low{background:#fff4f0}tr.hl{background:hsl(var(--h) 90% 92%)}
.error{color:#b00}nav ol{font-size:.9rem;columns:2}
"""

SCRIPT = """
(function(){
  function mark(g,on){var els=document.querySelectorAll('[data-g="'+g+'"]');
    for(var i=0;i<els.length;i++){els[i].classList.toggle('hl',on);}}
  function on(e,flag){var t=e.target.closest?e.target.closest('[data-g]'):null;if(t){mark(t.getAttribute('data-g'),flag);}}
  document.addEventListener('mouseover',function(e){on(e,true);});
  document.addEventListener('mouseout',function(e){on(e,false);});
  document.body.setAttribute('data-ready','1');
})();
"""

#: no network at all: only the page's own inline style and script run
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _legend() -> str:
    """The key (spans, not marks: the page holds exactly one ``<mark>`` per entity of the documents)."""
    return ('<p class="legend"><span class="ent i" style="--h:137" data-n="1">指标</span> INDICATOR and '
            '<span class="ent q" style="--h:137" data-n="1">100户</span> the QUANTITY it measures (same colour, '
            'same number; hover to highlight the pair) · '
            '<span class="ent q low" style="--h:275" data-n="2">3人</span> link score below '
            f'{LOW_CONFIDENCE} · <span class="ent q free">5个</span> no link</p>')


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def page(sections: Sequence[Section], *, title: str | None = None, model: str | None = None) -> str:
    """The whole HTML page around the document sections (a table of contents when there are several)."""
    n_failed = sum(s.failed for s in sections)
    title = title or "zhibiao report" + (f": {sections[0].doc_id}" if len(sections) == 1 else "")
    meta = f"zhibiao {__version__}" + (f" · model {model}" if model else "") + f" · {_plural(len(sections), 'document')}"
    meta += f" ({n_failed} not rendered)" if n_failed else ""
    toc = ""
    if len(sections) > 1:
        toc = "<nav><ol>" + "".join(f'<li><a href="#{s.anchor}">{_esc(s.doc_id)}</a> <span class="meta">'
                                    f"{_esc(s.summary)}</span></li>" for s in sections) + "</ol></nav>\n"
    return ("<!DOCTYPE html>\n<html lang=\"zh\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{_esc(title)}</h1>\n<p class=\"meta\">{_esc(meta)}</p>\n{_legend()}</header>\n{toc}"
            + "\n".join(s.html for s in sections) + f"\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


def render_html(extractor: Extractor, items: Iterable[str | tuple[str, Any] | Document], *,
                all_quantities: bool = False, title: str | None = None, batch_size: int = 32) -> str:
    """The page for ``items`` (texts, ``(text, context)`` pairs as :meth:`Extractor.pipe` takes them,
    or :class:`~zhibiao.records.Document` s), predicted with ``extractor``."""
    from .extract import context_doc_id, pipe_item

    docs: list[tuple[str, str | None]] = []
    for item in items:
        if isinstance(item, Document):
            docs.append((item.text, item.doc_id))
        else:
            text, context = pipe_item(item)
            docs.append((text, context_doc_id(context)))
    sections = []
    for at in range(0, len(docs), max(1, batch_size)):
        chunk = docs[at:at + max(1, batch_size)]
        for k, pred in enumerate(extractor.predict([t for t, _ in chunk], [i for _, i in chunk])):
            sections.append(document_section(pred, extractor.records(pred, all_quantities), at + k + 1))
    return page(sections, title=title, model=extractor.name)
