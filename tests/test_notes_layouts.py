"""Notes file layouts that used to lose notes or to-dos without a warning: a prose "Talk N" line among markdown
headings, a trailing `# Summary`, to-dos above the first heading, a heading-less file opening with a to-do, setext
headings. Each file is real text written to disk and read through the real reader (`read_path`)."""

from __future__ import annotations

import json
from pathlib import Path

from talksearch.readers import read_path
from talksearch.records import Note, Todo

from .test_cli import invoke

CONFERENCE = """\
# PyCon US 2024

## Keynote: the state of Python

- [ ] donate to a project

## Rust extensions with PyO3

Talk 2 of the day was the best one, honestly.
Building wheels with maturin.

## Async database drivers

asyncpg and psycopg 3.
"""

TALK_LINES = """\
# PyConWeb

Talk 1: Ines Montani > Spacy

☐ check prodigy

2. Talk: Daniel Hepper

celery
"""

SUMMARY_LAST = """\
## Django migrations

- [ ] read autodetector.py

## Django ORM internals

querysets are lazy

# Summary

good conference
"""

PREAMBLE_TODO = """\
- [ ] book the hotel for next year

## First talk

one

## Second talk

two
"""

PREAMBLE_TODO_TALKS = """\
☐ upload the photos

Talk 1: Packaging

wheels

Talk 2: Typing

protocols
"""

TODOS_ONLY = "- [ ] buy the book mentioned\n- [ ] email the speaker\n"

SETEXT = """\
EuroPython 2024
===============

Prague, July.

Keynote: free threading
-----------------------

- [ ] try the nogil build

Property-based testing
----------------------

hypothesis everywhere
"""


def _read(tmp_path: Path, files: dict[str, str]) -> dict[str, list[Note]]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = read_path(tmp_path)
    assert result.skipped == ()
    by_file: dict[str, list[Note]] = {}
    for note in result.notes:
        by_file.setdefault(note.file, []).append(note)
    return by_file


def _todos(notes: list[Note]) -> list[tuple[str, str, int]]:
    return [(note.title, todo.text, todo.line) for note in notes for todo in note.todos]


def test_markdown_headings_win_over_a_prose_talk_line(tmp_path):
    notes = _read(tmp_path, {"pycon.md": CONFERENCE, "pyconweb.txt": TALK_LINES})
    conference = notes["pycon.md"]
    assert [(n.title, n.line_start, n.line_end) for n in conference] == [
        ("Keynote: the state of Python", 3, 5),
        ("Rust extensions with PyO3", 7, 10),
        ("Async database drivers", 12, 14),
    ]
    assert conference[1].text == "Talk 2 of the day was the best one, honestly.\nBuilding wheels with maturin."
    assert all(n.context == "PyCon US 2024" for n in conference)
    assert _todos(conference) == [("Keynote: the state of Python", "donate to a project", 5)]
    # a file written in the "Talk N" style, under one `#` title, still splits at its talk lines
    talks = notes["pyconweb.txt"]
    assert [(n.title, n.context) for n in talks] == [
        ("Talk 1: Ines Montani > Spacy", "PyConWeb"), ("2. Talk: Daniel Hepper", "PyConWeb")]
    assert _todos(talks) == [("Talk 1: Ines Montani > Spacy", "check prodigy", 5)]


def test_a_trailing_top_level_heading_does_not_swallow_the_sections_above_it(tmp_path):
    titled = "# DjangoCon\n\n" + SUMMARY_LAST
    notes = _read(tmp_path, {"django.md": SUMMARY_LAST, "titled.md": titled})
    django = notes["django.md"]
    assert [(n.title, n.line_start, n.line_end, n.context) for n in django] == [
        ("Django migrations", 1, 3, ""),
        ("Django ORM internals", 5, 7, ""),
        ("Summary", 9, 11, ""),
    ]
    assert (django[1].text, django[2].text) == ("querysets are lazy", "good conference")
    assert _todos(django) == [("Django migrations", "read autodetector.py", 3)]
    # the same under a `# ` title: the title is context, the `##` sections and the summary are notes
    assert [(n.title, n.context) for n in notes["titled.md"]] == [
        ("Django migrations", "DjangoCon"), ("Django ORM internals", "DjangoCon"), ("Summary", "DjangoCon")]
    assert _todos(notes["titled.md"]) == [("Django migrations", "read autodetector.py", 5)]


def test_todos_above_the_first_heading_are_listed_once(tmp_path):
    notes = _read(tmp_path, {"markdown.md": PREAMBLE_TODO, "talks.txt": PREAMBLE_TODO_TALKS})
    assert _todos(notes["markdown.md"]) == [("First talk", "book the hotel for next year", 1)]
    assert notes["markdown.md"][0].todos == (Todo("book the hotel for next year", False, 1),)
    assert notes["markdown.md"][1].context == "- [ ] book the hotel for next year"  # context as before
    assert _todos(notes["talks.txt"]) == [("Talk 1: Packaging", "upload the photos", 1)]


def test_a_headingless_file_opening_with_a_todo_keeps_it(tmp_path):
    [note] = _read(tmp_path, {"after-pycon.txt": TODOS_ONLY})["after-pycon.txt"]
    assert (note.title, note.id, note.line_start, note.line_end) == ("after-pycon", "note:after-pycon.txt#after-pycon",
                                                                     1, 2)
    assert note.todos == (Todo("buy the book mentioned", False, 1), Todo("email the speaker", False, 2))


def test_setext_headings_split_notes(tmp_path):
    notes = _read(tmp_path, {"ep.md": SETEXT})["ep.md"]
    assert [(n.title, n.line_start, n.line_end, n.context, n.text) for n in notes] == [
        ("Keynote: free threading", 6, 9, "EuroPython 2024\n\nPrague, July.", "- [ ] try the nogil build"),
        ("Property-based testing", 11, 14, "EuroPython 2024\n\nPrague, July.", "hypothesis everywhere"),
    ]
    assert _todos(notes) == [("Keynote: free threading", "try the nogil build", 9)]


def test_todos_command_lists_every_todo_of_these_layouts(tmp_path, embedder):
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in {"pycon.md": CONFERENCE, "django.md": SUMMARY_LAST, "markdown.md": PREAMBLE_TODO,
                       "after-pycon.txt": TODOS_ONLY}.items():
        (notes / name).write_text(text, encoding="utf-8")
    result = invoke("index", notes)
    assert result.exit_code == 0, result.output
    rows = json.loads(invoke("todos", "--json").stdout)
    assert sorted((r["file"], r["line"], r["text"], r["note"]) for r in rows) == [
        ("after-pycon.txt", 1, "buy the book mentioned", "after-pycon"),
        ("after-pycon.txt", 2, "email the speaker", "after-pycon"),
        ("django.md", 3, "read autodetector.py", "Django migrations"),
        ("markdown.md", 1, "book the hotel for next year", "First talk"),
        ("pycon.md", 5, "donate to a project", "Keynote: the state of Python"),
    ]
