"""Time and memory of one long document against the same text as many short ones.

    python benchmarks/long_document.py [--mb 20] [--short-kb 10] [--model models/default] [--write]

The text is the team-written passages (``annotations/authored.jsonl``), line breaks dropped, repeated
into one single-line report of ``--mb`` megabytes (UTF-8). The same text, cut after a sentence end
every ``--short-kb`` kilobytes or so, makes the many short documents. Each side runs
``nlp(text)`` / ``nlp.pipe(texts)`` (records of linked quantities, 1 torch thread) in a fresh
process that reports its wall time, its CPU time (the fair measure on a shared machine) and its peak RSS (``resource.getrusage``, the whole process:
Python, torch, the model and the text). Results go to ``benchmarks/results/long_document.json``
with ``--write``; always printed.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "long_document.json"

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
import zhibiao
mode, path, model = sys.argv[1], sys.argv[2], sys.argv[3] or None
nlp = zhibiao.load(model, threads=1)
nlp("预热：脱贫户776户。")
text = open(path, encoding="utf-8").read()
t, c = time.perf_counter(), time.process_time()
if mode == "long":
    n_records = len(nlp(text, doc_id="long"))
else:
    parts = text.split("\\x00")
    n_records = sum(len(r) for r in nlp.pipe([(p, str(i)) for i, p in enumerate(parts)], batch_size=32))
seconds, cpu = time.perf_counter() - t, time.process_time() - c
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu, "records": n_records, "peak_rss_mb": peak_kb / 1024}}))
"""


def synthetic_text(megabytes: float) -> str:
    """One line of ``megabytes`` MB (UTF-8) of team-written report text, ending at a sentence end."""
    rows = [json.loads(line) for line in (ROOT / "annotations" / "authored.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    base = "".join(r["text"].replace("\n", "") for r in rows)
    per_char = len(base.encode("utf-8")) / len(base)
    n = int(megabytes * 1024 * 1024 / per_char)
    text = (base * (n // len(base) + 1))[:n]
    return text[:text.rfind("。") + 1]


def cut_short(text: str, kilobytes: float) -> list[str]:
    """``text`` cut right after a 。 about every ``kilobytes`` KB (UTF-8): the same sentences."""
    step = int(kilobytes * 1024 / 3)  # mostly 3-byte characters
    parts: list[str] = []
    a = 0
    while a < len(text):
        b = text.find("。", a + step)
        b = len(text) if b < 0 else b + 1
        parts.append(text[a:b])
        a = b
    return parts


def run_child(mode: str, path: Path, model: str | None) -> dict:
    code = _CHILD.format(src=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", code, mode, str(path), model or ""], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=20.0, help="size of the long document in MB (UTF-8)")
    ap.add_argument("--short-kb", type=float, default=10.0, help="size of each short document in KB")
    ap.add_argument("--model", default=None, help="model folder, or 'rules' (default: the shipped model)")
    ap.add_argument("--write", action="store_true", help=f"write {RESULT.relative_to(ROOT)}")
    args = ap.parse_args(argv)

    import tempfile

    text = synthetic_text(args.mb)
    parts = cut_short(text, args.short_kb)
    assert "".join(parts) == text
    mb = len(text.encode("utf-8")) / 1024 / 1024
    result: dict = {"megabytes": round(mb, 3), "characters": len(text), "short_documents": len(parts),
                    "model": args.model or "default", "machine": f"{platform.machine()}, {platform.python_version()}",
                    "threads": 1}
    with tempfile.TemporaryDirectory() as tmp:
        long_path, short_path = Path(tmp) / "long.txt", Path(tmp) / "short.txt"
        long_path.write_text(text, encoding="utf-8")
        short_path.write_text("\x00".join(parts), encoding="utf-8")
        for mode, path in (("long", long_path), ("short", short_path)):
            r = run_child(mode, path, args.model)
            r["seconds_per_mb"] = r["seconds"] / mb
            r["cpu_seconds_per_mb"] = r["cpu_seconds"] / mb
            result[mode] = {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}
            print(mode, result[mode], flush=True)
    result["long_over_short_time_per_mb"] = round(result["long"]["seconds_per_mb"] / result["short"]["seconds_per_mb"], 3)
    # the CPU time ratio holds on a busy machine too (one torch thread: CPU time ~ wall time when idle)
    result["long_over_short_cpu_per_mb"] = round(result["long"]["cpu_seconds_per_mb"]
                                                 / result["short"]["cpu_seconds_per_mb"], 3)
    result["same_records"] = result["long"]["records"] == result["short"]["records"]
    print(json.dumps(result, indent=2))
    if args.write:
        RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
