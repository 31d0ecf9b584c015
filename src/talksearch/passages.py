"""Documents into passages: each new document split into sentences by spaCy (in worker processes, with its
entities and phrases) and packed into passages that fit the encoder window with the title in front, or, when the
live index has a document with the same content hash, its passages, vectors and entities reused; then every new
passage embedded.

What spaCy's workers return goes to files in the generation's scratch folder as it comes (`split_and_embed`).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from . import facets, store
from .embed import MAX_TOKENS, Embedder
from .records import Cue, Document, Kind, Mention, Passages, Progress
from .text import MAX_CHARS

if TYPE_CHECKING:
    import numpy as np

NAN = float("nan")  # the start and end of a passage that is not a transcript's
EMBED_CHUNK = 512  # passages handed to the embedder per call (progress granularity)
HEADER_TOKENS = 64  # at most this much of a title is repeated in front of each passage


class Stages(Protocol):
    """Progress, and the time of two interleaved stages told apart (`build._StageTimer`)."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...

    def divide(self, stage: str, part: str, share: float) -> None: ...


class Extracted:
    """Each document's entities and phrases by documents.pos: this run's read from the scratch file when asked for,
    else the live index's."""

    def __init__(self, documents: list[Document], fresh: dict[str, int], rows: np.ndarray, records: store.Records,
                 old: store.Previous) -> None:
        self.documents = documents
        self.fresh = fresh  # content hash -> its number among the documents split in this run
        self.rows = rows  # that number -> its row in `records`
        self.records = records
        self.old = old

    def __getitem__(self, pos: int) -> list[Mention]:
        if self.documents[pos].kind == Kind.TRANSCRIPT:  # not looked through for facets
            return []
        doc_hash = self.documents[pos].hash
        number = self.fresh.get(doc_hash)
        if number is None:
            return self.old.extracted[doc_hash]
        return [Mention(*m) for m in json.loads(self.records[int(self.rows[number])])]


def split_and_embed(documents: list[Document], old: store.Previous, embedder: Embedder, progress: Stages,
                    writer: store.Writer) -> tuple[Passages, np.ndarray, Extracted, int]:
    """Every passage (texts written into `writer`'s generation), their vectors, each document's entities and phrases,
    and how many passages were embedded: reused by content hash, else split, extracted and embedded.

    Chunks and entities go to files in the writer's scratch folder as spaCy's workers return them: kept as objects, ~25
    small ones per document scattered among the workers' passing results, they held the allocator's arenas after
    the results were gone (pymalloc's arenas ended far larger than the live objects in them).
    """
    import numpy as np

    from .text import analyse, load_sentencizer, pack

    fresh: dict[str, int] = {}  # content hash -> its number among the documents to split
    todo_docs: list[Document] = []
    cut: dict[str, list[Cue]] = {}  # a new transcript's content hash -> its windows
    for doc in documents:
        if doc.kind == Kind.TRANSCRIPT:
            if not old.reuses(doc.hash) and doc.hash not in cut:
                cut[doc.hash] = windows(doc.cues, embedder)
        elif not old.reuses(doc.hash) and doc.hash not in fresh:
            fresh[doc.hash] = len(todo_docs)
            todo_docs.append(doc)
    spill = writer.scratch
    split = np.zeros((len(todo_docs), 2), dtype=np.int64)  # by number: first row in the chunk spill, chunks
    rows = np.zeros(len(todo_docs), dtype=np.int64)  # by number: row in the entity spill
    with store.RecordsWriter(spill / "chunks") as chunks, store.RecordsWriter(spill / "extracted") as entities:
        if todo_docs:
            progress("splitting", 0, len(todo_docs))
            tokenizer = embedder.tokenizer
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
    owner, ordinals, copied, starts, ends = array("q"), array("q"), array("q"), array("d"), array("d")
    headers = [""] * len(documents)  # the title in front of each chunk to embed
    with writer.passage_texts() as out:
        def add(pos: int, ordinal: int, row: int, text: str, start: float = NAN, end: float = NAN) -> None:
            owner.append(pos)
            ordinals.append(ordinal)
            copied.append(row)
            starts.append(start)
            ends.append(end)
            out.append(text)

        for pos, doc in enumerate(documents):
            if doc.hash in cut:  # a transcript's windows, embedded as they are: what was said, without a title
                for ordinal, window in enumerate(cut[doc.hash], start=1):
                    add(pos, ordinal, -1, window.text, window.start, window.end)
                continue
            if doc.hash not in fresh:
                for row, ordinal, text, start, end in old.passages[doc.hash]:
                    add(pos, ordinal, row, text, start, end)
                continue
            first, count = (int(x) for x in split[fresh[doc.hash]])
            if not count:  # no text: the title, speakers and event are its one passage (ordinal 0)
                add(pos, 0, -1, doc.meta)
                continue
            headers[pos] = header(doc.title, embedder)
            for ordinal in range(1, count + 1):
                add(pos, ordinal, -1, chunk_texts[first + ordinal - 1])
    del chunk_texts
    passages = Passages(np.frombuffer(owner, dtype=np.int64), np.frombuffer(ordinals, dtype=np.int64),
                        np.frombuffer(starts, dtype=np.float64), np.frombuffer(ends, dtype=np.float64))
    copied = np.frombuffer(copied, dtype=np.int64)

    vectors = np.zeros((len(copied), embedder.dimension), dtype=np.float32)
    copy = np.flatnonzero(copied >= 0)
    if copy.size:
        vectors[copy] = old.vectors[copied[copy]]
    todo = np.flatnonzero(copied < 0)
    embed_passages(vectors, todo, writer.read_passage_texts(), passages, headers, embedder, progress)
    extracted = Extracted(documents, fresh, rows, store.Records.open(spill / "extracted"), old)
    return passages, vectors, extracted, len(todo)


def windows(cues: Sequence[Cue], embedder: Embedder) -> list[Cue]:
    """A transcript's cues as windows of consecutive cues that fit the encoder window (`cues.windows`)."""
    from .cues import windows as cut

    tokenizer = embedder.tokenizer
    return cut(cues, budget=MAX_TOKENS - 3, count_tokens=tokenizer.count, offsets=tokenizer.offsets)


class _Blocks(Sequence[list[str]]):
    """Each document's title (parsed for its entities) and paragraphs, made when `analyse` hands it to a worker:
    made all at once, they held the collection's text a second time."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, index: int) -> list[str]:
        from .text import paragraphs

        doc = self.documents[index]
        # the title as one block, as long as spaCy takes one (the record keeps it whole): a catalog's or a
        # note heading's title can be any length
        return [doc.title[:MAX_CHARS], *paragraphs(doc.text)]


def header(title: str, embedder: Embedder) -> str:
    """The title, cut to HEADER_TOKENS word pieces, repeated in front of each passage."""
    title = title[:MAX_CHARS]  # far more than HEADER_TOKENS pieces: a title can be megabytes, only its start is needed
    offsets = embedder.tokenizer.offsets(title)
    if len(offsets) <= HEADER_TOKENS:
        return title
    return title[: offsets[HEADER_TOKENS][0]].rstrip()


def embed_passages(vectors: np.ndarray, rows: np.ndarray, texts: Sequence[str], passages: Passages,
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


def document_means(count: int, owner: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each of `count` documents' whole text as one vector: the normalised mean of its passages' vectors (`owner`:
    each passage's document)."""
    import numpy as np

    means = np.zeros((count, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    np.add.at(means, owner, vectors)
    return means / np.clip(np.linalg.norm(means, axis=1, keepdims=True), 1e-12, None)
