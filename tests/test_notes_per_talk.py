"""A file of notes about one talk is one note (issue #32): titled by the file's title, its headings kept as sections,
linked to the talk by its title or URL, and listed by `show` on the talk; a hit says which section matched. A file
whose sections are talks of their own (each naming a speaker, a video or "Talk N") is split, as before. The files are
real-looking notes in tests/data/notes/, read through the real reader; the talks are the demo listing's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talksearch.link import link_notes, merge_talks
from talksearch.readers import read_path
from talksearch.readers.notes import parse_notes
from talksearch.readers.sections import event_title, generic_section, heading_speaker, speaker_line

from .conftest import DATA, build_index
from .test_cli import invoke

NOTES = Path(__file__).parent / "data" / "notes"
LISTING = DATA / "000_0432f46ee71f120e.txt"  # 9 EuroPython 2024 talks
SEED_NOTES = DATA / "004_7fcc6484864bb2bb.txt"  # a "Talk N" file of several talks


def _notes(name: str):
    result = read_path(NOTES / name)
    assert result.skipped == () and result.warnings == ()
    return result.notes


@pytest.mark.parametrize(("name", "title", "lines", "sections"), [
    # ATX: `#` title, `##` sections
    ("event-sourcing.md", "Event Sourcing in production", (1, 28), ("Outline", "Questions", "Takeaways", "References")),
    # ATX: `#` title, `###` sections, a numbered outline
    ("deadcode.md", "Deadcode - a tool to find and fix unused (dead) Python code", (1, 18),
     ("Outline", "Q&A", "Key takeaways")),
    # setext: `===` title, `---` sections, the video's URL under the title
    ("animations.txt", "Rodrigo's animations talk", (1, 22), ("Outline", "Questions", "Slides")),
    # sections named by topic, not generic: the speaker and the talk's page under the title say it is one talk
    ("zero-trust.md", "Zero Trust APIs with Python", (1, 15),
     ("Validate everything", "Schemathesis and Spectral", "Questions")),
])
def test_a_file_of_one_talks_notes_is_one_note(name, title, lines, sections):
    [note] = _notes(name)
    assert (note.title, (note.line_start, note.line_end), note.sections, note.context) == (title, lines, sections, "")
    assert note.id == f"note:{name}#" + {
        "event-sourcing.md": "event-sourcing-in-production",
        "deadcode.md": "deadcode-a-tool-to-find-and-fix-unused-dead-python-code",
        "animations.txt": "rodrigo-s-animations-talk",
        "zero-trust.md": "zero-trust-apis-with-python",
    }[name]


def test_one_talks_note_keeps_its_sections_in_its_text():
    [note] = _notes("event-sourcing.md")
    assert note.text.startswith("Speaker: Borjan Tchakaloff\nEuroPython 2024, South Hall 2A\n\n## Outline\n")
    assert "\n## Questions\n\n- How do you handle GDPR deletion requests" in note.text
    assert [(t.text, t.done, t.line) for t in note.todos] == [
        ("read the eventsourcing library's docs on upcasting", False, 20), ("watch the recording again", True, 21)]
    assert note.urls == ("https://eventsourcing.readthedocs.io/",)
    [setext] = _notes("animations.txt")
    # the underlines are left out, as in every notes file; the section titles stay, each on its line
    assert setext.text.startswith("https://ep2024.europython.eu/session/animations-from-first-principles\n\nOutline\n\n")
    assert "-----" not in setext.text and "\nQuestions\n\nWhy not use matplotlib.animation?" in setext.text
    assert setext.tags == ("python", "graphics")


@pytest.mark.parametrize(("text", "title", "sections"), [
    # no title heading: generic sections only; titled by the first line
    ("Pytest design patterns — notes\n\n## Outline\n\nfixtures as factories\n\n## Questions\n\nscope?\n",
     "Pytest design patterns — notes", ("Outline", "Questions")),
    # ... or, when there is no first line, by the file's name
    ("## Outline\n\nfixtures as factories\n\n## Takeaways\n\nparametrize more\n", "pytest-patterns",
     ("Outline", "Takeaways")),
    # tags above the sections stay the note's tags
    ("#pytest #testing\n\n## Outline\n\nfixtures\n\n## Questions\n\nscope?\n", "pytest-patterns",
     ("Outline", "Questions")),
    # the `#` title over `##` sections and a closing `# Summary`: all parts of one talk's notes
    ("# Pytest design patterns\n\n## Outline\n\nfixtures\n\n## Q&A\n\nscope?\n\n# Summary\n\ngood\n",
     "Pytest design patterns", ("Outline", "Q&A", "Summary")),
])
def test_generic_sections_make_one_note(text, title, sections):
    [note] = parse_notes(text, file="pytest-patterns.md", path="/notes/pytest-patterns.md")
    assert (note.title, note.sections) == (title, sections)
    assert note.tags == (("pytest", "testing") if text.startswith("#pytest") else ())


@pytest.mark.parametrize(("name", "titles"), [
    # a `#` event over `##` talks, each naming its speaker or video; `###` sections stay in their talk's note
    ("europython-2024-day1.md", [("Zero Trust APIs with Python", ("Questions",)),
                                 ("Aggregating data in Django using database views", ("Takeaways",)),
                                 ("Lunch", ())]),
    # setext: an event underlined with `===`, talks with their speaker in the heading underlined with `---`
    ("europython-2024-day2.txt", [("How to sell a big refactor or rewrite to the business? — Ivett Ördög", ()),
                                  ("Event Sourcing in production — Borjan Tchakaloff", ())]),
])
def test_a_file_of_several_talks_stays_split(name, titles):
    notes = _notes(name)
    assert [(n.title, n.sections) for n in notes] == titles
    assert all(n.context.startswith("EuroPython 2024") for n in notes)


@pytest.mark.parametrize("text", [
    # topical headings and nothing naming a talk: an event's talks, as before (tests/test_notes_layouts.py)
    "# PyCon US 2024\n\n## Rust extensions with PyO3\n\nmaturin\n\n## Async database drivers\n\nasyncpg\n",
    # a speaker and a video under the title, but the title is an event
    "# PyCon US 2024\n\nby Jane Doe https://youtu.be/abc\n\n## Rust extensions with PyO3\n\nmaturin\n\n"
    "## Async database drivers\n\nasyncpg\n",
    # a generic section twice: the questions of two talks
    "# Day 1\n\n## Q&A\n\n- asked about retries\n\n## Q&A\n\n- asked about timeouts\n",
    # "Talk N" headings
    "# Talk 1: Packaging\n\n## Talk 2: Typing\n\nprotocols\n\n## Talk 3: Questions\n\nnone\n",
])
def test_sections_that_may_be_talks_stay_split(text):
    assert len(parse_notes(text, file="notes.md", path="/notes.md")) > 1


@pytest.mark.parametrize(("check", "text", "expected"), [
    (generic_section, "Outline", True), (generic_section, "Q&A", True), (generic_section, "3. Key takeaways:", True),
    (generic_section, "Further reading", True), (generic_section, "TODO", True),
    (generic_section, "Rust extensions with PyO3", False), (generic_section, "Questions about asyncio", False),
    (heading_speaker, "Event Sourcing in production — Borjan Tchakaloff", True),
    (heading_speaker, "Keynote by Guido van Rossum", True), (heading_speaker, "Zero Trust APIs with Python", False),
    (heading_speaker, "Fixtures - the good parts", False),
    (speaker_line, "Speaker: Borjan Tchakaloff", True), (speaker_line, "- **Presenter:** Jane Doe (Acme)", True),
    (speaker_line, "by Albertas Gimbutas", True), (speaker_line, "By the end we had three projections.", False),
    (event_title, "PyCon US 2024", True), (event_title, "EuroPython 2024, day 1", True),
    (event_title, "DjangoCon", True), (event_title, "Event Sourcing in production", False),
])
def test_what_a_heading_or_line_says(check, text, expected):
    assert check(text) is expected


def test_the_seed_notes_file_still_splits_at_its_talks():
    notes = read_path(SEED_NOTES).notes
    assert len(notes) == 7 and notes[1].title == "2. Talk: Daniel Hepper"
    assert all(n.sections == () for n in notes)


def test_one_talks_note_links_to_the_talk_by_title_or_url():
    talks = merge_talks(read_path(LISTING).talks)
    notes = read_path(NOTES).notes
    links = link_notes(notes, talks)
    by_file = {n.file: links.get(n.id) for n in notes if n.file != "europython-2024-day1.md"
               and n.file != "europython-2024-day2.txt"}
    assert by_file == {
        "event-sourcing.md": "europython-2024/event-sourcing-in-production",  # by title
        "deadcode.md": "europython-2024/deadcode-a-tool-to-find-and-fix-unused-dead-python-code",  # by title
        "animations.txt": "europython-2024/animations-from-first-principles",  # by URL: the title is not the talk's
        "zero-trust.md": "europython-2024/zero-trust-apis-with-python",
    }


@pytest.fixture(scope="module")
def notes_index(tmp_path_factory, embedder) -> Path:
    """The notes above and the demo listing, indexed once."""
    root = tmp_path_factory.mktemp("per-talk") / "index"
    build_index(root, [NOTES, LISTING], embedder)
    return root


def test_show_on_the_talk_lists_its_note(notes_index):
    result = invoke("show", "europython-2024/event-sourcing-in-production", "--index-dir", notes_index)
    assert result.exit_code == 0, result.output
    listed = result.stdout.split("\nnotes\n", 1)[1].split("\n")
    assert "  note:event-sourcing.md#event-sourcing-in-production · Event Sourcing in production · event-sourcing.md " \
           "· 1" in listed
    assert "[ ] read the eventsourcing library's docs on upcasting (line 20)" in result.stdout


def test_a_note_titled_like_its_talk_leaves_the_title_naming_the_talk(notes_index):
    # deadcode.md's title is the talk's: `show` and `related` by that title mean the talk, not "matches 2"
    title = "Deadcode - a tool to find and fix unused (dead) Python code"
    shown = invoke("show", title, "--index-dir", notes_index)
    assert shown.exit_code == 0, shown.output
    assert "id           europython-2024/deadcode-a-tool-to-find-and-fix-unused-dead-python-code\n" in shown.stdout
    assert "note:deadcode.md#" in shown.stdout.split("\nnotes\n", 1)[1]
    related = invoke("related", title, "-k", "3", "--json", "--index-dir", notes_index)
    assert related.exit_code == 0, related.output
    found = json.loads(related.stdout)
    assert "europython-2024/deadcode-a-tool-to-find-and-fix-unused-dead-python-code" not in [h["id"] for h in found]


def test_show_on_the_note_prints_its_sections(notes_index):
    result = invoke("show", "note:event-sourcing.md", "--index-dir", notes_index)
    assert result.exit_code == 0, result.output
    assert "sections    Outline, Questions, Takeaways, References\n" in result.stdout
    assert "\n            ## Questions\n" in result.stdout


@pytest.mark.parametrize(("query", "note", "section"), [
    ("GDPR deletion requests append-only log crypto-shredding", "note:event-sourcing.md#event-sourcing-in-production",
     "Questions"),
    ("Django views referenced from urls.py false positives",
     "note:deadcode.md#deadcode-a-tool-to-find-and-fix-unused-dead-python-code", "Q&A"),
    ("easing functions keyframes interpolation", "note:animations.txt#rodrigo-s-animations-talk", "Outline"),
    ("mass assignment request body", "note:europython-2024-day1.md#zero-trust-apis-with-python", "Questions"),
])
def test_a_hit_names_the_section_that_matched(notes_index, query, note, section):
    result = invoke("query", query, "--kind", "note", "-k", "1", "--json", "--index-dir", notes_index)
    assert result.exit_code == 0, result.output
    [hit] = json.loads(result.stdout)
    assert (hit["id"], hit["section"]) == (note, section)
    text = invoke("query", query, "--kind", "note", "-k", "1", "--index-dir", notes_index)
    assert f"    {section} › " in text.stdout


def test_a_note_without_sections_has_no_section(notes_index):
    result = invoke("query", "design stamina hypothesis", "--kind", "note", "-k", "1", "--json",
                    "--index-dir", notes_index)
    [hit] = json.loads(result.stdout)
    assert hit["title"].startswith("How to sell a big refactor") and "section" not in hit


def test_a_notes_hit_names_its_talk_and_its_shown_date_passes_the_year_filters(notes_index):
    # issue #32 item 4: the note is shown with its talk's date, so --since and --until go by that date
    def notes(*options: str) -> list[dict]:
        result = invoke("query", "event sourcing in production", "--kind", "note", "--json", "--index-dir", notes_index,
                        *options)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    hit = next(h for h in notes() if h["id"] == "note:event-sourcing.md#event-sourcing-in-production")
    assert (hit["talk"], hit["date"]) == ("europython-2024/event-sourcing-in-production", "2024-07-10")
    assert hit["id"] in [h["id"] for h in notes("--since", "2024")]
    assert hit["id"] not in [h["id"] for h in notes("--until", "2023")]
    unlinked = next(h for h in notes() if h["talk"] is None)  # a note of no talk says so
    assert unlinked["kind"] == "note"
