"""KnowledgeBase: the API the CLI and the notebooks share.

    with talksearch.open("indexes") as kb:
        hits = kb.query("celery retries", k=5)
        kb.to_frame(hits)
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import store
from .errors import AmbiguousTalkError, TalkNotFoundError, UsageError
from .normalize import fold
from .records import Hit, Kind, Recording, Todo
from .search import LEXICAL_DEPTH, MODES, Filters, Ranked, Searcher, parse_query, snippet

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pandas as pd

    from .embed import Embedder
    from .facets import Characteristic

MAX_CANDIDATES = 8  # candidates listed for an ambiguous reference
MMR_POOL = 50  # related candidates diversified by MMR
SORT_POOL = 100  # best matches that --sort date orders
MMR_DIVERSITY = 0.0  # weight of redundancy in MMR; off by default: on the dev set 0.1 cost 0.015 nDCG@10, 0.3 cost 0.08
SQL_TABLES = ("talks", "talk_sources", "speakers", "events", "sources", "skipped", "notes", "todos", "passages",
              "documents", "mentions")
T = TypeVar("T")
FACET_LIST = 12  # tools, entities and phrases `show` lists for a talk


@dataclass(frozen=True)
class Detail:
    """Everything known about one talk or note, for `show`."""

    hit: Hit
    fields: dict[str, Any]  # all metadata columns
    sources: tuple[dict, ...]  # every source's own values
    notes: tuple[dict, ...]  # notes linked to the talk (for a note: the talk it is about)
    todos: tuple[Todo, ...]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # facet -> [(term, times named)]
    links: tuple[dict, ...] = ()  # a note's [[links]] ("to", resolved id or None) and backlinks ("from")


@dataclass(frozen=True)
class Topics:
    """What `topics` found: the slice's size and its characteristic terms per facet."""

    documents: int  # talks and notes in the slice
    total: int  # in the collection
    facets: dict[str, list[Characteristic]]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(c) for terms in self.facets.values() for c in terms])


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """One call at a time per KnowledgeBase (DuckDB's connection and the searcher's caches are shared), and none
    after `close()`."""
    @wraps(method)
    def guarded(self: KnowledgeBase, *args, **kwargs) -> T:
        with self._lock:
            if self._closed:
                raise UsageError("this KnowledgeBase is closed: open the index again (talksearch.open)")
            return method(self, *args, **kwargs)
    return guarded


class KnowledgeBase:
    """An open index: query it, find related talks, show one, run read-only SQL.

    Safe to share between threads (calls take turns); after `close()` every call raises `UsageError`.
    """

    def __init__(self, root: str | Path | None = None, *, embedder: Embedder | None = None) -> None:
        self.root = store.resolve_root(root)
        self.generation = store.current(self.root)
        self.searcher = Searcher(self.generation, lambda: store.connect(self.generation), embedder)
        self._lock = threading.RLock()
        self._closed = False

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    @_guarded
    def con(self) -> duckdb.DuckDBPyConnection:
        """The metadata, read-only; opened on first use (a plain query reads only stored fields and vectors)."""
        return self.searcher.con

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if "con" in self.searcher.__dict__:
                self.searcher.con.close()

    @property
    def manifest(self) -> dict:
        return self.generation.manifest

    # -- asking ------------------------------------------------------------------------------------

    @_guarded
    def query(
        self,
        text: str,
        *,
        k: int = 10,
        offset: int = 0,
        filters: Filters = Filters(),
        mode: str = "hybrid",
        all_recordings: bool = False,
        explain: bool = False,
        sort: str = "relevance",
    ) -> list[Hit]:
        """Talks and notes that match `text` by meaning and by words, best first, one row per talk.

        In `text`, `"an exact phrase"` must appear and `-word` must not. `sort="date"` orders the
        SORT_POOL best matches newest first (undated last).
        """
        if mode not in MODES:
            raise UsageError(f"unknown ranking mode {mode!r}: use one of {', '.join(MODES)}")
        if sort not in ("relevance", "date"):
            raise UsageError(f"--sort must be relevance or date, not {sort!r}")
        if type(k) is not int or type(offset) is not int or k < 1 or offset < 0:
            raise UsageError(f"-k must be an integer of at least 1 and --offset one of at least 0, not {k!r} and "
                             f"{offset!r}")
        parsed = parse_query(text)
        if not parsed.text.strip():
            raise UsageError("the query is empty: give some words to search for")
        filters = replace(filters, phrases=filters.phrases + parsed.phrases, excluded=filters.excluded + parsed.excluded)
        vector = self.searcher.embedder.embed([parsed.text])[0]
        depth = max(LEXICAL_DEPTH, 2 * (offset + k))
        ranked = self.searcher.rank(parsed.text, filters, mode=mode, vector=vector, depth=depth)
        while (sort == "relevance" and len(ranked.positions) >= depth and depth < self.searcher.size
               and len(self._collapse(ranked.positions, offset + k, all_recordings)) < offset + k):
            depth *= 4  # recordings of one talk took the places: rank the same scores deeper (`--offset 1000`)
            ranked = self.searcher.combine(ranked.cosine, ranked.bm25, mode=mode, filters=filters, depth=depth)
        if sort == "date":
            pool = self._collapse(ranked.positions, SORT_POOL, all_recordings)
            if not all_recordings:  # a talk given several times is as new as its newest recording, and shown as it
                matched = set(ranked.positions)  # of the recordings the filters let through
                pool = [self._newest_recording(p, matched) for p in pool]
            fields = {p: self.searcher.fields(p) for p in pool}  # a talk's date; notes count as undated
            chosen = sorted(pool, key=lambda p: (fields[p]["kind"] == "talk" and fields[p]["date"]) or "", reverse=True)
            chosen = chosen[offset : offset + k]
        else:
            chosen = self._collapse(ranked.positions, offset + k, all_recordings)[offset:]
        return self._hits(chosen, ranked, parsed.text, vector, explain=explain, all_recordings=all_recordings)

    @_guarded
    def related(self, ref: str, *, k: int = 10, other_speakers: bool = False,
                diversity: float = MMR_DIVERSITY) -> list[Hit]:
        """The talks and notes closest to the whole text of `ref` (never `ref` itself or its recordings).

        `diversity` trades relevance for variety (maximal marginal relevance over whole-text vectors; 0 = off).
        """
        if type(k) is not int or k < 1:
            raise UsageError(f"-k must be an integer of at least 1, not {k!r}")
        if not 0 <= diversity < 1:
            raise UsageError(f"--diversity must be from 0 up to (not including) 1, not {diversity}")
        doc_id = self.resolve(ref)
        pos = self.searcher.position[doc_id]
        ranked = self.searcher.related(pos, self.searcher.seed_text(pos))
        own = self.searcher.fields(pos)["group"]
        mine = self._speakers(doc_id) if other_speakers else frozenset()
        ids = self.searcher.ids
        positions = (p for p in ranked.positions
                     if self.searcher.fields(p)["group"] != own and not (mine and mine & self._speakers(ids[p])))
        pool = self._collapse(positions, max(MMR_POOL, k), False)
        chosen = self._diversify(pool, ranked, k, diversity)
        return self._hits(chosen, ranked, "", self.searcher.document_vectors[pos])

    def _diversify(self, pool: list[int], ranked: Ranked, k: int, diversity: float) -> list[int]:
        """Maximal marginal relevance: each pick maximises (1-d)*relevance - d*similarity to earlier picks."""
        if diversity == 0 or len(pool) <= 1:
            return pool[:k]
        score = dict(zip(ranked.positions, ranked.scores, strict=True))
        import numpy as np

        vectors = np.asarray(self.searcher.document_vectors[pool])
        similar = vectors @ vectors.T
        chosen: list[int] = []
        left = list(range(len(pool)))
        while left and len(chosen) < k:
            def gain(i: int) -> float:
                redundancy = max((similar[i, j] for j in chosen), default=0.0)
                return (1 - diversity) * score[pool[i]] - diversity * redundancy

            best = max(left, key=gain)
            chosen.append(best)
            left.remove(best)
        return [pool[i] for i in chosen]

    @_guarded
    def talk(self, ref: str) -> Detail:
        """All there is to know about one talk or note."""
        doc_id = self.resolve(ref)
        pos = self.searcher.position[doc_id]
        hit = self._hits([pos], Ranked([pos], [1.0]), "", None)[0]
        links: tuple[dict, ...] = ()
        if hit.kind is Kind.TALK:
            fields = self._row("select * exclude (doc_hash, record_hash, event_folded) from talks where id = ?", doc_id)
            sources = self._rows("select * exclude (talk_id) from talk_sources where talk_id = ? order by format, source", doc_id)
            notes = self._rows("select id, title, file, line_start from notes where talk_id = ? order by id", doc_id)
            todos = tuple(Todo(r["text"], r["done"], r["line"]) for r in self._rows(
                "select t.* from todos t join notes n on n.id = t.note_id where n.talk_id = ? order by t.line", doc_id))
        else:
            fields = self._row("select * exclude (doc_hash, record_hash, context_folded, speakers_folded) from notes "
                               "where id = ?", doc_id)
            sources = ({"source": fields["source"], "file": fields["file"], "format": "notes"},)
            notes = tuple(self._rows("select id, title, event_title, date from talks where id = ?", fields["talk_id"]))
            todos = hit.todos
            links = self._links(doc_id, fields)
        found: dict[str, list[tuple[str, int]]] = {}
        for facet, term, count in self.con.execute(
                'select facet, term, "count" from mentions where doc_id = ? order by facet, "count" desc, key',
                [doc_id]).fetchall():
            if len(found.setdefault(facet, [])) < FACET_LIST:
                found[facet].append((term, count))
        return Detail(hit, fields, tuple(sources), tuple(notes), todos, found, links)

    def _links(self, doc_id: str, fields: dict) -> tuple[dict, ...]:
        """A note's `[[links]]`, each resolved to the note it names (by title or file name), then its backlinks."""
        notes = self._rows("select id, title, file, links from notes order by id")
        names: dict[str, str] = {}
        for note in notes:  # a file name names its first note; a title, the note
            names.setdefault(fold(Path(note["file"]).stem), note["id"])
            names.setdefault(fold(note["title"]), note["id"])
        out = [{"link": target, "id": names.get(fold(target)), "direction": "to"} for target in fields["links"] or ()]
        mine = {name for name, note_id in names.items() if note_id == doc_id}
        out += [{"link": note["title"], "id": note["id"], "direction": "from"} for note in notes
                if note["id"] != doc_id and mine & {fold(target) for target in note["links"] or ()}]
        return tuple(out)

    @_guarded
    def topics(self, *, event: str | None = None, since: int | None = None, until: int | None = None,
               ids: Sequence[str] | None = None, n: int = 10) -> Topics:
        """The tools, entities and phrases that set a slice of the collection apart from the rest.

        The slice: an event and/or years, or any talks and notes by `ids` (a cluster, a query's hits).
        Scored by the log-odds ratio with an informative Dirichlet prior (`facets.characteristic`);
        with no slice given, the collection's most widespread ones.
        """
        from .facets import characteristic

        if type(n) is not int or n < 1:
            raise UsageError(f"-n must be an integer of at least 1, not {n!r}")
        total = len(self.searcher.position)
        if ids is not None:  # one id given as a string is that id, not its letters
            ids = sorted(({ids} if isinstance(ids, str) else set(ids)) & self.searcher.position.keys())
        elif (allowed := self.searcher.allowed(Filters(event=event, since=since, until=until))) is not None:
            ids = [self.searcher.ids[p] for p in sorted(allowed)]
        if ids is not None and not ids:  # an empty slice has nothing that sets it apart; not an error
            return Topics(0, total, characteristic([], 0, total, n=n))
        inside = "doc_id in (select unnest(?::varchar[]))" if ids is not None else "true"
        rows = self.con.execute(
            f"select facet, key, mode(term), count(distinct doc_id) filter (where {inside}), count(distinct doc_id) "
            "from mentions group by facet, key order by facet, key", [ids] if ids is not None else []).fetchall()
        size = len(ids) if ids is not None else total
        return Topics(size, total, characteristic(rows, size, total, n=n))

    @_guarded
    def resolve(self, ref: str) -> str:
        """The id of the talk or note `ref` names: an id, a unique id prefix, or a title."""
        ref = ref.strip()
        ids = self.searcher.position
        if ref in ids:
            return ref
        prefixed = [i for i in ids if i.startswith(ref)] if ref else []
        if len(prefixed) == 1:
            return prefixed[0]
        if not prefixed:
            titles = self._titles()
            wanted = fold(ref)
            prefixed = [i for i, t in titles.items() if t == wanted]
            if not prefixed:
                prefixed = [i for i, t in titles.items() if wanted and wanted in t]
            if not prefixed:
                close = difflib.get_close_matches(wanted, list(set(titles.values())), n=MAX_CANDIDATES, cutoff=0.75)
                prefixed = [i for i, t in titles.items() if t in close]
            if len({self._group_of(i) for i in prefixed}) == 1:
                return min(prefixed)
        if not prefixed:
            raise TalkNotFoundError(f"no talk or note matches {ref!r}; find its id with "
                                    f"`talksearch query {(ref or 'words from its title')!r}`")
        if ref and all(i.startswith(ref) for i in prefixed):  # an id prefix: in id order
            order = sorted(prefixed)
        else:  # titles: the closest first ("Introduction to Celeri": Celery before Docker)
            wanted, titles = fold(ref), self._titles()
            order = sorted(prefixed, key=lambda i: (-difflib.SequenceMatcher(None, wanted, titles[i]).ratio(), i))
        candidates = [(i, self._titles_raw[i]) for i in order[:MAX_CANDIDATES]]
        more = f" (showing {MAX_CANDIDATES} of {len(prefixed)})" if len(prefixed) > MAX_CANDIDATES else ""
        raise AmbiguousTalkError(f"{ref!r} matches {len(prefixed)} talks or notes{more}; give one of these ids:", candidates)

    @_guarded
    def vectors(self, kind: str | None = "talk") -> tuple[list[str], np.ndarray]:
        """Ids and whole-text vectors (normalised, one row per talk or note) of every talk, note, or both."""
        import numpy as np

        if kind not in (None, "talk", "note"):
            raise UsageError(f"kind must be talk, note or None, not {kind!r}")
        rows = [(pos, doc_id) for doc_id, pos in self.searcher.position.items()
                if kind is None or (doc_id in self.searcher.talk_ids) == (kind == "talk")]
        rows.sort()
        matrix = np.asarray(self.searcher.document_vectors[[pos for pos, _ in rows]], dtype=np.float32)
        return [doc_id for _, doc_id in rows], matrix

    @_guarded
    def trend(self, topics: dict[str, Sequence[str]]) -> pd.DataFrame:
        """Per year, the share of that year's talks naming each topic: `{"asyncio": ["asyncio"], ...}`.

        A topic is named when a talk mentions any of its terms as a tool, entity or phrase.
        """
        import pandas as pd

        from .facets import key

        years = self.sql("select year, count(*) as talks from talks where year is not null group by 1 order by 1")
        frame = pd.DataFrame(index=pd.Index(years["year"], name="year"))
        for name, terms in topics.items():
            counts = self.con.execute(
                "select t.year, count(distinct t.id) from talks t join mentions m on m.doc_id = t.id "
                "where t.year is not null and m.key in (select unnest(?::varchar[])) group by 1",
                [[key(term) for term in terms]]).fetchall()
            named = pd.Series(dict(counts), dtype=float).reindex(frame.index, fill_value=0.0)
            frame[name] = named.to_numpy() / years["talks"].to_numpy()
        return frame

    # -- tables ---------------------------------------------------------------------------------------

    @_guarded
    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run read-only SQL on the metadata: no writes, no files or extensions outside the index."""
        with self._sql_errors(query):
            return self.con.execute(query, params or []).df()

    @_guarded
    def sql_rows(self, query: str, *, limit: int) -> tuple[list[str], list[tuple]]:
        """The column names and first `limit` rows of a read-only query, read from DuckDB's stream, never all of it."""
        with self._sql_errors(query):
            cursor = self.con.execute(query)
            if cursor.description is None:  # a statement without a result
                return [], []
            return [str(d[0]) for d in cursor.description], cursor.fetchmany(limit)

    @contextmanager
    def _sql_errors(self, query: str) -> Iterator[None]:
        """An empty query, or DuckDB's refusal, as a one-line UsageError that lists the tables."""
        import duckdb

        if not query.strip(" \n\t;"):
            raise UsageError("sql: give a query, e.g. `talksearch sql \"select event_title, count(*) from talks group by 1\"`")
        try:
            yield
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0]
            raise UsageError(f"sql: {reason} (the index is read-only; tables: {', '.join(SQL_TABLES)})") from exc

    @_guarded
    def todos(self, *, open_only: bool = False) -> list[dict]:
        """Checkbox items of every note, with their note, linked talk and file:line."""
        where = "where not t.done" if open_only else ""
        return self._rows(
            "select t.text, t.done, n.file, t.line, n.id as note_id, n.title as note, n.talk_id, k.title as talk "
            f"from todos t join notes n on n.id = t.note_id left join talks k on k.id = n.talk_id {where} "
            "order by n.file, t.line"
        )

    @staticmethod
    def to_frame(hits: list[Hit]) -> pd.DataFrame:
        """One row per hit, the columns of `--json` (all of them, with no hits too): a talk's `file` is None, its
        `line` <NA> (an integer column that can be missing) and its `todos` empty; `explain` when a hit has one."""
        import pandas as pd

        columns = [f.name for f in fields(Hit) if f.name != "explain" or any(h.explain is not None for h in hits)]
        rows = [{"file": None, "line": None, "todos": (), **hit.to_dict()} for hit in hits]
        return pd.DataFrame(rows, columns=columns).astype({"line": "Int64", "score": "float64"})

    @_guarded
    def stats(self) -> dict[str, Any]:
        """Counts by event, year, source kind and language; index size; model."""
        size = sum(p.stat().st_size for p in self.generation.path.rglob("*") if p.is_file())

        def pairs(sql: str) -> list[tuple]:
            return self.con.execute(sql).fetchall()

        return {
            "index": str(self.generation.path),
            "model": self.manifest["model"],
            "precision": self.manifest.get("precision"),
            "adapted": self.manifest.get("adapted"),  # how `talksearch adapt` trained the weights, or None
            "created": self.manifest.get("created"),
            "counts": self.manifest["counts"],
            "bytes": size,
            "by_event": pairs("select event_title, count(*) from talks group by 1 order by 2 desc, 1"),
            "by_year": pairs("select year, count(*) from talks group by 1 order by 1 nulls last"),
            "by_source": pairs("select format, count(distinct talk_id) from talk_sources group by 1 order by 1")
            + [("notes", self.manifest["counts"]["notes"])],
            "by_language": pairs("select coalesce(language, '?'), count(*) from talks group by 1 order by 2 desc"),
        }

    @_guarded
    def sources(self) -> list[dict]:
        return self._rows("select * from sources order by path")

    # -- helpers --------------------------------------------------------------------------------------

    def _rows(self, sql: str, *args) -> list[dict]:
        cursor = self.con.execute(sql, list(args))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _row(self, sql: str, *args) -> dict:
        return self._rows(sql, *args)[0]

    @cached_property
    def _groups(self) -> dict[str, str]:
        return dict(self.con.execute("select id, group_id from talks").fetchall())

    def _group_of(self, doc_id: str) -> str:
        return self._groups.get(doc_id, doc_id)

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

    def _speakers(self, doc_id: str) -> frozenset[str]:
        return self._speaker_sets.get(doc_id, frozenset())

    @cached_property
    def _titles_raw(self) -> dict[str, str]:
        return dict(self.con.execute("select id, title from talks union all select id, title from notes").fetchall())

    def _titles(self) -> dict[str, str]:
        return {i: fold(t) for i, t in self._titles_raw.items()}

    def _collapse(self, positions: Iterable[int], limit: int, all_recordings: bool) -> list[int]:
        """The first `limit` positions, keeping only the best recording of each talk."""
        chosen, seen = [], set()
        for pos in positions:
            group = self.searcher.fields(pos)["group"]
            if not all_recordings and group in seen:
                continue
            seen.add(group)
            chosen.append(pos)
            if len(chosen) == limit:
                break
        return chosen

    def _newest_recording(self, pos: int, matched: set[int]) -> int:
        """The position of the newest matched recording of the talk at `pos` (`pos` for a note or a single one)."""
        position = self.searcher.position
        dated = [(r["date"], position[r["id"]]) for r in self.searcher.fields(pos).get("recordings") or ()
                 if r["date"] and position.get(r["id"]) in matched]
        return max(dated)[1] if dated else pos

    def _hits(self, positions: list[int], ranked: Ranked, text: str, vector, *, explain: bool = False,
              all_recordings: bool = False) -> list[Hit]:
        """Hits for documents at `positions`, from the fields stored per document (`store.Records`)."""
        score = dict(zip(ranked.positions, ranked.scores, strict=True))
        hits = []
        for pos in positions:
            f = self.searcher.fields(pos)
            passage = self._passage(pos, vector)
            explanation = self._explain(ranked, pos, passage) if explain else None
            found = float(score.get(pos, 1.0))
            if f["kind"] == "talk":
                recs = tuple(Recording(**r) for r in f["recordings"] if not all_recordings or r["id"] == f["id"])
                hits.append(Hit(f["id"], Kind.TALK, f["title"], tuple(f["speakers"]), f["event_title"], f["date"],
                                f["url"], found, snippet(passage, text), tuple(f["sources"] or ()), recs,
                                explain=explanation))
            else:
                todos = tuple(Todo(**todo) for todo in f["todos"] or ())
                hits.append(Hit(f["id"], Kind.NOTE, f["title"], tuple(f["speakers"] or ()),
                                f["event_title"] or _first_line(f["context"]),
                                f["date"], (f["urls"] or [None])[0], found, snippet(passage, text), (f["path"],),
                                file=f["file"], line=f["line_start"], todos=todos, explain=explanation))
        return hits

    @staticmethod
    def _explain(ranked: Ranked, pos: int, passage: str) -> dict:
        return {**ranked.explain(pos), "passage": passage}

    def _passage(self, pos: int, vector) -> str:
        """The document's passage closest to `vector`; without a vector, its first passage with text."""
        if vector is not None:
            return self.searcher.passage_text(self.searcher.best_passage(pos, vector))
        rows = self.searcher.passage_rows(pos)  # in ordinal order: text passages, or the one without text
        return self.searcher.passage_text(int(rows[0])) if len(rows) else ""


def _first_line(context: str | None) -> str | None:
    """A note's context as its hit's event: the first line (a notes file's preamble can run to paragraphs and to-dos,
    which `show` lists in full)."""
    return next((line.strip() for line in (context or "").splitlines() if line.strip()), None)


def open(root: str | Path | None = None, *, embedder: Embedder | None = None) -> KnowledgeBase:  # noqa: A001
    """Open the index at `root` (default: $TALKSEARCH_INDEX or ./indexes); use as a context manager."""
    return KnowledgeBase(root, embedder=embedder)

