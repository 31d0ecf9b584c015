"""`Searcher`: one index generation's documents, ranked for a query or a seed, from filter to paged hits.

A query is parsed (`query.parse_query`), its filters become SQL (`query.filter_plan`) run on DuckDB, the rankers
score and order the documents that pass (`rankers`), recordings of one talk collapse into one row, and the page
asked for becomes `Hit`s (`hits`). A plain query never opens DuckDB: it reads the stored fields by row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .. import store
from ..errors import UsageError
from ..records import Hit, Kind, Mode, Sort, Within
from . import hits as _hits
from .collection import Collection
from .query import FilterPlan, Filters, filter_plan, parse_query
from .rankers import FOREIGN_PENALTY, LEXICAL_DEPTH, SHIPPED, Ranked, Rankers, Request

if TYPE_CHECKING:
    import duckdb
    import numpy as np

    from ..embed import Embedder

_WITHIN = {Within.ABSTRACT: "talk", Within.TRANSCRIPT: "transcript", Within.NOTE: "note"}  # --in: documents' kind
MMR_POOL = 50  # related candidates diversified by MMR
MMR_DIVERSITY = 0.0  # weight of redundancy in MMR; off by default: on the dev set 0.1 cost 0.015 nDCG@10, 0.3 cost 0.08
SORT_POOL = 100  # best matches that --sort date orders


class Searcher(Collection):
    """Ranks the documents of one index generation, with `rankers` (`rankers.SHIPPED` unless told)."""

    def __init__(self, generation: store.Generation, connect: Callable[[], duckdb.DuckDBPyConnection],
                 embedder: Embedder | None, *, rankers: Rankers = SHIPPED) -> None:
        super().__init__(generation, connect, embedder)
        self.rankers = rankers

    # -- filters ---------------------------------------------------------------------------------------------------

    def plan(self, filters: Filters) -> FilterPlan | None:
        """The SQL that lists what `filters` let through (None: no filter)."""
        return filter_plan(filters, self.bm25.containing)

    def allowed(self, filters: Filters) -> set[int] | None:
        """Document positions that pass the filters (None: no filter, everything passes)."""
        plan = self.plan(filters)
        if plan is None:
            return None
        ids = [row[0] for part in (plan.talks, plan.notes) if part for row in self.con.execute(*part).fetchall()]
        return {self.position[i] for i in ids}

    def mask(self, allowed: set[int] | None, filters: Filters = Filters()) -> np.ndarray | None:
        """True for each document the rankers may score (None: all): those `allowed`, a linked transcript when its
        talk is, a transcript linked to nothing when no filter asks for what it lacks; of the kind of text
        `filters.within` names."""
        import numpy as np

        within = filters.within
        if allowed is None and within is None:
            return None
        if allowed is None:
            keep = np.ones(self.size, dtype=bool)
        else:
            keep = np.zeros(self.size, dtype=bool)
            keep[list(allowed)] = True
            transcript = self.is_transcript
            keep[transcript] = not filters.narrows and filters.kind in (None, Kind.TRANSCRIPT)
        keep[self.linked] = keep[self.homes[self.linked]] if filters.kind is not Kind.TRANSCRIPT else False
        if within is not None:
            keep &= self.kinds == _WITHIN[within]
        return keep

    # -- ranking ---------------------------------------------------------------------------------------------------

    def rank(self, text: str, filters: Filters = Filters(), *, mode: Mode = Mode.HYBRID,
             vector: np.ndarray | None = None, depth: int = LEXICAL_DEPTH) -> Ranked:
        """The best `depth` documents for `text` (each ranker's best `depth`, for rrf) that pass `filters`."""
        return self.rankers.query(self, self._request(text, filters, mode=mode, vector=vector, depth=depth))

    def _request(self, text: str, filters: Filters, *, mode: Mode, vector: np.ndarray | None, depth: int) -> Request:
        if vector is None and Mode(mode) is not Mode.LEXICAL:
            vector = self.embedder.embed([text])[0]
        return Request(text, vector, self.mask(self.allowed(filters), filters), mode, depth,
                       0.0 if filters.lang else FOREIGN_PENALTY)

    def query(self, text: str, *, k: int, offset: int = 0, filters: Filters = Filters(), mode: Mode = Mode.HYBRID,
              all_recordings: bool = False, explain: bool = False, sort: Sort = Sort.RELEVANCE) -> list[Hit]:
        """The page `offset`..`offset + k` of what matches `text`, one row per talk unless `all_recordings`."""
        sort = Sort(sort)
        parsed = parse_query(text)
        filters = replace(filters, phrases=filters.phrases + parsed.phrases, excluded=filters.excluded + parsed.excluded)
        if not parsed.text.strip():
            if not filters:
                raise UsageError("the query is empty: give some words to search for, or filters to list what they "
                                 "let through")
            return self.listing(filters, k=k, offset=offset, all_recordings=all_recordings)
        vector = self.embedder.embed([parsed.text])[0]
        depth = max(LEXICAL_DEPTH, 2 * (offset + k))
        request = self._request(parsed.text, filters, mode=mode, vector=vector, depth=depth)
        ranked = self.rankers.query(self, request)
        while (sort is Sort.RELEVANCE and len(ranked.positions) >= depth and depth < self.size
               and len(_hits.collapse(self, ranked.positions, offset + k, all_recordings)) < offset + k):
            depth *= 4  # recordings of one talk took the places: order the same scores deeper (`--offset 1000`)
            request = replace(request, depth=depth)
            ranked = self.rankers.query.reorder(self, request, ranked)
        if sort is Sort.DATE:
            pool = _hits.collapse(self, ranked.positions, SORT_POOL, all_recordings)
            if not all_recordings:  # a talk given several times is as new as its newest recording, and shown as it
                matched = set(ranked.positions)  # of the recordings the filters let through
                pool = [_hits.newest_recording(self, p, matched) for p in pool]
            fields = {p: self.fields(p) for p in pool}  # a talk's date; notes count as undated
            chosen = sorted(pool, key=lambda p: (fields[p]["kind"] == "talk" and fields[p]["date"]) or "", reverse=True)
            chosen = chosen[offset : offset + k]
        else:
            chosen = _hits.collapse(self, ranked.positions, offset + k, all_recordings)[offset:]
        return _hits.hits(self, chosen, ranked, parsed.text, vector, explain=explain, all_recordings=all_recordings)

    def listing(self, filters: Filters, *, k: int, offset: int = 0, all_recordings: bool = False) -> list[Hit]:
        """The page `offset`..`offset + k` of what `filters` let through, newest first (then by id; notes, which
        count as undated, last), one row per talk (its newest recording) unless `all_recordings`: a query without
        words. Each hit's score is 1.0."""
        allowed = self.allowed(filters) or set()
        dates = dict(self.con.execute("select id, date from talks").fetchall())
        ids = self.ids
        order = sorted(sorted(allowed, key=ids.__getitem__), key=lambda p: dates.get(ids[p]) or "", reverse=True)
        chosen = _hits.collapse(self, order, offset + k, all_recordings)[offset:]
        return _hits.hits(self, chosen, Ranked(chosen, [1.0] * len(chosen)), "", None, all_recordings=all_recordings)

    def related_ranking(self, pos: int) -> Ranked:
        """Every document ranked by how alike it is to the one at `pos` (itself included)."""
        vector = self.document_vectors[pos]
        return self.rankers.related(self, Request(self.seed_text(pos), vector, seed=pos))

    def related(self, pos: int, *, k: int, other_speakers: bool = False, diversity: float = MMR_DIVERSITY) -> list[Hit]:
        """The talks and notes closest to the document at `pos`, never it or its recordings (nor, with
        `other_speakers`, talks sharing a speaker); `diversity` > 0 re-ranks the best MMR_POOL by MMR."""
        ranked = self.related_ranking(pos)
        own = self.fields(pos)["group"]
        mine = self.speakers(self.ids[pos]) if other_speakers else frozenset()
        ids = self.ids
        positions = (p for p in ranked.positions
                     if self.fields(p)["group"] != own and not (mine and mine & self.speakers(ids[p])))
        pool = _hits.collapse(self, positions, max(MMR_POOL, k), False)
        chosen = _hits.diversify(self, pool, ranked, k, diversity)
        return _hits.hits(self, chosen, ranked, "", self.document_vectors[pos])

    def hit(self, pos: int) -> Hit:
        """The document at `pos` as a result of no query: its first passage, score 1."""
        return _hits.hits(self, [pos], Ranked([pos], [1.0]), "", None)[0]
