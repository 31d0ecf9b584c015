"""Ranking ablations: variants of the shipped ranking, scored on the development set in one run.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.ablations --index /tmp/ixfull \
        [--pyvideo /tmp/pyvideo/pyvideo-data]

Each variant is the shipped ranking with one ranker replaced (`talksearch.search.rankers`: for queries the dense
ranker or the one that orders, for related talks the cosine or the order), or with the Searcher's vectors
replaced, set on the loaded Searcher while it is scored (`variants.swapped`; the index on disk is only read). Each
runs `eval.py`'s evaluation: nDCG@10 of the dense and hybrid modes with per-kind columns for the query variants,
related-talks nDCG@10 for the related variants. The first row of each table is the shipped ranking, so every variant is read as
a difference against it in the same run. Variants:

- How a document's dense score comes from its passages: the best passage (shipped), the first passage (title +
  the start of the text: closest to one vector per talk from title + description), the document's mean vector,
  and half best, half first.
- The one passage of a talk without text: "title — speakers — event" (shipped) against the title alone and title +
  speakers (these talks are re-embedded with the index-time encoder, so this part imports torch).
- Related talks: the seed's whole-text vector blended with BM25 (shipped), the vector alone, with its title's
  vector added (0.5), with the title run as a dense query over passages (0.3 of the cosine), with the title run as
  a hybrid query (0.2 of the final score), and every seed passage run as a dense query, averaged.
- Pseudo-relevance feedback for queries (dense and hybrid mode; the first pass is the shipped ranking in that
  mode, the second reuses its filters and blend): dense Rocchio, the query vector moved to
  normalise(q + beta * mean of the top k documents' mean vectors) with BM25 unchanged (k 3, 5, 10; beta 0.5, 1);
  lexical RM3, the BM25 query interpolated as (1 - lambda) * its own terms + lambda * the m terms of highest
  tf * idf weight in the top k documents' seed texts (title + first 2,000 characters), weighted by that weight
  (k 3, 10; m 10, 20; lambda 0.3, 0.5; the dense side unchanged).
- Feedback for related talks: average query expansion (alpha-QE), the seed vector moved to normalise(seed +
  sum of its k nearest documents' mean vectors outside its own group, each weighted by cosine^alpha) and blended
  with BM25 as shipped (k 2, 3, 5; alpha 0, 3); and mutual neighbours, the shipped score plus `boost` for a
  candidate whose own N nearest documents (by mean-vector cosine, precomputed once over the whole matrix)
  include the seed (N 10, 20; boost 0.05, 0.1).
  These tables add the paired difference against the shipped row (mean over queries, +- 2 standard errors;
  related seeds averaged per query first, since a query's seeds share their judgments) and the time of
  `Searcher.rank` (one query vector given) or `Searcher.related_ranking` per call, on 50 talk titles / 50 talks drawn
  with a fixed seed, not development queries.
- With `--pyvideo` (the unpacked corpus): the development set's reference method, one vector per talk from the raw
  "title description" of its video file (256-token window), as the dense score of queries and as related talks'
  cosine, alone and blended with BM25 as shipped. This checks `eval.py` against the set's published reference
  figures, and the shipped passages against one vector per talk. It embeds every talk again (~3 minutes). A last
  row scores those vectors' related talks on raw talk ids, without groups (`ungrouped_related`): the reading
  that comes closest to the set's published related figure.

With 20 queries (470 related seeds), differences under ~0.02 (queries) and ~0.01 (related) are noise.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

import talksearch.kb as kbmod
from talksearch.lexical import tokenize
from talksearch.records import Mode
from talksearch.search import (
    LEXICAL_DEPTH,
    RELATED_DENSE_WEIGHT,
    SHIPPED,
    Filters,
    Pipeline,
    Ranked,
    Rankers,
    blend,
    rankers,
    top,
)

from .common import paired
from .eval import DEFAULT_EVAL_DIR, KINDS, NDCG, K, evaluate_mode, evaluate_related, load, related_seeds, score, seed_query
from .variants import (
    dense_by,
    dense_scores,
    for_queries,
    for_related,
    query_by,
    related_by,
    related_ordered_by,
    swapped,
)

TIMED = 50  # talk titles (queries) and talks (related seeds) timed per variant


def _normalised(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _first_rows(searcher) -> np.ndarray:
    """Each document's first passage row (rows are grouped by document)."""
    return np.unique(np.asarray(searcher.passage_owner), return_index=True)[1]


def dense_variants(searcher) -> dict:
    """name -> the rankers with another dense ranker for queries (None: as shipped)."""
    passages, documents = searcher.passage_vectors, searcher.document_vectors
    first = _first_rows(searcher)

    def variant(combine):
        return for_queries(query_by(dense_by(lambda vector: combine(
            dense_scores(searcher, vector), passages[first] @ vector, documents @ vector))))

    return {"best passage (shipped)": None,
            "first passage": variant(lambda b, f, m: f),
            "mean vector": variant(lambda b, f, m: m),
            "0.5 best + 0.5 first": variant(lambda b, f, m: 0.5 * b + 0.5 * f)}


def related_variants(searcher) -> dict:
    """name -> the rankers with another related-talks pipeline (None: as shipped)."""
    documents, passages = np.asarray(searcher.document_vectors), searcher.passage_vectors

    def title(pos: int) -> tuple[str, np.ndarray]:
        text = searcher.fields(pos)["title"]
        return text, searcher.embedder.embed([text])[0]

    def whole(pos: int) -> np.ndarray:
        return documents @ documents[pos]

    def title_hybrid(searcher, request, ranked):  # after the shipped scores: whole-text cosine, BM25 of the seed
        text, vector = title(request.seed)
        seed = blend(searcher, ranked.cosine, ranked.bm25, weight=RELATED_DENSE_WEIGHT)
        query = blend(searcher, dense_scores(searcher, vector), searcher.bm25.scores(text), weight=0.65)
        return top(0.8 * seed + 0.2 * query, ranked.cosine, ranked.bm25, request.depth)

    def passage_queries(pos: int) -> np.ndarray:
        return np.mean([dense_scores(searcher, passages[row]) for row in searcher.passage_rows(pos)], axis=0)

    return {
        "whole-text vector (shipped)": None,
        "whole-text vector alone, no BM25": for_related(related_by(whole, 1)),
        "+ 0.5 x title vector": for_related(related_by(
            lambda pos: documents @ _normalised(documents[pos] + 0.5 * title(pos)[1]))),
        "0.3 x title as a dense query": for_related(related_by(
            lambda pos: 0.7 * whole(pos) + 0.3 * dense_scores(searcher, title(pos)[1]))),
        "0.2 x title as a hybrid query": for_related(related_ordered_by(title_hybrid)),
        "each passage as a dense query, mean": for_related(related_by(passage_queries)),
    }


def _feedback(second) -> Rankers:
    """The rankers with pseudo-relevance feedback for queries, as the ranker that orders: in dense and hybrid
    mode, the shipped ranking (at the shipped depth), then `second(first, query, vector, keep, cosine, bm25)` -> new
    (cosine, bm25) ordered as shipped with the same filters (bm25 None in dense mode); other modes as shipped. The
    ranking keeps the first pass's scores, so that a deeper page (the order run again on them) gets the same
    feedback."""
    def order(searcher, request, ranked):
        if request.mode not in (Mode.DENSE, Mode.HYBRID):
            return rankers.by_mode(searcher, request, ranked)
        first = rankers.by_mode(searcher, replace(request, depth=LEXICAL_DEPTH), ranked)
        cosine, bm25 = second(first, request.text, request.vector, request.keep, ranked.cosine, ranked.bm25)
        fed = rankers.by_mode(searcher, request, Ranked([], [], cosine, bm25))
        return Ranked(fed.positions, fed.scores, ranked.cosine, ranked.bm25)
    return for_queries(Pipeline(SHIPPED.query.score, order))


def feedback_variants(searcher) -> dict:
    """name -> the rankers with feedback for queries (None: as shipped)."""
    documents, index = np.asarray(searcher.document_vectors), searcher.bm25
    idf = np.log(index.num_docs / np.maximum(np.diff(np.asarray(index.indptr)), 1))

    def rocchio(k, beta):
        def second(first, query, vector, keep, cosine, bm25):
            moved = dense_scores(searcher, _normalised(vector + beta * documents[first.positions[:k]].mean(axis=0)))
            return (moved if keep is None else np.where(keep, moved, -np.inf)), bm25
        return _feedback(second)

    def rm3(k, m, share):
        def second(first, query, vector, keep, cosine, bm25):
            if bm25 is None:
                return cosine, None
            weight = Counter()
            for pos in first.positions[:k]:
                terms = [index.vocab[t] for t in tokenize(searcher.seed_text(pos), index.stopwords) if t in index.vocab]
                for term, count in Counter(terms).items():
                    weight[term] += count / len(terms) * idf[term]
            chosen = weight.most_common(m)
            total = sum(w for _, w in chosen) or 1.0
            expansion = np.zeros(index.num_docs, dtype=np.float32)
            for term, w in chosen:
                span = index.postings(term)
                np.add.at(expansion, index.indices[span], index.data[span] * (w / total))
            own = max(1, len(tokenize(query, index.stopwords)))
            mixed = (1 - share) * bm25 / own + share * expansion
            return cosine, mixed if keep is None else np.where(keep, mixed, 0.0)
        return _feedback(second)

    return {"no feedback (shipped)": None,
            **{f"dense Rocchio, top {k}, beta {b}": rocchio(k, b) for k in (3, 5, 10) for b in (0.5, 1.0)},
            **{f"RM3, top {k}, {m} terms, lambda {s}": rm3(k, m, s) for k in (3, 10) for m in (10, 20)
               for s in (0.3, 0.5)}}


def related_feedback_variants(searcher) -> dict:
    """name -> the rankers with feedback for related talks (None: as shipped)."""
    documents = np.asarray(searcher.document_vectors)

    def expanded(k, alpha):
        def cosine_of(pos):
            cosine = documents @ documents[pos]
            near = np.argpartition(-cosine, 50)[:51]
            own = searcher.fields(pos)["group"]
            near = [p for p in near[np.argsort(-cosine[near])] if searcher.fields(p)["group"] != own][:k]
            weights = np.clip(cosine[near], 0, None) ** alpha
            return documents @ _normalised(documents[pos] + weights @ documents[near])
        return for_related(related_by(cosine_of))

    nth = {}  # N -> each document's N-th highest cosine to another document

    def mutual(n, boost):
        if not nth:
            tops = []
            for start in range(0, len(documents), 1024):
                block = documents[start : start + 1024] @ documents.T
                block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
                tops.append(-np.sort(-np.partition(block, -20, axis=1)[:, -20:], axis=1))
            tops = np.vstack(tops)
            nth.update({10: tops[:, 9], 20: tops[:, 19]})

        def order(searcher, request, ranked):  # after the shipped scores: whole-text cosine, BM25 of the seed
            cosine, bm25 = ranked.cosine, ranked.bm25
            score = blend(searcher, cosine, bm25, weight=RELATED_DENSE_WEIGHT) + boost * (cosine >= nth[n])
            return top(score, cosine, bm25, request.depth)
        return for_related(related_ordered_by(order))

    return {"no feedback (shipped)": None,
            **{f"alpha-QE, top {k}, alpha {a}": expanded(k, a) for k in (2, 3, 5) for a in (0, 3)},
            **{f"mutual top {n}, boost {b}": mutual(n, b) for n in (10, 20) for b in (0.05, 0.1)}}


def _timed(call, inputs) -> float:
    """Milliseconds per call of `call` over `inputs` (after one warm-up call)."""
    call(inputs[0])
    start = time.perf_counter()
    for item in inputs:
        call(item)
    return 1000 * (time.perf_counter() - start) / len(inputs)


def untitled_variants(kb) -> dict:
    """name -> (passage rows, document positions, texts) for talks without text (None: as shipped)."""
    rows = kb.con.execute("""select p.row, d.pos, t.title, t.speakers from passages p join talks t on t.id = p.doc_id
        join documents d on d.id = p.doc_id where p.ordinal = 0 order by p.row""").fetchall()
    split = [r[0] for r in rows], [r[1] for r in rows]
    return {"title — speakers — event (shipped)": None,
            "title": (*split, [r[2] for r in rows]),
            "title — speakers": (*split, [" — ".join([r[2], ", ".join(r[3])]) if r[3] else r[2] for r in rows])}


def reference_vectors(searcher, pyvideo: Path, encoder) -> np.ndarray:
    """One vector per document: a pyvideo talk's raw "title description" (the set's reference text), embedded in
    order of length; a document without a video file in `pyvideo` keeps its first passage's vector."""
    vectors = np.array(searcher.passage_vectors[_first_rows(searcher)])
    texts = {}
    for pos, doc_id in enumerate(searcher.ids):
        event, _, slug = doc_id.partition("/")
        file = pyvideo / event / "videos" / f"{slug}.json"
        if slug and file.is_file():
            video = json.loads(file.read_text(encoding="utf-8"))
            texts[pos] = f"{video.get('title') or ''} {video.get('description') or ''}"
    order = sorted(texts, key=lambda pos: len(texts[pos]))
    for start in range(0, len(order), 512):
        part = order[start : start + 512]
        vectors[part] = encoder.embed([texts[pos] for pos in part])
    return vectors


def reference_variants(vectors: np.ndarray) -> dict:
    """name -> the rankers with one vector per talk, for queries' dense scores and for related talks."""
    dense = query_by(dense_by(lambda vector: vectors @ vector))
    cosine = lambda pos: vectors @ vectors[pos]  # noqa: E731
    return {"one vector per talk, alone (related: no BM25)": Rankers(query=dense, related=related_by(cosine, 1)),
            "one vector per talk, blended with BM25 as shipped": Rankers(query=dense, related=related_by(cosine))}


def ungrouped_related(dev, searcher, vectors: np.ndarray) -> float:
    """Related nDCG@10 of one vector per talk alone, scored on raw talk ids: no groups in the ranking or the
    judgments, only the seed itself left out, so the seed's other recordings count as relevant neighbours.

    Not the method `shared/eval/README.md` describes (which maps recordings to groups and leaves the seed's group
    out) and not what `eval.py` does, but the reading that comes closest to the set's published figure (0.647).
    """
    talks = np.zeros(len(vectors), dtype=bool)
    talks[[searcher.position[i] for i in searcher.talk_ids]] = True
    rankings, judgments = {}, {}
    for key, (talk_id, _) in related_seeds(dev).items():
        if talk_id not in searcher.talk_ids:
            continue
        pos = searcher.position[talk_id]
        cosine = np.where(talks, vectors @ vectors[pos], -np.inf)  # talks only, like the set's reference
        cosine[pos] = -np.inf
        rankings[key] = [searcher.ids[p] for p in np.argsort(-cosine)[:K]]
        qid = seed_query(key)
        judgments[key] = {t: g for t, g in dev.judged[qid].items() if t != talk_id and g > 0}
    return float(np.mean(list(score(judgments, rankings, [NDCG])[NDCG].values())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--pyvideo", type=Path, help="the unpacked pyvideo corpus: adds the reference-method rows")
    args = parser.parse_args()
    dev = load(args.eval_dir)
    with kbmod.open(args.index) as kb:
        searcher = kb.searcher
        talk_ids = set(kb.sql("select id from talks")["id"])
        print("| document score from passages | dense | hybrid | " + " | ".join(f"hybrid {k}" for k in KINDS) + " |")
        print("|---" * (3 + len(KINDS)) + "|")
        for name, variant in dense_variants(searcher).items():
            with swapped(searcher, rankers=variant):
                dense, hybrid = (evaluate_mode(kb, dev, mode) for mode in ("dense", "hybrid"))
            kinds = " | ".join(f"{hybrid['per_kind'][k]:.3f}" for k in KINDS)
            print(f"| {name} | {dense['overall'][NDCG]:.3f} | {hybrid['overall'][NDCG]:.3f} | {kinds} |", flush=True)

        print("\n| related talks | nDCG@10 |\n|---|---|")
        for name, variant in related_variants(searcher).items():
            with swapped(searcher, rankers=variant):
                print(f"| {name} | {evaluate_related(kb, dev, talk_ids.__contains__)['ndcg']:.4f} |", flush=True)

        talks = sorted(searcher.position[i] for i in talk_ids)
        sample = [int(p) for p in np.random.default_rng(0).choice(talks, TIMED, replace=False)]
        titles = [searcher.fields(pos)["title"] for pos in sample]
        timed = list(zip(titles, searcher.embedder.embed(titles), strict=True))
        print("\n| query feedback | dense | hybrid | " + " | ".join(f"hybrid {k}" for k in KINDS)
              + " | hybrid Δ ± 2 SE | rank ms/query |")
        print("|---" * (5 + len(KINDS)) + "|")
        shipped = None
        for name, variant in feedback_variants(searcher).items():
            with swapped(searcher, rankers=variant):
                dense, hybrid = (evaluate_mode(kb, dev, mode) for mode in ("dense", "hybrid"))
                ms = _timed(lambda q: searcher.rank(q[0], Filters(kind="talk"), mode="hybrid", vector=q[1]), timed)
            shipped = shipped or hybrid["per_query"][NDCG]
            kinds = " | ".join(f"{hybrid['per_kind'][k]:.3f}" for k in KINDS)
            print(f"| {name} | {dense['overall'][NDCG]:.3f} | {hybrid['overall'][NDCG]:.3f} | {kinds} | "
                  f"{paired(hybrid['per_query'][NDCG], shipped)} | {ms:.1f} |", flush=True)

        print("\n| related-talk feedback | nDCG@10 | Δ ± 2 SE (per query) | related ms/seed |\n|---|---|---|---|")
        shipped = None
        for name, variant in related_feedback_variants(searcher).items():
            with swapped(searcher, rankers=variant):
                result = evaluate_related(kb, dev, talk_ids.__contains__)
                ms = _timed(searcher.related_ranking, sample)
            shipped = shipped or result["per_seed"]
            print(f"| {name} | {result['ndcg']:.4f} | {paired(result['per_seed'], shipped, seed_query)}"
                  f" | {ms:.1f} |", flush=True)

        print("\n| passage of a talk without text | dense | hybrid | related |\n|---|---|---|---|")
        passages, documents = np.array(searcher.passage_vectors), np.array(searcher.document_vectors)
        from talksearch.embed import SentenceTransformerEmbedder

        encoder = SentenceTransformerEmbedder(weights=kb.generation.weights)  # the weights that embedded the index
        for name, change in untitled_variants(kb).items():
            stored, means = passages.copy(), documents.copy()
            if change:
                rows, positions, texts = change
                stored[rows] = means[positions] = encoder.embed(texts)  # one passage: its mean is itself
            with swapped(searcher, passage_vectors=stored, document_vectors=means):
                dense, hybrid = (evaluate_mode(kb, dev, mode)["overall"][NDCG] for mode in ("dense", "hybrid"))
                related = evaluate_related(kb, dev, talk_ids.__contains__)["ndcg"]
            print(f"| {name} | {dense:.3f} | {hybrid:.3f} | {related:.4f} |", flush=True)
        if args.pyvideo:
            print("\n| the set's reference method | dense | hybrid | related |\n|---|---|---|---|")
            vectors = reference_vectors(searcher, args.pyvideo, encoder)
            for name, variant in reference_variants(vectors).items():
                with swapped(searcher, rankers=variant):
                    dense, hybrid = (evaluate_mode(kb, dev, mode)["overall"][NDCG] for mode in ("dense", "hybrid"))
                    related = evaluate_related(kb, dev, talk_ids.__contains__)["ndcg"]
                print(f"| {name} | {dense:.3f} | {hybrid:.3f} | {related:.4f} |", flush=True)
            print(f"| one vector per talk, alone, related scored on raw talk ids (no groups) | | | "
                  f"{ungrouped_related(dev, searcher, vectors):.4f} |", flush=True)


if __name__ == "__main__":
    main()
