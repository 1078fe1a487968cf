"""Commands of the annotation loop: ``prelabel`` (model predictions as Label Studio tasks),
``convert`` (between annotation formats), ``validate`` (the SPEC's rules) and ``stats`` (counts)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ZhibiaoError
from ..io.convert import READ_FORMATS, WRITE_FORMATS
from .options import add_annotation_options, add_label_map, label_map, output_file

_FILES_HELP = "annotation files (project JSONL, doccano JSONL, Label Studio JSON, markup .txt or folder, .spacy)"


def add_prelabel(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prelabel", help="model predictions as Label Studio tasks, to correct and train on")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="report files, folders, archives (.zip, .tar.*) or JSONL files (one document per line)")
    p.add_argument("-o", "--output", required=True, type=output_file,
                   help="Label Studio task file to write (JSON, tasks with predictions)")
    p.add_argument("--model", default=None, help="model folder, or 'rules' (default: the shipped model)")
    p.set_defaults(func=cmd_prelabel)


def add_convert(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert annotations between project JSONL, doccano, Label Studio, "
                                       "inline markup and spaCy DocBin")
    p.add_argument("input", help="annotation file (or markup folder) to read")
    p.add_argument("output", help="file to write (a folder for markup)")
    p.add_argument("--from", dest="from_format", default="auto", choices=READ_FORMATS,
                   help="format of INPUT (default auto: by extension and content)")
    p.add_argument("--to", dest="to_format", default="auto", choices=WRITE_FORMATS,
                   help="format of OUTPUT (default auto: .jsonl project JSONL, .json Label Studio, .spacy DocBin, "
                        "no suffix a markup folder). Gold goes to Label Studio as annotations: labelstudio and "
                        "labelstudio-annotations both write tasks with annotations (prelabel writes predictions)")
    add_label_map(p)
    p.set_defaults(func=cmd_convert)


def add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check annotation files against the SPEC's rules")
    p.add_argument("files", nargs="+", metavar="FILE", help=_FILES_HELP)
    add_annotation_options(p)
    p.set_defaults(func=cmd_validate)


def add_stats(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="counts of documents, quantities, links, per label and indicator type")
    p.add_argument("files", nargs="+", metavar="FILE", help=_FILES_HELP)
    p.add_argument("--json", action="store_true", help="print the counts as JSON instead of a table")
    p.add_argument("--taxonomy", default=None, help="extra indicator taxonomy YAML (extends the bundled one)")
    add_annotation_options(p)
    p.set_defaults(func=cmd_stats)


def cmd_prelabel(args: argparse.Namespace) -> int:
    from ..extract import load
    from ..ingest import iter_documents
    from ..io.labelstudio import write_labelstudio_tasks

    ex = load(args.model)
    items = list(iter_documents(args.inputs))
    failed = [d for d in items if isinstance(d, ZhibiaoError)]
    docs = [d for d in items if not isinstance(d, ZhibiaoError)]
    preds = ex.predict([d.text for d in docs], [d.doc_id for d in docs])
    write_labelstudio_tasks(preds, args.output, model_version=Path(str(args.model or "default")).name)
    print(f"wrote {len(preds)} task(s) with predictions to {args.output}", file=sys.stderr)
    for err in failed:  # unreadable inputs get no task: say which and why
        print(f"zhibiao prelabel: not read: {err}", file=sys.stderr)
    return 1 if failed else 0


def cmd_convert(args: argparse.Namespace) -> int:
    from ..io.convert import read_any, write_any
    from ..io.writers import check_output_folder

    skipped: list[str] = []

    def skip(where: str) -> None:  # a Label Studio task without an annotation: said, counted, never silent
        skipped.append(where)
        print(f"zhibiao convert: skipped {where}: no annotation (not cancelled) to convert", file=sys.stderr)

    docs = read_any(args.input, args.from_format, label_map(args.label_map), on_skip=skip)
    # gold goes to Label Studio as annotations (it reads back as gold); `zhibiao prelabel` writes predictions
    fmt = "labelstudio-annotations" if args.to_format == "labelstudio" else args.to_format
    if fmt == "auto" and str(args.output).endswith(".json"):
        fmt = "labelstudio-annotations"
    if fmt != "markup" and not (fmt == "auto" and Path(args.output).suffix == ""):
        check_output_folder(args.output)  # a markup folder is created, parents too; a file's folder must exist
    write_any(docs, args.output, fmt)
    print(f"wrote {len(docs)} document(s) to {args.output}"
          + (f"; skipped {len(skipped)} task(s) without an annotation (listed above)" if skipped else ""),
          file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ..validate import validate_paths

    result = validate_paths(args.files, args.format, label_map(args.label_map))
    for p in result.problems:
        print(p)
    for where, reason in result.skipped:
        print(f"zhibiao validate: skipped {where}: {reason}", file=sys.stderr)
    print(f"{len(result.problems)} problem(s) in {result.documents} document(s) checked in {result.files} file(s)"
          + (f"; {len(result.skipped)} skipped, not checked (listed above)" if result.skipped else ""), file=sys.stderr)
    return 1 if result.problems else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from ..io.convert import read_any
    from ..stats import format_stats, stats
    from ..taxonomy import Taxonomy

    docs = [d for p in args.files for d in read_any(p, args.format, label_map(args.label_map))]
    d = stats(docs, Taxonomy.load(extend=args.taxonomy))
    print(json.dumps(d, ensure_ascii=False, indent=2) if args.json else format_stats(d))
    return 0
