"""A query-adaptive lexical weight in the hybrid blend, against the shipped blend, in one run.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.blend --index /tmp/ixfull \
        [--example "running slow jobs outside the web request"]

The shipped blend divides BM25 by the query's best document's score, so the best lexical match always adds the
full lexical share, whether it matches the query's rare words or only its common ones ("web", "request"). The
variants scale that share with how much of the query the lexical side can answer:

- theoretical maximum: BM25 divided by the query's largest possible score, the sum of its terms' idf (bm25s'
  Lucene scoring, which the index uses: a term's score is idf * tf / (tf + k1 * length norm), which tends to idf),
  at lexical weights 0.35 (the shipped share) to 1.0;
- confidence: the shipped blend with its lexical share scaled by (best score / that maximum / 0.6) ** gamma
  (0.6: near the median ratio on the development queries), gamma 0.5 and 1.

Each row is `eval.py`'s hybrid nDCG@10 on the development set (talks), per kind, and the paired difference against
the shipped row over queries (+- 2 standard errors), then the example query's top 10 talk titles. With 20 queries,
differences under ~0.02 are noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import talksearch.kb as kbmod
from talksearch.lexical import tokenize
from talksearch.search import DENSE_WEIGHT, Filters

from .common import paired
from .eval import DEFAULT_EVAL_DIR, KINDS, NDCG, evaluate_mode, load
from .variants import for_queries, hybrid_by, swapped

TITLE_MATCH = 0.6  # share of the maximum a best document typically reaches


def variants(largest) -> dict:
    """name -> the rankers with another hybrid blend (None: as shipped); `largest(text)` is the largest possible
    BM25 score of a query."""

    def theoretical(share):
        return for_queries(hybrid_by(lambda searcher, request, cosine, bm25: (
            DENSE_WEIGHT * cosine + share * bm25 / largest(request.text) - request.penalty * searcher.foreign)))

    def confidence(gamma):
        def blend(searcher, request, cosine, bm25):
            top = float(bm25.max()) if bm25.size and bm25.max() > 0 else 1.0
            scale = (min(1.0, top / largest(request.text)) / TITLE_MATCH) ** gamma
            return (DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * scale * bm25 / top
                    - request.penalty * searcher.foreign)
        return for_queries(hybrid_by(blend))

    return {"shipped: BM25 / the best document's": None,
            **{f"BM25 / the query's maximum, lexical weight {share}": theoretical(share) for share in (0.35, 0.5, 0.7, 1.0)},
            **{f"shipped, lexical share × confidence ** {gamma}": confidence(gamma) for gamma in (0.5, 1.0)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--example", default="running slow jobs outside the web request")
    args = parser.parse_args()
    dev = load(args.eval_dir)
    with kbmod.open(args.index) as kb:
        searcher = kb.searcher
        index = searcher.bm25
        params = json.loads((kb.generation.lexical / "params.index.json").read_text())
        assert params["method"] == params["idf_method"] == "lucene", params  # the ceiling below is Lucene's
        frequency = np.diff(np.asarray(index.indptr))
        idf = np.log(1 + (index.num_docs - frequency + 0.5) / (frequency + 0.5))  # bm25s' (Lucene's) idf

        def largest(query: str) -> float:
            columns = [index.vocab.get(term) for term in tokenize(query, index.stopwords)]
            return sum(idf[c] for c in columns if c is not None) or 1.0

        print("| hybrid blend | nDCG@10 | " + " | ".join(KINDS) + " | Δ ± 2 SE |\n" + "|---" * (3 + len(KINDS)) + "|")
        shipped, examples = None, {}
        for name, variant in variants(largest).items():
            with swapped(searcher, rankers=variant):
                hybrid = evaluate_mode(kb, dev, "hybrid")
                examples[name] = [hit.title for hit in kb.query(args.example, k=10, filters=Filters(kind="talk"))]
            shipped = shipped or hybrid["per_query"][NDCG]
            kinds = " | ".join(f"{hybrid['per_kind'][k]:.3f}" for k in KINDS)
            print(f"| {name} | {hybrid['overall'][NDCG]:.3f} | {kinds} | {paired(hybrid['per_query'][NDCG], shipped)} |",
                  flush=True)
        print(f"\nTop 10 for {args.example!r}:")
        for name, titles in examples.items():
            print(f"- {name}: " + "; ".join(titles))


if __name__ == "__main__":
    main()
