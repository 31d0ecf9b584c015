"""Rankers: each takes what the searcher was asked (`Request`) and the ranking so far, and returns a new `Ranked`.

A ranking is a `Pipeline`: rankers that score every document (dense: a document's best passage cosine; lexical:
BM25 over its whole text), then one that orders them (the blend, rank fusion, or one ranker's scores alone) and
keeps the best `depth`. `Rankers` holds the pipeline of a query and that of related talks; `SHIPPED` is what
talksearch ranks with. A benchmark swaps one ranker for a variant (`dataclasses.replace`) and hands the result to
`Searcher` (or `talksearch.open(..., rankers=...)`): nothing is patched.

- blend: DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * BM25 / best BM25 of the query, minus FOREIGN_PENALTY for
  talks in a language other than English (the encoder is English-only: their vectors are noise to an English
  query) unless --lang asks for a language;
- transcripts: a talk's transcript ranks it too (`Transcripts`): its best window, scored with the talk's own score
  and against how well the abstracts answer the query, stands for the talk where higher;
- related: the seed's whole-text vector (the mean of its passages'; a talk's with its transcript's mean,
  `Collection.heard_vectors`) against every document's, blended RELATED_DENSE_WEIGHT with BM25 of the seed's title
  and text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..records import Mode

if TYPE_CHECKING:
    import numpy as np

    from .collection import Collection

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.)
DENSE_DEPTH = 2000  # passages fetched from an approximate FAISS index before grouping into documents
LEXICAL_DEPTH = 1000  # documents kept from a ranking (more when a page needs them)
DENSE_WEIGHT = 0.65  # share of the cosine in the blend; measured on the development set (0.6-0.7 plateau)
RELATED_DENSE_WEIGHT = 0.7  # the same for related talks: whole-text cosine vs BM25 of the seed's text
FOREIGN_PENALTY = 0.05  # blend points taken from non-English talks; measured: fewer of them in the top 10, same nDCG



@dataclass(frozen=True)
class Request:
    """What the rankers are asked: the words and the vector to rank by (a query's, or a seed document's), the
    documents the filters let through, and how many to keep."""

    text: str
    vector: np.ndarray | None
    keep: np.ndarray | None = None  # True for each document a filter lets through; None: every document
    mode: Mode = Mode.HYBRID
    depth: int = LEXICAL_DEPTH
    penalty: float = FOREIGN_PENALTY  # taken from foreign talks in the blend (0 when a language is asked for)
    seed: int | None = None  # related: the seed's documents.pos

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Mode(self.mode))  # "lexical" as the enum: rankers compare with `is`


@dataclass(frozen=True)
class Ranked:
    """A ranking of documents, with each ranker's scores over all documents (for --explain)."""

    positions: list[int]
    scores: list[float]
    cosine: np.ndarray | None = None  # best-passage cosine per document; -inf where filtered out
    bm25: np.ndarray | None = None  # BM25 per document; 0 where no query term occurs
    windows: np.ndarray | None = None  # BM25 per transcript window (passage `first_window` + i)
    transcript: np.ndarray | None = None  # per transcript: its best window's blend of cosine and BM25; -inf for others
    heard: np.ndarray | None = None  # per document: 1 its dense score is its transcript's, 2 its BM25, 3 both

    def explain(self, pos: int) -> dict:
        """Rank (1 = best over all documents) and score of `pos` in each ranker; None where it has none."""
        out = {}
        for name, values, present in (("dense", self.cosine, lambda v: v > -1e30), ("lexical", self.bm25, lambda v: v > 0)):
            value = None if values is None else float(values[pos])
            found = value is not None and present(value)
            out[f"{name}_rank"] = int((values > value).sum()) + 1 if found else None
            out[f"{name}_score"] = round(value, 4) if found else None
            if found and self.heard is not None:
                out[f"{name}_from"] = "transcript" if int(self.heard[pos]) & (1 if name == "dense" else 2) else "text"
        return out


NOTHING = Ranked([], [])
Ranker = Callable[["Collection", Request, Ranked], Ranked]


@dataclass(frozen=True)
class Pipeline:
    """Rankers that score every document, in turn, then the one that orders them and keeps the best `depth`
    (a deeper page runs `order` again on the same scores)."""

    score: tuple[Ranker, ...]
    order: Ranker

    def __call__(self, searcher: Collection, request: Request) -> Ranked:
        ranked = NOTHING
        for ranker in self.score:
            ranked = ranker(searcher, request, ranked)
        return self.reorder(searcher, request, ranked)

    def reorder(self, searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
        """`order` of scores made already, with what the scoring found for hits (the windows' BM25, which text
        ranked each document)."""
        return replace(self.order(searcher, request, ranked), windows=ranked.windows, transcript=ranked.transcript)


def top(scores: np.ndarray, cosine: np.ndarray | None, bm25: np.ndarray | None, depth: int = LEXICAL_DEPTH) -> Ranked:
    """The best `depth` documents by `scores` (-inf: left out), ties by position."""
    import numpy as np

    depth = min(depth, int(np.isfinite(scores).sum()))
    if depth == 0:
        return Ranked([], [], cosine, bm25)
    best = np.argpartition(-scores, depth - 1)[:depth]
    best = best[np.lexsort((best, -scores[best]))]
    return Ranked([int(p) for p in best], [float(scores[p]) for p in best], cosine, bm25)


def fuse_rrf(*rankings: tuple[Sequence[int], Sequence[float]], k: int = RRF_K) -> tuple[list[int], list[float]]:
    """Reciprocal-rank fusion: sum of 1 / (k + rank) over the rankings a document appears in, scaled to 0..1."""
    fused: dict[int, float] = {}
    for positions, _ in rankings:
        for rank, pos in enumerate(positions, start=1):
            fused[pos] = fused.get(pos, 0.0) + 1.0 / (k + rank)
    order = sorted(fused, key=lambda pos: (-fused[pos], pos))
    best = len(rankings) / (k + 1)  # first in every ranking: reported as 1.0
    return order, [fused[pos] / best for pos in order]


def blend(searcher: Collection, cosine: np.ndarray, bm25: np.ndarray, *, weight: float, penalty: float = 0.0) -> np.ndarray:
    """weight * cosine + (1 - weight) * BM25 / the query's best BM25, minus `penalty` for foreign talks."""
    best = float(bm25.max()) if bm25.size and bm25.max() > 0 else 1.0
    return weight * cosine + (1 - weight) * bm25 / best - penalty * searcher.foreign


# -- scoring: whole arrays over documents, -inf (cosine) or 0 (BM25) where a filter leaves a document out ----------

def best_passage(searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
    """Each document's best passage cosine to the request's vector: every passage scored (one BLAS product), or
    an approximate index's DENSE_DEPTH nearest."""
    import numpy as np

    if request.mode is Mode.LEXICAL:
        return ranked
    best = np.full(searcher.size, -np.inf, dtype=np.float32)
    vector = request.vector.astype(np.float32)
    if (stored := searcher.passage_vectors) is not None:
        np.maximum.at(best, searcher.passage_owner, stored @ vector)
    else:
        index = searcher.vectors
        scores, rows = index.search(vector.reshape(1, -1), min(DENSE_DEPTH, index.ntotal))
        found = rows[0] >= 0
        np.maximum.at(best, searcher.passage_owner[rows[0][found]], scores[0][found])
    return replace(ranked, cosine=best if request.keep is None else np.where(request.keep, best, -np.inf))


def bm25(searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
    """BM25 of the request's words over every document's whole text."""
    import numpy as np

    if request.mode is Mode.DENSE:
        return ranked
    scores = searcher.bm25.scores(request.text)  # talks and notes: the documents before the transcripts
    scores = np.pad(scores, (0, searcher.size - len(scores)))
    return replace(ranked, bm25=scores if request.keep is None else np.where(request.keep, scores, 0.0))


@dataclass(frozen=True)
class Transcripts:
    """Scores the transcripts' windows: BM25 over the windows (`Ranked.windows`); each transcript's BM25, its best
    window's times `lexical_share` (`Ranked.bm25`: for the lexical and rrf modes); and for the hybrid, each
    transcript's score as its talk's rival (`Ranked.transcript`): its best window's blend of cosine and BM25 (BM25
    over the query's best of windows and talks when `joint`, else of windows), plus `mix` of its talk's own blend,
    less `discount`, less `gap` times how far the abstracts' best cosine is ahead of the windows' best. Ordering gives
    a linked transcript's score to its talk where higher (`fold`). Constants measured: README, "Transcripts"."""

    discount: float = 0.0
    mix: float = 0.3
    gap: float = 1.5
    lexical_share: float = 0.8
    joint: bool = True

    def __call__(self, searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
        import numpy as np

        first = searcher.first_window
        if first == len(searcher.passage_owner):  # no transcripts
            return ranked
        owner = searcher.passage_owner[first:]
        keep = None if request.keep is None else request.keep[owner]
        text_bm25, windows = ranked.bm25, None
        if request.mode is not Mode.DENSE:
            windows = searcher.window_bm25.scores(request.text)
            if keep is not None:
                windows = np.where(keep, windows, 0.0)
            bm25 = text_bm25.copy()
            np.maximum.at(bm25, owner, windows * self.lexical_share)
            ranked = replace(ranked, bm25=bm25)
        if request.mode is not Mode.HYBRID or (vectors := searcher.passage_vectors) is None:
            return replace(ranked, windows=windows)
        scores = DENSE_WEIGHT * (vectors[first:] @ request.vector.astype(np.float32))
        # BM25 on one scale with the talks' (what `blend` divides by): a window that holds the query's words more
        # than any abstract does counts fully; the best window of a query the abstracts answer better, less
        texts = int(owner[0])  # the documents before the first transcript: talks and notes
        text_best = float(text_bm25[:texts].max()) if texts and self.joint else 0.0
        if windows.size and (top_window := max(float(windows.max()), text_best)) > 0:
            scores += (1 - DENSE_WEIGHT) * windows / top_window
        if keep is not None:
            scores = np.where(keep, scores, -np.inf)
        # a query the abstracts answer better than anything said (their best passage closer than the best window)
        # is a question about a topic, not about a moment: what was said counts less, by how much they are ahead
        said, written = ranked.cosine[owner].max(), ranked.cosine[:texts].max() if texts else -np.inf
        if np.isfinite(said) and np.isfinite(written):
            scores -= self.gap * max(0.0, float(written - said))
        best = np.full(searcher.size, -np.inf, dtype=np.float32)
        np.maximum.at(best, owner, scores)
        heard = np.flatnonzero(searcher.is_transcript)
        homes = searcher.homes[heard]
        own = blend(searcher, ranked.cosine, np.where(searcher.is_transcript, 0.0, text_bm25),
                    weight=DENSE_WEIGHT, penalty=request.penalty)[homes]
        own = np.where((homes != heard) & np.isfinite(own), own, 0.0)  # the talk's own blend (none: filtered out)
        best[heard] += self.mix * own - self.discount - request.penalty * searcher.foreign[heard]
        return replace(ranked, windows=windows, transcript=best)


def fold(searcher: Collection, scores: np.ndarray, transcript: np.ndarray | None = None, *,
         penalty: float = 0.0) -> tuple[np.ndarray, np.ndarray | None]:
    """`scores` with each transcript's (`transcript`, else its own in `scores`, less `penalty` if foreign) given to its
    talk where higher, and -inf in a linked transcript's own place; and True where a talk's score is now its
    transcript's (None: no transcripts)."""
    import numpy as np

    kinds = searcher.is_transcript
    if not kinds.any():
        return scores, None
    linked = searcher.linked
    scores = scores.astype(np.float32, copy=True)
    heard = scores if transcript is None else transcript
    scores[kinds] = heard[kinds] - penalty * searcher.foreign[kinds]
    before = scores.copy()
    np.maximum.at(scores, searcher.homes[linked], scores[linked])
    scores[linked] = -np.inf
    return scores, scores > before


def whole_text(searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
    """Each document's whole-text vector against the seed's."""
    import numpy as np

    heard = searcher.heard_vectors
    seed = heard.get(request.seed, searcher.document_vectors[request.seed])
    cosine = np.asarray(searcher.document_vectors @ seed)
    for pos, vector in heard.items():
        cosine[pos] = vector @ seed
    cosine[searcher.linked] = -np.inf  # a talk's transcript is that talk, not a document related to it
    return replace(ranked, cosine=cosine)


# -- ordering -------------------------------------------------------------------------------------------------------

def by_mode(searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
    """The ranking the request's mode makes of the scores: the blend (hybrid), rank fusion, or one ranker's; a
    transcript's score given to its talk (`fold`)."""
    import numpy as np

    cosine, scores, depth = ranked.cosine, ranked.bm25, request.depth
    if cosine is not None:
        cosine, heard_dense = fold(searcher, cosine, penalty=request.penalty)
    if scores is not None:
        lexical, heard_lexical = fold(searcher, np.where(scores > 0, scores, -np.inf))
        scores = np.where(np.isfinite(lexical), lexical, 0.0)
    if request.mode is Mode.DENSE:
        return _heard(top(cosine, cosine, None, depth), heard_dense, None)
    if request.mode is Mode.LEXICAL:
        return _heard(top(lexical, None, scores, depth), None, heard_lexical)
    if request.mode is Mode.RRF:
        dense = top(cosine, cosine, None, depth)
        lexical = top(lexical, None, scores, depth)
        positions, fused = fuse_rrf((dense.positions, dense.scores), (lexical.positions, lexical.scores))
        return _heard(Ranked(positions, fused, cosine, scores), heard_dense, heard_lexical)
    if ranked.transcript is None:  # no transcripts, or vectors read from an approximate index: each ranker's
        blended = blend(searcher, cosine, scores, weight=DENSE_WEIGHT, penalty=request.penalty)
        return _heard(top(blended, cosine, scores, depth), heard_dense, heard_lexical)
    text = np.where(searcher.is_transcript, 0.0, ranked.bm25)  # their BM25 is a share of their windows'
    blended = blend(searcher, ranked.cosine, text, weight=DENSE_WEIGHT, penalty=request.penalty)
    blended, heard = fold(searcher, blended, ranked.transcript)  # its foreign penalty taken already
    return _heard(top(blended, cosine, scores, depth), heard, heard)


def _heard(ranked: Ranked, dense: np.ndarray | None, lexical: np.ndarray | None) -> Ranked:
    """`ranked` with which of its scores a transcript gave (`Ranked.heard`)."""
    import numpy as np

    if dense is None and lexical is None:
        return ranked
    heard = np.zeros(len(dense if dense is not None else lexical), dtype=np.int8)
    for bit, given in ((1, dense), (2, lexical)):
        if given is not None:
            heard |= bit * given.astype(np.int8)
    return replace(ranked, heard=heard)


def related_blend(searcher: Collection, request: Request, ranked: Ranked) -> Ranked:
    """Related talks: the whole-text cosine blended RELATED_DENSE_WEIGHT with BM25 of the seed's words."""
    return top(blend(searcher, ranked.cosine, ranked.bm25, weight=RELATED_DENSE_WEIGHT), ranked.cosine, ranked.bm25,
               request.depth)


@dataclass(frozen=True)
class Rankers:
    """How a query and related talks are ranked."""

    query: Pipeline = Pipeline((best_passage, bm25, Transcripts()), by_mode)
    related: Pipeline = Pipeline((whole_text, bm25), related_blend)


SHIPPED = Rankers()
