"""Document expansion with neighbours for BM25, scored on the development set in one run.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.expansion --index /tmp/ixfull \
        [--eval-dir ../shared/eval]

The idea (Tao et al. 2006, "Language model information retrieval with document expansion"; cluster-based
document smoothing): a short talk description misses words its topic is known by, and the talks nearest to it
hold them. Each document's k nearest other documents by cosine of the mean vectors (`documents.npy`; only the
document itself left out, so other recordings of the same talk can be neighbours) lend it words, appended to its
BM25 text:

- titles: the neighbours' titles, once each;
- terms: the m terms of highest tf * idf in the neighbours' texts (tf: a term's share of each neighbour's BM25
  tokens, summed over the neighbours; idf: log(N / df) over the shipped corpus), once each.

Grid: k 3, 5, 10; titles, or terms with m 10, 20. The BM25 index is rebuilt in memory with bm25s as `lexical.build`
does (same tokenizer, stop words and parameters: Lucene BM25, k1 1.5, b 0.75) from the `documents.folded` texts
of the index (the folded `lexical.document_text`), and swapped in for `Searcher.bm25`; the index on disk is only
read. The dense side is unchanged, so each variant is scored in hybrid and lexical mode (nDCG@10, hybrid per query
kind) and on related talks (which blend the cosine with BM25 of the seed's text). A row "rebuilt, not expanded"
checks that the rebuild reproduces the shipped index (it should score exactly as shipped).

If some variant lifts hybrid nDCG@10 by more than WEIGHTED_GATE, the best such variant is also scored with the
neighbours' words counted with weight w < 1 (0.25, 0.5): bm25s counts whole tokens only, so these rows come from a
NumPy build of the same Lucene BM25 on weighted term counts and lengths (checked against bm25s at w = 1).

Every row shows the paired difference against the shipped row (mean over queries, +- 2 standard errors; related
seeds averaged per query first, since a query's seeds share their judgments) and the seconds to build it: finding
the neighbours once (all k), choosing the words and rebuilding BM25; the extra index-time cost is that minus the
plain rebuild ("rebuilt, not expanded" row).
"""

from __future__ import annotations

import argparse
import math
import time
from array import array
from collections import Counter
from pathlib import Path

import numpy as np

import talksearch.kb as kbmod
from talksearch import lexical
from talksearch.lexical import tokenize

from .common import paired
from .eval import DEFAULT_EVAL_DIR, KINDS, NDCG, evaluate_mode, evaluate_related, load, seed_query
from .variants import swapped

NEIGHBOURS = (3, 5, 10)
TERMS = (10, 20)
WEIGHTS = (0.25, 0.5)
WEIGHTED_GATE = 0.015  # hybrid nDCG@10 lift that earns the weighted rows
K1, B = 1.5, 0.75  # bm25s's defaults, which `lexical.build` uses


def nearest(vectors: np.ndarray, k: int) -> np.ndarray:
    """Each row's k nearest other rows by dot product (unit vectors: cosine), nearest first (exact, FAISS flat)."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    _, found = index.search(vectors, k + 1)
    other = found != np.arange(len(vectors))[:, None]  # the row itself, wherever a tie put it (or not found)
    order = np.argsort(~other, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(found, order, axis=1).astype(np.int64)


def bm25s_index(token_lists: list[list[str]], stopwords: frozenset[str]) -> lexical.Index:
    """A `lexical.Index` built in memory by bm25s exactly as `lexical.build` builds it (its CSC arrays by
    `lexical.csc_by_column`, at bm25s's swap point `_np_csc`)."""
    import bm25s

    model = bm25s.BM25()
    model._np_csc = lexical.csc_by_column
    vocab: dict[str, int] = {}
    corpus = [array("i", [vocab.setdefault(t, len(vocab)) for t in tokens or [""]]) for tokens in token_lists]
    model.index((corpus, vocab), show_progress=False)
    scores = model.scores
    return lexical.Index(data=scores["data"], indices=scores["indices"], indptr=scores["indptr"],
                         vocab=dict(model.vocab_dict), stopwords=stopwords, num_docs=int(scores["num_docs"]))


def weighted_index(own: list[list[str]], lent: list[list[str]], weight: float,
                   stopwords: frozenset[str]) -> lexical.Index:
    """Lucene BM25 (bm25s's formulas) where each lent token counts `weight` in term counts and document lengths."""
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for doc, (mine, theirs) in enumerate(zip(own, lent, strict=True)):
        for tokens, w in ((mine if mine or theirs else [""], 1.0), (theirs, weight)):
            ids = [vocab.setdefault(t, len(vocab)) for t in tokens]
            rows.append(np.full(len(ids), doc, dtype=np.int64))
            cols.append(np.asarray(ids, dtype=np.int64))
            vals.append(np.full(len(ids), w))
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    n, v = len(own), len(vocab)
    lengths = np.bincount(rows, weights=vals, minlength=n)
    keys, inverse = np.unique(cols * n + rows, return_inverse=True)  # sorted by term, then document: CSC order
    tf = np.bincount(inverse, weights=vals)
    term, doc = keys // n, keys % n
    df = np.bincount(term, minlength=v)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = K1 * ((1 - B) + B * lengths / lengths.mean())
    data = (idf[term] * tf / (norm[doc] + tf)).astype(np.float32)
    indptr = np.zeros(v + 1, dtype=np.int64)
    np.cumsum(np.bincount(term, minlength=v), out=indptr[1:])
    return lexical.Index(data=data, indices=doc.astype(np.int32), indptr=indptr, vocab=vocab, stopwords=stopwords,
                         num_docs=n)


def top_terms(tokens: list[list[str]], idf: dict[str, float], near, m: int) -> list[str]:
    """The m terms of highest summed tf share * idf over the documents `near`."""
    weight: Counter = Counter()
    for pos in near:
        if tokens[pos]:
            for term, count in Counter(tokens[pos]).items():
                weight[term] += count / len(tokens[pos]) * idf[term]
    return [term for term, _ in weight.most_common(m)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args()
    dev = load(args.eval_dir)
    started = time.perf_counter()
    with kbmod.open(args.index) as kb:
        searcher = kb.searcher
        talk_ids = set(kb.sql("select id from talks")["id"])
        shipped_index = searcher.bm25
        stopwords = shipped_index.stopwords
        texts = [r[0] for r in searcher.con.execute("select folded from documents order by pos").fetchall()]
        titles = [searcher.fields(pos)["title"] for pos in range(searcher.size)]
        assert len(texts) == searcher.size == shipped_index.num_docs

        clock = time.perf_counter()
        own = [tokenize(text, stopwords) for text in texts]
        tokenize_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        neighbours = nearest(np.ascontiguousarray(searcher.document_vectors, dtype=np.float32), max(NEIGHBOURS))
        neighbour_seconds = time.perf_counter() - clock
        df = Counter(term for tokens in own for term in set(tokens))
        idf = {term: math.log(len(own) / count) for term, count in df.items()}
        print(f"{len(own)} documents; tokenized in {tokenize_seconds:.1f} s; {max(NEIGHBOURS)} nearest neighbours "
              f"of each in {neighbour_seconds:.1f} s\n", flush=True)

        def lent_titles(k):
            return lambda pos: tokenize(" ".join(titles[p] for p in neighbours[pos, :k]), stopwords)

        def lent_terms(k, m):
            return lambda pos: top_terms(own, idf, neighbours[pos, :k], m)

        variants = {"shipped": None, "rebuilt, not expanded": lambda pos: []}
        variants |= {f"k {k}, titles": lent_titles(k) for k in NEIGHBOURS}
        variants |= {f"k {k}, {m} tf·idf terms": lent_terms(k, m) for k in NEIGHBOURS for m in TERMS}

        header = ["variant", "hybrid", *(f"hybrid {k}" for k in KINDS), "hybrid Δ ± 2 SE", "lexical",
                  "lexical Δ ± 2 SE", "related", "related Δ ± 2 SE (per query)", "build s"]
        print("| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|", flush=True)
        shipped: dict = {}
        results: dict = {}
        lent_of: dict = {}

        def run(name: str, index: lexical.Index, seconds: float | None) -> float:
            with swapped(searcher, bm25=index):
                hybrid, lex = (evaluate_mode(kb, dev, mode) for mode in ("hybrid", "lexical"))
                related = evaluate_related(kb, dev, talk_ids.__contains__)
            scores = {"hybrid": hybrid["per_query"][NDCG], "lexical": lex["per_query"][NDCG],
                      "related": related["per_seed"]}
            shipped.update({key: value for key, value in scores.items() if key not in shipped})
            diff = {key: paired(scores[key], shipped[key], seed_query if key == "related" else (lambda q: q))
                    for key in scores}
            kinds = " | ".join(f"{hybrid['per_kind'][k]:.3f}" for k in KINDS)
            built = "" if seconds is None else f"{seconds:.1f}"
            print(f"| {name} | {hybrid['overall'][NDCG]:.3f} | {kinds} | {diff['hybrid']} | "
                  f"{lex['overall'][NDCG]:.3f} | {diff['lexical']} | {related['ndcg']:.4f} | {diff['related']} | "
                  f"{built} |", flush=True)
            lift = hybrid["overall"][NDCG] - np.mean(list(shipped["hybrid"].values()))
            results[name] = (lift, seconds)
            return lift

        for name, lend in variants.items():
            if lend is None:
                run(name, shipped_index, None)
                continue
            clock = time.perf_counter()
            lent = [lend(pos) for pos in range(len(own))]
            index = bm25s_index([mine + theirs for mine, theirs in zip(own, lent, strict=True)], stopwords)
            seconds = time.perf_counter() - clock
            lent_of[name] = lent
            if name == "rebuilt, not expanded":
                same = (np.array_equal(index.indptr, shipped_index.indptr)
                        and np.array_equal(index.indices, shipped_index.indices)
                        and np.allclose(index.data, shipped_index.data) and index.vocab == shipped_index.vocab)
                print(f"<!-- rebuild identical to the shipped index: {same} -->", flush=True)
            run(name, index, seconds)

        expanded = {n: r for n, r in results.items() if n not in ("shipped", "rebuilt, not expanded")}
        best = max(expanded, key=lambda n: expanded[n][0])
        if expanded[best][0] > WEIGHTED_GATE:
            lent = lent_of[best]
            check = weighted_index(own, lent, 1.0, stopwords)
            reference = bm25s_index([mine + theirs for mine, theirs in zip(own, lent, strict=True)], stopwords)
            probe = " ".join(titles[:50])
            print(f"<!-- NumPy build at w = 1 against bm25s: max score difference "
                  f"{np.abs(check.scores(probe) - reference.scores(probe)).max():.2e} -->", flush=True)
            for weight in WEIGHTS:
                clock = time.perf_counter()
                index = weighted_index(own, lent, weight, stopwords)
                run(f"{best}, weight {weight}", index, time.perf_counter() - clock)
        else:
            print(f"\nNo variant lifts hybrid nDCG@10 by more than {WEIGHTED_GATE} (best: {best}, "
                  f"{expanded[best][0]:+.3f}): weighted rows skipped.")

        plain = results["rebuilt, not expanded"][1]
        print(f"\nBest expanded variant by hybrid nDCG@10: {best} ({expanded[best][0]:+.3f}). Extra index-time cost: "
              f"{neighbour_seconds:.1f} s neighbours + {expanded[best][1] - plain:.1f} s choosing words and the "
              f"larger rebuild ({expanded[best][1]:.1f} s against {plain:.1f} s for the plain rebuild, "
              f"which here excludes the {tokenize_seconds:.1f} s of tokenizing).")
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
