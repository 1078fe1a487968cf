"""Write generated annotated sentences (zhibiao.generate) to project JSONL, to look at or train on.

    python training/generate.py -n 200 --seed 7 -o /tmp/generated.jsonl
"""
from __future__ import annotations

import argparse

from zhibiao.generate import generate_documents
from zhibiao.io.jsonl import write_jsonl
from zhibiao.taxonomy import Taxonomy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--taxonomy", default=None, help="extra taxonomy YAML")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    n = write_jsonl(generate_documents(args.n, Taxonomy.load(extend=args.taxonomy), seed=args.seed), args.output)
    print(f"wrote {n} generated documents to {args.output}")


if __name__ == "__main__":
    main()
