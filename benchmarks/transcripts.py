"""Transcripts' quality in one run: known-item moments, and whether topic queries stay as good as without them.

    .venv/bin/python -m benchmarks.transcripts --with /tmp/ix-transcripts --without /tmp/ix-corpus [--json out.json]

`--with`: the pyvideo corpus (and `data/`) plus the development transcripts; `--without`: the same without the
transcripts. Prints:

- the moments of `shared/eval/moments.tsv` on `--with` (`benchmarks.moments`: talk first, top 5, top 10, MRR@10,
  and the first hit's moment on the span +- 30 s), beside the set's reference system;
- the development set's hybrid nDCG@10 and judged@10 (`benchmarks.eval`, talks only) on both indexes, and related
  talks' nDCG@10 on both: transcripts must not make abstract search worse (target: within 0.01).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import talksearch

from .common import SHARED
from .eval import JUDGED, NDCG, evaluate_mode, evaluate_related, load
from .moments import REFERENCE, ask, read_moments, summarise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--with", dest="heard", required=True, type=Path)
    parser.add_argument("--without", dest="plain", required=True, type=Path)
    parser.add_argument("--eval-dir", type=Path, default=SHARED / "eval")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dev = load(args.eval_dir)
    moments = read_moments(args.eval_dir / "moments.tsv")
    results: dict[str, dict] = {}
    for name, root in (("without", args.plain), ("with", args.heard)):
        with talksearch.open(root) as kb:
            known = kb.searcher.position.__contains__
            query = evaluate_mode(kb, dev, "hybrid")
            related = evaluate_related(kb, dev, known)
            results[name] = {"ndcg": query["overall"][NDCG], "judged": query["overall"][JUDGED],
                             "related": related["ndcg"], "related_judged": related["judged"]}
            if name == "with":
                results["moments"] = summarise([ask(kb, m, dev.group, "hybrid") for m in moments])
    columns = list(REFERENCE)
    print(f"| moments ({len(moments)} queries) | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    print("| reference (eval README) | " + " | ".join(f"{REFERENCE[c]:.3f}" for c in columns) + " |")
    print("| talksearch | " + " | ".join(f"{results['moments'][c]:.3f}" for c in columns) + " |")
    print()
    print("| index | hybrid nDCG@10 | judged@10 | related nDCG@10 | related judged@10 |")
    print("|---|---|---|---|---|")
    for name in ("without", "with"):
        r = results[name]
        print(f"| {name} transcripts | {r['ndcg']:.3f} | {r['judged']:.3f} | {r['related']:.3f} | "
              f"{r['related_judged']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
