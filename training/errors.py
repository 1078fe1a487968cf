"""List what a model got wrong, sentence by sentence: gold annotations vs predictions.

    python training/errors.py annotations/seeds.jsonl PRED.jsonl [PRED.jsonl ...] [--only-links]

PRED files are project JSONL as written by ``training/loo.py --predictions DIR`` (or
``zhibiao.io.convert.write_any``). Documents are matched by id. For each sentence with an error it
prints the sentence, then ``-`` for gold items the prediction lacks and ``+`` for predicted items
gold lacks: quantities (exact span) and links (relaxed: both spans overlap, as in
``zhibiao evaluate``), and ``!`` for gold link targets no predicted indicator overlaps. A closing
tally counts each kind.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _overlap(a, b) -> bool:
    return min(a.end, b.end) > max(a.start, b.start)


def sentence_errors(gold, pred):
    """Yield ``(sentence_span, missed_quantities, extra_quantities, missed_links, extra_links,
    untagged_indicators)``: the last are gold link targets that no predicted indicator overlaps
    (the linker could not choose them)."""
    from zhibiao.evaluate import _match
    from zhibiao.sentences import split_sentences

    glinks, plinks = gold.links(), pred.links()

    def key(g, p):
        return int(_overlap(g.quantity, p.quantity) and _overlap(g.indicator, p.indicator))

    pairs = _match(glinks, plinks, key)
    lost_g = [l for k, l in enumerate(glinks) if k not in {g for g, _ in pairs}]
    lost_p = [l for k, l in enumerate(plinks) if k not in {p for _, p in pairs}]
    gq = {(q.start, q.end): q for q in gold.quantities}
    pq = {(q.start, q.end): q for q in pred.quantities}
    for a, b in split_sentences(gold.text):
        def inside(s):
            return a <= s.start < b
        mq = [q for k, q in gq.items() if k not in pq and inside(q)]
        xq = [q for k, q in pq.items() if k not in gq and inside(q)]
        ml = [l for l in lost_g if inside(l.quantity)]
        xl = [l for l in lost_p if inside(l.quantity)]
        ui = [l.indicator for l in ml if not any(_overlap(l.indicator, i) for i in pred.indicators)]
        ui = list({(i.start, i.end): i for i in ui}.values())
        if mq or xq or ml or xl:
            yield (a, b), mq, xq, ml, xl, ui


def main(argv: list[str] | None = None) -> int:
    from zhibiao.io.convert import read_any

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold")
    ap.add_argument("predictions", nargs="+")
    ap.add_argument("--only-links", action="store_true", help="print only sentences with link errors")
    args = ap.parse_args(argv)
    gold = {d.id: d for d in read_any(args.gold)}
    tally: Counter = Counter()
    for path in args.predictions:
        for pred in read_any(path):
            g = gold.get(pred.id)
            if g is None:
                raise SystemExit(f"{path}: document {pred.id!r} is not in {args.gold}")
            for (a, b), mq, xq, ml, xl, ui in sentence_errors(g, pred):
                tally.update({"missed quantity": len(mq), "extra quantity": len(xq),
                              "missed link": len(ml), "extra link": len(xl), "untagged link target": len(ui)})
                if args.only_links and not (ml or xl):
                    continue
                print(f"\n[{g.id} {a}:{b}] {g.text[a:b].strip()}")
                for q in mq:
                    print(f"  - Q {q.text}")
                for q in xq:
                    print(f"  + Q {q.text}")
                for l in ml:
                    print(f"  - L {l.quantity.text} -> {l.indicator.text}")
                for l in xl:
                    print(f"  + L {l.quantity.text} -> {l.indicator.text}")
                for i in ui:
                    print(f"  ! I {i.text} (gold link target, not tagged)")
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
