"""Start-up time: a cold ``zhibiao extract`` of one report, and ``zhibiao.load()`` plus one call.

    python benchmarks/startup.py [--runs 5] [--seed 0] [--write]

Writes seed report ``--seed`` of ``annotations/seeds.jsonl`` to a temporary ``one_report.txt`` and
times, each ``--runs`` times in a fresh process (wall clock around the subprocess, interpreter
start included):

1. ``zhibiao extract one_report.txt -o out.jsonl`` (run as ``python -m zhibiao.cli``, defaults);
2. ``python -c "import zhibiao; zhibiao.load()(text)"`` (the shipped model, one call);
3. ``python -c "import torch"``: the floor no run can go below.

Reports the median and the minimum of each, the machine's load average before and after (a busy
machine makes every figure meaningless: measure on a quiet one), and which heavy libraries the
library call imported. Results go to ``benchmarks/results/startup.json``; ``--write`` renders
BENCHMARKS.md (``training/report.py``). Target (issue 16, case 10): the extract under 3 s on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 3.0
HEAVY = ["transformers", "datasets", "pandas", "spacy", "ray", "pyarrow", "openpyxl", "pdfplumber", "docx",
         "selectolax", "seqeval"]
LIBRARY_CALL = "import sys, zhibiao; zhibiao.load()(open(sys.argv[1], encoding='utf-8').read())"


def _env() -> dict[str, str]:
    """This checkout's ``src`` first on the path (not whatever ``zhibiao`` is installed)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}


def time_command(cmd: list[str], runs: int) -> dict:
    """Wall seconds of ``cmd`` in a fresh process, ``runs`` times: every run, the median and the minimum."""
    seconds = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT)
        seconds.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return {"runs": seconds, "median": statistics.median(seconds), "min": min(seconds)}


def heavy_imports(report: Path) -> list[str]:
    """The heavy libraries ``zhibiao.load()(text)`` imports (none expected for the shipped model)."""
    code = f"{LIBRARY_CALL}\nimport json; print(json.dumps(sorted(set({HEAVY!r}) & set(sys.modules))))"
    out = subprocess.run([sys.executable, "-c", code, str(report)], capture_output=True, text=True, env=_env(),
                         cwd=ROOT, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def seed_text(index: int) -> tuple[str, str]:
    rows = [json.loads(line) for line in (ROOT / "annotations" / "seeds.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    row = rows[index % len(rows)]
    return str(row["id"]), row["text"]


def measure(runs: int, seed: int) -> dict:
    doc_id, text = seed_text(seed)
    res: dict = {"machine": f"{platform.machine()}, Python {platform.python_version()}, "
                            f"{len(os.sched_getaffinity(0))} CPU cores",
                 "command": f"python benchmarks/startup.py --runs {runs} --seed {seed}",
                 "report": {"id": doc_id, "characters": len(text)}, "target_s": TARGET_S,
                 "load_before": list(os.getloadavg())}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "one_report.txt"
        report.write_text(text, encoding="utf-8")
        extract = [sys.executable, "-m", "zhibiao.cli", "extract", str(report), "-o", str(Path(tmp) / "out.jsonl")]
        res["extract"] = {"what": "zhibiao extract one_report.txt -o out.jsonl", **time_command(extract, runs)}
        library = [sys.executable, "-c", LIBRARY_CALL, str(report)]
        res["library"] = {"what": 'python -c "import zhibiao; zhibiao.load()(text)"', **time_command(library, runs)}
        res["torch_import"] = {"what": 'python -c "import torch"',
                               **time_command([sys.executable, "-c", "import torch"], runs)}
        res["library_heavy_imports"] = heavy_imports(report)
    res["load_after"] = list(os.getloadavg())
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per command (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="which seed report of annotations/seeds.jsonl (default 0)")
    ap.add_argument("--write", action="store_true", help="render BENCHMARKS.md afterwards")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    res = measure(args.runs, args.seed)
    for key in ("extract", "library", "torch_import"):
        r = res[key]
        print(f"{r['what']}: median {r['median']:.2f} s, min {r['min']:.2f} s "
              f"({', '.join(f'{s:.2f}' for s in r['runs'])})")
    print(f"load average before {res['load_before'][0]:.2f}, after {res['load_after'][0]:.2f}; "
          f"heavy libraries imported by the library call: {res['library_heavy_imports'] or 'none'}")
    sys.path.insert(0, str(ROOT / "training"))
    from report import write_result

    write_result("startup", res, render_md=args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
