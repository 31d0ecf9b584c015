"""Lexical ranking: BM25 over whole documents, English stemming and stop words, accents folded.

A talk's document is its title (twice: a title that answers the query should
beat a passing mention), speakers, event and text; a note's is its heading
(twice), context and text. Row i of the index is `documents.pos = i`.

bm25s builds the index (Lucene's BM25 variant, scores precomputed per term and
document in a CSC matrix); `store` saves it. Queries read that matrix straight
from its `.npy` files (`store.read_lexical`): a query's scores are the sums of
its terms' columns, which is what bm25s's own `get_scores` computes, without
importing bm25s (and numba, scipy) on the query path. Both sides tokenize with
`tokenize()` below.
"""

from __future__ import annotations

import re
import warnings
from array import array
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from .normalize import fold

if TYPE_CHECKING:
    import bm25s
    import numpy as np

    from .records import Document

_TOKEN = re.compile(r"\b\w\w+\b")  # bm25s's default token pattern


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def document_text(doc: Document) -> str:
    return f"{doc.title}\n{doc.title}\n{doc.meta}\n{doc.text}"


def tokenize(text: str, stopwords: frozenset[str]) -> list[str]:
    """Folded, stop words dropped, Snowball-stemmed terms."""
    words = [w for w in _TOKEN.findall(fold(text)) if w not in stopwords]
    return _stemmer().stemWords(words)


@dataclass(frozen=True)
class Built:
    """A BM25 index built in memory (a `bm25s.BM25`), and the stop words its terms were tokenized without."""

    model: bm25s.BM25
    stopwords: frozenset[str]


def build(documents: list[Document]) -> Built:
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN

    stopwords = frozenset(STOPWORDS_EN)
    model = bm25s.BM25()
    model._np_csc = csc_by_column  # the documented swap point of its CSC builder (a Numba one is the other)
    # term ids, not terms: every stemmed term is a new string, and a list of them per document cost ~50 bytes a
    # token (most of a notes index's peak memory); in an array an id costs 4 bytes
    vocab: dict[str, int] = {}
    corpus = [array("i", [vocab.setdefault(term, len(vocab)) for term in tokenize(document_text(d), stopwords) or [""]])
              for d in documents]
    with warnings.catch_warnings():
        if not documents:  # an index without sources (the last one removed): bm25s takes the mean of no lengths
            warnings.simplefilter("ignore", RuntimeWarning)
            vocab[""] = 0  # and needs a term
        model.index((corpus, vocab), show_progress=False)
    return Built(model, stopwords)


def csc_by_column(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
    """bm25s's NumPy CSC builder with a third of its memory: the same arrays, from one stable sort of the columns.

    bm25s lists (row, column, score) document by document, rows ascending, so a stable sort by column alone
    leaves each column's rows ascending: its own builder sorts columns and rows packed into int64 after two int64
    copies of both (44 bytes a non-zero at its peak against 28; ~40 MB less on a 25 MB notes file).
    """
    import numpy as np

    indptr = np.zeros(shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=shape[1]), out=indptr[1:])
    order = np.argsort(cols, kind="stable")
    return data[order], rows[order], indptr


@dataclass(frozen=True)
class Index:
    """A saved bm25s index, read with NumPy only."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    vocab: dict[str, int]
    stopwords: frozenset[str]
    num_docs: int

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (0 where no query term occurs)."""
        import numpy as np

        scores = np.zeros(self.num_docs, dtype=np.float32)
        for term in tokenize(query, self.stopwords):
            column = self.vocab.get(term)
            if column is None:
                continue
            span = self.postings(column)
            np.add.at(scores, self.indices[span], self.data[span])
        return scores

    def postings(self, column: int) -> slice:
        """Where a term's documents (`indices`) and their scores (`data`) are, in the CSC arrays."""
        return slice(int(self.indptr[column]), int(self.indptr[column + 1]))

    def containing(self, text: str) -> np.ndarray | None:
        """Rows of the documents that hold every term of `text` (None: `text` has no term to look for).

        A document whose folded text contains a phrase holds each of its terms, so this narrows a phrase search
        to a superset of its matches (a term's column lists every document it occurs in: BM25's idf is positive).
        """
        import numpy as np

        terms = set(tokenize(text, self.stopwords))
        if not terms:
            return None
        found: np.ndarray | None = None
        for term in terms:
            column = self.vocab.get(term)
            if column is None:
                return np.zeros(0, dtype=np.int64)
            rows = np.asarray(self.indices[self.postings(column)])
            found = rows if found is None else np.intersect1d(found, rows, assume_unique=True)
        return found
