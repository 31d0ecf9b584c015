"""The DuckDB tables of a generation: their schema and the rows that fill them, side by side, and what a refresh
reads back from the live index to reuse (`Previous`).

Tables are written a slice of INSERT_ROWS rows at a time, each step through a connection of its own: DuckDB frees
the rows written through a connection when it closes, not when they are on disk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from ..embed import Weights
from ..errors import TalksearchError
from ..normalize import fold, key
from ..records import Document, Mention, Note, Passages, ReadResult, Skipped, Talk, Transcript
from ..version import __version__
from . import generations
from .files import unshared
from .generations import CURRENT, DATABASE, Writer

if TYPE_CHECKING:
    import duckdb
    import numpy as np

INSERT_ROWS = 2_000  # rows per DuckDB insert (and per fetch of the result fields) when the index is written

SCHEMA = """
create table sources (path varchar primary key, format varchar, files integer, talks integer,
    notes integer, skipped integer, indexed varchar);
create table skipped (path varchar, reason varchar);
create table events (slug varchar primary key, title varchar, talks integer);
create table talks (id varchar primary key, title varchar, speakers varchar[], event varchar,
    event_title varchar, date varchar, year integer, room varchar, language varchar, tags varchar[],
    url varchar, urls varchar[], related_urls varchar[], text varchar, license varchar,
    group_id varchar, event_folded varchar, doc_hash varchar, record_hash varchar);
create table talk_sources (talk_id varchar, record_id varchar, source varchar, format varchar,
    title varchar, speakers varchar[], event_title varchar, date varchar, room varchar,
    language varchar, urls varchar[]);
create table speakers (talk_id varchar, name varchar, folded varchar);
create table notes (id varchar primary key, title varchar, file varchar, path varchar, source varchar,
    line_start integer, line_end integer, context varchar, text varchar, tags varchar[],
    urls varchar[], speakers varchar[], event varchar, date varchar, links varchar[], sections varchar[],
    talk_id varchar,
    context_folded varchar, speakers_folded varchar, doc_hash varchar, record_hash varchar);
create table todos (note_id varchar, line integer, text varchar, done boolean);
create table documents (pos integer primary key, id varchar, kind varchar, folded varchar);
create table passages ("row" integer primary key, doc_id varchar, kind varchar, ordinal integer,
    text varchar, start double, "end" double);
create table transcripts (id varchar primary key, talk_id varchar, title varchar, file varchar, path varchar,
    source varchar, files varchar[], video_id varchar, video_url varchar, language varchar, english boolean,
    event varchar, original boolean, duration double, cues integer, dropped varchar, doc_hash varchar,
    record_hash varchar);
create table cues (transcript_id varchar, n integer, start double, "end" double, text varchar);
create table mentions (doc_id varchar, kind varchar, facet varchar, label varchar, key varchar, term varchar,
    "count" integer);
create table extracted (doc_hash varchar, facet varchar, label varchar, key varchar, term varchar,
    "count" integer);
"""


def database(writer: Writer) -> duckdb.DuckDBPyConnection:
    """A new connection to the database of the generation being written; the first one creates the tables. Close
    each after its step."""
    import duckdb

    path = writer.path / DATABASE
    new = not path.exists()
    con = duckdb.connect(str(unshared(path, keep=True)))
    if new:
        con.execute(SCHEMA)
    return con


def insert(writer: Writer, table: str, rows: Iterable, columns: list[str] | None = None) -> None:
    """Append rows (dicts, or tuples in `columns` order) to a table, INSERT_ROWS at a time (a frame of every row
    at once held the whole collection twice more: Python rows, then pandas), through a connection of its own."""
    import pandas as pd

    rows = iter(rows)
    with database(writer) as con:
        while chunk := list(islice(rows, INSERT_ROWS)):
            frame = pd.DataFrame(chunk, columns=columns)  # noqa: F841 - read by DuckDB's replacement scan
            con.execute(f"insert into {table} by name select * from frame")


def write_metadata(writer: Writer, *, talks: list[Talk], notes: list[Note], links: dict[str, str],
                   documents: list[Document], results: dict[str, ReadResult], sources: dict[str, str | None],
                   hashes: dict[str, str]) -> None:
    """Every table but `passages`, `mentions` and `extracted`: sources, skipped files, talks and their sources and
    speakers, events, notes and their to-dos, and the documents in ranking order (`documents.pos`)."""
    from .. import lexical

    now = datetime.now(UTC).isoformat(timespec="seconds")
    doc_hash = {d.id: d.hash for d in documents}
    insert(writer, "sources", [{
        "path": key, "format": fmt, "files": results[key].files, "talks": len(results[key].talks),
        "notes": len(results[key].notes), "skipped": len(results[key].skipped),
        "indexed": now,
    } for key, fmt in sources.items()])
    insert(writer, "skipped", [{"path": s.path, "reason": s.reason} for r in results.values() for s in r.skipped])
    insert(writer, "talks", ({
        "id": t.id, "title": t.title, "speakers": list(t.speakers), "event": t.event, "event_title": t.event_title,
        "date": t.date, "year": int(t.date[:4]) if t.date else None, "room": t.room, "language": t.language,
        "tags": list(t.tags), "url": t.url, "urls": list(t.urls), "related_urls": list(t.related_urls),
        "text": t.text, "license": t.license, "group_id": t.group_id, "doc_hash": doc_hash[t.id],
        "event_folded": fold(f"{t.event} {t.event_title}"),
        "record_hash": hashes[t.id],
    } for t in talks))
    insert(writer, "talk_sources", ({
        "talk_id": t.id, "record_id": r.id, "source": r.source, "format": r.format.value, "title": r.title,
        "speakers": list(r.speakers), "event_title": r.event_title, "date": r.date, "room": r.room,
        "language": r.language, "urls": list(r.urls),
    } for t in talks for r in t.records))
    insert(writer, "speakers", ({"talk_id": t.id, "name": s, "folded": fold(s)} for t in talks for s in t.speakers))
    events: dict[str, dict] = {}
    for t in talks:
        events.setdefault(t.event, {"slug": t.event, "title": t.event_title, "talks": 0})["talks"] += 1
    insert(writer, "events", list(events.values()))
    insert(writer, "notes", ({
        "id": n.id, "title": n.title, "file": n.file, "path": n.path, "source": _source_of(n.path, sources),
        "line_start": n.line_start, "line_end": n.line_end, "context": n.context, "text": n.text,
        "tags": list(n.tags), "urls": list(n.urls), "speakers": list(n.speakers), "event": n.event, "date": n.date,
        "links": list(n.links), "sections": list(n.sections), "talk_id": links.get(n.id), "doc_hash": doc_hash[n.id],
        "context_folded": fold(f"{n.context} {n.event or ''}"), "speakers_folded": " | ".join(fold(s) for s in n.speakers),
        "record_hash": hashes[n.id],
    } for n in notes))
    insert(writer, "todos", ({"note_id": n.id, "line": t.line, "text": t.text, "done": t.done}
                             for n in notes for t in n.todos))
    # a transcript's words are found by its windows' BM25 (`fields.write_windows`), not by phrase filters
    insert(writer, "documents", ({"pos": i, "id": d.id, "kind": d.kind,
                                  "folded": "" if d.kind == "transcript" else f" {fold(lexical.document_text(d))} "}
                                 for i, d in enumerate(documents)))


def write_transcripts(writer: Writer, transcripts: list[Transcript], *, links: dict[str, str],
                      files: dict[str, list[str]], urls: dict[str, str | None], documents: list[Document],
                      sources: dict[str, str | None], hashes: dict[str, str]) -> None:
    """The indexed transcripts, with the files each stands for, where each one's video plays (`urls`), and their
    cues."""
    import json

    doc_hash = {d.id: d.hash for d in documents}
    insert(writer, "transcripts", ({
        "id": t.id, "talk_id": links.get(t.id), "title": t.title, "file": t.file, "path": t.path,
        "source": _source_of(t.path, sources), "files": files[t.id], "video_id": t.video_id,
        "video_url": urls[t.id], "language": t.language, "english": t.english,
        "event": t.event, "original": t.original, "duration": t.duration, "cues": len(t.cues),
        "dropped": json.dumps(dict(t.dropped)), "doc_hash": doc_hash[t.id], "record_hash": hashes[t.id],
    } for t in transcripts))
    insert(writer, "cues", ((t.id, n, cue.start, cue.end, cue.text) for t in transcripts
                            for n, cue in enumerate(t.cues, start=1)),
           ["transcript_id", "n", "start", "end", "text"])


def write_passages(writer: Writer, documents: list[Document], passages: Passages) -> None:
    """The passages' table (row = FAISS row), from the passage texts written already."""
    texts = writer.read_passage_texts()
    insert(writer, "passages", ({"row": row, "doc_id": documents[pos].id, "kind": documents[pos].kind,
                                 "ordinal": ordinal, "text": texts[row], "start": _seconds(start), "end": _seconds(end)}
                                for row, (pos, ordinal, start, end) in enumerate(zip(
                                    passages.owner.tolist(), passages.ordinal.tolist(), passages.start.tolist(),
                                    passages.end.tolist(), strict=True))))


def _seconds(value: float) -> float | None:
    """A passage's start or end as stored: None (NULL) for a passage that is not a transcript's (NaN)."""
    return None if math.isnan(value) else value


MENTION_COLUMNS = ["facet", "label", "key", "term", "count"]


def write_mentions(writer: Writer, mentions: Iterable[tuple], extracted: Iterable[tuple]) -> None:
    """`mentions` rows (doc_id, kind, facet, label, key, term, count) and `extracted` rows (doc_hash, facet, ...)."""
    insert(writer, "mentions", mentions, ["doc_id", "kind", *MENTION_COLUMNS])
    insert(writer, "extracted", extracted, ["doc_hash", *MENTION_COLUMNS])


def copy_mentions(writer: Writer, documents: list[Document], hashes: dict[str, str], old: Path) -> set[str]:
    """Copies the mentions of the generation at `old` of every document whose record and content hashes it has too;
    their ids."""
    import pandas as pd

    wanted = pd.DataFrame({"id": [d.id for d in documents], "doc_hash": [d.hash for d in documents],  # noqa: F841
                           "record_hash": [hashes[d.id] for d in documents]})
    with database(writer) as con:
        con.execute("attach ? as old (read_only)", [str(old / DATABASE)])
        try:
            con.execute("create temp table kept as select w.id from wanted w join (select id, doc_hash, record_hash "
                        "from old.talks union all select id, doc_hash, record_hash from old.notes) o "
                        "on o.id = w.id and o.doc_hash = w.doc_hash and o.record_hash = w.record_hash")
            con.execute("insert into mentions select m.* from old.mentions m semi join kept k on k.id = m.doc_id")
            return {doc_id for doc_id, in con.execute("select id from kept").fetchall()}
        finally:
            con.execute("detach old")


def read_talk_texts(generation: generations.Generation) -> list[tuple[str | None, str | None]]:
    """Every talk's title and text, in id order."""
    con = generations.connect(generation)
    try:
        return con.execute("select title, text from talks order by id").fetchall()
    finally:
        con.close()


def read_passages(generation: generations.Generation) -> tuple[Passages, list[str]]:
    """Every passage's document and ordinal by row, and every document's title by position (what re-embedding
    the passages as `index` embeds them needs)."""
    import numpy as np

    owner = generation.array(generations.PASSAGE_DOCS)
    con = generations.connect(generation)
    try:
        ordinal = np.array([o for o, in con.execute('select ordinal from passages order by "row"').fetchall()],
                           dtype=np.int64)
        titles = [t for t, in con.execute(
            "select coalesce(t.title, n.title, '') from documents d left join talks t on d.kind = 'talk' "
            "and t.id = d.id left join notes n on d.kind = 'note' and n.id = d.id order by d.pos").fetchall()]
    finally:
        con.close()
    return Passages(owner, ordinal), titles


def _source_of(path: str, sources: dict) -> str | None:
    return next((key for key in sources if path == key or path.startswith(key.rstrip("/") + "/")), None)


@dataclass
class Previous:
    """What the live index knew, for reuse and for the summary."""

    sources: dict[str, str | None] = field(default_factory=dict)
    talks: dict[str, str] = field(default_factory=dict)  # id -> record hash
    notes: dict[str, str] = field(default_factory=dict)
    transcripts: dict[str, str] = field(default_factory=dict)
    # doc hash -> [(row, ordinal, text, start, end)]: start and end NaN but for a transcript's
    passages: dict[str, list[tuple[int, int, str, float, float]]] = field(default_factory=dict)
    vectors: np.ndarray | None = None
    weights: Weights = field(default_factory=Weights)
    extracted: dict[str, list[Mention]] = field(default_factory=dict)  # doc hash -> entities and phrases
    skipped: tuple[Skipped, ...] | None = None  # None: an index this version would write differently
    passage_count: int = 0
    yielded: dict[str, int] = field(default_factory=dict)  # source -> its talks and notes
    # the live generation and the digest of its gazetteer, when this version wrote it: its mentions can be copied
    generation: Path | None = None
    gazetteer: str | None = None

    def same(self, sources: dict, talks: dict[str, str], notes: dict[str, str], skipped: tuple[Skipped, ...],
             transcripts: dict[str, str]) -> bool:
        """True when a new run would write this index again: same sources, records, links and skipped files."""
        return (self.skipped is not None and sources == self.sources and talks == self.talks and notes == self.notes
                and transcripts == self.transcripts and set(skipped) == set(self.skipped))

    def reuses(self, doc_hash: str) -> bool:
        """True when the passages, vectors and facets of a document with this content hash can be copied."""
        return self.vectors is not None and doc_hash in self.passages and doc_hash in self.extracted


def read_previous(root: Path, *, sources_only: bool = False) -> Previous:
    """The live index's state, to reuse. An index this version cannot read lends nothing (a full run); with
    `sources_only` (a rebuild), only its sources."""
    import duckdb

    if not (root / CURRENT).is_file():
        return Previous()
    try:
        generation = generations.current(root, strict=False, sizes=not sources_only)
        con = generations.connect(generation)
        try:
            listed = con.execute("select path, format, talks + notes from sources").fetchall()
            sources = {path: fmt for path, fmt, _ in listed}
            yielded = {path: count for path, _, count in listed}
            if sources_only:
                return Previous(sources, yielded=yielded)
            talks = dict(con.execute("select id, record_hash from talks").fetchall())
            notes = dict(con.execute("select id, record_hash from notes").fetchall())
            timed = generation.manifest.get("format", 0) >= generations.TRANSCRIPTS_FORMAT
            transcripts = dict(con.execute("select id, record_hash from transcripts").fetchall()) if timed else {}
            nan = "'nan'::double"
            spans = f'coalesce(p.start, {nan}), coalesce(p."end", {nan})' if timed else f"{nan}, {nan}"
            documents = "select id, doc_hash from talks union all select id, doc_hash from notes"
            rows = con.execute(
                f'select d.doc_hash, p.doc_id, p."row", p.ordinal, p.text, {spans} from passages p join '
                f"({documents}{' union all select id, doc_hash from transcripts' if timed else ''}) d on d.id = p.doc_id "
                "order by p.doc_id, p.ordinal"
            ).fetchall()
            total = con.execute("select count(*) from passages").fetchone()[0]
            extracted: dict[str, list[Mention]] = {}
            current = (generation.manifest.get("format"), generation.manifest.get("talksearch_version"))
            gone = tuple(Skipped(*row) for row in con.execute("select path, reason from skipped").fetchall())
            gone = gone if current == (generations.INDEX_FORMAT, __version__) else None
            if generation.manifest.get("format", 0) >= generations.FACETS_FORMAT:
                extracted = {h: [] for h, in con.execute("select doc_hash from talks union select doc_hash from notes"
                                                          + (" union select doc_hash from transcripts" if timed else ""))
                             .fetchall()}
                refold = generation.manifest.get("format", 0) < generations.KEYS_FORMAT
                for doc_hash, facet, label, folded, term, count in con.execute(
                        'select doc_hash, facet, label, key, term, "count" from extracted order by all').fetchall():
                    extracted[doc_hash].append(Mention(facet, label, key(term) if refold else folded, term, count))
        finally:
            con.close()
        index = generations.read_vectors(generation, expected=total)
    except (TalksearchError, duckdb.Error, OSError):
        if sources_only:
            return Previous()
        raise
    passages: dict[str, list[tuple[int, int, str, float, float]]] = {}
    owner: dict[str, str] = {}  # documents with equal content share a hash: reuse one's passages, once
    for doc_hash, doc_id, *passage in rows:
        if owner.setdefault(doc_hash, doc_id) == doc_id:
            passages.setdefault(doc_hash, []).append(tuple(passage))
    return Previous(
        sources=sources, talks=talks, notes=notes, transcripts=transcripts, passages=passages,
        vectors=index.reconstruct_n(0, index.ntotal) if index.ntotal else None, weights=generation.weights,
        extracted=extracted, skipped=gone, passage_count=total, yielded=yielded, generation=generation.path,
        gazetteer=generation.manifest.get("gazetteer") if gone is not None else None)
