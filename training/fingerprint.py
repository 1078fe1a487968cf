"""Fingerprint of a model's predictions over every annotated text: the check that a refactor
changed nothing (spans, scores, links, records, bit for bit).

    python training/fingerprint.py [--model models/default] [--threads 1] [--out fp.json]

Texts: annotations/seeds.jsonl, annotations/authored.jsonl and, where present,
../shared/real/real.jsonl. For each document it hashes the predicted spans (offsets, label,
score as ``float.hex``), the links (quantity, indicator, score) and the records (every field);
prints SHA-256s per file and over all, for the model's spans and links and for the records apart
(a fix to a record rule changes the second only). Equal fingerprints before and after a change mean
bit-identical predictions.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SOURCES = [ROOT / "annotations" / "seeds.jsonl", ROOT / "annotations" / "authored.jsonl",
           ROOT.parent / "shared" / "real" / "real.jsonl"]


def _exact(value):
    return value.hex() if isinstance(value, float) else value


def prediction_lines(nlp, texts: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Two canonical lines per document, floats in hex: the model's spans and links; its records."""
    preds = nlp.predict([t for _, t in texts], [i for i, _ in texts])
    model_lines, record_lines = [], []
    for pred in preds:
        spans = [(s.start, s.end, s.label, _exact(s.score)) for s in pred.spans]
        links = [(l.quantity.start, l.quantity.end, l.indicator.start, l.indicator.end, _exact(l.score))
                 for l in pred.links]
        records = [{k: _exact(v) for k, v in r.to_dict().items()} for r in nlp.records(pred, all_quantities=True)]
        model_lines.append(json.dumps([pred.doc_id, spans, links], ensure_ascii=False))
        record_lines.append(json.dumps([pred.doc_id, records], ensure_ascii=False, sort_keys=True))
    return model_lines, record_lines


def _sha(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (fingerprints compare at equal counts)")
    ap.add_argument("--out", default=None, help="also write the per-document lines here (JSONL)")
    args = ap.parse_args(argv)

    import zhibiao

    nlp = zhibiao.load(args.model, threads=args.threads)
    all_model: list[str] = []
    all_records: list[str] = []
    for path in SOURCES:
        if not path.exists():
            print(f"{path.name}: absent, skipped")
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
        model_lines, record_lines = prediction_lines(nlp, [(str(r.get("id")), r["text"]) for r in rows])
        all_model.extend(model_lines)
        all_records.extend(record_lines)
        print(f"{path.name}: {len(rows)} documents  spans+links {_sha(model_lines)[:16]}  records {_sha(record_lines)[:16]}")
    print(f"all: spans+links sha256 {_sha(all_model)}")
    print(f"all: records     sha256 {_sha(all_records)}")
    if args.out:
        Path(args.out).write_text("\n".join(all_model + all_records) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
