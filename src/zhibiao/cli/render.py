"""``zhibiao render``: an HTML page of reports with their quantities, indicators and links marked
and the records table below (:mod:`zhibiao.render`)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ZhibiaoError
from .options import output_file


def add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="an HTML page of reports with quantities, indicators and links marked")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="report files (.txt, .html, .jsonl ...), folders or archives, as zhibiao extract reads "
                        "them; several documents: one section each")
    p.add_argument("-o", "--output", required=True, type=output_file,
                   help="the HTML file to write (self-contained: opens offline in any browser)")
    p.add_argument("--model", default=None, help="model folder, or 'rules' (default: the shipped model)")
    p.add_argument("--all-quantities", action="store_true",
                   help="also list quantities with no linked indicator in the records table")
    p.add_argument("--title", default=None, help="page title (default: 'zhibiao report', with the document id if one)")
    p.add_argument("--taxonomy", default=None, help="extra indicator taxonomy YAML (extends the bundled one)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    p.add_argument("--batch-size", type=int, default=16, help="documents per model call (default 16)")
    p.set_defaults(func=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    """Read, predict, write one page; a document that fails gets a section saying why, and exit 1."""
    from ..extract import load, model_folder
    from ..ingest import iter_documents
    from ..render import Section, error_section, page

    if args.model != "rules":
        model_folder(args.model)  # a missing folder fails here, before anything is read
    nlp = load(args.model, threads=args.threads, taxonomy=args.taxonomy)
    sections: list[Section] = []
    batch: list[Any] = []
    for item in iter_documents(args.inputs):
        if isinstance(item, ZhibiaoError):
            sections.append(error_section(getattr(item, "doc_id", "?"), str(item), len(sections) + 1))
            continue
        batch.append(item)
        if len(batch) >= max(1, args.batch_size):
            sections += _predict(nlp, batch, args.all_quantities, len(sections) + 1)
            batch = []
    sections += _predict(nlp, batch, args.all_quantities, len(sections) + 1)
    if not sections:
        raise ZhibiaoError("no documents found in " + ", ".join(args.inputs))
    with open(args.output, "w", encoding="utf-8", errors="replace", newline="\n") as f:
        f.write(page(sections, title=args.title, model=args.model or "default (shipped)"))
    failed = [s for s in sections if s.failed]
    n = len(sections)
    print(f"zhibiao render: {n} document{'' if n == 1 else 's'}, {len(failed)} failed -> {args.output}", file=sys.stderr)
    for s in failed:
        print(f"zhibiao render: not rendered: {s.doc_id}", file=sys.stderr)
    return 1 if failed else 0


def _predict(nlp: Any, docs: list[Any], all_quantities: bool, first: int) -> list[Any]:
    """Sections of ``docs`` numbered from ``first``; when the batch fails, document by document."""
    from ..render import document_section, error_section

    if not docs:
        return []
    try:
        preds = nlp.predict([d.text for d in docs], [d.doc_id for d in docs])
        return [document_section(p, nlp.records(p, all_quantities), first + k) for k, p in enumerate(preds)]
    except Exception:  # noqa: BLE001 - one bad document must not take the others with it
        out = []
        for k, d in enumerate(docs):
            try:
                p = nlp.predict([d.text], [d.doc_id])[0]
                out.append(document_section(p, nlp.records(p, all_quantities), first + k))
            except Exception as exc:  # noqa: BLE001
                out.append(error_section(d.doc_id, f"{type(exc).__name__}: {exc}", first + k))
        return out
