"""Speed and memory of batch extraction, end to end, on 2 CPU cores.

    python benchmarks/speed.py [--model models/default] [--mb 5 50] [--write]

1. Builds zip archives of report text from the repo's own texts (the seed reports and the
   authored passages, repeated with distinct document ids) of about 5 MB and 50 MB.
2. Runs ``zhibiao extract ARCHIVE -o OUT.jsonl`` (default flags: ``--workers auto``, one worker
   process per core) in a fresh process for each and records wall time, characters/s, documents/s
   and peak RSS (the reading process plus its workers); the smallest input also runs in one process
   (``--workers 1 --threads 2``) and with ``--quantize``.
3. Times the same document pipeline on a slice with a BERT-base-size encoder (12 layers, hidden
   768, random init: the size a user fine-tuning a Chinese BERT would run) and reports the ratio
   (three interleaved rounds, in one process with 2 torch threads).
4. int8 dynamic quantisation: speed, and link F1 on the held-out authored split against fp32.

Results go to ``benchmarks/results/speed.json`` (``--name NAME``: ``NAME.json``, e.g. for another
model); ``--write`` renders BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def corpus_texts() -> list[str]:
    from zhibiao.io.jsonl import read_jsonl

    texts = [d.text for f in ("annotations/seeds.jsonl", "annotations/authored.jsonl") for d in read_jsonl(ROOT / f)]
    return texts


def build_archive(path: Path, megabytes: float) -> tuple[int, int]:
    texts = corpus_texts()
    target = int(megabytes * 1024 * 1024)
    size = n = chars = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        while size < target:
            t = texts[n % len(texts)]
            data = t.encode("utf-8")
            z.writestr(f"r{n:06d}.txt", data)
            size += len(data)
            chars += len(t)
            n += 1
    return n, chars


_RUN = """
import resource, sys, time
from zhibiao.cli import main
t = time.time()
rc = main(sys.argv[1:])
print("RESULT", rc, time.time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_extract(archive: Path, out: Path, model: str | None, extra: list[str]) -> dict:
    """``zhibiao extract ARCHIVE -o OUT --no-progress EXTRA`` in a fresh process.

    With worker processes (``--workers``, default ``auto``) the job's memory is the reading and
    writing process plus each worker: ``peak_rss_mb`` is the reader's peak plus ``workers`` times the
    largest worker peak (an upper bound: the peaks need not coincide)."""
    from zhibiao.batch import resolve_workers

    cmd = [sys.executable, "-c", _RUN, "extract", str(archive), "-o", str(out), "--no-progress"] + extra
    if model:
        cmd += ["--model", model]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"extract failed: {proc.stderr[-2000:]}")
    _, rc, secs, rss_kb, child_kb = line.split()
    workers = resolve_workers(extra[extra.index("--workers") + 1] if "--workers" in extra else "auto")
    main_mb, worker_mb = int(rss_kb) / 1024, (int(child_kb) / 1024 if workers > 1 else 0.0)
    return {"exit": int(rc), "seconds": float(secs), "workers": workers, "main_rss_mb": main_mb,
            "worker_rss_mb": worker_mb, "peak_rss_mb": main_mb + (workers * worker_mb if workers > 1 else 0.0),
            "flags": " ".join(extra)}


def bert_base_ratio(model_path: str | None, n_chars: int = 20000) -> dict:
    import torch

    from zhibiao.extract import default_model_path
    from zhibiao.model.core import ZhibiaoModel
    from zhibiao.model.config import ModelConfig

    torch.set_num_threads(2)
    small = ZhibiaoModel.from_pretrained(model_path or default_model_path())
    texts, total = [], 0
    for t in corpus_texts():
        texts.append(t)
        total += len(t)
        if total >= n_chars:
            break
    cfg = ModelConfig(**{**small.cfg.to_dict(), "hidden_size": 768, "num_layers": 12, "num_heads": 12,
                         "intermediate_size": 3072, "tags": small.cfg.tags})
    cfg.encoder_config = {}
    big = ZhibiaoModel.create(cfg, small.taxonomy, texts)

    def seconds(m, passes: int) -> float:
        t = time.perf_counter()
        for _ in range(passes):
            m.predict_documents(texts)
        return time.perf_counter() - t

    small.predict_documents(texts[:2])
    big.predict_documents(texts[:2])
    # Interleaved rounds (this VM's speed drifts by +-10% over minutes): in each, the default model
    # over the slice 8 times (~1 s), then the BERT-base-size one once (~7 s). The ratio is of the
    # mean rates; each round's own ratio is kept to show the spread.
    rounds = []
    for _ in range(3):
        t_small, t_big = seconds(small, 8) / 8, seconds(big, 1)
        rounds.append((total / t_small, total / t_big))
    r_small = sum(a for a, _ in rounds) / len(rounds)
    r_big = sum(b for _, b in rounds) / len(rounds)
    return {"chars": total, "default_chars_per_s": r_small, "bert_base_chars_per_s": r_big, "ratio": r_small / r_big,
            "round_ratios": [a / b for a, b in rounds],
            "bert_base_params_m": sum(p.numel() for p in big.net.parameters()) / 1e6,
            "default_params_m": sum(p.numel() for p in small.net.parameters()) / 1e6}


def quantize_check(model_path: str | None) -> dict:
    from zhibiao.evaluate import evaluate
    from zhibiao.extract import load
    from zhibiao.io.jsonl import read_jsonl

    docs = [d for d in read_jsonl(ROOT / "annotations/authored.jsonl") if d.meta.get("split") == "heldout"]
    out = {}
    for name, q in (("fp32", False), ("int8", True)):
        ex = load(model_path, quantize=q, threads=2)
        t = time.time()
        preds = ex.predict([d.text for d in docs], [d.id for d in docs])
        secs = time.time() - t
        m = evaluate(docs, preds, ex.taxonomy)
        out[name] = {"link_relaxed_f1": m["link_relaxed_f1"], "quantity_f1": m["quantity_f1"],
                     "chars_per_s": sum(len(d.text) for d in docs) / secs}
    out["delta_link_f1"] = out["int8"]["link_relaxed_f1"] - out["fp32"]["link_relaxed_f1"]
    out["keep_int8"] = abs(out["delta_link_f1"]) <= 0.005
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--mb", nargs="+", type=float, default=[5, 50])
    ap.add_argument("--name", default="speed",
                    help="results go to benchmarks/results/NAME.json (BENCHMARKS.md renders speed.json: the shipped model)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    res: dict = {"machine": f"{platform.machine()}, Python {platform.python_version()}, {len(os.sched_getaffinity(0))} CPU cores",
                 "command": "python benchmarks/speed.py" + (f" --model {args.model}" if args.model else "")
                 + (f" --mb {' '.join(f'{m:g}' for m in args.mb)}" if args.mb != [5, 50] else "")
                 + (f" --name {args.name}" if args.name != "speed" else ""), "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.mb:
            archive = Path(tmp) / f"reports-{mb:g}mb.zip"
            n_docs, n_chars = build_archive(archive, mb)
            r = run_extract(archive, Path(tmp) / f"out-{mb:g}.jsonl", args.model, [])
            r.update({"documents": n_docs, "characters": n_chars, "chars_per_s": n_chars / r["seconds"],
                      "docs_per_s": n_docs / r["seconds"], "archive_mb": archive.stat().st_size / 2**20})
            res["runs"][f"{mb:g}MB"] = r
            print(f"{mb:g} MB: {r['chars_per_s']:,.0f} chars/s, {r['docs_per_s']:.1f} docs/s, peak RSS {r['peak_rss_mb']:.0f} MB",
                  flush=True)
        first = res["runs"][f"{args.mb[0]:g}MB"]
        for name, flags in (("1 process", ["--workers", "1", "--threads", "2"]), ("int8", ["--quantize"])):
            rq = run_extract(Path(tmp) / f"reports-{args.mb[0]:g}mb.zip", Path(tmp) / "out-q.jsonl", args.model, flags)
            rq.update({"documents": first["documents"], "characters": first["characters"],
                       "chars_per_s": first["characters"] / rq["seconds"], "docs_per_s": first["documents"] / rq["seconds"],
                       "archive_mb": first["archive_mb"]})
            res["runs"][f"{args.mb[0]:g}MB {name}"] = rq
            print(f"{args.mb[0]:g} MB {name}: {rq['chars_per_s']:,.0f} chars/s", flush=True)
    res["bert_base"] = bert_base_ratio(args.model)
    print(f"BERT-base-size ratio: {res['bert_base']['ratio']:.1f}x", flush=True)
    res["quantize"] = quantize_check(args.model)
    print(f"int8 link F1 delta on held-out: {res['quantize']['delta_link_f1']:+.4f}", flush=True)
    if len(args.mb) > 1:
        a, b = res["runs"][f"{args.mb[0]:g}MB"], res["runs"][f"{args.mb[-1]:g}MB"]
        res["rss_growth"] = b["peak_rss_mb"] / a["peak_rss_mb"] - 1
    sys.path.insert(0, str(ROOT / "training"))
    from report import write_result

    write_result(args.name, res, render_md=args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
