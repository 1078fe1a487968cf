"""k-fold cross-validation over the real report excerpts: the project's headline accuracy measure.

    python training/realcv.py --config training/default.yaml [--set key=value ...] --name NAME \
        [--folds 6] [--only 0 3] [--jobs 2] [--models DIR] [--predictions DIR] [--write]
    python training/realcv.py --config training/default.yaml --name NAME --ensemble-of DIR DIR [...]

The real documents (``--real``, default ``../shared/real/real.jsonl`` beside the repository, with
the stand-off corrections of ``--corrections`` applied) are split by document into ``--folds``
folds (sorted ids, dealt round-robin: 6 folds of 12 for the 72 excerpts). Each fold trains a model
as the config says, less that fold's documents (``data.exclude_ids``), and is scored on them. A
config whose training data holds none of the real documents trains the same model for every fold:
it is trained once (or ``--baseline-model DIR`` is scored as it is, e.g. the shipped model).
Folds train in ``--jobs`` processes at once (each with the config's ``train.threads``).

Results go to ``benchmarks/results/realcv-<name>.json``: per fold, the mean over folds (the
headline), and the pooled scores over all real documents; ``--write`` renders BENCHMARKS.md.
``--only`` with ``--reuse NAME`` completes a run from the folds of an earlier one (same resolved
config, training data, folds and corrections, checked): training is deterministic at a fixed thread count, so a
fold trained again would give the same figures. ``--ensemble-of`` trains nothing: it scores, fold by
fold, the vote of the fold models that earlier runs kept with ``--models`` (runs of training seeds
s, s + 1, ...: the networks ``model.ensemble`` trains), the decoding bias chosen on the fold's dev split.
"""
from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

DEFAULT_REAL = ROOT.parent / "shared" / "real" / "real.jsonl"
DEFAULT_CORRECTIONS = ROOT / "annotations" / "real_corrections.jsonl"
KEYS = ["link_relaxed_f1", "link_strict_f1", "link_relaxed_precision", "link_relaxed_recall", "quantity_f1",
        "entity_INDICATOR_f1", "value_accuracy", "type_accuracy"]


def real_documents(path: Path, corrections: Path | None):
    """The real documents, corrected by the overlay where one is given."""
    from zhibiao.io.corrections import apply_corrections, read_corrections
    from zhibiao.io.jsonl import read_jsonl

    docs = read_jsonl(path)
    if corrections is not None and corrections.exists():
        apply_corrections(docs, read_corrections(corrections))
    return docs


def split_folds(ids: list[str], k: int) -> list[list[str]]:
    """Sorted ids dealt round-robin into ``k`` folds."""
    ordered = sorted(ids)
    return [ordered[f::k] for f in range(k)]


def _fold_key(config: str, overrides: list[str]) -> str:
    """The resolved training config of a fold: equal keys train the same model."""
    from zhibiao.train import load_config

    return json.dumps(load_config(config, overrides).to_dict(), sort_keys=True, ensure_ascii=False, default=str)


def _reusable(config: str, overrides: list[str], folder: Path) -> bool:
    key = folder / "realcv_key.json"
    return (folder / "model.safetensors").exists() and key.exists() \
        and json.loads(key.read_text(encoding="utf-8")) == _fold_key(config, overrides)


def _train_fold(config: str, overrides: list[str], folder: str) -> tuple[str, float]:
    """Train one fold's model in a worker process; save it to ``folder``."""
    from zhibiao.train import load_config, train

    cfg = load_config(config, overrides)
    t0 = time.time()
    train(cfg, folder, base_dir=ROOT, progress=False)
    Path(folder, "realcv_key.json").write_text(json.dumps(_fold_key(config, overrides)), encoding="utf-8")
    return folder, time.time() - t0


def _data_hash(config: str, overrides: list[str]) -> str:
    """The hash of every document the config trains on (before any fold is held out), corrections applied."""
    from zhibiao.train import load_config
    from zhibiao.training_data import data_hash, training_documents

    return data_hash(training_documents(load_config(config, overrides), ROOT)[0])[:16]


def _trains_on(config: str, overrides: list[str], ids: set[str]) -> bool:
    from zhibiao.train import load_config, training_documents

    _, train_docs, dev_docs = training_documents(load_config(config, overrides), ROOT)
    return any(d.id in ids for d in train_docs + dev_docs)


def _load(model_dir, cfg):
    """The model of ``model_dir``; for a list of folders, their ensemble, decoded as ``cfg`` (the
    fold's TrainingConfig) says (training/loo.py's ``redecode``)."""
    from loo import redecode  # training/loo.py
    from zhibiao.model.core import ZhibiaoModel

    if not isinstance(model_dir, list):
        return ZhibiaoModel.from_pretrained(model_dir)
    model = ZhibiaoModel.ensemble([ZhibiaoModel.from_pretrained(d) for d in model_dir])
    redecode(model, cfg)
    return model


def _score(model_dir, docs, threads: int, predictions: Path | None, name: str, cfg=None):
    import torch

    from zhibiao.evaluate import evaluate

    torch.set_num_threads(threads)
    model = _load(model_dir, cfg)
    preds = model.predict_documents([d.text for d in docs], [d.id for d in docs])
    if predictions is not None:
        from zhibiao.io.convert import write_any

        predictions.mkdir(parents=True, exist_ok=True)
        write_any(preds, predictions / f"{name}.jsonl")
    return preds, evaluate(docs, preds, model.taxonomy)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "training/default.yaml"), help="training config (YAML)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (repeatable)")
    ap.add_argument("--name", default="base", help="results go to benchmarks/results/realcv-NAME.json")
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL, help="the real documents (project JSONL)")
    ap.add_argument("--corrections", type=Path, default=DEFAULT_CORRECTIONS,
                    help="stand-off corrections applied to the real documents before scoring")
    ap.add_argument("--folds", type=int, default=6, help="number of folds (split by document)")
    ap.add_argument("--only", type=int, nargs="*", help="run only these fold numbers (0-based)")
    ap.add_argument("--jobs", type=int, default=2, help="folds trained at once (processes)")
    ap.add_argument("--models", type=Path, help="keep each fold's model in DIR/fold<k> (default: a temporary folder)")
    ap.add_argument("--baseline-model", type=Path,
                    help="for a config that never trains on the real documents: score this model folder instead of training")
    ap.add_argument("--predictions", type=Path, help="write each fold's predictions to DIR/fold<k>.jsonl")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results", help="results folder")
    ap.add_argument("--note", default="", help="what the run is, for BENCHMARKS.md")
    ap.add_argument("--order", type=int, default=99, help="row order in BENCHMARKS.md")
    ap.add_argument("--reuse", metavar="NAME",
                    help="take the folds this run does not run (--only) from realcv-NAME.json, if that run trained "
                         "the same resolved config on the same folds (the mean is then over all; pooled over this run's)")
    ap.add_argument("--ensemble-of", type=Path, nargs="+", metavar="DIR",
                    help="train nothing: score, per fold, the ensemble of DIR/fold<k> of earlier runs' --models "
                         "(trained with train.seed, train.seed + 1, ...: what model.ensemble trains), the "
                         "decoding bias chosen on the fold's dev split as training chooses it")
    ap.add_argument("--write", action="store_true", help="render BENCHMARKS.md afterwards")
    return ap.parse_args(argv)


def reused_folds(args, folds: list[list[str]], have: set[str]) -> dict[str, dict]:
    """The folds of ``realcv-<args.reuse>.json`` that this run lacks: only from a run of the same
    resolved training config, fold count, fold documents and corrections (else a SystemExit)."""
    prev = json.loads((args.results / f"realcv-{args.reuse}.json").read_text(encoding="utf-8"))
    same = (prev.get("n_folds") == args.folds and Path(prev["corrections"]).name == Path(args.corrections).name
            and prev.get("data_hash") == _data_hash(args.config, args.set)
            and _fold_key(str(ROOT / prev["config"]), prev["overrides"]) == _fold_key(args.config, args.set))
    if not same:
        raise SystemExit(f"--reuse {args.reuse}: that run's config, training data, folds or corrections differ "
                         f"from this run's")
    out = {}
    for name, fold in prev["folds"].items():
        if name not in have and fold["ids"] == folds[int(name[4:])]:
            out[name] = {**fold, "reused_from": f"realcv-{args.reuse}.json (code {prev.get('code')})"}
    return out


def main(argv: list[str] | None = None) -> int:
    import tempfile

    args = parse_args(argv)
    t_all = time.time()
    docs = real_documents(args.real, args.corrections)
    by_id = {d.id: d for d in docs}
    folds = split_folds(list(by_id), args.folds)
    chosen = args.only if args.only is not None else list(range(args.folds))
    all_ids = set(by_id)
    shared_model = not _trains_on(args.config, args.set, all_ids)
    models = args.models or Path(tempfile.mkdtemp(prefix="realcv-"))
    jobs = {}  # fold -> (overrides, model folder)
    for f in chosen:
        extra = [] if shared_model else [f"data.exclude_ids={json.dumps(folds[f], ensure_ascii=False)}"]
        folder = models / ("shared" if shared_model else f"fold{f}")
        jobs[f] = (args.set + extra, folder)
    to_train = {}
    if args.ensemble_of:
        jobs = {f: (o, [d / f"fold{f}" for d in args.ensemble_of]) for f, (o, _) in jobs.items()}
    elif shared_model and args.baseline_model:
        jobs = {f: (o, args.baseline_model) for f, (o, _) in jobs.items()}
    else:
        for f, (overrides, folder) in jobs.items():
            to_train.setdefault(str(folder), (overrides, folder))
    seconds: dict[str, float] = {}
    reused = {k for k, (o, folder) in to_train.items() if _reusable(args.config, o, folder)}
    for k in sorted(reused):
        print(f"reused {k} (same training config)", flush=True)
    pending = {k: v for k, v in to_train.items() if k not in reused}
    done = lambda: {f: j for f, j in jobs.items() if str(j[1]) not in pending or str(j[1]) in seconds}  # noqa: E731
    if pending:
        ctx = get_context("spawn")
        with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=ctx) as pool:
            futures = [pool.submit(_train_fold, args.config, o, str(folder)) for o, folder in pending.values()]
            for fut in as_completed(futures):
                folder, secs = fut.result()
                seconds[folder] = round(secs, 1)
                print(f"trained {folder} in {secs:.0f}s", flush=True)
                if len(seconds) < len(pending):  # results so far, in case the run is cut short
                    _report(args, docs, folds, done(), seconds, shared_model, t_all, complete=False)
    return _report(args, docs, folds, jobs, seconds, shared_model, t_all)


def _mean(values):
    return sum(values) / len(values) if values else float("nan")


def _report(args, docs, folds, jobs, seconds, shared_model, t_all, complete: bool = True) -> int:
    import torch

    from zhibiao.evaluate import evaluate
    from zhibiao.train import load_config

    docs = real_documents(args.real, args.corrections)  # read again: the overlay may have grown while training
    by_id = {d.id: d for d in docs}
    threads = int(load_config(args.config, args.set).train.threads or 1)
    results = {"name": args.name, "note": args.note, "order": args.order, "complete": complete, "config": str(args.config), "overrides": args.set, "folds": {},
               "n_folds": args.folds, "real": str(args.real), "corrections": str(args.corrections),
               "shared_model": shared_model, "baseline_model": str(args.baseline_model) if args.baseline_model else None,
               "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads"}
    all_docs, all_preds = [], []
    for f, (overrides, folder) in jobs.items():
        fold_docs = [by_id[i] for i in folds[f]]
        cfg = load_config(args.config, overrides) if isinstance(folder, list) else None
        preds, m = _score(folder, fold_docs, threads, args.predictions, f"fold{f}", cfg)
        all_docs += fold_docs
        all_preds += preds
        results["folds"][f"fold{f}"] = {"ids": folds[f], "metrics": {k: m.get(k) for k in KEYS},
                                        "n_gold_links": m.get("n_gold_links"),
                                        "train_seconds": seconds.get(str(folder))}
        print(f"fold{f}: link_relaxed_f1 {m['link_relaxed_f1']:.3f} strict {m['link_strict_f1']:.3f} "
              f"quantity_f1 {m['quantity_f1']:.3f} value_acc {m['value_accuracy']:.3f}", flush=True)
    results["data_hash"] = _data_hash(args.config, args.set)
    own = sorted(results["folds"])
    if args.reuse:
        results["folds"].update(reused_folds(args, folds, set(own)))
        results["folds"] = dict(sorted(results["folds"].items()))
    results["pooled_folds"] = own
    results["mean"] = {k: _mean([r["metrics"][k] for r in results["folds"].values() if r["metrics"][k] is not None])
                       for k in KEYS}
    pooled = evaluate(all_docs, all_preds)
    results["pooled"] = {k: pooled.get(k) for k in KEYS}
    results["wall_seconds"] = round(time.time() - t_all, 1)
    from loo import code_version  # training/loo.py

    results["code"] = code_version()
    results["command"] = shlex.join(["python", "training/realcv.py"] + argv_echo(args))
    out = args.results / f"realcv-{args.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=float), encoding="utf-8")
    mean = results["mean"]
    print(f"mean over folds: link_relaxed_f1 {mean['link_relaxed_f1']:.3f} strict {mean['link_strict_f1']:.3f} "
          f"quantity_f1 {mean['quantity_f1']:.3f} value_acc {mean['value_accuracy']:.3f}\nwrote {out}")
    if args.write:
        sys.path.insert(0, str(Path(__file__).parent))
        from report import render  # training/report.py

        render()
    return 0


def argv_echo(args) -> list[str]:
    """The options that change the result, as a command line."""
    config = Path(args.config)
    out = ["--config", str(config.resolve().relative_to(ROOT)) if config.resolve().is_relative_to(ROOT) else str(config)]
    for s in args.set:
        out += ["--set", s]
    out += ["--name", args.name, "--folds", str(args.folds)]
    if args.only is not None:
        out += ["--only", *map(str, args.only)]
    if args.baseline_model:
        out += ["--baseline-model", str(args.baseline_model)]
    if args.reuse:
        out += ["--reuse", args.reuse]
    if args.ensemble_of:
        out += ["--ensemble-of", *map(str, args.ensemble_of)]
    if args.corrections != DEFAULT_CORRECTIONS:
        out += ["--corrections", str(args.corrections)]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
