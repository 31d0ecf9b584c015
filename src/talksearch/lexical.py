"""Lexical ranking: BM25 (bm25s) over whole documents, English stemming and stop words, accents folded.

A talk's document is its title (twice: a title that answers the query should
beat a passing mention), speakers, event and text; a note's is its heading
(twice), context and text. Row i of the index is `documents.pos = i`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .normalize import fold

if TYPE_CHECKING:
    import bm25s
    import numpy as np

    from .build import Document


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def document_text(doc: Document) -> str:
    return f"{doc.title}\n{doc.title}\n{doc.meta}\n{doc.text}"


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    folded = [fold(text) for text in texts]
    return bm25s.tokenize(folded, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def build(directory: Path, documents: list[Document]) -> None:
    import bm25s

    model = bm25s.BM25()
    model.index(tokenize([document_text(d) for d in documents]), show_progress=False)
    model.save(str(directory), show_progress=False)


def load(directory: Path) -> bm25s.BM25:
    import bm25s

    return bm25s.BM25.load(str(directory), mmap=False, show_progress=False)


def scores(model: bm25s.BM25, query: str) -> np.ndarray:
    """BM25 score of every document for the query (0 where no query term occurs)."""
    import numpy as np

    vocab = model.vocab_dict
    tokens = [t for t in tokenize([query])[0] if t in vocab]
    if not tokens:
        return np.zeros(model.scores["num_docs"], dtype=np.float32)
    return model.get_scores(tokens)
