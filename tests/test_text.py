"""Passages: whole sentences, inside the encoder's window, nothing cut off."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from talksearch import text
from talksearch.embed import MAX_TOKENS

from .conftest import DATA

READERS = Path(__file__).parent / "data" / "readers"

BUDGET = MAX_TOKENS - 3 - 16  # what build.py leaves for a passage under a 16-piece title


@pytest.fixture(scope="module")
def nlp():
    return text.load_sentencizer()


def passages_of(nlp, embedder, body: str) -> list[str]:
    paras = next(text.split_sentences(nlp, [body]))
    tok = embedder.tokenizer
    return text.pack(paras, budget=BUDGET, count_tokens=tok.count, offsets=tok.offsets)


def words(s: str) -> list[str]:
    return re.findall(r"\w+", s)


def test_only_the_sentence_segmenter_is_loaded(nlp):
    assert nlp.pipe_names == ["senter"]


def test_a_short_abstract_is_one_passage_of_whole_sentences(nlp, embedder):
    body = "Event Sourcing is powerful. It keeps past states. Join us to learn more."
    assert passages_of(nlp, embedder, body) == [body]


@pytest.mark.parametrize("path", [READERS / "pyvideo/europython-2024/videos/event-sourcing-in-production-borjan-tchakaloff.json",
                                  DATA / "000_0432f46ee71f120e.txt", DATA / "004_7fcc6484864bb2bb.txt"],
                         ids=["pyvideo", "listing", "notes"])
def test_passages_add_no_space_where_the_segmenter_splits_a_sentence_inside_a_word(nlp, embedder, path):
    """spaCy ends sentences at "[" in "[EuroPython 2024 — South Hall 2A on 2024-07-11]" and at "2" in "2. Talk:";
    joined with a space, passages would read "[ EuroPython" and "2 . Talk"."""
    body = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        body = json.loads(body)["description"]
    squeezed = re.sub(r"\s+", "", body)
    for passage in passages_of(nlp, embedder, body):
        # every passage is a run of the source text, with its spaces or with spaces where there were line breaks
        assert re.sub(r"\s+", "", passage) in squeezed
        assert " ".join(passage.split()) in " ".join(body.split()), passage


def test_a_long_abstract_is_split_and_nothing_is_lost(nlp, embedder):
    listing = (DATA / "000_0432f46ee71f120e.txt").read_text()
    body = "\n\n".join([listing] * 8)  # ~130 KB: longer than one spaCy block and many windows
    found = passages_of(nlp, embedder, body)
    assert len(found) > 40
    counts = embedder.tokenizer.count(found)
    assert max(counts) <= BUDGET
    assert words(" ".join(found)) == words(body)


def test_a_sentence_longer_than_the_window_is_cut_at_word_boundaries(nlp, embedder):
    body = " ".join(f"word{i}" for i in range(2000))  # one 'sentence' of ~6,000 word pieces
    found = passages_of(nlp, embedder, body)
    assert max(embedder.tokenizer.count(found)) <= BUDGET
    assert words(" ".join(found)) == words(body)
    assert all(p.split()[0].startswith("word") for p in found)


def test_text_longer_than_spacy_max_length_is_handled(nlp, embedder):
    body = "A sentence about Python packaging. " * 40_000  # 1.4 MB, far past nlp.max_length
    paras = next(text.split_sentences(nlp, [body]))
    assert sum(len(p) for p in paras) == 40_000


def test_cost_grows_linearly_with_a_long_note(nlp, embedder):
    """Work counted, not time: passages and sentences of a note twice as long are twice as many."""
    line = "• retries with exponential backoff, idempotent tasks and late acknowledgement\n"
    small, large = (passages_of(nlp, embedder, line * n) for n in (5_000, 10_000))
    assert max(embedder.tokenizer.count(large)) <= BUDGET
    assert abs(len(large) - 2 * len(small)) <= 2
    assert words(" ".join(large)) == words(line * 10_000)


def test_analyse_times_the_sentence_and_entity_passes_apart():
    """`index` prints `entities` on its own line: the workers' CPU seconds of `ner`, apart from `senter`'s."""
    from talksearch import facets

    nlp = text.load_sentencizer(entities=True)
    blocks = [text.paragraphs(path.read_text(encoding="utf-8")) for path in sorted(DATA.glob("0*.txt"))]
    spent: dict[str, float] = {}
    timed = sorted(text.analyse(nlp, blocks, entities=[True] * len(blocks), extract=facets.extract, spent=spent))
    assert set(spent) == {"sentences", "entities"}
    assert spent["entities"] > spent["sentences"] > 0  # ner's own tok2vec and transitions cost ~10x senter
    # timing the passes apart changes nothing they produce
    assert timed == sorted(text.analyse(nlp, blocks, entities=[True] * len(blocks), extract=facets.extract))
    assert all(mentions for _, _, mentions in timed)


def test_worker_processes_find_what_one_process_finds(pyvideo_subset, monkeypatch):
    """Large inputs go to forked workers, each replaced after WORKER_CHUNKS chunks: the same sentences and
    entities as one process, and the parent's objects unfrozen again afterwards."""
    import gc
    import json
    import os

    from talksearch import facets

    nlp = text.load_sentencizer(entities=True)
    videos = sorted(pyvideo_subset.glob("*/videos/*.json"))
    descriptions = [d for d in (json.loads(p.read_bytes()).get("description") for p in videos) if d]
    blocks = [text.paragraphs(d) for d in descriptions[:240]]
    flags = [i % 4 != 0 for i in range(len(blocks))]  # some documents without `ner`, as non-English ones are

    def extract(docs):
        return os.getpid(), facets.extract(docs)

    alone = sorted(text.analyse(nlp, blocks, entities=flags, extract=extract))
    monkeypatch.setattr(text, "PARALLEL_MIN", 1)
    monkeypatch.setattr(text, "CHUNK", 16)
    monkeypatch.setattr(text, "WORKER_CHUNKS", 2)
    pooled = sorted(text.analyse(nlp, blocks, entities=flags, extract=extract))

    assert [(i, sents) for i, sents, _ in pooled] == [(i, sents) for i, sents, _ in alone]
    assert [found and found[1] for _, _, found in pooled] == [found and found[1] for _, _, found in alone]
    assert sum(bool(found and found[1]) for _, _, found in pooled) > 100  # real entities, not empty lists
    workers = {found[0] for _, _, found in pooled if found}
    assert os.getpid() not in workers
    assert len(workers) >= 4  # 15 chunks, 2 per worker: replaced as they go
    assert gc.get_freeze_count() == 0
