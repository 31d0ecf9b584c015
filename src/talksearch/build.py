"""`index`: read sources, merge and link, split into passages, embed, write a new generation.

Every run rebuilds the whole index into a new generation, but reuses the
passages and vectors of every document whose content hash is unchanged, so a
re-run on unchanged input embeds nothing and gives the same result as a
rebuild from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property, partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import __version__, facets, lexical, store
from .embed import MAX_TOKENS, Embedder, Weights
from .errors import InputError, ModelError, NoSourcesError, SourceMissingError, TalksearchError, UsageError
from .facets import Mention
from .link import link_notes, merge_talks
from .records import Format, Note, ReadResult, Skipped, Talk
from .search import RELATED_QUERY_CHARS

if TYPE_CHECKING:
    import numpy as np

PASSAGE_VERSION = 3  # bump when passage splitting changes, to re-split everything (3: no space added inside a word)
HEADER_TOKENS = 64  # at most this much of a title is repeated in front of each passage
EMBED_CHUNK = 512  # passages handed to the embedder per call (progress granularity)
INSERT_ROWS = 2_000  # rows per DuckDB insert (and per fetch of the result fields) when the index is written
SPILL = ".spill"  # in a generation being written: what spaCy's workers returned, until it is written (`_passages`)

Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Document:
    """One talk or note as the encoder and the lexical index see it."""

    id: str
    kind: str  # "talk" | "note"
    title: str
    meta: str  # title, speakers and event: the one passage of a document without text
    text: str
    english: bool = True  # English or unknown: entities and phrases are extracted

    @cached_property  # asked for by reuse, spill look-ups and the metadata: the whole text hashed once
    def hash(self) -> str:
        payload = json.dumps([PASSAGE_VERSION, self.kind, self.title, self.meta, self.text, self.english])
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Summary:
    """What an `index` run changed."""

    added: dict[str, int]  # kind -> count
    updated: dict[str, int]
    removed: dict[str, int]
    files: int  # distinct files looked at = changed + unchanged + skipped
    skipped: tuple[Skipped, ...]
    passages: int
    embedded: int  # passages embedded in this run (the rest were reused)
    seconds: float
    sources: tuple[str, ...] = field(default=())
    stages: dict[str, float] = field(default_factory=dict)  # seconds spent reading, linking, splitting, ...
    changed: int = 0  # files with a talk or note added or updated in this run
    unchanged: int = 0  # files read whose talks and notes are all as before
    warnings: tuple[Skipped, ...] = ()  # files indexed despite a problem, and what it was


def talk_document(talk: Talk) -> Document:
    people = ", ".join(talk.speakers)
    meta = " — ".join(part for part in (talk.title, people, talk.event_title) if part)
    return Document(talk.id, "talk", talk.title, meta, talk.text, talk.language in (None, "eng"))


def note_document(note: Note, talk: Talk | None) -> Document:
    about = f" — {talk.title}" if talk else ""
    meta = f"{note.title}{about}" + (f" — {note.context}" if note.context else "")
    return Document(note.id, "note", note.title, meta, note.text)


def run(
    root: Path,
    paths: list[Path],
    *,
    embedder_factory: Callable[[Weights], Embedder],
    remove: list[Path] = (),
    rebuild: bool = False,
    format: Format | str | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Add or refresh `paths` (or every known source), drop `remove`, and swap in the new index.

    `embedder_factory` gets the weights the live index was embedded with (the published ones after --rebuild),
    which new passages must be embedded with too. A `format` forced on `paths` is remembered with each of them
    and kept by later runs. A known source that has vanished or yields nothing is refused (`SourceMissingError`),
    never taken as the deletion of its talks and notes: only `remove` drops a source, the last one too (an index
    with no sources and nothing to find).
    """
    from .readers import read_path

    forced = _format_value(format, paths)
    started = time.perf_counter()
    progress = timer = _StageTimer(progress)
    with store.locked(root):
        progress("previous", 0, 1)
        # --rebuild re-reads and re-embeds every known source (and PATHs); it reuses nothing
        old = _Previous.load(root, sources_only=rebuild)
        sources = dict(old.sources)
        for path in remove:
            key = str(path.resolve())
            if key not in sources:
                raise UsageError(f"{path}: not a known source of {root}/; `talksearch sources` lists them")
            del sources[key]
        for path in paths:
            _check_new_source(path, root, known=str(path.resolve()) in sources)
            sources[str(path.resolve())] = forced or sources.get(str(path.resolve()))
        if not sources and not remove:
            raise UsageError("nothing to index: give the files or directories to read, e.g. `talksearch index data/`")
        if gone := {key: "no such file or directory" for key in sources if not os.path.exists(key)}:
            raise SourceMissingError(_missing(gone))

        results: dict[str, ReadResult] = {}
        for i, (key, fmt) in enumerate(sources.items()):
            progress("reading", i, len(sources))
            try:
                results[key] = read_path(Path(key), format=Format(fmt) if fmt else None, exclude=root)
            except InputError as exc:
                results[key] = ReadResult(skipped=(Skipped(key, exc.reason),), files=1)
        # an unmounted drive leaves an empty folder: a known source that had talks or notes and yields none is gone
        if gone := {key: _nothing_read(result) for key, result in results.items()
                    if old.yielded.get(key) and not (result.talks or result.notes)}:
            raise SourceMissingError(_missing(gone))
        progress("linking", 0, 1)
        skipped = tuple(s for r in results.values() for s in r.skipped)
        files = sum(r.files for r in results.values())  # as each source counted them, for `sources`
        talks = merge_talks(t for r in results.values() for t in r.talks)
        notes = distinct_notes(r.notes for r in results.values())
        # the PATHs given on this run, or on a plain refresh every known source, must yield something
        checked = [str(p.resolve()) for p in paths] or list(sources)
        if checked and not any(results[key].talks or results[key].notes for key in checked):
            failed = [s for key in checked for s in results[key].skipped]
            detail = f"; {failed[0].path}: {failed[0].reason}" if failed else ""
            raise NoSourcesError(f"nothing could be read from {', '.join(checked)} "
                                 f"({len(failed)} files skipped{detail}); the index is unchanged")
        links = link_notes(notes, talks)
        new_talks = {t.id: _record_hash(t) for t in talks}
        new_notes = {n.id: _record_hash(n, links.get(n.id)) for n in notes}
        if not rebuild and old.same(sources, new_talks, new_notes, skipped):
            # in sync already: every record, link and skipped file as the live index has them
            store.remove_stale(root)
            count, embedded = old.passage_count, 0
        else:
            count, embedded = _write(root, old, talks, notes, links, results, sources, files, skipped,
                                        new_talks | new_notes, embedder_factory, progress)
        progress("writing", 1, 1)
        timer.stop()

    added, updated, removed = {}, {}, {}
    for kind, new, before in (("talks", new_talks, old.talks), ("notes", new_notes, old.notes)):
        added[kind] = len(new.keys() - before.keys())
        removed[kind] = len(before.keys() - new.keys())
        updated[kind] = sum(1 for k in new.keys() & before.keys() if new[k] != before[k])
    # every file looked at is accounted for: changed, unchanged or skipped (with its reason)
    files_of = {t.id: {r.source for r in t.records} for t in talks} | {n.id: {n.path} for n in notes}
    changed = {path for new, before in ((new_talks, old.talks), (new_notes, old.notes))
               for doc_id, digest in new.items() if before.get(doc_id) != digest for path in files_of[doc_id]}
    read = {path for paths in files_of.values() for path in paths}
    warnings = tuple(w for r in results.values() for w in r.warnings)
    return Summary(added, updated, removed, len(read | {s.path for s in skipped}), skipped, count, embedded,
                   time.perf_counter() - started, tuple(sources), dict(timer.seconds), len(changed),
                   len(read - changed), warnings)


def _write(root, old, talks, notes, links, results, sources, files, skipped, hashes, embedder_factory, progress):
    """Split, embed what is new, extract facets, write and swap in a new generation: (passages, embedded).

    Each part is written as soon as it is whole and then let go, the largest first (vectors, passages, facets), and
    DuckDB is closed after each table (`_insert`): an open connection keeps every row written through it in memory.
    Passage texts and entities go to files as spaCy's workers return them (`_passages`).
    """
    by_id = {t.id: t for t in talks}
    documents = [talk_document(t) for t in talks] + [note_document(n, by_id.get(links.get(n.id))) for n in notes]
    embedder = embedder_factory(old.weights)
    check = embedder.check  # type: ignore[attr-defined]
    if old.weights.adapted and check.sha256 != old.weights.sha256:
        raise ModelError(f"{check.path}: not the adapted weights this index was embedded with "
                         f"({old.weights.sha256[:12]}…)")
    with store.Writer(root) as writer:
        if old.weights.adapted:  # the adapted encoder goes on with the index it embeds
            store.share(old.weights.directory, writer.path / store.ENCODER)
        passages, vectors, extracted, embedded = _passages(documents, old, embedder, progress, writer.path)
        progress("writing", 0, 1)
        counts = {"talks": len(talks), "notes": len(notes), "passages": len(passages.owner), "files": files,
                  "skipped": len(skipped)}
        writer.write_vectors(vectors)
        writer.write_document_vectors(document_means(len(documents), passages.owner, vectors))
        del vectors
        _write_passages(writer, documents, passages)
        del passages
        progress("facets", 0, 1)
        gazetteer, facet_sources = _gazetteer(documents, talks, notes, extracted, embedder, writer.path / SPILL)
        digest = gazetteer.digest()
        _write_mentions(writer, documents, facet_sources, gazetteer, extracted, hashes,
                        old if old.gazetteer == digest else None)
        del extracted, facet_sources, gazetteer
        shutil.rmtree(writer.path / SPILL)
        progress("writing", 0, 1)
        _write_metadata(writer, talks, notes, links, documents, results, sources, hashes)
        _write_stored(writer, documents)
        # last: what it imports (bm25s, scipy) and allocates stays held, and it needs only the documents
        lexical.build(writer.path / store.LEXICAL, documents)
        writer.commit({
            "model": embedder.name,
            "dimension": embedder.dimension,
            "weights_sha256": check.sha256,
            "weights_check": check.__dict__,
            "precision": getattr(embedder, "precision", None),
            "counts": counts,
            "gazetteer": digest,
            **({"adapted": old.weights.adapted} if old.weights.adapted else {}),
        })
    return counts["passages"], embedded


def distinct_notes(sources: Iterable[Iterable[Note]]) -> list[Note]:
    """Every note once, by id. Notes that would have the same id (each source's `notes.md` under one heading) are
    one note when they say the same (the same file reached through two sources, or a copy of it: the first source's
    is kept). When they differ, each is kept, and their ids name the file by its path from the folder the files
    share (`note:a/notes.md#…`, `note:b/notes.md#…`)."""
    alike: dict[str, list[Note]] = {}  # id -> its notes that differ, the first source's first
    for notes in sources:
        for note in notes:
            found = alike.setdefault(note.id, [])
            if not any(replace(note, path=other.path) == other for other in found):
                found.append(note)
    out: dict[str, Note] = {}
    for note_id, found in alike.items():
        if len(found) == 1:
            out[note_id] = found[0]
            continue
        shared = os.path.commonpath([note.path for note in found])
        _, _, slug = note_id.rpartition("#")
        for note in found:
            note = replace(note, id=f"note:{os.path.relpath(note.path, shared)}#{slug}")
            if note.id in out:  # named alike even so: the whole path
                note = replace(note, id=f"note:{note.path}#{slug}")
            out[note.id] = note
    return [out[note_id] for note_id in sorted(out)]


def _format_value(format: Format | str | None, paths: list[Path]) -> str | None:  # noqa: A002
    """The value of a `format` forced on `paths` (a `Format`, or its name as the command line passes it)."""
    if not format:
        return None
    if not paths:
        raise UsageError("--format applies to the PATHs given with it: name them, e.g. "
                         "`talksearch index notes.txt --format notes`")
    try:
        return Format(format).value
    except ValueError:
        raise UsageError(f"--format must be {', '.join(f.value for f in Format)}, not {format!r}") from None


def _check_new_source(path: Path, root: Path, *, known: bool) -> None:
    """A PATH given to `index` must exist (a known one may be missing: `_missing` says what to do) and must not be
    the index directory or inside it."""
    if not known and not os.path.exists(path):
        raise SourceMissingError(f"{path}: no such file or directory; the index is unchanged")
    real, index = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    if real == index or index in real.parents:
        raise UsageError(f"{path}: the index directory {root}/ or inside it; index the files it is built from")


def _nothing_read(result: ReadResult) -> str:
    if not result.skipped:
        return "no files to read"
    return f"nothing could be read ({len(result.skipped)} files skipped; {result.skipped[0].path}: {result.skipped[0].reason})"


def _missing(gone: dict[str, str]) -> str:
    """The error for known sources that are gone (source -> why): what to run to drop them deliberately."""
    import shlex

    removes = " ".join(f"--remove {shlex.quote(key)}" for key in gone)
    return (f"{'; '.join(f'{key}: {why}' for key, why in gone.items())}; the index is unchanged: a source that is "
            f"gone (moved, deleted, on a drive not mounted, read in a --format it is not) is dropped only when asked: "
            f"`talksearch index {removes}`")


class _StageTimer:
    """Passes progress on, and adds up the seconds between calls to the stage they belong to."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress or (lambda stage, done, total: None)
        self.seconds: dict[str, float] = {}
        self.stage: str | None = None
        self.last = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stop()
        self.stage = stage
        self.progress(stage, done, total)

    def divide(self, stage: str, part: str, share: float) -> None:
        """Move `share` of `stage`'s seconds (so far, this one included) to `part`: two passes that interleave
        in worker processes (sentences and entities) are told apart by their shares of the workers' CPU time."""
        current = self.stage
        self.stop()
        moved = self.seconds.get(stage, 0.0) * share
        self.seconds[stage] = self.seconds.get(stage, 0.0) - moved
        self.seconds[part] = self.seconds.get(part, 0.0) + moved
        self.stage = current

    def stop(self) -> None:
        now = time.perf_counter()
        if self.stage:
            self.seconds[self.stage] = self.seconds.get(self.stage, 0.0) + now - self.last
        self.last = now
        self.stage = None


@dataclass
class _Previous:
    """What the live index knew, for reuse and for the summary."""

    sources: dict[str, str | None]
    talks: dict[str, str]  # id -> record hash
    notes: dict[str, str]
    passages: dict[str, list[tuple[int, int, str]]]  # doc hash -> [(old row, ordinal, passage text)]
    vectors: np.ndarray | None
    weights: Weights
    extracted: dict[str, list[Mention]] = field(default_factory=dict)  # doc hash -> entities and phrases
    skipped: tuple[Skipped, ...] | None = None  # None: an index this version would write differently
    passage_count: int = 0
    yielded: dict[str, int] = field(default_factory=dict)  # source -> its talks and notes
    # the live generation and the digest of its gazetteer, when this version wrote it: its mentions can be copied
    generation: Path | None = None
    gazetteer: str | None = None

    @classmethod
    def empty(cls) -> _Previous:
        return cls({}, {}, {}, {}, None, Weights())

    def same(self, sources: dict, talks: dict[str, str], notes: dict[str, str], skipped: tuple[Skipped, ...]) -> bool:
        """True when a new run would write this index again: same sources, records, links and skipped files."""
        return (self.skipped is not None and sources == self.sources and talks == self.talks and notes == self.notes
                and set(skipped) == set(self.skipped))

    def reuses(self, doc_hash: str) -> bool:
        """True when the passages, vectors and facets of a document with this content hash can be copied."""
        return self.vectors is not None and doc_hash in self.passages and doc_hash in self.extracted

    @classmethod
    def load(cls, root: Path, *, sources_only: bool = False) -> _Previous:
        """The live index's state, to reuse. An index this version cannot read lends nothing (a full run)."""
        import duckdb

        if not (root / store.CURRENT).is_file():
            return cls.empty()
        try:
            generation = store.current(root, strict=False, sizes=not sources_only)
            con = store.connect(generation)
            try:
                listed = con.execute("select path, format, talks + notes from sources").fetchall()
                sources = {path: fmt for path, fmt, _ in listed}
                yielded = {path: count for path, _, count in listed}
                if sources_only:
                    return cls(sources, {}, {}, {}, None, Weights(), yielded=yielded)
                talks = dict(con.execute("select id, record_hash from talks").fetchall())
                notes = dict(con.execute("select id, record_hash from notes").fetchall())
                rows = con.execute(
                    'select d.doc_hash, p.doc_id, p."row", p.ordinal, p.text from passages p join '
                    "(select id, doc_hash from talks union all select id, doc_hash from notes) d on d.id = p.doc_id "
                    "order by p.doc_id, p.ordinal"
                ).fetchall()
                total = con.execute("select count(*) from passages").fetchone()[0]
                extracted: dict[str, list[Mention]] = {}
                current = (generation.manifest.get("format"), generation.manifest.get("talksearch_version"))
                gone = tuple(Skipped(*row) for row in con.execute("select path, reason from skipped").fetchall())
                gone = gone if current == (store.INDEX_FORMAT, __version__) else None
                if generation.manifest.get("format", 0) >= store.FACETS_FORMAT:
                    extracted = {h: [] for h, in con.execute("select doc_hash from talks union select doc_hash from notes")
                                 .fetchall()}
                    for doc_hash, *mention in con.execute(
                            'select doc_hash, facet, label, key, term, "count" from extracted order by all').fetchall():
                        extracted[doc_hash].append(Mention(*mention))
            finally:
                con.close()
            index = store.read_vectors(generation, expected=total)
        except (TalksearchError, duckdb.Error, OSError):
            if sources_only:
                return cls.empty()
            raise
        passages: dict[str, list[tuple[int, int, str]]] = {}
        owner: dict[str, str] = {}  # documents with equal content share a hash: reuse one's passages, once
        for doc_hash, doc_id, row, ordinal, text in rows:
            if owner.setdefault(doc_hash, doc_id) == doc_id:
                passages.setdefault(doc_hash, []).append((row, ordinal, text))
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else None
        return cls(sources, talks, notes, passages, vectors, generation.weights, extracted, gone, total, yielded,
                   generation.path, generation.manifest.get("gazetteer") if gone is not None else None)


@dataclass(frozen=True)
class Passages:
    """Every passage of the new index by row: its document (documents.pos) and ordinal; texts are in the generation's
    PASSAGE_TEXTS file."""

    owner: np.ndarray
    ordinal: np.ndarray


class _Extracted:
    """Each document's entities and phrases by documents.pos: this run's read from the spill file when asked for,
    else the live index's."""

    def __init__(self, documents: list[Document], fresh: dict[str, int], rows: np.ndarray, records: store.Records,
                 old: _Previous) -> None:
        self.documents = documents
        self.fresh = fresh  # content hash -> its number among the documents split in this run
        self.rows = rows  # that number -> its row in `records`
        self.records = records
        self.old = old

    def __getitem__(self, pos: int) -> list[Mention]:
        doc_hash = self.documents[pos].hash
        number = self.fresh.get(doc_hash)
        if number is None:
            return self.old.extracted[doc_hash]
        return [Mention(*m) for m in json.loads(self.records[int(self.rows[number])])]


def _passages(documents: list[Document], old: _Previous, embedder: Embedder, progress: _StageTimer, path: Path):
    """Every passage (texts written to `path`), their vectors, and each document's entities and phrases: reused by
    content hash, else split, extracted and embedded.

    Passage texts and entities go to files in `path / SPILL` as spaCy's workers return them: kept as objects, ~25
    small ones per document scattered among the workers' passing results, they held the allocator's arenas after
    the results were gone (pymalloc's arenas ended far larger than the live objects in them).
    """
    import numpy as np

    from .text import MAX_CHARS, analyse, load_sentencizer, pack

    fresh: dict[str, int] = {}  # content hash -> its number among the documents to split
    todo_docs: list[Document] = []
    for doc in documents:
        if not old.reuses(doc.hash) and doc.hash not in fresh:
            fresh[doc.hash] = len(todo_docs)
            todo_docs.append(doc)
    spill = path / SPILL
    spill.mkdir()
    split = np.zeros((len(todo_docs), 2), dtype=np.int64)  # by number: first row in the chunk spill, chunks
    rows = np.zeros(len(todo_docs), dtype=np.int64)  # by number: row in the entity spill
    with store.RecordsWriter(spill / "chunks") as chunks, store.RecordsWriter(spill / "extracted") as entities:
        if todo_docs:
            progress("splitting", 0, len(todo_docs))
            tokenizer = embedder.tokenizer  # type: ignore[attr-defined]
            nlp = load_sentencizer(entities=True)
            spent: dict[str, float] = {}
            found = analyse(nlp, _Blocks(todo_docs), entities=[d.english for d in todo_docs], extract=facets.extract,
                            spent=spent)
            for n, (i, sents, mentions) in enumerate(found, start=1):
                doc = todo_docs[i]
                budget = MAX_TOKENS - 3 - min(HEADER_TOKENS, tokenizer.count([doc.title[:MAX_CHARS]])[0])
                texts = pack(sents[1:], budget=budget, count_tokens=tokenizer.count, offsets=tokenizer.offsets)
                split[i] = len(chunks), len(texts)
                for text in texts:
                    chunks.append(text)
                rows[i] = entities.append(json.dumps(mentions or [], ensure_ascii=False))
                if n % 256 == 0:
                    progress("splitting", n, len(todo_docs))
            progress("splitting", len(todo_docs), len(todo_docs))
            progress.divide("splitting", "entities", spent.get("entities", 0.0) / (sum(spent.values()) or 1.0))
    del todo_docs

    # every document's passages in row order: copied (old row), or this run's chunks, or the document's meta
    chunk_texts = store.Records.open(spill / "chunks")
    owner, ordinals, copied = array("q"), array("q"), array("q")
    headers = [""] * len(documents)  # the title in front of each chunk to embed
    with store.RecordsWriter(path / store.PASSAGE_TEXTS) as out:
        def add(pos: int, ordinal: int, row: int, text: str) -> None:
            owner.append(pos)
            ordinals.append(ordinal)
            copied.append(row)
            out.append(text)

        for pos, doc in enumerate(documents):
            if doc.hash not in fresh:
                for row, ordinal, text in old.passages[doc.hash]:
                    add(pos, ordinal, row, text)
                continue
            first, count = (int(x) for x in split[fresh[doc.hash]])
            if not count:  # no text: the title, speakers and event are its one passage (ordinal 0)
                add(pos, 0, -1, doc.meta)
                continue
            headers[pos] = header(doc.title, embedder)
            for ordinal in range(1, count + 1):
                add(pos, ordinal, -1, chunk_texts[first + ordinal - 1])
    del chunk_texts
    passages = Passages(np.frombuffer(owner, dtype=np.int64), np.frombuffer(ordinals, dtype=np.int64))
    copied = np.frombuffer(copied, dtype=np.int64)

    vectors = np.zeros((len(copied), embedder.dimension), dtype=np.float32)
    copy = np.flatnonzero(copied >= 0)
    if copy.size:
        vectors[copy] = old.vectors[copied[copy]]
    todo = np.flatnonzero(copied < 0)
    embed_passages(vectors, todo, store.Records.open(path / store.PASSAGE_TEXTS), passages, headers, embedder, progress)
    extracted = _Extracted(documents, fresh, rows, store.Records.open(spill / "extracted"), old)
    return passages, vectors, extracted, len(todo)


def embed_passages(vectors: np.ndarray, rows: np.ndarray, texts: store.Records, passages: Passages,
                   headers: Sequence[str], embedder: Embedder, progress: Progress) -> None:
    """Embeds the passages at `rows` into `vectors`: each chunk (ordinal > 0) with its document's header (the title,
    cut by `header`) in front, a document's one passage without text as it is; similar lengths together, for
    fewer padded tokens per batch."""
    import numpy as np

    def front(row: int) -> str:
        return headers[passages.owner[row]] if passages.ordinal[row] else ""

    lengths = np.fromiter((len(texts[row]) + len(front(row)) for row in rows.tolist()), dtype=np.int64,
                          count=len(rows))
    todo = rows[np.argsort(lengths, kind="stable")]
    for start in range(0, len(todo), EMBED_CHUNK):
        progress("embedding", start, len(todo))
        part = todo[start : start + EMBED_CHUNK]
        vectors[part] = embedder.embed([f"{h}\n{texts[row]}" if (h := front(row)) else texts[row]
                                        for row in part.tolist()])
    progress("embedding", len(todo), len(todo))


class _Blocks(Sequence[list[str]]):
    """Each document's title (parsed for its entities) and paragraphs, made when `analyse` hands it to a worker:
    made all at once, they held the collection's text a second time."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, index: int) -> list[str]:
        from .text import MAX_CHARS, paragraphs

        doc = self.documents[index]
        # the title as one block, as long as spaCy takes one (the record keeps it whole): a catalog's or a
        # note heading's title can be any length
        return [doc.title[:MAX_CHARS], *paragraphs(doc.text)]


def _gazetteer(documents: list[Document], talks: list[Talk], notes: list[Note], extracted: _Extracted,
               embedder: Embedder, spill: Path) -> tuple[facets.Gazetteer, list[facets.Source]]:
    """The tool gazetteer, built from the whole collection, and each document as the facets see it.

    The gazetteer is built in a forked process: it counts every term of the collection, and those counts, freed
    around the few tools kept, stayed with this process (`benchmarks/memory.py`: the step rose 74 MB on 20,000
    catalog files, 3 MB forked). Its input is written to `spill` first and read back there (`_SpilledSources`).
    """
    from .text import dictionary

    by_id = {t.id: t for t in talks} | {n.id: n for n in notes}
    sources = []
    for doc in documents:
        record = by_id[doc.id]
        event = record.event if isinstance(record, Talk) else None
        sources.append(facets.Source(doc.title, doc.text, event, doc.english, tuple(record.tags)))
    spilled = _SpilledSources.write(spill / "sources", sources, (extracted[pos] for pos in range(len(documents))))
    events: dict[str, set] = {}
    for talk in talks:
        events.setdefault(talk.event, set()).update((talk.event, talk.event_title))

    def build() -> facets.Gazetteer:
        return facets.gazetteer(
            spilled, spilled.mentions(), known=facets.bundled(), events=events,
            common=embedder.tokenizer.words(), dictionary=dictionary(),  # type: ignore[attr-defined]
            people=[s for t in talks for s in t.speakers])

    return _forked(build), sources


class _SpilledSources(Iterable[facets.Source]):
    """The gazetteer's sources and each one's entities, read back from a file each time they are iterated.

    The forked process that builds the gazetteer reads them here rather than from the objects it inherited:
    reading an object writes its reference count, so the kernel copied every page holding a document's text into
    the child (`benchmarks/memory.py`: the gazetteer's step was the peak of the build with its children).
    """

    def __init__(self, stem: Path) -> None:
        self.stem = stem

    @classmethod
    def write(cls, stem: Path, sources: Iterable[facets.Source], mentions: Iterable[list[Mention]]) -> _SpilledSources:
        store.Records.write(stem, (json.dumps([s.title, s.text, s.event, s.english, s.tags], ensure_ascii=False)
                                   for s in sources))
        store.Records.write(cls._mentions_stem(stem), (json.dumps(m, ensure_ascii=False) for m in mentions))
        return cls(stem)

    @staticmethod
    def _mentions_stem(stem: Path) -> Path:
        """Entities apart from the texts: the pass that counts their labels does not parse every text again."""
        return stem.with_name(stem.name + "-mentions")

    def __iter__(self) -> Iterator[facets.Source]:
        for title, text, event, english, tags in map(json.loads, store.Records.read(self.stem)):
            yield facets.Source(title, text, event, english, tuple(tags))

    def mentions(self) -> Iterator[list[Mention]]:
        for mentions in map(json.loads, store.Records.read(self._mentions_stem(self.stem))):
            yield [Mention(*m) for m in mentions]


def _forked(function: Callable[[], T]) -> T:
    """`function()` run in a forked child process, its result sent back: what the work allocates and frees on the
    way is given back to the system when the child ends, rather than held by this process's allocator."""
    import multiprocessing

    from .text import frozen_for_fork

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send((True, function()))
        except BaseException as exc:  # noqa: BLE001 - raised again in the parent
            send.send((False, exc))

    process = context.Process(target=child, daemon=True)
    with frozen_for_fork():
        process.start()
    send.close()
    try:
        done, value = receive.recv()
    except EOFError:
        process.join()
        raise TalksearchError(f"{function.__name__}: its worker process died (exit code {process.exitcode})") from None
    finally:
        receive.close()
    process.join()
    if not done:
        raise value
    return value


def document_means(count: int, owner: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each of `count` documents' whole text as one vector: the normalised mean of its passages' vectors (`owner`:
    each passage's document)."""
    import numpy as np

    means = np.zeros((count, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    np.add.at(means, owner, vectors)
    return means / np.clip(np.linalg.norm(means, axis=1, keepdims=True), 1e-12, None)


def header(title: str, embedder: Embedder) -> str:
    """The title, cut to HEADER_TOKENS word pieces, repeated in front of each passage."""
    from .text import MAX_CHARS

    title = title[:MAX_CHARS]  # far more than HEADER_TOKENS pieces: a title can be megabytes, only its start is needed
    offsets = embedder.tokenizer.offsets(title)  # type: ignore[attr-defined]
    if len(offsets) <= HEADER_TOKENS:
        return title
    return title[: offsets[HEADER_TOKENS][0]].rstrip()


def _record_hash(record, talk_id: str | None = None) -> str:
    from dataclasses import asdict

    payload = json.dumps([asdict(record), talk_id], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


_HIT_FIELDS = """
    select d.pos, t.id, 'talk' as kind, t.title, t.speakers, t.event_title, t.date, t.url, t.group_id as "group",
        (select list({'id': r.id, 'event': r.event_title, 'date': r.date, 'url': r.url} order by r.date, r.id)
         from talks r where r.group_id = t.group_id) as recordings,
        (select list(s.source order by s.format, s.source) from talk_sources s where s.talk_id = t.id) as sources
    from talks t join documents d on d.id = t.id
"""
_NOTE_FIELDS = """
    select d.pos, n.id, 'note' as kind, n.title, n.file, n.path, n.line_start, n.context, n.urls, t.speakers,
        t.event_title, t.date, n.id as "group",
        (select list({'text': o.text, 'done': o.done, 'line': o.line} order by o.line) from todos o
         where o.note_id = n.id) as todos
    from notes n join documents d on d.id = n.id left join talks t on t.id = n.talk_id
"""


def _write_passages(writer: store.Writer, documents: list[Document], passages: Passages) -> None:
    """The passages' table, and their owners for reading by row without DuckDB (row = passages.row; their texts
    are written already)."""
    import numpy as np

    texts = store.Records.open(writer.path / store.PASSAGE_TEXTS)
    _insert(writer, "passages", ({"row": row, "doc_id": documents[pos].id, "kind": documents[pos].kind,
                               "ordinal": ordinal, "text": texts[row]}
                              for row, (pos, ordinal) in enumerate(zip(passages.owner.tolist(),
                                                                       passages.ordinal.tolist(), strict=True))))
    np.save(writer.path / store.PASSAGE_DOCS, passages.owner)


def _write_stored(writer: store.Writer, documents: list[Document]) -> None:
    """What a result shows of each document, ids, `related`'s words and non-English flags, for reading by row without
    DuckDB (`store.Records`, `.npy`); row = documents.pos."""
    import numpy as np

    path = writer.path
    with writer.database() as con, store.RecordsWriter(path / store.HITS) as out:
        # talks, then notes, each in documents.pos order: the order of `documents`; recordings, sources and to-dos
        # are joins, gathered by DuckDB, and fetched a slice at a time
        for sql in (_HIT_FIELDS, _NOTE_FIELDS):
            cursor = con.execute(f"{sql} order by d.pos")
            names = [d[0] for d in cursor.description][1:]
            while rows := cursor.fetchmany(INSERT_ROWS):
                for pos, *row in rows:
                    if pos != len(out):
                        raise AssertionError(f"result fields of documents.pos {pos} in row {len(out)}")
                    out.append(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=str))
    (path / store.DOCUMENT_IDS).write_text(json.dumps([[d.id for d in documents], [d.kind for d in documents]]),
                                           encoding="utf-8")
    store.Records.write(path / store.SEEDS, (f"{d.title}\n{d.text}"[:RELATED_QUERY_CHARS] for d in documents))
    np.save(path / store.FOREIGN, np.asarray([not d.english for d in documents], dtype=bool))


def _write_metadata(writer: store.Writer, talks, notes, links, documents, results, sources, hashes) -> None:
    from .normalize import fold

    now = datetime.now(UTC).isoformat(timespec="seconds")
    doc_hash = {d.id: d.hash for d in documents}
    insert = partial(_insert, writer)

    insert("sources", [{
        "path": key, "format": fmt, "files": results[key].files, "talks": len(results[key].talks),
        "notes": len(results[key].notes), "skipped": len(results[key].skipped),
        "indexed": now,
    } for key, fmt in sources.items()])
    insert("skipped", [{"path": s.path, "reason": s.reason} for r in results.values() for s in r.skipped])
    insert("talks", ({
        "id": t.id, "title": t.title, "speakers": list(t.speakers), "event": t.event, "event_title": t.event_title,
        "date": t.date, "year": int(t.date[:4]) if t.date else None, "room": t.room, "language": t.language,
        "tags": list(t.tags), "url": t.url, "urls": list(t.urls), "related_urls": list(t.related_urls),
        "text": t.text, "license": t.license, "group_id": t.group_id, "doc_hash": doc_hash[t.id],
        "event_folded": fold(f"{t.event} {t.event_title}"),
        "record_hash": hashes[t.id],
    } for t in talks))
    insert("talk_sources", ({
        "talk_id": t.id, "record_id": r.id, "source": r.source, "format": r.format.value, "title": r.title,
        "speakers": list(r.speakers), "event_title": r.event_title, "date": r.date, "room": r.room,
        "language": r.language, "urls": list(r.urls),
    } for t in talks for r in t.records))
    insert("speakers", ({"talk_id": t.id, "name": s, "folded": fold(s)} for t in talks for s in t.speakers))
    events: dict[str, dict] = {}
    for t in talks:
        events.setdefault(t.event, {"slug": t.event, "title": t.event_title, "talks": 0})["talks"] += 1
    insert("events", list(events.values()))
    insert("notes", ({
        "id": n.id, "title": n.title, "file": n.file, "path": n.path, "source": _source_of(n.path, sources),
        "line_start": n.line_start, "line_end": n.line_end, "context": n.context, "text": n.text,
        "tags": list(n.tags), "urls": list(n.urls), "speakers": list(n.speakers), "event": n.event, "date": n.date,
        "links": list(n.links), "talk_id": links.get(n.id), "doc_hash": doc_hash[n.id],
        "context_folded": fold(f"{n.context} {n.event or ''}"), "speakers_folded": " | ".join(fold(s) for s in n.speakers),
        "record_hash": hashes[n.id],
    } for n in notes))
    insert("todos", ({"note_id": n.id, "line": t.line, "text": t.text, "done": t.done} for n in notes for t in n.todos))
    insert("documents", ({"pos": i, "id": d.id, "kind": d.kind, "folded": f" {fold(lexical.document_text(d))} "}
                         for i, d in enumerate(documents)))


def _write_mentions(writer: store.Writer, documents: list[Document], sources: list[facets.Source],
                    gazetteer: facets.Gazetteer, extracted: _Extracted, hashes: dict[str, str],
                    same_tools: _Previous | None) -> None:
    """The facets (`mentions`: found one document at a time as they are written), and each content hash's raw
    entities and phrases for the next run (`extracted`).

    A document's mentions follow from the gazetteer, its title, text and tags, and its entities and phrases. When
    the gazetteer is the live index's (`same_tools`: that index), a document whose record and content are as that
    index has them keeps its rows, copied in DuckDB: a refresh matches only what changed (the tools of the whole
    collection took ~9 s)."""
    columns = ["facet", "label", "key", "term", "count"]
    copied = _copy_mentions(writer, documents, hashes, same_tools) if same_tools else set()
    rows = ((d.id, d.kind, *m) for pos, (d, source) in enumerate(zip(documents, sources, strict=True))
            if d.id not in copied for m in facets.mentions(gazetteer, source.whole, source.tags, extracted[pos]))
    _insert(writer, "mentions", rows, ["doc_id", "kind", *columns])
    first: dict[str, int] = {}  # content hash -> a document with it
    for pos, doc in enumerate(documents):
        first.setdefault(doc.hash, pos)
    _insert(writer, "extracted", ((h, *m) for h in sorted(first) for m in extracted[first[h]]), ["doc_hash", *columns])
    facets.key.cache_clear()  # every word of the collection by now: tens of MB, not needed again


def _copy_mentions(writer: store.Writer, documents: list[Document], hashes: dict[str, str], old: _Previous) -> set[str]:
    """Copies the live index's mentions of every document whose record and content hashes it has too; their ids."""
    import pandas as pd

    wanted = pd.DataFrame({"id": [d.id for d in documents], "doc_hash": [d.hash for d in documents],  # noqa: F841
                           "record_hash": [hashes[d.id] for d in documents]})
    with writer.database() as con:
        con.execute("attach ? as old (read_only)", [str(old.generation / store.DATABASE)])
        try:
            con.execute("create temp table kept as select w.id from wanted w join (select id, doc_hash, record_hash "
                        "from old.talks union all select id, doc_hash, record_hash from old.notes) o "
                        "on o.id = w.id and o.doc_hash = w.doc_hash and o.record_hash = w.record_hash")
            con.execute("insert into mentions select m.* from old.mentions m semi join kept k on k.id = m.doc_id")
            return {doc_id for doc_id, in con.execute("select id from kept").fetchall()}
        finally:
            con.execute("detach old")


def _insert(writer: store.Writer, table: str, rows: Iterable, columns: list[str] | None = None) -> None:
    """Append rows (dicts, or tuples in `columns` order) to a DuckDB table, INSERT_ROWS at a time (a frame of every
    row at once held the whole collection twice more: Python rows, then pandas), through a connection of its own."""
    import pandas as pd

    rows = iter(rows)
    with writer.database() as con:
        while chunk := list(islice(rows, INSERT_ROWS)):
            frame = pd.DataFrame(chunk, columns=columns)  # noqa: F841 - read by DuckDB's replacement scan
            con.execute(f"insert into {table} by name select * from frame")


def _source_of(path: str, sources: dict) -> str | None:
    return next((key for key in sources if path == key or path.startswith(key.rstrip("/") + "/")), None)
