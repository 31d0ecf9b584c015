"""`index`: read sources, merge and link, split into passages, embed, and hand it all to the store.

Every run rebuilds the whole index into a new generation, but reuses the
passages and vectors of every document whose content hash is unchanged, so a
re-run on unchanged input embeds nothing and gives the same result as a
rebuild from scratch. `store` writes every table and file, and swaps the new
generation in.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from . import facets, lexical, store
from .embed import Embedder, Weights
from .errors import InputError, ModelError, NoSourcesError, SourceMissingError, TalksearchError, UsageError
from .link import link_notes, merge_talks
from .passages import Extracted, document_means, split_and_embed
from .records import Document, Format, Mention, Note, Progress, ReadResult, Skipped, Talk, Transcript, choice
from .transcripts import choose, link_transcripts, transcript_document, video_url

T = TypeVar("T")


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
    unlinked: int = 0  # transcripts indexed on their own: no talk known to the index is theirs
    # what was left out of transcripts: cues by why ("repeated", "punctuation", "sound"), and "duplicates" (files)
    dropped: dict[str, int] = field(default_factory=dict)


def talk_document(talk: Talk) -> Document:
    people = ", ".join(talk.speakers)
    meta = " — ".join(part for part in (talk.title, people, talk.event_title) if part)
    return Document(talk.id, "talk", talk.title, meta, talk.text, talk.language in (None, "eng"))


def note_document(note: Note, talk: Talk | None) -> Document:
    about = f" — {talk.title}" if talk else ""
    meta = f"{note.title}{about}" + (f" — {note.context}" if note.context else "")
    return Document(note.id, "note", note.title, meta, note.text)


@dataclass(frozen=True)
class _Content:
    """What a run read and linked: everything the new generation holds but passages, vectors and facets."""

    sources: dict[str, str | None]  # source -> its forced format, or None
    results: dict[str, ReadResult]  # source -> what reading it gave
    talks: list[Talk]
    notes: list[Note]
    links: dict[str, str]  # note id -> talk id
    hashes: dict[str, str]  # talk, note or transcript id -> record hash (a note's with its link)
    skipped: tuple[Skipped, ...]
    files: int  # as each source counted them, for `sources`
    transcripts: list[Transcript] = field(default_factory=list)  # the ones indexed (`transcripts.choose`)
    transcript_links: dict[str, str] = field(default_factory=dict)  # transcript id -> talk id
    transcript_files: dict[str, list[str]] = field(default_factory=dict)  # transcript id -> the files it stands for

    @cached_property
    def _talks(self) -> dict[str, Talk]:
        return {t.id: t for t in self.talks}

    def documents(self) -> list[Document]:
        """Talks, then notes, then transcripts: the order of `documents.pos`."""
        talk = self._talks.get
        return ([talk_document(t) for t in self.talks]
                + [note_document(n, talk(self.links.get(n.id))) for n in self.notes]
                + [transcript_document(t, talk(self.transcript_links.get(t.id))) for t in self.transcripts])

    def video_urls(self) -> dict[str, str | None]:
        """Where each indexed transcript's video plays (`transcripts.video_url`), by transcript id."""
        return {t.id: video_url(t, self._talks.get(self.transcript_links.get(t.id))) for t in self.transcripts}

    @property
    def texts(self) -> int:
        """How many documents are talks and notes (the first ones), the rest transcripts."""
        return len(self.talks) + len(self.notes)


def run(
    root: str | os.PathLike | None,
    paths: list[Path],
    *,
    embedder_factory: Callable[[Weights], Embedder],
    remove: list[Path] = (),
    rebuild: bool = False,
    format: Format | str | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Add or refresh `paths` (or every known source), drop `remove`, and swap in the new index at `root` (None:
    $TALKSEARCH_INDEX, else ./indexes).

    `embedder_factory` gets the weights the live index was embedded with (the published ones after --rebuild),
    which new passages must be embedded with too. A `format` forced on `paths` is remembered with each of them
    and kept by later runs. A known source that has vanished or yields nothing is refused (`SourceMissingError`),
    never taken as the deletion of its talks and notes: only `remove` drops a source, the last one too (an index
    with no sources and nothing to find).
    """
    from .readers import read_path

    root = store.resolve_root(root)
    forced = _format_value(format, paths)
    started = time.perf_counter()
    progress = timer = _StageTimer(progress)
    with store.locked(root):
        progress("previous", 0, 1)
        # --rebuild re-reads and re-embeds every known source (and PATHs); it reuses nothing
        old = store.read_previous(root, sources_only=rebuild)
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
                    if old.yielded.get(key) and not (result.talks or result.notes or result.transcripts)}:
            raise SourceMissingError(_missing(gone))
        progress("linking", 0, 1)
        skipped = tuple(s for r in results.values() for s in r.skipped)
        talks = merge_talks(t for r in results.values() for t in r.talks)
        notes = distinct_notes(r.notes for r in results.values())
        # the PATHs given on this run, or on a plain refresh every known source, must yield something
        checked = [str(p.resolve()) for p in paths] or list(sources)
        if checked and not any(results[key].talks or results[key].notes or results[key].transcripts for key in checked):
            failed = [s for key in checked for s in results[key].skipped]
            detail = f"; {failed[0].path}: {failed[0].reason}" if failed else ""
            raise NoSourcesError(f"nothing could be read from {', '.join(checked)} "
                                 f"({len(failed)} files skipped{detail}); the index is unchanged")
        links = link_notes(notes, talks)
        read = [t for r in results.values() for t in r.transcripts]
        transcript_links = link_transcripts(read, talks)
        transcripts, transcript_files = choose(read, transcript_links)
        new_talks = {t.id: _record_hash(t) for t in talks}
        new_notes = {n.id: _record_hash(n, links.get(n.id)) for n in notes}
        new_transcripts = {t.id: _record_hash(t, transcript_links.get(t.id), transcript_files[t.id])
                           for t in transcripts}
        if not rebuild and old.same(sources, new_talks, new_notes, skipped, new_transcripts):
            # in sync already: every record, link and skipped file as the live index has them
            store.remove_stale(root)
            count, embedded = old.passage_count, 0
        else:
            content = _Content(sources=sources, results=results, talks=talks, notes=notes, links=links,
                               hashes=new_talks | new_notes | new_transcripts, skipped=skipped,
                               files=sum(r.files for r in results.values()), transcripts=transcripts,
                               transcript_links=transcript_links, transcript_files=transcript_files)
            count, embedded = _write(root, old, content, embedder_factory=embedder_factory, progress=progress)
        progress("writing", 1, 1)
        timer.stop()

    added, updated, removed = {}, {}, {}
    for kind, new, before in (("talks", new_talks, old.talks), ("notes", new_notes, old.notes),
                              ("transcripts", new_transcripts, old.transcripts)):
        added[kind] = len(new.keys() - before.keys())
        removed[kind] = len(before.keys() - new.keys())
        updated[kind] = sum(1 for k in new.keys() & before.keys() if new[k] != before[k])
    # every file looked at is accounted for: changed, unchanged or skipped (with its reason)
    files_of = ({t.id: {r.source for r in t.records} for t in talks} | {n.id: {n.path} for n in notes}
                | {t.id: set(transcript_files[t.id]) for t in transcripts})
    changed = {path for new, before in ((new_talks, old.talks), (new_notes, old.notes),
                                        (new_transcripts, old.transcripts))
               for doc_id, digest in new.items() if before.get(doc_id) != digest for path in files_of[doc_id]}
    read_files = {path for paths in files_of.values() for path in paths}
    return Summary(added=added, updated=updated, removed=removed, files=len(read_files | {s.path for s in skipped}),
                   skipped=skipped, passages=count, embedded=embedded, seconds=time.perf_counter() - started,
                   sources=tuple(sources), stages=dict(timer.seconds), changed=len(changed),
                   unchanged=len(read_files - changed), warnings=tuple(w for r in results.values() for w in r.warnings),
                   unlinked=sum(1 for t in transcripts if t.id not in transcript_links),
                   dropped=_dropped(transcripts, transcript_files))


def _dropped(transcripts: list[Transcript], files: dict[str, list[str]]) -> dict[str, int]:
    """What the indexed transcripts left out: cues by why (repeated, punctuation), and the other files of their
    talks (a reviewed copy's original)."""
    dropped: dict[str, int] = {}
    for transcript in transcripts:
        for what, count in transcript.dropped:
            dropped[what] = dropped.get(what, 0) + count
    if duplicates := sum(len(paths) - 1 for paths in files.values()):
        dropped["duplicates"] = duplicates
    return dropped


def _write(root: Path, old: store.Previous, content: _Content, *, embedder_factory: Callable[[Weights], Embedder],
           progress: _StageTimer) -> tuple[int, int]:
    """Split, embed what is new, extract facets, and have the store write and swap in a new generation:
    (passages, embedded).

    Each part is written as soon as it is whole and then let go, the largest first (vectors, passages, facets), and
    DuckDB is closed after each table (`store.tables`): an open connection keeps every row written through it in
    memory. Passage texts and entities go to files as spaCy's workers return them (`passages.split_and_embed`).
    """
    documents = content.documents()
    embedder = embedder_factory(old.weights)
    check = embedder.check
    if old.weights.adapted and check.sha256 != old.weights.sha256:
        raise ModelError(f"{check.path}: not the adapted weights this index was embedded with "
                         f"({old.weights.sha256[:12]}…)")
    with store.Writer(root) as writer:
        if old.weights.adapted:  # the adapted encoder goes on with the index it embeds
            writer.keep(old.weights.directory, store.ENCODER)
        passages, vectors, extracted, embedded = split_and_embed(documents, old, embedder, progress, writer)
        progress("writing", 0, 1)
        counts = {"talks": len(content.talks), "notes": len(content.notes), "transcripts": len(content.transcripts),
                  "passages": len(passages.owner), "files": content.files, "skipped": len(content.skipped)}
        writer.write_vectors(vectors)
        writer.write_document_vectors(document_means(len(documents), passages.owner, vectors))
        del vectors
        store.write_passages(writer, documents, passages)
        store.write_passage_owners(writer, passages)
        windows = store.write_windows(writer, documents, passages, first=content.texts)
        del passages
        progress("facets", 0, 1)
        texts = documents[: content.texts]  # a transcript's words are not looked through for facets
        gazetteer, facet_sources = _gazetteer(texts, content, extracted, embedder, writer.scratch)
        digest = gazetteer.digest()
        _write_mentions(writer, texts, facet_sources, gazetteer, extracted, content.hashes,
                        old.generation if old.gazetteer == digest else None)
        del extracted, facet_sources, gazetteer
        progress("writing", 0, 1)
        store.write_metadata(writer, talks=content.talks, notes=content.notes, links=content.links,
                             documents=documents, results=content.results, sources=content.sources,
                             hashes=content.hashes)
        store.write_transcripts(writer, content.transcripts, links=content.transcript_links,
                                files=content.transcript_files, urls=content.video_urls(), documents=documents,
                                sources=content.sources, hashes=content.hashes)
        store.write_documents(writer, documents, homes=_homes(documents, content.transcript_links))
        # last: what it imports (bm25s, scipy) and allocates stays held, and it needs only the documents
        store.write_lexical(writer, lexical.build(texts))
        store.write_lexical(writer, lexical.build(windows), store.LEXICAL_WINDOWS)
        writer.commit({
            "model": embedder.name,
            "dimension": embedder.dimension,
            "weights_sha256": check.sha256,
            "weights_check": check.__dict__,
            "precision": embedder.precision,
            "counts": counts,
            "gazetteer": digest,
            **({"adapted": old.weights.adapted} if old.weights.adapted else {}),
        })
    return counts["passages"], embedded


def _homes(documents: list[Document], links: dict[str, str]):
    """Each document's position as results show it: its own, or a linked transcript's talk's."""
    import numpy as np

    position = {d.id: pos for pos, d in enumerate(documents)}
    return np.asarray([position.get(links.get(d.id), pos) for pos, d in enumerate(documents)], dtype=np.int64)


def _write_mentions(writer: store.Writer, documents: list[Document], sources: list[facets.Source],
                    gazetteer: facets.Gazetteer, extracted: Extracted, hashes: dict[str, str],
                    same_tools: Path | None) -> None:
    """The facets (`mentions`: found one document at a time as they are written), and each content hash's raw
    entities and phrases for the next run (`extracted`).

    A document's mentions follow from the gazetteer, its title, text and tags, and its entities and phrases. When
    the gazetteer is the live index's (`same_tools`: that generation), a document whose record and content are as
    that index has them keeps its rows, copied by the store: a refresh matches only what changed (the tools of the
    whole collection took ~9 s)."""
    copied = store.copy_mentions(writer, documents, hashes, same_tools) if same_tools else set()
    rows = ((d.id, d.kind, *m) for pos, (d, source) in enumerate(zip(documents, sources, strict=True))
            if d.id not in copied for m in facets.mentions(gazetteer, source.whole, source.tags, extracted[pos]))
    first: dict[str, int] = {}  # content hash -> a document with it
    for pos, doc in enumerate(documents):
        first.setdefault(doc.hash, pos)
    store.write_mentions(writer, rows, ((h, *m) for h in sorted(first) for m in extracted[first[h]]))
    facets.key.cache_clear()  # every word of the collection by now: tens of MB, not needed again


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
    return choice(Format, format, "--format").value


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


def _gazetteer(documents: list[Document], content: _Content, extracted: Extracted, embedder: Embedder,
               spill: Path) -> tuple[facets.Gazetteer, list[facets.Source]]:
    """The tool gazetteer, built from the whole collection, and each document as the facets see it.

    The gazetteer is built in a forked process: it counts every term of the collection, and those counts, freed
    around the few tools kept, stayed with this process (`benchmarks/memory.py`: the step rose 74 MB on 20,000
    catalog files, 3 MB forked). Its input is written to `spill` first and read back there (`_SpilledSources`).
    """
    from .text import dictionary

    talks = content.talks
    by_id = {t.id: t for t in talks} | {n.id: n for n in content.notes}
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
            common=embedder.tokenizer.words(), dictionary=dictionary(),
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


def _record_hash(record, talk_id: str | None = None, files: list[str] | None = None) -> str:
    """A record's hash, with the talk it is linked to (a note's, a transcript's) and the files it stands for."""
    from dataclasses import asdict

    payload = json.dumps([asdict(record), talk_id, *([files] if files else [])], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


