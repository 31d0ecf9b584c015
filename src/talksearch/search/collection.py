"""`Collection`: what one index generation holds for ranking, read by row or memory-mapped: documents' ids, kinds
and result fields, passage texts and vectors, whole-text vectors, BM25 arrays, and the encoder for its queries.

A plain query never opens DuckDB (`con`): it reads these stored fields by row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from .. import store
from ..errors import ModelError

if TYPE_CHECKING:
    import duckdb
    import numpy as np

    from ..embed import Embedder
    from ..lexical import Index


TRANSCRIPT_SHARE = 0.5  # weight of a talk's transcript beside its abstract in the vector `related` compares


class Collection:
    """The documents of one index generation, as rankers and hits read them."""

    def __init__(self, generation: store.Generation, connect: Callable[[], duckdb.DuckDBPyConnection],
                 embedder: Embedder | None) -> None:
        self.generation = generation
        self._connect = connect
        self._embedder = embedder

    @cached_property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self._connect()

    @cached_property
    def _documents(self) -> tuple[list[str], list[str]]:
        """Every document's id and kind, by position (a JSON file: a look-up by id needs no DuckDB)."""
        ids, kinds = self.generation.read(store.DOCUMENT_IDS, lambda path: json.loads(path.read_text(encoding="utf-8")))
        return ids, kinds

    @property
    def ids(self) -> list[str]:
        """Every document's id, by position (all read at once: for whole-collection work, not single hits)."""
        return self._documents[0]

    @cached_property
    def position(self) -> dict[str, int]:
        return {doc_id: pos for pos, doc_id in enumerate(self._documents[0])}

    @cached_property
    def kinds(self) -> np.ndarray:
        """Each document's kind, by position (an array of strings)."""
        import numpy as np

        return np.asarray(self._documents[1])

    @cached_property
    def is_transcript(self) -> np.ndarray:
        """True for each document that is a transcript, by position."""
        return self.kinds == "transcript"

    @cached_property
    def homes(self) -> np.ndarray:
        """Each document's position as results show it: its own, or (a transcript linked to a talk) its talk's."""
        return self.generation.array(store.HOMES)

    @cached_property
    def linked(self) -> np.ndarray:
        """The positions of the transcripts linked to a talk: ranked as their talk, never a row of their own."""
        import numpy as np

        return np.flatnonzero(self.homes != np.arange(len(self.homes)))

    @cached_property
    def _transcripts_of(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for pos in self.linked.tolist():
            found.setdefault(int(self.homes[pos]), []).append(pos)
        return found

    def transcripts_of(self, pos: int) -> list[int]:
        """The positions of the transcripts that show as the document at `pos`: a talk's linked ones, or an unlinked
        transcript itself."""
        if self._documents[1][pos] == "transcript":
            return [pos]
        return self._transcripts_of.get(pos, [])

    @cached_property
    def talk_ids(self) -> frozenset[str]:
        ids, kinds = self._documents
        return frozenset(i for i, kind in zip(ids, kinds, strict=True) if kind == "talk")

    @cached_property
    def _hit_fields(self) -> store.Records:
        return self.generation.records(store.HITS)

    @cached_property
    def _passage_texts(self) -> store.Records:
        return self.generation.records(store.PASSAGE_TEXTS)

    @cached_property
    def _seeds(self) -> store.Records:
        return self.generation.records(store.SEEDS)

    def fields(self, pos: int) -> dict:
        """What a result shows of the document at `pos` (id, kind, title, group, ...), read by row."""
        return json.loads(self._hit_fields[pos])

    def passage_text(self, row: int) -> str:
        return self._passage_texts[row]

    def seed_text(self, pos: int) -> str:
        """The start of a document's title and text: what `related` looks for by words."""
        return self._seeds[pos]

    @property
    def size(self) -> int:
        """Documents in the index."""
        return len(self._hit_fields)

    @cached_property
    def foreign(self) -> np.ndarray:
        """True for each document known to be in a language other than English."""
        return self.generation.array(store.FOREIGN)

    @cached_property
    def passage_owner(self) -> np.ndarray:
        """Each passage's document (documents.pos), by row."""
        return self.generation.array(store.PASSAGE_DOCS)

    @cached_property
    def passage_spans(self) -> np.ndarray:
        """Each passage's start and end in seconds, by row (NaN: not a transcript's)."""
        return self.generation.array(store.PASSAGE_SPANS)

    @cached_property
    def first_window(self) -> int:
        """The row of the first transcript passage (window): they are the last rows, after every talk's and note's."""
        import numpy as np

        texts = len(self.is_transcript) - int(np.count_nonzero(self.is_transcript))
        return int(np.searchsorted(self.passage_owner, texts))

    @cached_property
    def window_bm25(self) -> Index:
        """BM25 over the transcripts' windows: row i is passage `first_window` + i."""
        return self.generation.read(store.LEXICAL_WINDOWS, store.read_lexical, errors=(OSError, ValueError, KeyError))

    @cached_property
    def document_vectors(self) -> np.ndarray:
        """Each document's whole text as one normalised vector, by position."""
        return self.generation.array(store.DOCUMENT_VECTORS)

    @cached_property
    def heard_vectors(self) -> dict[int, np.ndarray]:
        """The whole-text vector of each talk with a transcript: its own (the abstract's) plus TRANSCRIPT_SHARE of its
        transcripts' mean, normalised; what `related` compares it by."""
        import numpy as np

        vectors = self.document_vectors
        out = {}
        for pos, transcripts in self._transcripts_of.items():
            mixed = vectors[pos] + TRANSCRIPT_SHARE * vectors[transcripts].mean(axis=0)
            out[pos] = mixed / max(float(np.linalg.norm(mixed)), 1e-12)
        return out

    @cached_property
    def vectors(self):
        """The FAISS index of every passage's vector (row = passage row)."""
        return store.read_vectors(self.generation, expected=len(self.passage_owner))

    @cached_property
    def passage_vectors(self) -> np.ndarray | None:
        """A flat index's vectors as an array over FAISS's own memory (no copy); None for other index types."""
        import faiss

        index = self.vectors
        if not isinstance(index, faiss.IndexFlat):
            return None
        return faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)

    @cached_property
    def bm25(self) -> Index:
        return self.generation.read(store.LEXICAL, store.read_lexical, errors=(OSError, ValueError, KeyError))

    @cached_property
    def embedder(self) -> Embedder:
        if self._embedder is None:  # queries need no torch: the same weights, run by NumPy
            from ..minilm import NumpyEmbedder

            self._embedder = NumpyEmbedder(weights=self.generation.weights)
        check = self._embedder.check
        if self.generation.weights.adapted and check.sha256 != self.generation.weights.sha256:
            raise ModelError(f"{self.generation.path}: embedded by the weights `talksearch adapt` trained for it "
                             f"({self.generation.weights.sha256[:12]}…), not by the encoder given ({check.sha256[:12]}…)")
        return self._embedder

    def passage_rows(self, pos: int) -> np.ndarray:
        """The rows of a document's passages, in order."""
        import numpy as np

        return np.flatnonzero(self.passage_owner == pos)

    def passage_cosines(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """The cosine of each passage at `rows` to `vector`."""
        import numpy as np

        if self.passage_vectors is not None:
            vectors = self.passage_vectors[rows]
        else:
            vectors = np.vstack([self.vectors.reconstruct(int(r)) for r in rows])
        return vectors @ vector

    def best_passage(self, pos: int, vector: np.ndarray) -> int:
        """The row of the document's passage closest to `vector`."""
        import numpy as np

        rows = self.passage_rows(pos)
        return int(rows[int(np.argmax(self.passage_cosines(rows, vector)))])

    @cached_property
    def _speaker_sets(self) -> dict[str, frozenset[str]]:
        rows = self.con.execute(
            "select id, list(s.folded) from (select id from talks union all select talk_id from notes "
            "where talk_id is not null) t join speakers s on s.talk_id = t.id group by id"
        ).fetchall()
        sets = {i: frozenset(names) for i, names in rows}
        for note_id, talk_id in self.con.execute("select id, talk_id from notes where talk_id is not null").fetchall():
            sets[note_id] = sets.get(talk_id, frozenset())
        return sets

    def speakers(self, doc_id: str) -> frozenset[str]:
        """A talk's speakers (a note's: its talk's), folded."""
        return self._speaker_sets.get(doc_id, frozenset())
