"""The ``zhibiao`` command line: thin, it parses arguments and calls the modules that do the work.

    zhibiao extract INPUT... -o records.jsonl      batch extraction (folders, archives, JSONL)
    zhibiao train --config training/default.yaml --output models/mine
    zhibiao evaluate --model models/default annotations/seeds.jsonl
    zhibiao validate annotations/*.jsonl           zhibiao stats annotations/*.jsonl
    zhibiao convert export.json gold.jsonl         zhibiao prelabel reports/ -o tasks.json
    zhibiao normalize INPUT... -o normalized.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import ZhibiaoError


def _label_map(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep:
            raise ZhibiaoError(f"--label-map {item!r}: expected THEIRS=OURS")
        out[k] = v
    return out


def cmd_normalize(args) -> int:
    from .ingest import iter_documents
    from .normalize import normalize

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failures = 0
    try:
        for doc in iter_documents(args.inputs):
            if isinstance(doc, ZhibiaoError):
                failures += 1
                print(f"error: {doc}", file=sys.stderr)
                continue
            n = normalize(doc.text)
            out.write(json.dumps({"doc_id": doc.doc_id, "encoding": doc.encoding, "text": n.text},
                                 ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 1 if failures else 0


def cmd_validate(args) -> int:
    from .io.convert import read_any
    from .validate import validate_document, validate_files

    problems = []
    for path in args.files:
        fmt = args.format
        if fmt in ("auto", "jsonl") and str(path).endswith(".jsonl"):
            problems += validate_files([path])
        else:
            for doc in read_any(path, fmt, _label_map(args.label_map)):
                problems += validate_document(doc, f"{path}:{doc.id}")
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {len(args.files)} file(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_stats(args) -> int:
    from .io.convert import read_any
    from .stats import format_stats, stats
    from .taxonomy import Taxonomy

    docs = [d for p in args.files for d in read_any(p, args.format, _label_map(args.label_map))]
    d = stats(docs, Taxonomy.load(extend=args.taxonomy))
    print(json.dumps(d, ensure_ascii=False, indent=2) if args.json else format_stats(d))
    return 0


def cmd_convert(args) -> int:
    from .io.convert import read_any, write_any

    docs = read_any(args.input, args.from_format, _label_map(args.label_map))
    # gold goes to Label Studio as annotations (it reads back as gold); `zhibiao prelabel` writes predictions
    fmt = "labelstudio-annotations" if args.to_format == "labelstudio" else args.to_format
    if fmt == "auto" and str(args.output).endswith(".json"):
        fmt = "labelstudio-annotations"
    write_any(docs, args.output, fmt)
    print(f"wrote {len(docs)} document(s) to {args.output}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from .train import load_config, train

    overrides = list(args.set or [])
    if args.device:
        overrides.append(f"train.device={args.device}")
    cfg = load_config(args.config, overrides)
    res = train(cfg, args.output, progress=not args.quiet)
    dev = res.metrics.get("dev", {})
    print(json.dumps({"output": str(res.output), "train_seconds": res.metrics["train_seconds"],
                      "dev_link_relaxed_f1": dev.get("link_relaxed_f1"), "dev_quantity_f1": dev.get("quantity_f1")},
                     ensure_ascii=False))
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate
    from .extract import load
    from .io.convert import read_any

    docs = [d for p in args.files for d in read_any(p, args.format, _label_map(args.label_map))]
    if args.split:
        docs = [d for d in docs if d.meta.get("split") in set(args.split)]
    if not docs:
        raise ZhibiaoError("no documents to evaluate")
    results = {}
    for name in args.model:
        ex = load(None if name == "default" else name, threads=args.threads)
        results[name] = evaluate(docs, ex.predict([d.text for d in docs], [d.id for d in docs]), ex.taxonomy)
    if args.output:
        Path(args.output).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    keys = ["entity_QUANTITY_f1", "entity_INDICATOR_f1", "quantity_f1", "link_strict_f1", "link_relaxed_f1",
            "value_accuracy", "type_accuracy", "link_ece"]
    print("metric".ljust(22) + "".join(n[-24:].rjust(26) for n in results))
    for k in keys:
        print(k.ljust(22) + "".join(f"{results[n][k]:26.4f}" for n in results))
    return 0


def cmd_prelabel(args) -> int:
    from .extract import load
    from .ingest import iter_documents
    from .io.labelstudio import write_labelstudio_tasks

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


def cmd_extract(args) -> int:
    from .batch import run_extract

    return run_extract(args)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="zhibiao", description="Indicator-linked quantities from Chinese rural-revitalisation reports")
    ap.add_argument("--version", action="version", version=f"zhibiao {__import__('zhibiao').__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    def ann_opts(p):
        p.add_argument("--format", default="auto", choices=["auto", "jsonl", "doccano", "labelstudio", "markup"],
                       help="annotation format of the input files (default: by extension and content)")
        p.add_argument("--label-map", nargs="*", metavar="THEIRS=OURS", help="map the tool's label names to ours")

    p = sub.add_parser("extract", help="batch extraction over files, folders, archives or JSONL")
    p.add_argument("inputs", nargs="+")
    p.add_argument("-o", "--output", required=True, help="records file: .jsonl, .csv or .parquet")
    p.add_argument("--model", default=None, help="model folder, or 'rules' (default: the shipped model)")
    p.add_argument("--all-quantities", action="store_true", help="also write quantities with no linked indicator")
    p.add_argument("--resume", action="store_true", help="skip documents already complete in OUTPUT")
    p.add_argument("--errors", default=None, help="errors file (default: OUTPUT + '.errors.jsonl')")
    p.add_argument("--batch-size", type=int, default=64, help="documents per model call (default 64; windows are batched by length across them)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (per worker process with --workers > 1; default 1 there)")
    p.add_argument("--workers", default="auto", metavar="N|auto",
                   help="model worker processes, each with its own copy of the model (~0.5 GB); this process "
                        "reads and writes. 'auto' (default): one per CPU, at most 8 and one per batch; 1: no workers")
    p.add_argument("--quantize", action="store_true", help="int8 dynamic quantisation of the model")
    p.add_argument("--taxonomy", default=None, help="extra indicator taxonomy YAML")
    p.add_argument("--max-unpacked-bytes", type=int, default=None, help="archive size limit once unpacked")
    p.add_argument("--engine", default="local", choices=["local", "ray"])
    p.add_argument("--ray-address", default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("--config", default=None, help="YAML file describing the run (default: built-in defaults)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config key, e.g. train.epochs=5")
    p.add_argument("--output", required=True, help="model folder to write")
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score models (or 'rules') against gold annotations")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", nargs="+", default=["default"], help="model folders, 'default' or 'rules'")
    p.add_argument("--split", nargs="*", help="only documents whose meta.split is one of these")
    p.add_argument("--output", default=None, help="write the metrics JSON here")
    p.add_argument("--threads", type=int, default=None)
    ann_opts(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("validate", help="check annotation files against the SPEC's rules")
    p.add_argument("files", nargs="+")
    ann_opts(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("stats", help="counts of documents, quantities, links, per label and indicator type")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--taxonomy", default=None)
    ann_opts(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("convert", help="convert annotations between project JSONL, doccano, Label Studio, spaCy DocBin")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--from", dest="from_format", default="auto", choices=["auto", "jsonl", "doccano", "labelstudio", "markup"])
    p.add_argument("--to", dest="to_format", default="auto", choices=["auto", "jsonl", "doccano", "labelstudio", "docbin"])
    p.add_argument("--label-map", nargs="*", metavar="THEIRS=OURS")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("prelabel", help="model predictions as Label Studio tasks, to correct and train on")
    p.add_argument("inputs", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--model", default=None)
    p.set_defaults(func=cmd_prelabel)

    p = sub.add_parser("normalize", help="print documents as the model sees them (normalised text)")
    p.add_argument("inputs", nargs="+")
    p.add_argument("-o", "--output", default=None)
    p.set_defaults(func=cmd_normalize)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ZhibiaoError as exc:
        print(f"zhibiao {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
