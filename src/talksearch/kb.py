"""KnowledgeBase: the API the CLI and the notebooks share. It checks arguments and delegates: ranking to
`search.Searcher`, everything on disk to `store`.

    with talksearch.open("indexes") as kb:
        hits = kb.query("celery retries", k=5)
        kb.to_frame(hits)
"""

from __future__ import annotations

import difflib
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import store
from .errors import AmbiguousTalkError, Candidate, FilterWarning, TalkNotFoundError, UsageError
from .normalize import fold, key, url_key
from .records import Cue, Hit, Kind, Mode, Sort, Todo, Transcript, choice
from .search import MMR_DIVERSITY, SHIPPED, Filters, Rankers, Searcher
from .search.hits import first_line

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pandas as pd

    from .embed import Embedder
    from .topics import Characteristic

_RECORDINGS = "(select id from talks where group_id = (select group_id from talks where id = ?))"  # a talk's, by id
_TRANSCRIPT_COLUMNS = ("id, talk_id, title, file, path, source, files, video_id, video_url, language, english, event, "
                       "original, duration, cues, dropped")
MAX_CANDIDATES = 8  # candidates listed for an ambiguous reference
_URL = re.compile(r"(?i)(?:https?://|www\.|youtu\.be/|(?:m\.)?youtube\.com/|vimeo\.com/)")  # a reference that is a URL
SQL_TABLES = ("talks", "talk_sources", "speakers", "events", "sources", "skipped", "notes", "todos", "passages",
              "documents", "mentions", "transcripts", "cues")
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
    transcripts: tuple[dict, ...] = ()  # a talk's (any recording's): file, files, language, duration, cues, ...

    def to_dict(self) -> dict:
        """The JSON form (`show --json`, the web's /api/talk): the hit's keys, then everything else."""
        return {**self.hit.to_dict(), "fields": self.fields, "source_values": self.sources, "notes": self.notes,
                "todos": [asdict(t) for t in self.todos],
                "facets": {f: [{"term": t, "count": c} for t, c in terms] for f, terms in self.facets.items()},
                "links": self.links, "transcripts": self.transcripts}


@dataclass(frozen=True)
class Topics:
    """What `topics` found: the slice's size and its characteristic terms per facet."""

    documents: int  # talks and notes in the slice
    total: int  # in the collection
    facets: dict[str, list[Characteristic]]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(c) for terms in self.facets.values() for c in terms])

    def to_dict(self) -> dict:
        """The JSON form (`topics --json`, the web's /api/topics)."""
        return {"documents": self.documents, "total": self.total,
                "facets": {f: [asdict(c) for c in terms] for f, terms in self.facets.items()}}


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

    def __init__(self, root: str | Path | None = None, *, embedder: Embedder | None = None,
                 rankers: Rankers = SHIPPED) -> None:
        self.root = store.resolve_root(root)
        self.generation = store.current(self.root)
        self.searcher = Searcher(self.generation, lambda: store.connect(self.generation), embedder, rankers=rankers)
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

    @property
    def replaced(self) -> bool:
        """True once a later `talksearch index` run has made another generation live: open the index again to read it
        (a long-running reader, such as `talksearch serve`, checks this before each request)."""
        return store.live_name(self.root) != self.generation.path.name

    # -- asking ------------------------------------------------------------------------------------

    @_guarded
    def query(
        self,
        text: str,
        *,
        k: int = 10,
        offset: int = 0,
        filters: Filters = Filters(),
        mode: Mode | str = Mode.HYBRID,
        all_recordings: bool = False,
        explain: bool = False,
        sort: Sort | str = Sort.RELEVANCE,
    ) -> list[Hit]:
        """Talks and notes that match `text` by meaning and by words, best first, one row per talk.

        In `text`, `"an exact phrase"` must appear and `-word` must not. `sort="date"` orders the
        SORT_POOL best matches newest first (undated last). Without words to rank by (`""`, or only `-words`),
        everything the filters let through, newest first.

        When nothing matches, each filter value that matches nothing in the whole collection is reported as a
        `FilterWarning` naming the closest known values (`unmatched`).
        """
        if not isinstance(text, str):
            raise UsageError(f"text must be a string, not {text!r}")
        mode = choice(Mode, mode, "mode")
        sort = choice(Sort, sort, "sort")
        _count("k", k, 1)
        _count("offset", offset, 0)
        if not isinstance(filters, Filters):
            raise UsageError(f"filters must be talksearch.Filters, not {type(filters).__name__}")
        found = self.searcher.query(text, k=k, offset=offset, filters=filters, mode=mode,
                                    all_recordings=all_recordings, explain=explain, sort=sort)
        if not found and filters and not offset:
            for miss in self.unmatched(filters):
                warnings.warn(miss, stacklevel=3)  # past `_guarded`: the caller's line
        return found

    @_guarded
    def unmatched(self, filters: Filters) -> list[FilterWarning]:
        """The event, speaker, lang and mentions values of `filters` that match nothing in the whole collection,
        each a `FilterWarning` naming the known values closest to it (`str()` of it is one line to show)."""
        from .search.misses import misses

        if not isinstance(filters, Filters):
            raise UsageError(f"filters must be talksearch.Filters, not {type(filters).__name__}")
        return misses(self.con, filters)

    @_guarded
    def related(self, ref: str, *, k: int = 10, other_speakers: bool = False,
                diversity: float = MMR_DIVERSITY) -> list[Hit]:
        """The talks and notes closest to the whole text of `ref` (never `ref` itself or its recordings).

        `diversity` trades relevance for variety (maximal marginal relevance over whole-text vectors; 0 = off).
        """
        _count("k", k, 1)
        if isinstance(diversity, bool) or not isinstance(diversity, int | float) or not 0 <= diversity < 1:
            raise UsageError(f"diversity must be a number from 0 up to (not including) 1, not {diversity!r}")
        pos = self.searcher.position[self.resolve(ref)]
        return self.searcher.related(pos, k=k, other_speakers=other_speakers, diversity=diversity)

    @_guarded
    def talk(self, ref: str) -> Detail:
        """All there is to know about one talk or note."""
        doc_id = self.resolve(ref)
        pos = self.searcher.position[doc_id]
        hit = self.searcher.hit(pos)
        links: tuple[dict, ...] = ()
        transcripts: tuple[dict, ...] = ()
        if hit.kind is Kind.TRANSCRIPT:
            fields = self._row(f"select {_TRANSCRIPT_COLUMNS} from transcripts where id = ?", doc_id)
            sources = tuple({"source": fields["source"], "file": path, "format": "transcript"} for path in fields["files"])
            notes, todos, transcripts = (), (), (fields,)
        elif hit.kind is Kind.TALK:
            fields = self._row("select * exclude (doc_hash, record_hash, event_folded) from talks where id = ?", doc_id)
            sources = self._rows("select * exclude (talk_id) from talk_sources where talk_id = ? order by format, source", doc_id)
            # notes linked to any recording of the talk
            notes = self._rows(f"select id, title, file, line_start from notes where talk_id in {_RECORDINGS} order by id",
                               doc_id)
            todos = tuple(Todo(r["text"], r["done"], r["line"]) for r in self._rows(
                f"select t.* from todos t join notes n on n.id = t.note_id where n.talk_id in {_RECORDINGS} "
                "order by t.line", doc_id))
            transcripts = tuple(self._rows(f"select {_TRANSCRIPT_COLUMNS} from transcripts where talk_id in "
                                           f"{_RECORDINGS} order by talk_id <> ?, id", doc_id, doc_id))
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
        return Detail(hit, fields, tuple(sources), tuple(notes), todos, found, links, transcripts)

    @_guarded
    def transcript(self, ref: str) -> Transcript:
        """The transcript of a talk (of the recording `ref` names, else of another recording of it), or a transcript
        linked to no talk, with every cue; `TalkNotFoundError` when it has none."""
        import json

        doc_id = self.resolve(ref)
        row = self.con.execute(
            "select x.id, coalesce(t.title, x.title), x.file, x.path, x.video_id, x.language, x.english, x.event, "
            "x.original, x.dropped from transcripts x left join talks t on t.id = x.talk_id "
            f"where x.id = ? or x.talk_id = ? or x.talk_id in {_RECORDINGS} order by x.id <> ?, x.talk_id <> ?, x.id limit 1",
            [doc_id, doc_id, doc_id, doc_id, doc_id]).fetchone()
        if row is None:
            raise TalkNotFoundError(f"{doc_id} has no transcript; `talksearch index` reads .srt and .vtt files")
        transcript_id, title, file, path, video_id, language, english, event, original, dropped = row
        cues = tuple(Cue(*cue) for cue in self.con.execute(
            'select start, "end", text from cues where transcript_id = ? order by n', [transcript_id]).fetchall())
        return Transcript(transcript_id, title, file, path, cues, video_id, language, english, event, original,
                          tuple(json.loads(dropped).items()))

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
        Scored by the log-odds ratio with an informative Dirichlet prior (`topics.characteristic`);
        with no slice given, the collection's most widespread ones.
        """
        from .topics import characteristic

        _count("n", n, 1)
        total = len(self.searcher.position)
        if ids is not None:  # one id given as a string is that id, not its letters
            ids = sorted(({ids} if isinstance(ids, str) else set(ids)) & self.searcher.position.keys())
        elif (allowed := self.searcher.allowed(Filters(event=event, since=since, until=until))) is not None:
            ids = [self.searcher.ids[p] for p in sorted(allowed)]
        if ids is not None and not ids:  # an empty slice has nothing that sets it apart; not an error
            for miss in self.unmatched(Filters(event=event)) if event else ():
                warnings.warn(miss, stacklevel=3)
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
        if not isinstance(ref, str):
            raise UsageError(f"a talk or note is named by a string (an id, a unique id prefix or a title), not {ref!r}")
        ref = ref.strip()
        ids = self.searcher.position
        if ref in ids:
            return ref
        if _URL.match(ref):  # a talk's video or page, in any of its forms (youtu.be/ID, watch?v=ID&t=60)
            talks = sorted(self._by_url.get(url_key(ref), ()))
            if not talks:
                raise TalkNotFoundError(f"no talk has the URL {ref!r}; find its id with "
                                        "`talksearch query \"words from its title\"`")
            if len({self._group_of(i) for i in talks}) == 1:
                return talks[0]
            raise AmbiguousTalkError(f"{ref!r} is the URL of {len(talks)} talks; give one of these ids:",
                                     self._candidates(talks))
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
            # one talk (its recordings, and notes linked to them, titled alike): the talk; one note: the note
            talks = [i for i in prefixed if i in self.searcher.talk_ids]
            if len({self._group_of(i) for i in prefixed}) == 1 and (talks or len(prefixed) == 1):
                return min(talks or prefixed)
        if not prefixed:
            raise TalkNotFoundError(f"no talk or note matches {ref!r}; find its id with "
                                    f"`talksearch query {(ref or 'words from its title')!r}`")
        if ref and all(i.startswith(ref) for i in prefixed):  # an id prefix: in id order
            order = sorted(prefixed)
        else:  # titles: the closest first ("Introduction to Celeri": Celery before Docker)
            wanted, titles = fold(ref), self._titles()
            order = sorted(prefixed, key=lambda i: (-difflib.SequenceMatcher(None, wanted, titles[i]).ratio(), i))
        more = f" (showing {MAX_CANDIDATES} of {len(prefixed)})" if len(prefixed) > MAX_CANDIDATES else ""
        raise AmbiguousTalkError(f"{ref!r} matches {len(prefixed)} talks or notes{more}; give one of these ids:",
                                 self._candidates(order[:MAX_CANDIDATES]))

    def _candidates(self, ids: Sequence[str]) -> list[Candidate]:
        """What tells talks and notes titled alike apart: their speakers, event and date."""
        found = []
        for doc_id in ids:
            f = self.searcher.fields(self.searcher.position[doc_id])
            event = f["event_title"] or first_line(f.get("context"))  # a note's: as its hit shows it
            found.append(Candidate(doc_id, f["title"], tuple(f["speakers"] or ()), event, f["date"]))
        return found

    @cached_property
    def _by_url(self) -> dict[str, set[str]]:
        """Talks by the key of each of their URLs (`normalize.url_key`)."""
        found: dict[str, set[str]] = {}
        for doc_id, url, urls in self.con.execute("select id, url, urls from talks").fetchall():
            for each in {url, *(urls or ())} - {None}:
                found.setdefault(url_key(each), set()).add(doc_id)
        return found

    @_guarded
    def vectors(self, kind: str | None = "talk") -> tuple[list[str], np.ndarray]:
        """Ids and whole-text vectors (normalised, one row per talk or note) of every talk, note, or both."""
        import numpy as np

        kind = choice(Kind, kind, "kind", optional=True)
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
    def todos(self, *, open_only: bool = False, talk: str | None = None, event: str | None = None,
              file: str | Path | None = None) -> list[dict]:
        """Checkbox items of the notes, with their note, linked talk, file (relative to its source folder), `path`
        (absolute) and line. `talk`: the notes of that talk (an id, prefix, title or URL; any of its recordings)
        or that note; `event`: notes whose talk's event or whose own context names it (as `Filters.event`);
        `file`: notes in that file (its path, absolute or relative to the working directory, or part of its name)."""
        where, args = ["true"], []
        if open_only:
            where.append("not t.done")
        if talk is not None:
            doc_id = self.resolve(talk)
            where.append("(n.id = ? or n.talk_id in (select id from talks where group_id = "
                         "(select group_id from talks where id = ?)))")
            args += [doc_id, doc_id]
        if event is not None:
            if not isinstance(event, str) or not fold(event):
                raise UsageError(f"event must be a string with letters or digits, not {event!r}")
            where.append("(k.event_folded like ? or n.context_folded like ?)")
            args += [f"%{fold(event)}%"] * 2
        if file is not None:
            if not isinstance(file, str | Path) or not str(file).strip():
                raise UsageError(f"file must be a path or part of a file name, not {file!r}")
            where.append("(n.path = ? or n.file like ? escape '\\')")
            args += [str(Path(file).resolve()), "%" + str(file).replace("\\", "\\\\").replace("%", "\\%")
                     .replace("_", "\\_") + "%"]
        return self._rows(
            "select t.text, t.done, n.file, n.path, t.line, n.id as note_id, n.title as note, n.talk_id, "
            "k.title as talk from todos t join notes n on n.id = t.note_id left join talks k on k.id = n.talk_id "
            f"where {' and '.join(where)} order by n.file, t.line", *args)

    @_guarded
    def notes_about(self, talk_ids: Sequence[str]) -> dict[str, list[dict]]:
        """The notes linked to each of `talk_ids` (id, title, file, line), for results that list a talk's notes."""
        return {i: [dict(note) for note in self._linked_notes[i]] for i in talk_ids if i in self._linked_notes}

    @cached_property
    def _linked_notes(self) -> dict[str, list[dict]]:
        """Every linked note by its talk, read once (a page of results asks for ten talks' notes: ~6 ms by SQL)."""
        found: dict[str, list[dict]] = {}
        for row in self._rows("select talk_id, id, title, file, line_start as line from notes "
                              "where talk_id is not null order by id"):
            found.setdefault(row.pop("talk_id"), []).append(row)
        return found

    @staticmethod
    def to_frame(hits: list[Hit]) -> pd.DataFrame:
        """One row per hit, the columns of `--json` (all of them, with no hits too): a talk's `file` is None, its
        `line` <NA> (an integer column that can be missing) and its `todos` empty; a `section` only for a note's
        hit in a section; `explain` when a hit has one."""
        import pandas as pd

        columns = [f.name for f in fields(Hit) if f.name != "explain" or any(h.explain is not None for h in hits)]
        rows = [{"file": None, "line": None, "todos": (), "section": None, "moment": None, "talk": None, **hit.to_dict()}
                for hit in hits]
        return pd.DataFrame(rows, columns=columns).astype({"line": "Int64", "score": "float64"})

    @_guarded
    def stats(self) -> dict[str, Any]:
        """Counts by event, year, source kind and language; index size; model."""
        size = self.generation.size()

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
        """Each talk's group (its recordings share one), and each linked note's: its talk's."""
        return dict(self.con.execute("select id, group_id from talks union all "
                                     "select n.id, t.group_id from notes n join talks t on t.id = n.talk_id").fetchall())

    def _group_of(self, doc_id: str) -> str:
        return self._groups.get(doc_id, doc_id)

    @cached_property
    def _titles_raw(self) -> dict[str, str]:
        return dict(self.con.execute("select id, title from talks union all select id, title from notes").fetchall())

    def _titles(self) -> dict[str, str]:
        return {i: fold(t) for i, t in self._titles_raw.items()}


def _count(name: str, value: object, least: int) -> None:
    """UsageError unless `value` is an integer (not a bool) of at least `least`, named as the API names it."""
    if type(value) is not int or value < least:
        raise UsageError(f"{name} must be an integer of at least {least}, not {value!r}")


def open(root: str | Path | None = None, *, embedder: Embedder | None = None, rankers: Rankers = SHIPPED) -> KnowledgeBase:  # noqa: A001
    """Open the index at `root` (default: $TALKSEARCH_INDEX or ./indexes); use as a context manager."""
    return KnowledgeBase(root, embedder=embedder, rankers=rankers)
