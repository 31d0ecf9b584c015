"""Ranking ablations: variants of the shipped ranking, scored on the development set in one run.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/ablations.py --index /tmp/ixfull \
        [--pyvideo /tmp/pyvideo/pyvideo-data]

Each variant swaps one piece of `search.Searcher` in memory (the index on disk is only read) and runs `eval.py`'s
evaluation: nDCG@10 of the dense and hybrid modes with per-kind columns for the query variants, related-talks
nDCG@10 for the related variants. The first row of each table is the shipped ranking, so every variant is read as
a difference against it in the same run. Variants:

- How a document's dense score comes from its passages: the best passage (shipped), the first passage (title +
  the start of the text: closest to one vector per talk from title + description), the document's mean vector,
  and half best, half first.
- The one passage of a talk without text: "title — speakers — event" (shipped) against the title alone and title +
  speakers (these talks are re-embedded with the index-time encoder, so this part imports torch).
- Related talks: the seed's whole-text vector blended with BM25 (shipped), the vector alone, with its title's
  vector added (0.5), with the title run as a dense query over passages (0.3 of the cosine), with the title run as
  a hybrid query (0.2 of the final score), and every seed passage run as a dense query, averaged.
- With `--pyvideo` (the unpacked corpus): the development set's reference method, one vector per talk from the raw
  "title description" of its video file (256-token window), as the dense score of queries and as related talks'
  cosine, alone and blended with BM25 as shipped. This checks `eval.py` against the set's published reference
  figures, and the shipped passages against one vector per talk. It embeds every talk again (~3 minutes).

With 20 queries (470 related seeds), differences under ~0.02 (queries) and ~0.01 (related) are noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from eval import DEFAULT_EVAL_DIR, KINDS, NDCG, evaluate_mode, evaluate_related, load

import talksearch.kb as kbmod
from talksearch.search import RELATED_DENSE_WEIGHT, RELATED_QUERY_CHARS, _ranked


def _normalised(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _first_rows(searcher) -> np.ndarray:
    """Each document's first passage row (rows are grouped by document)."""
    return np.unique(np.asarray(searcher._passage_doc), return_index=True)[1]


def _masked(scores_of):
    """A `dense_scores(vector, keep)` replacement from `scores_of(vector)`: every document's score."""
    def scores(vector, keep):
        out = scores_of(vector)
        return out if keep is None else np.where(keep, out, -np.inf)
    return scores


def _related_by(searcher, cosine_of, weight: float = RELATED_DENSE_WEIGHT):
    """A `related(pos, seed_text)` replacement: `cosine_of(pos)` blended with BM25 of the seed's text as shipped
    (weight 1: the cosine alone)."""
    def related(pos, seed_text):
        cosine = cosine_of(pos)
        if weight == 1:
            return _ranked(cosine, cosine, None)
        bm25 = searcher.lexical_scores(seed_text[:RELATED_QUERY_CHARS], None)
        return _ranked(searcher.blend(cosine, bm25, weight=weight), cosine, bm25)
    return related


def dense_variants(searcher) -> dict:
    """name -> dense_scores(vector, keep) replacement (None: as shipped)."""
    passages, documents = searcher._stored, searcher.document_vectors
    first = _first_rows(searcher)
    best = searcher.dense_scores

    def variant(combine):
        return _masked(lambda vector: combine(best(vector, None), passages[first] @ vector, documents @ vector))

    return {"best passage (shipped)": None,
            "first passage": variant(lambda b, f, m: f),
            "mean vector": variant(lambda b, f, m: m),
            "0.5 best + 0.5 first": variant(lambda b, f, m: 0.5 * b + 0.5 * f)}


def related_variants(searcher) -> dict:
    """name -> related(pos, seed_text) replacement (None: as shipped)."""
    documents, passages = np.asarray(searcher.document_vectors), searcher._stored

    def title(pos: int) -> tuple[str, np.ndarray]:
        text = searcher.fields(pos)["title"]
        return text, searcher.embedder.embed([text])[0]

    def whole(pos: int) -> np.ndarray:
        return documents @ documents[pos]

    def title_hybrid(pos, seed_text):
        text, vector = title(pos)
        cosine = whole(pos)
        bm25 = searcher.lexical_scores(seed_text[:RELATED_QUERY_CHARS], None)
        seed = searcher.blend(cosine, bm25, weight=RELATED_DENSE_WEIGHT)
        query = searcher.blend(searcher.dense_scores(vector, None), searcher.lexical_scores(text, None), weight=0.65)
        return _ranked(0.8 * seed + 0.2 * query, cosine, bm25)

    def passage_queries(pos: int) -> np.ndarray:
        return np.mean([searcher.dense_scores(passages[row], None) for row in searcher.passage_rows(pos)], axis=0)

    return {
        "whole-text vector (shipped)": None,
        "whole-text vector alone, no BM25": _related_by(searcher, whole, 1),
        "+ 0.5 x title vector": _related_by(
            searcher, lambda pos: documents @ _normalised(documents[pos] + 0.5 * title(pos)[1])),
        "0.3 x title as a dense query": _related_by(
            searcher, lambda pos: 0.7 * whole(pos) + 0.3 * searcher.dense_scores(title(pos)[1], None)),
        "0.2 x title as a hybrid query": title_hybrid,
        "each passage as a dense query, mean": _related_by(searcher, passage_queries),
    }


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
    vectors = np.array(searcher._stored[_first_rows(searcher)])
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


def reference_variants(searcher, vectors: np.ndarray) -> dict:
    """name -> (dense_scores replacement, related replacement) with one vector per talk."""
    dense = _masked(lambda vector: vectors @ vector)
    cosine = lambda pos: vectors @ vectors[pos]  # noqa: E731
    return {"one vector per talk, alone (related: no BM25)": (dense, _related_by(searcher, cosine, 1)),
            "one vector per talk, blended with BM25 as shipped": (dense, _related_by(searcher, cosine))}


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
        for name, scores in dense_variants(searcher).items():
            searcher.__dict__.pop("dense_scores", None)
            if scores:
                searcher.dense_scores = scores
            dense, hybrid = (evaluate_mode(kb, dev, mode) for mode in ("dense", "hybrid"))
            kinds = " | ".join(f"{hybrid['per_kind'][k]:.3f}" for k in KINDS)
            print(f"| {name} | {dense['overall'][NDCG]:.3f} | {hybrid['overall'][NDCG]:.3f} | {kinds} |", flush=True)
        searcher.__dict__.pop("dense_scores", None)

        print("\n| related talks | nDCG@10 |\n|---|---|")
        for name, related in related_variants(searcher).items():
            searcher.__dict__.pop("related", None)
            if related:
                searcher.related = related
            print(f"| {name} | {evaluate_related(kb, dev, talk_ids.__contains__)['ndcg']:.4f} |", flush=True)
        searcher.__dict__.pop("related", None)

        print("\n| passage of a talk without text | dense | hybrid | related |\n|---|---|---|---|")
        passages, documents = np.array(searcher._stored), np.array(searcher.document_vectors)
        from talksearch.embed import SentenceTransformerEmbedder

        encoder = SentenceTransformerEmbedder()
        for name, change in untitled_variants(kb).items():
            stored, means = passages.copy(), documents.copy()
            if change:
                rows, positions, texts = change
                stored[rows] = means[positions] = encoder.embed(texts)  # one passage: its mean is itself
            searcher.__dict__.update(_stored=stored, document_vectors=means)
            dense, hybrid = (evaluate_mode(kb, dev, mode)["overall"][NDCG] for mode in ("dense", "hybrid"))
            related = evaluate_related(kb, dev, talk_ids.__contains__)["ndcg"]
            print(f"| {name} | {dense:.3f} | {hybrid:.3f} | {related:.4f} |", flush=True)
        searcher.__dict__.update(_stored=passages, document_vectors=documents)
        if args.pyvideo:
            print("\n| the set's reference method | dense | hybrid | related |\n|---|---|---|---|")
            vectors = reference_vectors(searcher, args.pyvideo, encoder)
            for name, (dense_scores, related) in reference_variants(searcher, vectors).items():
                searcher.__dict__.update(dense_scores=dense_scores, related=related)
                dense, hybrid = (evaluate_mode(kb, dev, mode)["overall"][NDCG] for mode in ("dense", "hybrid"))
                related = evaluate_related(kb, dev, talk_ids.__contains__)["ndcg"]
                print(f"| {name} | {dense:.3f} | {hybrid:.3f} | {related:.4f} |", flush=True)


if __name__ == "__main__":
    main()
