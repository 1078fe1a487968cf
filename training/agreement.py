"""Inter-annotator agreement: two independent annotations of the same documents.

    python training/agreement.py annotations/agreement/src --against annotations/seeds/src
    python training/agreement.py annotations/agreement/real_second.jsonl --real ../shared/real/real.jsonl \
        [--corrections annotations/real_corrections.jsonl]

The second form reads a stand-off second annotation of third-party documents (offsets only, no
text: the text stays in the shared file) and compares it with their gold, corrected by the overlay
when ``--corrections`` is given.

Treats the first set as reference and the second as the other annotator (F1 is symmetric) and
prints quantity, indicator and link agreement (strict and relaxed), as zhibiao.evaluate scores them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zhibiao.evaluate import evaluate, prf  # noqa: E402
from zhibiao.io.markup import parse_markup  # noqa: E402
from zhibiao.records import Link, Prediction  # noqa: E402


def load(folder: Path, names: list[str]):
    return [parse_markup((folder / n).read_text(encoding="utf-8"), Path(n).stem) for n in names]


def load_standoff(path: Path, real: Path, corrections: Path | None):
    """``(names, gold, second)``: the stand-off second annotation laid over the real texts."""
    from zhibiao.io.corrections import apply_corrections, read_corrections
    from zhibiao.io.jsonl import doc_from_dict, iter_json_lines, read_jsonl

    gold = {d.id: d for d in read_jsonl(real)}
    if corrections is not None:
        apply_corrections(list(gold.values()), read_corrections(corrections))
    second = [doc_from_dict({**obj, "text": gold[obj["id"]].text}, where) for where, obj in iter_json_lines(path)]
    return [d.id for d in second], [gold[d.id] for d in second], second


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("second", type=Path, help="folder of the second annotator's markup files, or a stand-off JSONL (with --real)")
    ap.add_argument("--against", type=Path, default=ROOT / "annotations/seeds/src", help="the first annotation")
    ap.add_argument("--real", type=Path, help="with a stand-off JSONL as SECOND: the shared file holding the texts and gold")
    ap.add_argument("--corrections", type=Path, help="overlay applied to the --real gold first")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.real:
        names, first, second = load_standoff(args.second, args.real, args.corrections)
    else:
        names = sorted(p.name for p in args.second.glob("*.txt"))
        first, second = load(args.against, names), load(args.second, names)
    rows = {}
    for name, a, b in list(zip(names, first, second)) + [("all", None, None)]:
        gold = first if a is None else [a]
        other = second if b is None else [b]
        preds = [Prediction(doc_id=d.id, text=d.text, spans=list(d.entities), links=d.links()) for d in other]
        m = evaluate(gold, preds)
        ind_tp = sum(len({(e.start, e.end) for e in g.indicators} & {(e.start, e.end) for e in o.indicators})
                     for g, o in zip(gold, other))
        ind_f1 = prf(ind_tp, sum(len(o.indicators) for o in other), sum(len(g.indicators) for g in gold))[2]
        rows[name] = {"quantities_a": int(m["n_gold_quantities"]),
                      "quantities_b": sum(len(o.quantities) for o in other),
                      "quantity_f1": m["quantity_f1"], "indicator_f1": ind_f1,
                      "link_strict_f1": m["link_strict_f1"], "link_relaxed_f1": m["link_relaxed_f1"]}
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| document | quantities (A / B) | quantity F1 | indicator F1 | link F1 strict | link F1 relaxed |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['quantities_a']} / {r['quantities_b']} | {r['quantity_f1']:.3f} | {r['indicator_f1']:.3f} "
              f"| {r['link_strict_f1']:.3f} | {r['link_relaxed_f1']:.3f} |")


if __name__ == "__main__":
    main()
