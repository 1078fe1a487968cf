"""Leave-one-document-out over the five seed reports, plus the held-out authored split.

    python training/loo.py --config training/default.yaml [--set key=value ...] [--name base] [--jobs 2] [--write]

For each seed: train on everything but that seed (the held-out authored passages are never
trained on), evaluate on the seed; then train on all seeds + the authored train split and
evaluate on the held-out authored passages. The rule baseline is scored on the same documents.
Results go to ``benchmarks/results/loo-<name>.json``; ``--write`` also renders BENCHMARKS.md
from every results file there (see training/report.py).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

#: config keys that change decoding only: a saved fold model can be re-decoded with them. (Decoding
#: also enters the dev score that picks the best epoch, so a fresh run can, rarely, keep another
#: epoch; for the shipped model's fold the weights were checked equal.)
DECODING_KEYS = ("model.indicator_bias", "model.snap_quantities", "model.add_missed_quantities",
                 "model.skip_place_names", "train.tune_indicator_bias")

KEYS = ["quantity_f1", "entity_INDICATOR_f1", "link_strict_f1", "link_relaxed_f1", "value_accuracy",
        "type_accuracy", "link_ece"]


def code_version() -> str:
    """The commit the code was at (``+changes`` when the working tree differed from it)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "training"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def _training_key(cfg) -> str:
    """The config (a TrainingConfig or its dict) less its decoding keys: equal keys train the same model."""
    cfg = cfg.to_dict() if hasattr(cfg, "to_dict") else cfg
    trimmed = {sec: {k: v for k, v in vals.items() if f"{sec}.{k}" not in DECODING_KEYS} if isinstance(vals, dict) else vals
               for sec, vals in cfg.items()}
    return json.dumps(trimmed, sort_keys=True, ensure_ascii=False, default=str)


def redecode(model, cfg) -> dict | None:
    """Give a trained ``model`` the decoding keys of ``cfg`` (a TrainingConfig), and the decoding bias
    chosen on ``cfg``'s dev split as ``zhibiao.train`` chooses it; what was chosen (None: no tuning)."""
    from zhibiao.train import training_documents, tune_indicator_bias

    for key in DECODING_KEYS:
        section, name = key.split(".")
        if section == "model":
            setattr(model.cfg, name, getattr(cfg.model, name))
    if not cfg.train.tune_indicator_bias:
        return None
    _, _, dev_docs = training_documents(cfg, ROOT)
    return tune_indicator_bias(model, dev_docs, [float(b) for b in cfg.train.tune_indicator_bias])[0]


def _has_model(folder: Path, key: str) -> bool:
    """Whether ``folder`` holds a fold model trained with the training key ``key``."""
    return (folder / "loo_key.json").exists() and json.loads((folder / "loo_key.json").read_text(encoding="utf-8")) == key


def fold_model(cfg, folder: Path | None):
    """``(model, train_seconds, metrics)`` of one fold: trained, or reused from ``folder`` when it
    holds a model trained with the same config less its decoding keys, which are then applied."""
    from zhibiao.model.core import ZhibiaoModel
    from zhibiao.train import train

    key = _training_key(cfg)
    if folder is not None and _has_model(folder, key):
        if cfg.train.threads:  # decode with the thread count training evaluated with
            import torch

            torch.set_num_threads(cfg.train.threads)
        model = ZhibiaoModel.from_pretrained(folder)
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        metrics["decoding"] = redecode(model, cfg)
        if metrics["decoding"] is None:
            metrics.pop("decoding")
        metrics["reused"] = True
        return model, float(metrics["train_seconds"]), metrics
    t0 = time.time()
    res = train(cfg, folder, base_dir=ROOT, progress=False)
    if folder is not None:
        (folder / "loo_key.json").write_text(json.dumps(key), encoding="utf-8")
    return res.model, time.time() - t0, res.metrics


def _train_fold(config: str, overrides: list[str], folder: str) -> float:
    """Train one fold's model in a worker process (saved to ``folder`` with its key); its seconds."""
    from zhibiao.train import load_config

    return fold_model(load_config(config, overrides), Path(folder))[1]


def _train_in_processes(args, folds, models: Path) -> dict[str, float]:
    """Train the folds ``args.jobs`` at a time (folds whose saved model has the same key are left to
    be reused); the training seconds of those trained."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from zhibiao.train import load_config

    todo = {}
    for fold, _, extra in folds:
        if not _has_model(models / fold, _training_key(load_config(args.config, list(args.set) + extra))):
            todo[fold] = list(args.set) + extra
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn")) as pool:
        futures = {fold: pool.submit(_train_fold, args.config, o, str(models / fold)) for fold, o in todo.items()}
        return {fold: fut.result() for fold, fut in futures.items()}


def main(argv: list[str] | None = None) -> int:
    import torch

    from zhibiao.evaluate import evaluate
    from zhibiao.extract import load
    from zhibiao.train import data_hash, load_config, read_annotations

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "training/default.yaml"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--name", default="base")
    ap.add_argument("--only", nargs="*", help="run only these folds (seed ids or 'heldout')")
    ap.add_argument("--write", action="store_true", help="render BENCHMARKS.md afterwards")
    ap.add_argument("--models", metavar="DIR",
                    help="save each fold's model to DIR/<fold>; a later run whose config differs only in "
                         "decoding keys (%s) reuses it instead of training" % ", ".join(DECODING_KEYS))
    ap.add_argument("--jobs", type=int, default=1,
                    help="folds trained at once, in processes (each with the config's train.threads)")
    ap.add_argument("--predictions", metavar="DIR",
                    help="also write each fold's predictions to DIR/<fold>.jsonl (project JSONL; see training/errors.py)")
    args = ap.parse_args(argv)

    t_all = time.time()
    seeds = read_annotations([ROOT / "annotations/seeds.jsonl"])
    authored = read_annotations([ROOT / "annotations/authored.jsonl"])
    heldout = [d for d in authored if d.meta.get("split") == "heldout"]
    rules = load("rules")
    folds = [(d.id, [d], [f"data.exclude_ids=[{d.id!r}]"]) for d in seeds] + [("heldout", heldout, [])]
    if args.only:
        folds = [f for f in folds if f[0] in args.only]
    results = {"name": args.name, "config": args.config, "overrides": args.set, "folds": {},
               "data_hash": data_hash(seeds + authored)[:12], "code": code_version(),
               "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
               "resolved_config": load_config(args.config, list(args.set)).to_dict(),
               "command": " ".join(["python", "training/loo.py", "--config", str(Path(args.config).relative_to(ROOT))
                                    if Path(args.config).is_relative_to(ROOT) else args.config]
                                   + [x for s in args.set for x in ("--set", s)] + ["--name", args.name]
                                   + (["--only", *args.only] if args.only else []))}
    models = Path(args.models) if args.models else None
    if args.jobs > 1:
        models = models or Path(tempfile.mkdtemp(prefix="loo-"))
        trained = _train_in_processes(args, folds, models)
    for fold, docs, extra in folds:
        cfg = load_config(args.config, list(args.set) + extra)
        model, secs, fold_metrics = fold_model(cfg, models / fold if models else None)
        if args.jobs > 1 and fold in trained:  # trained by this run (in a process), not an earlier one
            secs, fold_metrics["reused"] = trained[fold], False
        texts, ids = [d.text for d in docs], [d.id for d in docs]
        preds = model.predict_documents(texts, ids)
        m = evaluate(docs, preds, model.taxonomy)
        if args.predictions:
            from zhibiao.io.convert import write_any

            Path(args.predictions).mkdir(parents=True, exist_ok=True)
            write_any(preds, Path(args.predictions) / f"{fold}.jsonl")
        b = evaluate(docs, rules.predict(texts, ids), rules.taxonomy)
        results["folds"][fold] = {"model": m, "rules": b, "train_seconds": round(secs, 1),
                                  "n_gold_links": m["n_gold_links"], "epochs_run": len(fold_metrics["history"]),
                                  "decoding": fold_metrics.get("decoding"), "reused_model": bool(fold_metrics.get("reused"))}
        print(f"{fold}: link_relaxed_f1 {m['link_relaxed_f1']:.3f} (rules {b['link_relaxed_f1']:.3f}), "
              f"quantity_f1 {m['quantity_f1']:.3f}, value_acc {m['value_accuracy']:.3f}, train {secs:.0f}s", flush=True)
    results["wall_seconds"] = round(time.time() - t_all, 1)
    out = ROOT / "benchmarks/results" / f"loo-{args.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=float), encoding="utf-8")
    print(f"wrote {out}")
    if args.write:
        from report import render  # training/report.py

        render()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    raise SystemExit(main())
