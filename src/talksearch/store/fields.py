"""Stored fields: what a query reads by row without DuckDB, written from the tables and the documents.

A plain query reads ten rows from memory maps and never opens DuckDB, which scans whole columns even for ten ids
(5-25 ms on the pyvideo corpus): what a result shows of each document (HITS), every document's id and kind
(DOCUMENT_IDS), the words `related` looks for (SEEDS), the non-English flags (FOREIGN), each passage's document
(PASSAGE_DOCS), and the BM25 arrays (LEXICAL), read with NumPy only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..lexical import Index
from ..records import Document, Passages
from . import tables
from .files import Records, RecordsWriter, unshared
from .generations import DOCUMENT_IDS, FOREIGN, HITS, HOMES, LEXICAL, PASSAGE_DOCS, PASSAGE_SPANS, SEEDS, Writer

if TYPE_CHECKING:
    import numpy as np

    from ..lexical import Built

SEED_CHARS = 2000  # how much of a document's title and text is stored as the words `related` looks for
STOPWORDS = "stopwords.json"
VOCAB_LINES = "vocab.txt"  # term i on line i

_HIT_FIELDS = """
    select d.pos, t.id, 'talk' as kind, t.title, t.speakers, t.event_title, t.date, t.url, t.group_id as "group",
        (select list({'id': r.id, 'event': r.event_title, 'date': r.date, 'url': r.url} order by r.date, r.id)
         from talks r where r.group_id = t.group_id) as recordings,
        (select list(s.source order by s.format, s.source) from talk_sources s where s.talk_id = t.id) as sources
    from talks t join documents d on d.id = t.id
"""
_NOTE_FIELDS = """
    select d.pos, n.id, 'note' as kind, n.title, n.file, n.path, n.line_start, n.context, n.urls, n.sections, t.speakers,
        t.event_title, coalesce(t.date, n.date) as date, n.talk_id as talk, n.id as "group",
        (select list({'text': o.text, 'done': o.done, 'line': o.line} order by o.line) from todos o
         where o.note_id = n.id) as todos
    from notes n join documents d on d.id = n.id left join talks t on t.id = n.talk_id
"""
_TRANSCRIPT_FIELDS = """
    select d.pos, x.id, 'transcript' as kind, coalesce(t.title, x.title) as title, x.file, x.path, x.video_url as url,
        x.language, x.duration, x.talk_id as talk, coalesce(t.group_id, x.id) as "group", t.speakers, t.event_title,
        t.date
    from transcripts x join documents d on d.id = x.id left join talks t on t.id = x.talk_id
"""


def write_passage_owners(writer: Writer, passages: Passages) -> None:
    """Each passage's document (documents.pos), by row."""
    import numpy as np

    np.save(unshared(writer.path / PASSAGE_DOCS), passages.owner)


def write_windows(writer: Writer, documents: list[Document], passages: Passages, *, first: int) -> list[Document]:
    """Each passage's start and end in seconds (PASSAGE_SPANS), and the transcripts' passages (the documents from
    `first` on) as documents for their BM25 index (LEXICAL_WINDOWS): row i is the i-th of them."""
    import numpy as np

    np.save(unshared(writer.path / PASSAGE_SPANS), np.stack([passages.start, passages.end], axis=1).astype(np.float32))
    rows = np.flatnonzero(passages.owner >= first)
    if rows.size and rows[0] != len(passages.owner) - rows.size:
        raise AssertionError("transcripts' passages are not the last ones")
    texts = writer.read_passage_texts()
    return [Document(documents[pos].id, documents[pos].kind, "", "", texts[row])
            for row, pos in zip(rows.tolist(), passages.owner[rows].tolist(), strict=True)]


def write_documents(writer: Writer, documents: list[Document], *, homes: np.ndarray) -> None:
    """What a result shows of each document (from the tables, written already), ids, `related`'s words,
    non-English flags, and where each shows (`homes`: a linked transcript's talk); row = documents.pos."""
    import numpy as np

    path = writer.path
    with tables.database(writer) as con, RecordsWriter(path / HITS) as out:
        # talks, then notes, each in documents.pos order: the order of `documents`; recordings, sources and to-dos
        # are joins, gathered by DuckDB, and fetched a slice at a time
        for sql in (_HIT_FIELDS, _NOTE_FIELDS, _TRANSCRIPT_FIELDS):
            cursor = con.execute(f"{sql} order by d.pos")
            names = [d[0] for d in cursor.description][1:]
            while rows := cursor.fetchmany(tables.INSERT_ROWS):
                for pos, *row in rows:
                    if pos != len(out):
                        raise AssertionError(f"result fields of documents.pos {pos} in row {len(out)}")
                    out.append(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=str))
    unshared(path / DOCUMENT_IDS).write_text(json.dumps([[d.id for d in documents], [d.kind for d in documents]]),
                                             encoding="utf-8")
    Records.write(path / SEEDS, (f"{d.title}\n{d.text}"[:SEED_CHARS] for d in documents))
    np.save(unshared(path / FOREIGN), np.asarray([not d.english for d in documents], dtype=bool))
    np.save(unshared(path / HOMES), homes)


def write_lexical(writer: Writer, built: Built, name: str = LEXICAL) -> None:
    """A BM25 index, in the generation's folder `name` (`save_lexical`)."""
    save_lexical(writer.path / name, built)


def save_lexical(directory: Path, built: Built) -> None:
    """The BM25 index as bm25s saves it, its stop words, and its vocabulary as lines in id order (splitting text
    loads that several times faster than JSON)."""
    built.model.save(str(directory), show_progress=False)
    (directory / STOPWORDS).write_text(json.dumps(sorted(built.stopwords)))
    terms = sorted(built.model.vocab_dict, key=built.model.vocab_dict.__getitem__)
    (directory / VOCAB_LINES).write_text("\n".join(terms))


def read_lexical(directory: Path) -> Index:
    """A saved BM25 index's arrays, memory-mapped, with NumPy only (no bm25s, numba or scipy on the query path)."""
    import numpy as np

    params = json.loads((directory / "params.index.json").read_text())
    terms = (directory / VOCAB_LINES).read_text().split("\n")
    return Index(
        data=np.load(directory / "data.csc.index.npy", mmap_mode="r"),
        indices=np.load(directory / "indices.csc.index.npy", mmap_mode="r"),
        indptr=np.load(directory / "indptr.csc.index.npy", mmap_mode="r"),
        vocab=dict(zip(terms, range(len(terms)), strict=True)),
        stopwords=frozenset(json.loads((directory / STOPWORDS).read_text())),
        num_docs=int(params["num_docs"]),
    )
