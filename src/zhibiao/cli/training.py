"""Commands over models: ``zhibiao train`` (a model folder from a YAML config) and
``zhibiao evaluate`` (models against gold annotations)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import ZhibiaoError
from .options import add_annotation_options, label_map, output_file

_METRICS = ["entity_QUANTITY_f1", "entity_INDICATOR_f1", "quantity_f1", "link_strict_f1", "link_relaxed_f1",
            "value_accuracy", "type_accuracy", "link_ece"]


def add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("--config", default=None, help="YAML file describing the run (default: built-in defaults)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one config key with a YAML value, e.g. train.epochs=5 (repeatable)")
    p.add_argument("--output", required=True, help="model folder to write (created if missing; an existing "
                                                   "one must be empty unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="write into an existing, non-empty --output folder")
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)


def add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score models (or 'rules') against gold annotations")
    p.add_argument("files", nargs="+", metavar="FILE", help="gold annotation files")
    p.add_argument("--model", nargs="+", default=["default"], metavar="MODEL",
                   help="model folders, 'default' (the shipped model) or 'rules' (default: default)")
    p.add_argument("--split", nargs="*", metavar="SPLIT", help="only documents whose meta.split is one of these")
    p.add_argument("--output", default=None, type=output_file, help="write the metrics JSON here")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    add_annotation_options(p)
    p.set_defaults(func=cmd_evaluate)


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import check_output_folder
    from ..train import load_config, train

    overrides = list(args.set or [])
    if args.device:
        overrides.append(f"train.device={args.device}")
    cfg = load_config(args.config, overrides)  # types and ranges: a ConfigError (exit 2) before any work
    check_output_folder(args.output, require_empty=not args.overwrite)  # data paths: checked first thing in train
    res = train(cfg, args.output, progress=not args.quiet)
    dev = res.metrics.get("dev", {})
    print(json.dumps({"output": str(res.output), "train_seconds": res.metrics["train_seconds"],
                      "dev_link_relaxed_f1": dev.get("link_relaxed_f1"), "dev_quantity_f1": dev.get("quantity_f1")},
                     ensure_ascii=False))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluate import evaluate
    from ..extract import load
    from ..io.convert import read_any

    docs = [d for p in args.files for d in read_any(p, args.format, label_map(args.label_map))]
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
    print("metric".ljust(22) + "".join(n[-24:].rjust(26) for n in results))
    for k in _METRICS:
        print(k.ljust(22) + "".join(f"{results[n][k]:26.4f}" for n in results))
    return 0
