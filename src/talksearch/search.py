"""`query` and `related`: filter in DuckDB, rank densely and lexically, fuse, group into hits.

Every ranker returns a `Ranked` over documents (`documents.pos`), best first,
so hybrid ranking is composition: `blend(dense, lexical)` (shipped) or
`fuse_rrf(dense, lexical)`. `benchmarks/eval.py` measures each on the
development set; the blend measured higher (README, "Ranking quality").

- dense: a document's score is the cosine of its best passage;
- lexical: BM25 over the whole document (`lexical.py`);
- blend: DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * BM25 / best BM25 of the query, minus
  FOREIGN_PENALTY for talks in a language other than English (the encoder is English-only:
  their vectors are noise to an English query) unless --lang asks for a language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from . import lexical, store
from .errors import ModelError, UsageError
from .facets import key as facet_key
from .normalize import fold, fold_word, strip_accents

if TYPE_CHECKING:
    import duckdb
    import numpy as np

    from .embed import Embedder

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.)
DENSE_DEPTH = 2000  # passages fetched from FAISS before grouping into documents
LEXICAL_DEPTH = 1000  # documents kept from BM25
DENSE_WEIGHT = 0.65  # share of the cosine in the blend; measured on the development set (0.6-0.7 plateau)
RELATED_DENSE_WEIGHT = 0.7  # the same for related talks: whole-text cosine vs BM25 of the seed's text
RELATED_QUERY_CHARS = 2000  # how much of a seed's text becomes its BM25 query
FOREIGN_PENALTY = 0.05  # blend points taken from non-English talks; measured: fewer of them in the top 10, same nDCG
MODES = ("hybrid", "rrf", "dense", "lexical")

_ISO3 = {"en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "ru": "rus", "ja": "jpn",
         "ko": "kor", "zh": "zho", "pl": "pol", "nl": "nld", "cs": "ces", "uk": "ukr"}


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking, so `k` results come back whenever `k` match."""

    event: str | None = None
    speaker: str | None = None
    since: int | None = None
    until: int | None = None
    kind: str | None = None  # "talk" | "note"
    lang: str | None = None
    phrases: tuple[str, ...] = ()  # must appear, case and accents folded ("exact phrase" in a query)
    excluded: tuple[str, ...] = ()  # must not appear (-word in a query)
    mentions: tuple[str, ...] = ()  # must name each of these tools, entities or phrases (`facets.py`)

    def __post_init__(self) -> None:
        for name in ("phrases", "excluded", "mentions"):  # one term given as a string is that term, not its letters
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        if self.kind not in (None, "talk", "note"):
            raise UsageError(f"kind must be talk or note, not {self.kind!r}")
        for name in ("since", "until"):
            if (year := getattr(self, name)) is not None and type(year) is not int:
                raise UsageError(f"{name} must be a year (an integer), not {year!r}")

    def __bool__(self) -> bool:
        return any(v not in (None, ()) for v in self.__dict__.values())


@dataclass(frozen=True)
class Query:
    """A query as typed: the words to rank by, and the phrases and words that filter."""

    text: str  # what the rankers see: everything but the -words, quotes removed
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()


_SYMBOL = re.compile(r"[+#]")  # what folding drops but a name needs: C++, C#, F#, Notepad++
_RUNS = re.compile(r"[^\W_]+|[+#]+")  # letters and digits, or + and #
# what a document's `folded` text holds (`lexical.document_text`), as written: a talk's title, speakers, event and
# text; a note's heading, its linked talk's title, its context and text
_TALK_TEXT = "strip_accents(concat_ws(' ', t.title, array_to_string(t.speakers, ' '), t.event_title, t.text))"
_NOTE_TEXT = "strip_accents(concat_ws(' ', n.title, t.title, n.context, n.text))"
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')  # -?"a phrase", or a word


def parse_query(raw: str) -> Query:
    """`"exact phrase"` must appear, `-word` and `-"a phrase"` must not; the rest (and the phrases' words) rank.

    >>> parse_query('"event sourcing" -django production -"dry run"')
    Query(text='event sourcing production', phrases=('event sourcing',), excluded=('django', 'dry run'))
    >>> parse_query('"rm -rf" -C#')
    Query(text='rm -rf', phrases=('rm -rf',), excluded=('C#',))
    """
    words, phrases, excluded = [], [], []
    for minus, quoted, word in _QUERY_TOKEN.findall(raw):
        if word:  # a word, or what is left of an unclosed quote
            word = word.replace('"', "")
            if word.startswith("-") and fold(word[1:]):
                excluded.append(word[1:])
            else:
                words.append(word)
        elif fold(quoted):
            (excluded if minus else phrases).append(quoted.strip())
            if not minus:
                words.append(quoted.strip())
    return Query(" ".join(words), tuple(phrases), tuple(excluded))


def _as_written(term: str) -> str:
    r"""An RE2 pattern (for DuckDB's `regexp_matches`, case ignored) for `term` as folding matches it, but with its
    `+` and `#`: its runs of letters and digits and of `+` and `#` in order, as close as in `term`, what separates
    them there (spaces, other punctuation) optional; whole words at its ends.

    >>> print(_as_written("C++"), _as_written("Café's C#"))
    (?:^|[^\pL\pN_])C\+\+ (?:^|[^\pL\pN_])Cafe[^\pL\pN+#]*s[^\pL\pN+#]*C\#
    """
    term = strip_accents(term)
    runs = list(_RUNS.finditer(term))
    pattern = "".join(("" if not i or runs[i - 1].end() == run.start() else r"[^\pL\pN+#]*")
                      + re.sub(r"([+#])", r"\\\1", run.group()) for i, run in enumerate(runs))
    edge = r"[^\pL\pN_]"
    return ((f"(?:^|{edge})" if runs[0].group()[0].isalnum() else "") + pattern
            + (f"(?:{edge}|$)" if runs[-1].group()[-1].isalnum() else ""))


@dataclass(frozen=True)
class Ranked:
    """A ranking of documents, with each ranker's scores over all documents (for --explain)."""

    positions: list[int]
    scores: list[float]
    cosine: np.ndarray | None = None  # best-passage cosine per document; -inf where filtered out
    bm25: np.ndarray | None = None  # BM25 per document; 0 where no query term occurs

    def explain(self, pos: int) -> dict:
        """Rank (1 = best over all documents) and score of `pos` in each ranker; None where it has none."""
        out = {}
        for name, values, present in (("dense", self.cosine, lambda v: v > -1e30), ("lexical", self.bm25, lambda v: v > 0)):
            value = None if values is None else float(values[pos])
            found = value is not None and present(value)
            out[f"{name}_rank"] = int((values > value).sum()) + 1 if found else None
            out[f"{name}_score"] = round(value, 4) if found else None
        return out


def fuse_rrf(*rankings: tuple[Sequence[int], Sequence[float]], k: int = RRF_K) -> tuple[list[int], list[float]]:
    """Reciprocal-rank fusion: sum of 1 / (k + rank) over the rankings a document appears in, scaled to 0..1."""
    fused: dict[int, float] = {}
    for positions, _ in rankings:
        for rank, pos in enumerate(positions, start=1):
            fused[pos] = fused.get(pos, 0.0) + 1.0 / (k + rank)
    order = sorted(fused, key=lambda pos: (-fused[pos], pos))
    best = len(rankings) / (k + 1)  # first in every ranking: reported as 1.0
    return order, [fused[pos] / best for pos in order]


class Searcher:
    """Ranks the documents of one index generation."""

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
    def _hit_fields(self) -> store.Records:
        return self.generation.records(store.HITS)

    @cached_property
    def _passage_texts(self) -> store.Records:
        return self.generation.records(store.PASSAGE_TEXTS)

    def fields(self, pos: int) -> dict:
        """What a result shows of the document at `pos` (id, kind, title, group, ...), read by row."""
        return json.loads(self._hit_fields[pos])

    def passage_text(self, row: int) -> str:
        return self._passage_texts[row]

    @cached_property
    def _seeds(self) -> store.Records:
        return self.generation.records(store.SEEDS)

    def seed_text(self, pos: int) -> str:
        """The start of a document's title and text: what `related` looks for by words."""
        return self._seeds[pos]

    @property
    def size(self) -> int:
        """Documents in the index."""
        return len(self._hit_fields)

    @cached_property
    def talk_ids(self) -> frozenset[str]:
        ids, kinds = self._documents
        return frozenset(i for i, kind in zip(ids, kinds, strict=True) if kind == "talk")

    @cached_property
    def _foreign(self) -> np.ndarray:
        """True for talks known to be in a language other than English."""
        return self.generation.array(store.FOREIGN)

    @cached_property
    def _passage_doc(self) -> np.ndarray:
        """Document position of every passage row."""
        return self.generation.array(store.PASSAGE_DOCS)

    @cached_property
    def document_vectors(self) -> np.ndarray:
        return self.generation.array(store.DOCUMENT_VECTORS)

    @cached_property
    def vectors(self):
        return store.read_vectors(self.generation, expected=len(self._passage_doc))

    @cached_property
    def _stored(self) -> np.ndarray | None:
        """A flat index's vectors as an array over FAISS's own memory (no copy); None for other index types."""
        import faiss

        index = self.vectors
        if not isinstance(index, faiss.IndexFlat):
            return None
        return faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)

    @cached_property
    def bm25(self) -> lexical.Index:
        return self.generation.read(store.LEXICAL, lexical.load, errors=(OSError, ValueError, KeyError))

    @cached_property
    def embedder(self) -> Embedder:
        if self._embedder is None:  # queries need no torch: the same weights, run by NumPy
            from .minilm import NumpyEmbedder

            self._embedder = NumpyEmbedder(weights=self.generation.weights)
        check = getattr(self._embedder, "check", None)
        if self.generation.weights.adapted and check is not None and check.sha256 != self.generation.weights.sha256:
            raise ModelError(f"{self.generation.path}: embedded by the weights `talksearch adapt` trained for it "
                             f"({self.generation.weights.sha256[:12]}…), not by the encoder given ({check.sha256[:12]}…)")
        return self._embedder

    # -- filters -------------------------------------------------------------------------------------------

    def allowed(self, filters: Filters) -> set[int] | None:
        """Document positions that pass the filters (None: no filter, everything passes)."""
        if not filters:
            return None
        for name in ("event", "speaker"):
            value = getattr(filters, name)
            if value is not None and not fold(value):
                raise UsageError(f"--{name} {value!r} has no letters or digits to match")
        talk_sql, talk_args = ["select id from talks t where true"], []
        note_sql, note_args = ["select n.id from notes n left join talks t on t.id = n.talk_id where true"], []
        if filters.event:
            talk_sql.append("and t.event_folded like ?")
            talk_args.append(f"%{fold(filters.event)}%")
            note_sql.append("and (t.event_folded like ? or n.context_folded like ?)")
            note_args += [f"%{fold(filters.event)}%"] * 2
        if filters.speaker:
            clause = "exists (select 1 from speakers s where s.talk_id = t.id and s.folded like ?)"
            talk_sql.append(f"and {clause}")
            note_sql.append(f"and ({clause} or n.speakers_folded like ?)")  # the talk's, or the front matter's
            talk_args.append(f"%{fold(filters.speaker)}%")
            note_args += [f"%{fold(filters.speaker)}%"] * 2
        note_year = "try_cast(substr(n.date, 1, 4) as integer)"  # a front matter's date; undated notes are left out
        if filters.since is not None:
            talk_sql.append("and t.year >= ?")
            talk_args.append(filters.since)
            note_sql.append(f"and {note_year} >= ?")
            note_args.append(filters.since)
        if filters.until is not None:
            talk_sql.append("and t.year <= ?")
            talk_args.append(filters.until)
            note_sql.append(f"and {note_year} <= ?")
            note_args.append(filters.until)
        if filters.lang:
            code = _ISO3.get(filters.lang.lower(), filters.lang.lower())
            talk_sql.append("and t.language = ?")
            talk_args.append(code)
            if code != "eng":
                note_sql.append("and false")
        text_sql, text_args = [], []
        for phrase in filters.phrases:
            # only documents holding all the phrase's terms (BM25 postings) are scanned for it: 2-3x faster
            rows = self.bm25.containing(phrase)
            if rows is not None:
                text_sql.append("and d.pos in (select unnest(?::BIGINT[]))")
                text_args.append(rows.tolist())
            text_sql.append("and d.folded like ?")
            text_args.append(f"% {fold(phrase)} %")

        def as_written(term: str, negate: str) -> None:  # "C++" and "C#" as written, not as the "c" folding leaves
            pattern = _as_written(term)
            for sql, args, text in ((talk_sql, talk_args, _TALK_TEXT), (note_sql, note_args, _NOTE_TEXT)):
                sql.append(f"and {negate} regexp_matches({text}, ?, 'i')")
                args.append(pattern)

        for phrase in filter(_SYMBOL.search, filters.phrases):
            as_written(phrase, "")
        for word in filters.excluded:
            if _SYMBOL.search(word):
                as_written(word, "not")
            else:
                text_sql.append("and d.folded not like ?")
                text_args.append(f"% {fold(word)} %")
        for term in filters.mentions:
            if not facet_key(term):
                raise UsageError(f"--mentions {term!r} has no letters or digits to match")
            text_sql.append("and d.id in (select doc_id from mentions where key = ?)")
            text_args.append(facet_key(term))
        if text_sql:
            clause = " ".join(text_sql)
            talk_sql.append(f"and t.id in (select d.id from documents d where true {clause})")
            note_sql.append(f"and n.id in (select d.id from documents d where true {clause})")
            talk_args += text_args
            note_args += text_args
        ids: list[str] = []
        if filters.kind in (None, "talk"):
            ids += [r[0] for r in self.con.execute(" ".join(talk_sql), talk_args).fetchall()]
        if filters.kind in (None, "note"):
            ids += [r[0] for r in self.con.execute(" ".join(note_sql), note_args).fetchall()]
        return {self.position[i] for i in ids}

    # -- rankers: whole arrays over documents, -inf where a filter leaves a document out --------------------------

    def mask(self, allowed: set[int] | None) -> np.ndarray | None:
        import numpy as np

        if allowed is None:
            return None
        keep = np.zeros(self.size, dtype=bool)
        keep[list(allowed)] = True
        return keep

    def dense_scores(self, vector: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        """Each document's best passage cosine to `vector` (exact: every passage is scored)."""
        import numpy as np

        best = np.full(self.size, -np.inf, dtype=np.float32)
        index = self.vectors
        if self._stored is not None:  # exact: one BLAS product over every stored vector
            np.maximum.at(best, self._passage_doc, self._stored @ vector.astype(np.float32))
        else:  # an approximate index: its DENSE_DEPTH nearest passages
            scores, rows = index.search(vector.reshape(1, -1).astype(np.float32), min(DENSE_DEPTH, index.ntotal))
            found = rows[0] >= 0
            np.maximum.at(best, self._passage_doc[rows[0][found]], scores[0][found])
        return best if keep is None else np.where(keep, best, -np.inf)

    def lexical_scores(self, query: str, keep: np.ndarray | None) -> np.ndarray:
        import numpy as np

        scores = self.bm25.scores(query)
        return scores if keep is None else np.where(keep, scores, 0.0)

    def rank(self, query: str, filters: Filters = Filters(), *, mode: str = "hybrid", vector=None,
             depth: int = LEXICAL_DEPTH) -> Ranked:
        """The best `depth` documents for `query` (each ranker's best `depth`, for rrf)."""
        keep = self.mask(self.allowed(filters))
        if vector is None and mode != "lexical":
            vector = self.embedder.embed([query])[0]
        cosine = self.dense_scores(vector, keep) if mode != "lexical" else None
        bm25 = self.lexical_scores(query, keep) if mode != "dense" else None
        return self.combine(cosine, bm25, mode=mode, filters=filters, depth=depth)

    def combine(self, cosine: np.ndarray | None, bm25: np.ndarray | None, *, mode: str,
                filters: Filters = Filters(), depth: int = LEXICAL_DEPTH) -> Ranked:
        """The ranking `mode` makes of each ranker's scores (None for a ranker the mode does not use)."""
        import numpy as np

        if mode == "dense":
            return _ranked(cosine, cosine, None, depth)
        if mode == "lexical":
            return _ranked(np.where(bm25 > 0, bm25, -np.inf), None, bm25, depth)
        if mode == "rrf":
            dense = _ranked(cosine, cosine, None, depth)
            lex = _ranked(np.where(bm25 > 0, bm25, -np.inf), None, bm25, depth)
            positions, scores = fuse_rrf((dense.positions, dense.scores), (lex.positions, lex.scores))
            return Ranked(positions, scores, cosine, bm25)
        penalty = 0.0 if filters.lang else FOREIGN_PENALTY
        return _ranked(self.blend(cosine, bm25, weight=DENSE_WEIGHT, penalty=penalty), cosine, bm25, depth)

    def blend(self, cosine: np.ndarray, bm25: np.ndarray, *, weight: float, penalty: float = 0.0) -> np.ndarray:
        """weight * cosine + (1 - weight) * BM25 / the query's best BM25, minus `penalty` for foreign talks."""
        top = float(bm25.max()) if bm25.size and bm25.max() > 0 else 1.0
        return weight * cosine + (1 - weight) * bm25 / top - penalty * self._foreign

    def related(self, pos: int, seed_text: str) -> Ranked:
        """Documents like the one at `pos`: whole-text cosine blended with BM25 of its text."""
        import numpy as np

        cosine = np.asarray(self.document_vectors @ self.document_vectors[pos])
        bm25 = self.lexical_scores(seed_text[:RELATED_QUERY_CHARS], None)
        return _ranked(self.blend(cosine, bm25, weight=RELATED_DENSE_WEIGHT), cosine, bm25)

    def passage_rows(self, pos: int) -> np.ndarray:
        """The rows of a document's passages, in order."""
        import numpy as np

        return np.flatnonzero(self._passage_doc == pos)

    def best_passage(self, pos: int, vector: np.ndarray) -> int:
        """The row of the document's passage closest to `vector`."""
        import numpy as np

        rows = self.passage_rows(pos)
        if self._stored is not None:
            vectors = self._stored[rows]
        else:
            vectors = np.vstack([self.vectors.reconstruct(int(r)) for r in rows])
        return int(rows[int(np.argmax(vectors @ vector))])


def _ranked(scores: np.ndarray, cosine: np.ndarray | None, bm25: np.ndarray | None, depth: int = LEXICAL_DEPTH) -> Ranked:
    """The best `depth` documents by `scores` (-inf: left out)."""
    import numpy as np

    depth = min(depth, int(np.isfinite(scores).sum()))
    if depth == 0:
        return Ranked([], [], cosine, bm25)
    top = np.argpartition(-scores, depth - 1)[:depth]
    top = top[np.lexsort((top, -scores[top]))]
    return Ranked([int(p) for p in top], [float(scores[p]) for p in top], cosine, bm25)


_WORD = re.compile(r"\w+")


def snippet(text: str, query: str, *, width: int = 240) -> str:
    """About `width` characters of `text`: the window holding the most distinct query words."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    words = {fold_word(w) for w in _WORD.findall(query) if len(w) > 1}
    found = [(m.start(), w) for m in _WORD.finditer(text) if (w := fold_word(m.group())) in words]
    # a word the text repeats says less about where the match is than one it uses once
    weight = {w: 1 / sum(1 for _, x in found if x == w) for _, w in found}
    start, best = 0, 0.0
    for i, (position, _) in enumerate(found):
        window_start = max(0, position - width // 5)
        score = sum(weight[w] for w in {w for p, w in found[i:] if p < window_start + width})
        if score > best:
            start, best = window_start, score
    if start:
        start = text.find(" ", start) + 1 if text.find(" ", start) >= 0 else start
    end = start + width
    cut = text[start:end]
    if end < len(text):
        cut = cut.rsplit(" ", 1)[0]
    return ("…" if start else "") + cut + ("…" if end < len(text) else "")
