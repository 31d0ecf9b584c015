"""Sizes: a 1 MB abstract, a note of 100,000 lines, a catalog folder of thousands of files.

Each is read whole and split into passages that fit the encoder's window, as `build` splits them
(sentences packed to MAX_TOKENS less the title header). Growth is checked by work counted (tokenizer
calls, characters tokenized, sentences, passages), never by time; inputs that once took quadratic or
exponential time are held to a generous clock instead, as in test_readers.py.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from talksearch import text
from talksearch.embed import MAX_TOKENS, Tokenizer, model_dir
from talksearch.passages import HEADER_TOKENS
from talksearch.readers import read_path
from talksearch.readers.files import cut_license
from talksearch.readers.notes import parse_notes

from .conftest import SHARED

READERS_DATA = Path(__file__).parent / "data" / "readers"
PYVIDEO_TALK = READERS_DATA / "pyvideo" / "europython-2024" / "videos" / "event-sourcing-in-production-borjan-tchakaloff.json"
NOTES_SEED = SHARED / "seeds" / "004_7fcc6484864bb2bb.txt"
SPECIAL_TOKENS = 2  # [CLS] and [SEP] around every passage the encoder sees


class CountingTokenizer:
    """The encoder's own tokenizer, counting its calls and the characters it is handed."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.calls = 0
        self.chars = 0

    def count(self, texts: list[str]) -> list[int]:
        self.calls += 1
        self.chars += sum(map(len, texts))
        return self.tokenizer.count(texts)

    def offsets(self, text: str) -> list[tuple[int, int]]:
        self.calls += 1
        self.chars += len(text)
        return self.tokenizer.offsets(text)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(model_dir())


@pytest.fixture(scope="module")
def nlp():
    return text.load_sentencizer()


def split_like_build(nlp, tokenizer: Tokenizer, documents: list[tuple[str, str]]) -> tuple[dict[str, int], list]:
    """(work counted, [(title, header, passages)]) for (title, text) documents, split as `build` splits them."""
    counting = CountingTokenizer(tokenizer)
    work = {"sentences": 0, "passages": 0}
    done = []
    split = text.split_sentences(nlp, [body for _, body in documents])
    for (title, _), paras in zip(documents, split, strict=True):
        budget = MAX_TOKENS - 3 - min(HEADER_TOKENS, counting.count([title])[0])
        passages = text.pack(paras, budget=budget, count_tokens=counting.count, offsets=counting.offsets)
        work["sentences"] += sum(map(len, paras))
        work["passages"] += len(passages)
        offsets = tokenizer.offsets(title)  # the header: the title cut to HEADER_TOKENS word pieces
        header = title if len(offsets) <= HEADER_TOKENS else title[: offsets[HEADER_TOKENS][0]].rstrip()
        done.append((title, header, passages))
    return {**work, "tokenizer calls": counting.calls, "characters tokenized": counting.chars}, done


def assert_inside_the_window(tokenizer: Tokenizer, done: list) -> None:
    """Every passage, after its title header as the encoder is given it, fits MAX_TOKENS."""
    embedded = [f"{header}\n{passage}" for _, header, passages in done for passage in passages]
    assert embedded and max(tokenizer.count(embedded)) + SPECIAL_TOKENS <= MAX_TOKENS


def assert_linear(small: dict[str, int], large: dict[str, int]) -> None:
    """Twice the input is twice the work, to within 1% (and a few units) for every count."""
    for name, count in small.items():
        assert abs(large[name] - 2 * count) <= 0.01 * large[name] + 4, (name, count, large[name])


def words(s: str) -> list[str]:
    return re.findall(r"\w+", s)


# --- A 1 MB abstract -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_talk():
    """The real EuroPython 2024 talk file: its JSON, and its abstract as read."""
    [talk] = read_path(PYVIDEO_TALK).talks
    return json.loads(PYVIDEO_TALK.read_text()), talk


def with_abstract_times(real_talk, copies: int) -> tuple[dict, str]:
    """The real talk with its abstract repeated: (its JSON, the abstract expected back)."""
    data, talk = real_talk
    raw = data["description"].replace("\r\n", "\n").replace("\r", "")  # as the reader cleans it
    assert talk.text in raw
    abstract = "\n\n".join([talk.text] * copies)
    return {**data, "description": raw.replace(talk.text, abstract)}, abstract


def test_a_1mb_abstract_is_read_whole(tmp_path, real_talk):
    data, abstract = with_abstract_times(real_talk, 1_000_000 // len(real_talk[1].text) + 1)
    file = tmp_path / "europython-2024" / "videos" / "big.json"
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps(data))
    assert file.stat().st_size > 1_000_000
    [talk] = read_path(file).talks
    small = real_talk[1]
    assert talk.text == abstract and len(talk.text) > 1_000_000
    assert (talk.room, talk.date, talk.urls, talk.license) == (small.room, small.date, small.urls, small.license)


def test_a_1mb_abstract_fits_the_window_with_work_linear_in_its_length(nlp, tokenizer, real_talk):
    copies = 2 * (500_000 // len(real_talk[1].text) + 1)
    title = real_talk[1].title
    half = with_abstract_times(real_talk, copies // 2)[1]
    whole = with_abstract_times(real_talk, copies)[1]
    small, _ = split_like_build(nlp, tokenizer, [(title, half)])
    large, done = split_like_build(nlp, tokenizer, [(title, whole)])
    assert len(whole) > 1_000_000 and large["passages"] > 500
    assert_inside_the_window(tokenizer, done)
    assert words(" ".join(done[0][2])) == words(whole)  # nothing dropped, nothing repeated
    assert_linear(small, large)


def test_a_title_longer_than_the_header_still_leaves_every_passage_inside_the_window(nlp, tokenizer, real_talk):
    title = " ".join(["Supercalifragilistic"] * 200)  # ~1,000 word pieces: cut to HEADER_TOKENS in the header
    body = " ".join(f"token{i}" for i in range(3000)) + ". " + real_talk[1].text  # one sentence past the window
    _, done = split_like_build(nlp, tokenizer, [(title, body)])
    assert_inside_the_window(tokenizer, done)
    assert words(" ".join(done[0][2])) == words(body)


# --- A note of 100,000 lines ---------------------------------------------------------------


def seed_lines(lines: int) -> list[str]:
    """The real notes file's lines, cycled to the given length."""
    seed = NOTES_SEED.read_text().split("\n")
    return [seed[i % len(seed)] for i in range(lines)]


def test_a_notes_file_of_100000_lines_is_read_with_every_heading_and_line_number(tmp_path):
    """The real notes file cycled: ~4,200 talk headings, each written ~600 times over."""
    lines = seed_lines(100_000)
    file = tmp_path / "year.md"
    file.write_text("\n".join(lines))
    notes = read_path(file).notes
    one = read_path(NOTES_SEED).notes  # the seed itself: 7 notes
    period = len(NOTES_SEED.read_text().split("\n"))
    starts = [n.line_start for n in notes]
    assert starts == [s for s in (k * period + n.line_start for k in range(100_000 // period + 1) for n in one)
                      if s <= 100_000]
    seen: Counter[str] = Counter()
    for note, title in zip(notes, (n.title for _ in range(len(notes) // 7 + 1) for n in one), strict=False):
        seen[title] += 1  # the k-th time a heading is written, its id gets "-k"
        slug = next(n.id for n in one if n.title == title).split("#")[1]
        assert note.id == f"note:year.md#{slug}" + (f"-{seen[title]}" if seen[title] > 1 else "")
    todos = [t.line for n in notes for t in n.todos]
    assert todos == [s for s in (k * period + t.line for k in range(100_000 // period + 1) for n in one
                                 for t in n.todos) if s <= 100_000]


def test_a_note_of_100000_lines_fits_the_window_with_work_linear_in_its_length(nlp, tokenizer):
    """One talk heading over 100,000 lines of real notes: bullets, to-dos, tables, blank lines."""
    body = [line for line in seed_lines(200_000) if not re.match(r"(?:Talk \d|\d+\. Talk)", line)]
    notes = [parse_notes("\n".join(["Talk 1: a whole year of notes", *body[: count - 1]]), file="year.md",
                         path="/year.md") for count in (50_000, 100_000)]
    assert [len(note) for note in notes] == [1, 1]
    (small, _), (large, done) = (split_like_build(nlp, tokenizer, [(note.title, note.text)]) for [note] in notes)
    assert_inside_the_window(tokenizer, done)
    assert words(" ".join(done[0][2])) == words(notes[1][0].text)
    assert_linear(small, large)


# --- A catalog folder of thousands of files ------------------------------------------------


def test_a_catalog_folder_of_3000_files_is_read_whole(tmp_path, pyvideo_subset):
    """Real talk files from two events, copied into 12 event folders of 250."""
    files = sorted((pyvideo_subset / "europython-2023" / "videos").glob("*.json"))
    files += sorted((pyvideo_subset / "europython-2024" / "videos").glob("*.json"))
    files = files[:250]
    for event in range(12):
        videos = tmp_path / "catalog" / f"conf-{event:02}" / "videos"
        videos.mkdir(parents=True)
        (videos.parent / "category.json").write_text(json.dumps({"title": f"Conf {event}"}))
        for file in files:
            shutil.copyfile(file, videos / file.name)
    result = read_path(tmp_path / "catalog")
    assert (result.files, len(result.talks), result.skipped) == (3000, 3000, ())
    assert len({t.id for t in result.talks}) == 3000
    last = max(file.name for file in files)[: -len(".json")]
    assert (result.talks[-1].id, result.talks[-1].event_title) == (f"conf-11/{last}", "Conf 11")


def test_a_catalog_costs_the_sum_of_its_talks_and_every_passage_fits(nlp, tokenizer, pyvideo_subset):
    """Work for all 272 real talks of two events is exactly the work of each event's talks: nothing per catalog."""
    events = [read_path(pyvideo_subset / event).talks for event in ("europython-2023", "europython-2024")]
    documents = [[(t.title, t.text) for t in talks] for talks in events]
    (first, _), (second, _) = (split_like_build(nlp, tokenizer, docs) for docs in documents)
    both, done = split_like_build(nlp, tokenizer, documents[0] + documents[1])
    assert both == {name: first[name] + second[name] for name in both}
    assert_inside_the_window(tokenizer, done)


# --- Pathological input, held to a clock ----------------------------------------------------


@pytest.mark.parametrize("content", [
    "## Q&A\n- asked about retries\n" * 20_000,  # one heading repeated: ids -2 ... -20000
    "see https://example.org/a" + ")" * 100_000 + "\n",  # a URL's closing parentheses, counted once
], ids=["repeated-heading", "url-parentheses"])
def test_notes_that_once_took_quadratic_time(tmp_path, content):
    file = tmp_path / "notes.md"
    file.write_text(content)
    start = time.perf_counter()
    notes = read_path(file).notes
    assert time.perf_counter() - start < 5.0  # was 60 s and 9 s
    assert notes


def test_a_listing_with_one_title_20000_times_is_read_in_linear_time(tmp_path):
    entry = ("Lightning talks — Various\n\n[EuroPython 2024 — Forum Hall on 2024-07-10] Lightning talks by Various "
             "https://ep2024.europython.eu/session/lightning-talks five minutes each.\n\nWatch\n\n")
    file = tmp_path / "listing.txt"
    file.write_text("List of videos\n\n" + entry * 20_000)
    start = time.perf_counter()
    talks = read_path(file).talks
    assert time.perf_counter() - start < 5.0  # was ~40 s
    assert [t.id for t in talks[:3]] == ["europython-2024/lightning-talks", "europython-2024/lightning-talks-2",
                                         "europython-2024/lightning-talks-3"]
    assert talks[-1].id == "europython-2024/lightning-talks-20000"


RULE = "-" * 80
MANY_LICENCES = "Abstract. " + "This work is licensed under a Creative Commons " * 25_000 + "x\n\nmore"  # 1.2 MB


@pytest.mark.parametrize(("description", "cut"), [
    (f"Abstract.\n\n{RULE} and more\n\nThis work is licensed under a Creative Commons Attribution 4.0",
     (f"Abstract.\n\n{RULE} and more", "This work is licensed under a Creative Commons Attribution 4.0")),
    (f"Abstract.\n\n{RULE}\n\nThis work is licensed under a Creative Commons Attribution 4.0",
     ("Abstract.", "This work is licensed under a Creative Commons Attribution 4.0")),
    (MANY_LICENCES, (MANY_LICENCES, None)),
], ids=["long-rule-then-text", "long-rule", "licence-opening-25000-times"])
def test_licence_cutting_that_once_took_exponential_or_quadratic_time(description, cut):
    start = time.perf_counter()
    assert cut_license(description) == cut
    assert time.perf_counter() - start < 5.0  # was forever (2^n in the rule's length) and ~30 s
