"""Where the benchmarks reach past talksearch's public API: every private name of `src` they use, one function each.

The benchmarks measure variants of the shipped code, so they read a Searcher's arrays, plug rankers into a loaded
Searcher, load the models, write a generation's manifest and watch the build's steps. These names will become
public (issue #30); until then this module is the only one that spells them, grouped by the module that owns them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from talksearch import build, embed, lexical, minilm, search, store
from talksearch.search import LEXICAL_DEPTH, RELATED_DENSE_WEIGHT, RELATED_QUERY_CHARS, Ranked, Searcher

if TYPE_CHECKING:
    import numpy as np

# ---- search: a Searcher's arrays, its ranking helper, pieces of it swapped in memory -------------------------------

_ALIASES = {"passage_vectors": "_stored"}  # a `swapped` keyword -> the Searcher attribute it replaces


def passage_owners(searcher: Searcher) -> np.ndarray:
    """Each passage row's document position (`Searcher._passage_doc`)."""
    return searcher._passage_doc


def passage_vectors(searcher: Searcher) -> np.ndarray | None:
    """A flat index's passage vectors by row, over FAISS's memory (`Searcher._stored`); None for other index types."""
    return searcher._stored


def foreign(searcher: Searcher) -> np.ndarray:
    """True for the talks known to be in a language other than English, which the blend penalises
    (`Searcher._foreign`)."""
    return searcher._foreign


def ranked(scores: np.ndarray, cosine: np.ndarray | None, bm25: np.ndarray | None,
           depth: int = LEXICAL_DEPTH) -> Ranked:
    """The best `depth` documents by `scores`, -inf left out, as every ranker returns them (`search._ranked`)."""
    return search._ranked(scores, cosine, bm25, depth)


def related_by(searcher: Searcher, cosine_of, weight: float = RELATED_DENSE_WEIGHT):
    """A `related(pos, seed_text)` replacement: `cosine_of(pos)` blended with BM25 of the seed's text as shipped
    (weight 1: the cosine alone)."""
    def related(pos, seed_text):
        cosine = cosine_of(pos)
        if weight == 1:
            return ranked(cosine, cosine, None)
        bm25 = searcher.lexical_scores(seed_text[:RELATED_QUERY_CHARS], None)
        return ranked(searcher.blend(cosine, bm25, weight=weight), cosine, bm25)
    return related


@contextlib.contextmanager
def swapped(searcher: Searcher, **pieces) -> Iterator[None]:
    """Pieces of a loaded Searcher (methods such as `dense_scores`, `related`, `rank`, `blend`; cached properties
    such as `bm25`, `embedder`, `document_vectors`, `passage_vectors`) replaced in memory while the block runs, as
    instance attributes over them (`Searcher.__dict__`); a piece given as None stays as shipped. What was there
    before is put back after."""
    names = {_ALIASES.get(name, name): piece for name, piece in pieces.items() if piece is not None}
    before = {name: searcher.__dict__[name] for name in names if name in searcher.__dict__}
    searcher.__dict__.update(names)
    try:
        yield
    finally:
        for name in names:
            searcher.__dict__.pop(name, None)
        searcher.__dict__.update(before)


# ---- lexical ---------------------------------------------------------------------------------------------------------


def postings(index: lexical.Index, column: int) -> slice:
    """Where a term's documents (`indices`) and their scores (`data`) are in the CSC arrays
    (`lexical.Index._postings`)."""
    return index._postings(column)


def bm25s_model():
    """A `bm25s.BM25` that builds its CSC arrays as `lexical.build` does (`lexical._csc_by_column`, at bm25s's swap
    point `_np_csc`)."""
    import bm25s

    model = bm25s.BM25()
    model._np_csc = lexical._csc_by_column
    return model


# ---- embed and minilm: the loaded models -----------------------------------------------------------------------------


def sentence_model(embedder: embed.SentenceTransformerEmbedder):
    """The sentence-transformers model an embedder runs, loaded on first use (`SentenceTransformerEmbedder._model`)."""
    return embedder._model


def embedder_over(make_model: Callable, **options) -> embed.SentenceTransformerEmbedder:
    """A `SentenceTransformerEmbedder(**options)` that runs `make_model(the loaded model)` instead, made on its first
    use (`SentenceTransformerEmbedder._model` overridden; `embed._load_model`)."""

    class Embedder(embed.SentenceTransformerEmbedder):
        @cached_property
        def _model(self):
            return make_model(embed._load_model(str(self.directory)))

    return Embedder(**options)


def blas():
    """The thread-pool controller the NumPy encoder limits its BLAS threads with (`minilm._blas`)."""
    return minilm._blas()


def numpy_weights(embedder: minilm.NumpyEmbedder) -> dict[str, np.ndarray]:
    """The NumPy encoder's weight arrays by name (`NumpyEmbedder._weights`)."""
    return embedder._weights


# ---- store -----------------------------------------------------------------------------------------------------------


def records_file(stem: Path) -> Path:
    """The file holding a `Records` pair's UTF-8 bytes (`store._data`)."""
    return store._data(stem)


def write_manifest(path: Path, manifest: dict) -> None:
    """`manifest` with the size of every file of the generation at `path` (`store._sizes`), written as its manifest
    atomically (`store._write_atomic`)."""
    text = json.dumps({**manifest, "files": store._sizes(path)}, indent=2, sort_keys=True)
    store._write_atomic(path / store.MANIFEST, text)


# ---- build -----------------------------------------------------------------------------------------------------------

BUILD_STEPS = ("_passages", "_write_passages", "_gazetteer", "_write_mentions", "_write_metadata", "_write_stored")


def wrap_build_steps(wrap: Callable[[str, Callable], Callable]) -> None:
    """Each private step of `build.run` replaced by `wrap(name, step)`, its name without the underscore."""
    for step in BUILD_STEPS:
        setattr(build, step, wrap(step.strip("_"), getattr(build, step)))
