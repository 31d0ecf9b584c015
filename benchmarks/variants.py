"""Variants of the shipped ranking, built from talksearch's public rankers, and a loaded Searcher using them.

A ranker takes the searcher, the `Request` and the ranking so far, and returns a new `Ranked`
(`talksearch.search.rankers`); a variant is the shipped `Rankers` with one pipeline replaced
(`dataclasses.replace(SHIPPED, query=...)`), set as the Searcher's `rankers` while a block runs (`swapped`). The
index on disk is only read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from talksearch.records import Mode
from talksearch.search import RELATED_DENSE_WEIGHT, SHIPPED, Pipeline, Request, Searcher, blend, rankers, top


@contextlib.contextmanager
def swapped(searcher: Searcher, **pieces) -> Iterator[None]:
    """Public attributes of a loaded Searcher (`rankers`; cached properties such as `passage_vectors`,
    `document_vectors`, `bm25`, `embedder`) set to `pieces` while the block runs, and put back after; a piece given
    as None stays as it is."""
    pieces = {name: piece for name, piece in pieces.items() if piece is not None}
    before = {name: getattr(searcher, name) for name in pieces}
    for name, piece in pieces.items():
        setattr(searcher, name, piece)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(searcher, name, value)


def dense_scores(searcher: Searcher, vector: np.ndarray) -> np.ndarray:
    """Every document's best passage cosine to `vector`, as the shipped dense ranker scores it."""
    return rankers.best_passage(searcher, Request("", vector), rankers.NOTHING).cosine


def dense_by(scores_of: Callable[[np.ndarray], np.ndarray]) -> rankers.Ranker:
    """A dense ranker in place of the best passage's: `scores_of(vector)`, every document's cosine to the request's
    vector, -inf where a filter leaves a document out (lexical mode: none)."""
    def dense(searcher: Searcher, request: Request, ranked: rankers.Ranked) -> rankers.Ranked:
        if request.mode is Mode.LEXICAL:
            return ranked
        scores = scores_of(request.vector)
        return replace(ranked, cosine=scores if request.keep is None else np.where(request.keep, scores, -np.inf))
    return dense


def query_by(dense: rankers.Ranker) -> Pipeline:
    """The shipped query pipeline with `dense` scoring in place of the best passage."""
    return Pipeline((dense, rankers.bm25), rankers.by_mode)


def hybrid_by(blend_of: Callable[[Searcher, Request, np.ndarray, np.ndarray], np.ndarray]) -> Pipeline:
    """The shipped query pipeline whose hybrid mode orders by `blend_of(searcher, request, cosine, bm25)` in place
    of the shipped blend; the other modes as shipped."""
    def order(searcher: Searcher, request: Request, ranked: rankers.Ranked) -> rankers.Ranked:
        if request.mode is not Mode.HYBRID:
            return rankers.by_mode(searcher, request, ranked)
        cosine, bm25 = ranked.cosine, ranked.bm25
        return top(blend_of(searcher, request, cosine, bm25), cosine, bm25, request.depth)
    return Pipeline(SHIPPED.query.score, order)


def related_by(cosine_of: Callable[[int], np.ndarray], weight: float = RELATED_DENSE_WEIGHT) -> Pipeline:
    """A related-talks pipeline: `cosine_of(seed position)` in place of the whole-text cosine, blended with BM25 of
    the seed's words as shipped (weight 1: the cosine alone, no BM25)."""
    def cosine(searcher: Searcher, request: Request, ranked: rankers.Ranked) -> rankers.Ranked:
        return replace(ranked, cosine=cosine_of(request.seed))

    def order(searcher: Searcher, request: Request, ranked: rankers.Ranked) -> rankers.Ranked:
        if weight == 1:
            return top(ranked.cosine, ranked.cosine, None, request.depth)
        return top(blend(searcher, ranked.cosine, ranked.bm25, weight=weight), ranked.cosine, ranked.bm25,
                   request.depth)

    return Pipeline((cosine,) if weight == 1 else (cosine, rankers.bm25), order)


def related_ordered_by(order: rankers.Ranker) -> Pipeline:
    """The shipped related-talks scores (whole-text cosine, BM25 of the seed's words) ordered by `order`."""
    return Pipeline(SHIPPED.related.score, order)


def for_queries(pipeline: Pipeline) -> rankers.Rankers:
    """The shipped rankers with `pipeline` for queries."""
    return replace(SHIPPED, query=pipeline)


def for_related(pipeline: Pipeline) -> rankers.Rankers:
    """The shipped rankers with `pipeline` for related talks."""
    return replace(SHIPPED, related=pipeline)
