"""Transcripts' quality in one run: known-item moments, and whether topic queries stay as good as without them.

    .venv/bin/python -m benchmarks.transcripts --with /tmp/ix-transcripts --without /tmp/ix-corpus [--json out.json]

`--with`: the pyvideo corpus (and `data/`) plus the development transcripts; `--without`: the same without the
transcripts. Prints:

- the moments of `shared/eval/moments.tsv` on `--with` (`benchmarks.moments`: talk first, top 5, top 10, MRR@10,
  and the first hit's moment on the span +- 30 s), beside the set's reference system;
- the development set's hybrid nDCG@10 and judged@10 (`benchmarks.eval`, talks only) on both indexes, and related
  talks' nDCG@10 on both: transcripts must not make abstract search worse (target: within 0.01);
- with `--variants`, the same moments and hybrid figures for other ways to rank by transcripts (`VARIANTS`: the
  shipped `rankers.Transcripts` with other settings, swapped in through `talksearch.open(..., rankers=...)`).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import talksearch
from talksearch.search import SHIPPED
from talksearch.search.rankers import Rankers, Transcripts, best_passage, bm25

from .common import SHARED
from .eval import JUDGED, NDCG, evaluate_mode, evaluate_related, load
from .moments import REFERENCE, ask, read_moments, summarise

VARIANTS = {
    "a talk's best window, less 0.05 (no mix, no gap, windows' own BM25 scale)":
        Transcripts(discount=0.05, mix=0.0, gap=0.0, joint=False),
    "the same, plus 0.05": Transcripts(discount=-0.05, mix=0.0, gap=0.0, joint=False),
    "best window on the talks' BM25 scale, less 0.05": Transcripts(discount=0.05, mix=0.0, gap=0.0),
    "no gap (mix 0.3)": Transcripts(gap=0.0),
    "no mix (gap 1.5)": Transcripts(mix=0.0),
    "gap 1.0": Transcripts(gap=1.0),
}


def variant(transcripts: Transcripts) -> Rankers:
    """The shipped rankers with `transcripts` scoring the windows."""
    return Rankers(query=replace(SHIPPED.query, score=(best_passage, bm25, transcripts)), related=SHIPPED.related)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--with", dest="heard", required=True, type=Path)
    parser.add_argument("--without", dest="plain", required=True, type=Path)
    parser.add_argument("--eval-dir", type=Path, default=SHARED / "eval")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--variants", action="store_true", help="Also score the other ways in VARIANTS.")
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
    if args.variants:
        print("\n| variant | first | top 10 | moment | hybrid nDCG@10 | judged@10 |\n|---|---|---|---|---|---|")
        shipped = results["moments"]
        print(f"| shipped {Transcripts()} | {shipped['first']:.3f} | {shipped['top10']:.3f} | {shipped['moment']:.3f} | "
              f"{results['with']['ndcg']:.3f} | {results['with']['judged']:.3f} |")
        for name, transcripts in VARIANTS.items():
            with talksearch.open(args.heard, rankers=variant(transcripts)) as kb:
                found = summarise([ask(kb, m, dev.group, "hybrid") for m in moments])
                query = evaluate_mode(kb, dev, "hybrid")["overall"]
            results.setdefault("variants", {})[name] = {**found, "ndcg": query[NDCG], "judged": query[JUDGED]}
            print(f"| {name} | {found['first']:.3f} | {found['top10']:.3f} | {found['moment']:.3f} | "
                  f"{query[NDCG]:.3f} | {query[JUDGED]:.3f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
