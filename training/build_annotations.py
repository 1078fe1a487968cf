"""Build the project JSONL gold files from the inline markup sources (see annotations/GUIDELINE.md).

    python training/build_annotations.py            # writes annotations/seeds.jsonl, annotations/authored.jsonl
    python training/build_annotations.py --check    # fails if the JSONL files are out of date

Seeds: ``annotations/seeds/src/<seed stem>.txt``; with the marks removed each must equal
``../shared/seeds/<seed stem>.txt`` byte for byte (checked when that folder is present).
Authored passages: ``annotations/authored/src/A###.txt`` with a ``#meta {json}`` first line; every
fifth passage (id number divisible by 5) is the held-out split that training never sees.
Real-page-style passages (team-written in the form of real web pages, from the errors on the real
folds): ``annotations/realstyle/src/B###.txt``, the same format and split rule.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zhibiao.io.jsonl import doc_to_dict  # noqa: E402
from zhibiao.io.markup import parse_markup  # noqa: E402
from zhibiao.validate import validate_document  # noqa: E402

SEED_TEXTS = ROOT.parent / "shared" / "seeds"
REAL_TEXTS = ROOT.parent / "shared" / "real" / "real.jsonl"
#: team-written passages may share no run this long with a real (third-party) text, compared after
#: normalisation (pinyin artefacts dropped, traditional folded to simplified), fixed policy names aside
MAX_SHARED_RUN = 20
POLICY_TERMS = ("巩固拓展脱贫攻坚成果同乡村振兴有效衔接", "我代表镇人民政府,向大会报告")  # fixed formulas


def _comparable(text: str) -> str:
    from zhibiao.normalize import normalize

    out = normalize(text).text
    for term in POLICY_TERMS:
        out = out.replace(term, "\0")
    return out
TYPES_TSV = ROOT / "annotations" / "indicator_types.tsv"


def load_gold_types() -> dict[str, str]:
    """annotations/indicator_types.tsv: indicator surface (normalised) -> gold taxonomy type id."""
    if not TYPES_TSV.exists():
        return {}
    out = {}
    for line in TYPES_TSV.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            surface, _, type_id = line.partition("\t")
            out[surface.strip()] = type_id.strip()
    return out


def heldout(doc_id: str) -> bool:
    digits = "".join(ch for ch in doc_id if ch.isdigit())
    return bool(digits) and int(digits) % 5 == 0


def build_dir(src_dir: Path, kind: str, gold_types: dict[str, str]) -> tuple[list[dict], list[str]]:
    from dataclasses import replace

    from zhibiao.normalize import normalize

    docs, problems = [], []
    for path in sorted(src_dir.glob("*.txt")):
        rel = path.relative_to(ROOT)
        doc = parse_markup(path.read_text(encoding="utf-8"), path.stem, where=str(rel))
        if kind == "seed":
            seed = SEED_TEXTS / path.name
            if seed.exists() and seed.read_text(encoding="utf-8") != doc.text:
                original = seed.read_text(encoding="utf-8")
                k = next((i for i, (a, b) in enumerate(zip(original, doc.text)) if a != b),
                         min(len(original), len(doc.text)))
                problems.append(f"{rel}: text differs from {seed} at offset {k}: "
                                f"seed {original[k:k + 20]!r} vs markup {doc.text[k:k + 20]!r}")
            doc.meta.setdefault("split", "seed")
        else:
            doc.meta["split"] = "heldout" if heldout(doc.id) else "train"
        doc.meta.setdefault("kind", kind)
        doc.entities = [replace(e, indicator_type=e.indicator_type or gold_types.get(normalize(e.text).text))
                        if e.label == "INDICATOR" else e for e in doc.entities]
        problems += [str(p) for p in validate_document(doc, str(rel))]
        docs.append(doc_to_dict(doc))
    return docs, problems


def shared_runs(docs: list[dict], n: int = MAX_SHARED_RUN) -> list[str]:
    """Problems: passages sharing an ``n``-character run with a text of ``../shared/real`` (where present)."""
    if not REAL_TEXTS.exists():
        return []
    grams: dict[str, str] = {}
    for line in REAL_TEXTS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            text = _comparable(obj["text"])
            for i in range(len(text) - n + 1):
                grams.setdefault(text[i:i + n], obj["id"])
    problems = []
    for d in docs:
        t = _comparable(d["text"])
        hit = next((i for i in range(len(t) - n + 1) if t[i:i + n] in grams), None)
        if hit is not None:
            problems.append(f"{d['id']}: shares a {n}-character run with real text {grams[t[hit:hit + n]]} "
                            f"(normalised offset {hit}): team-written text must be the team's own")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that the JSONL files are up to date")
    args = ap.parse_args(argv)
    status = 0
    gold_types = load_gold_types()
    for kind, src, out in (("seed", "annotations/seeds/src", "annotations/seeds.jsonl"),
                           ("authored", "annotations/authored/src", "annotations/authored.jsonl"),
                           ("realstyle", "annotations/realstyle/src", "annotations/realstyle.jsonl")):
        docs, problems = build_dir(ROOT / src, kind, gold_types)
        problems += shared_runs(docs) if kind != "seed" else []
        for p in problems:
            print(p, file=sys.stderr)
        status |= bool(problems)
        payload = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
        target = ROOT / out
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != payload:
                print(f"{out} is out of date: run python training/build_annotations.py", file=sys.stderr)
                status = 1
        else:
            target.write_text(payload, encoding="utf-8")
            nq = sum(1 for d in docs for e in d["entities"] if e["label"] == "QUANTITY")
            untyped = sum(1 for d in docs for e in d["entities"] if e["label"] == "INDICATOR" and not e.get("indicator_type"))
            print(f"{out}: {len(docs)} documents, {nq} quantities, {sum(len(d['relations']) for d in docs)} links, "
                  f"{untyped} indicators without a gold type")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
