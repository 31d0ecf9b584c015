"""The readers, specified on real files: a listing page, a notes file, pyvideo talks, bad input."""

from __future__ import annotations

import codecs
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talksearch.errors import InputError
from talksearch.readers import detect_format, read_path
from talksearch.readers.listing import parse_listing, split_speakers
from talksearch.readers.notes import parse_notes
from talksearch.records import Format, Skipped, Todo

DATA = Path(__file__).parent / "data" / "readers"
LISTING = DATA / "listing" / "000_0432f46ee71f120e.txt"
NOTES = DATA / "notes" / "004_7fcc6484864bb2bb.txt"
PYVIDEO = DATA / "pyvideo"
MARKDOWN = DATA / "markdown"
EP2024_LICENSE = (
    "This work is licensed under a Creative Commons Attribution-NonCommercial-ShareAlike 4.0 "
    "International License: https://creativecommons.org/licenses/by-nc-sa/4.0/"
)


# --- Listing: "List of videos" -------------------------------------------------------------


@pytest.fixture(scope="module")
def listing_talks():
    result = read_path(LISTING)
    assert result.files == 1 and result.skipped == () and result.notes == ()
    return {talk.id: talk for talk in result.talks}


LISTING_TALKS = [
    ("europython-2024/impersonation-in-data-engineering-no-more-credentials-in-your-code",
     "Impersonation in Data Engineering: No More Credentials in Your Code!",
     ("Marian Špilka",), "North Hall", "2024-07-10"),
    ("europython-2024/how-to-sell-a-big-refactor-or-rewrite-to-the-business",
     "How to sell a big refactor or rewrite to the business?",
     ("Ivett Ördög",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/aggregating-data-in-django-using-database-views",
     "Aggregating data in Django using database views",
     ("Mikuláš Poul",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/dfd-documentation-first-development-with-fastapi",
     "DFD(Documentation-First Development) with FastAPI",
     ("Taehyun Lee",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/zero-trust-apis-with-python",
     "Zero Trust APIs with Python",
     ("Jose Haro Peralta",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/deadcode-a-tool-to-find-and-fix-unused-dead-python-code",
     "Deadcode - a tool to find and fix unused (dead) Python code",
     ("Albertas Gimbutas",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/event-sourcing-in-production",
     "Event Sourcing in production",
     ("Borjan Tchakaloff",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/enhancing-decorators-with-type-annotations-techniques-and-best-practices",
     "Enhancing Decorators with Type Annotations: Techniques and Best Practices",
     ("Koudai Aono",), "South Hall 2A", "2024-07-10"),
    ("europython-2024/animations-from-first-principles",
     "Animations from first principles",
     ("Rodrigo Girão Serrão",), "South Hall 2B", "2024-07-10"),
]


def test_listing_has_exactly_its_nine_talks_in_order(listing_talks):
    assert list(listing_talks) == [row[0] for row in LISTING_TALKS]


@pytest.mark.parametrize(("talk_id", "title", "speakers", "room", "date"), LISTING_TALKS)
def test_listing_talk(listing_talks, talk_id, title, speakers, room, date):
    talk = listing_talks[talk_id]
    assert (talk.title, talk.speakers, talk.room, talk.date) == (title, speakers, room, date)
    assert (talk.event, talk.event_title, talk.format) == ("europython-2024", "EuroPython 2024", Format.LISTING)
    assert talk.urls == (f"https://ep2024.europython.eu/session/{talk_id.split('/')[1]}",)
    assert talk.source == str(LISTING.absolute())
    assert talk.license == EP2024_LICENSE
    [(field, abstract)] = talk.texts
    assert field == "abstract"
    assert "Creative Commons" not in abstract and not abstract.endswith("---")
    assert not abstract.startswith((title, "http", "["))


def test_listing_keeps_a_separator_inside_the_abstract(listing_talks):
    abstract = listing_talks["europython-2024/event-sourcing-in-production"].text
    assert abstract.startswith("Event Sourcing (ES) is a powerful concept")
    assert "for parallel processing. --- This talk assumes some familiarity with _Event Sourcing_" in abstract
    assert abstract.endswith("_Command Query Responsibility Seggregation_ (CQRS).")


@pytest.mark.parametrize(("written", "names"), [
    ("Borjan Tchakaloff", ("Borjan Tchakaloff",)),
    ("Ana Lee, Bo Chen", ("Ana Lee", "Bo Chen")),
    ("Ana Lee and Bo Chen", ("Ana Lee", "Bo Chen")),
    ("Ana Lee & Bo Chen", ("Ana Lee", "Bo Chen")),
    ("Ana Lee, Bo Chen, and Cy Dunn", ("Ana Lee", "Bo Chen", "Cy Dunn")),
])
def test_split_speakers(written, names):
    assert split_speakers(written) == names


def test_listing_with_several_speakers_and_an_ascii_dash():
    text = (
        "List of videos\n\nPacking Python — Ana Lee, Bo Chen and Cy Dunn\n\n"
        "[PyCon DE 2024 - Kuppel on 2024-04-23] Packing Python by Ana Lee, Bo Chen and Cy Dunn "
        "https://2024.pycon.de/program/ABC/ Wheels and sdists.\n\nWatch\n"
    )
    [talk] = parse_listing(text, source="talks.txt")
    assert (talk.id, talk.speakers, talk.room, talk.urls, talk.texts, talk.license) == (
        "pycon-de-2024/packing-python", ("Ana Lee", "Bo Chen", "Cy Dunn"), "Kuppel",
        ("https://2024.pycon.de/program/ABC/",), (("abstract", "Wheels and sdists."),), None,
    )


def test_a_listing_without_talks_is_skipped(tmp_path):
    file = tmp_path / "page.txt"
    file.write_text("List of videos\n\n[EuroPython 2024 — Forum Hall on 2024-07-10]\n\nWatch\n")
    result = read_path(file)
    assert result.skipped == (Skipped(str(file), "no talks found"),) and result.files == 1


# --- Notes ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notes():
    result = read_path(NOTES)
    assert result.files == 1 and result.skipped == () and result.talks == ()
    return result.notes


NOTES_TALKS = [
    ("Talk 1: Ines Montani > Spacy", "talk-1-ines-montani-spacy", 3, 29),
    ("2. Talk: Daniel Hepper", "2-talk-daniel-hepper", 31, 77),
    ("Talk 3: UUID", "talk-3-uuid", 79, 120),
    ("Talk 4: MTTR Mean time to recovery", "talk-4-mttr-mean-time-to-recovery", 122, 130),
    ("Talk 5: Django as an AI Orchestrator", "talk-5-django-as-an-ai-orchestrator", 132, 132),
    ("Talk 6: Security python web applications", "talk-6-security-python-web-applications", 134, 162),
    ("Talk 7: From 25 Microservices to 1 async Modulith",
     "talk-7-from-25-microservices-to-1-async-modulith", 164, 164),
]


def test_notes_file_has_seven_notes(notes):
    assert [(n.title, n.id.split("#")[1], n.line_start, n.line_end) for n in notes] == NOTES_TALKS


def test_note_fields(notes):
    first = notes[0]
    assert first.id == "note:004_7fcc6484864bb2bb.txt#talk-1-ines-montani-spacy"
    assert (first.file, first.path) == ("004_7fcc6484864bb2bb.txt", str(NOTES.absolute()))
    assert first.text.startswith("description\n\n  • ☐ check prodigy from the same as spacy\n")
    assert first.text.endswith("| UI/UX, customization | speed, cost accuracy latency |\n\n| ?? | ?? |")
    assert notes[1].text.startswith("description\n\nLessons from processing one billion celery tasks")
    assert notes[2].text.endswith("  • Don’t use v4, it’ll slow you down (unless you want to hide the dates)")
    assert all(note.context == "Python Events: pyconweb" for note in notes)


def test_notes_without_body(notes):
    assert (notes[4].text, notes[6].text) == ("", "")


def test_tag_line_tags_its_note(notes):
    assert notes[6].tags == ("python", "online", "ready", "programming-language", "event")
    assert all(note.tags == () for note in notes[:6])


def test_notes_todos(notes):
    assert notes[0].todos == (
        Todo("check prodigy from the same as spacy", False, 7),
        Todo("real-time commodities trading insights by extracting structured attributes", False, 11),
        Todo("high-security environments", False, 13),
        Todo("used LLM during annotation", False, 15),
    )
    assert all(note.todos == () for note in notes[1:])


def test_markdown_notes_split_at_level_two_under_one_title():
    result = read_path(MARKDOWN)
    assert result.files == 2 and result.skipped == ()
    by_id = {note.id: note for note in result.notes}
    assert list(by_id) == [
        "note:loose-thoughts.txt#ideas-after-the-conference",
        "note:pycon-de-2024.md#keynote-python-at-30",
        "note:pycon-de-2024.md#polars-in-production",
        "note:pycon-de-2024.md#polars-in-production-2",
    ]
    keynote = by_id["note:pycon-de-2024.md#keynote-python-at-30"]
    assert keynote.context == "PyCon DE 2024 notes\n\nBerlin, three days, mostly the data track."
    assert (keynote.line_start, keynote.line_end) == (5, 10)
    assert keynote.todos == (
        Todo("watch the recording again", True, 7),
        Todo("read PEP 703 https://peps.python.org/pep-0703/", False, 8),
    )
    assert keynote.urls == (
        "https://peps.python.org/pep-0703/",
        "https://docs.python.org/3/howto/free-threading-python.html",
    )
    polars = by_id["note:pycon-de-2024.md#polars-in-production"]
    assert "# a comment, not a heading" in polars.text  # inside a code fence
    assert polars.tags == ("polars", "dataframes")
    assert polars.todos == (Todo("try `scan_parquet` on the sales data", True, 21),)


def test_notes_without_headings_are_one_note():
    note = next(n for n in read_path(MARKDOWN).notes if n.file == "loose-thoughts.txt")
    assert (note.title, note.line_start, note.line_end, note.context) == ("Ideas after the conference", 2, 5, "")
    assert note.text == "Use hypothesis for the parser tests.\n☐ ask about the sprint"
    assert note.todos == (Todo("ask about the sprint", False, 5),)


@pytest.mark.parametrize(("text", "titles"), [
    ("# Day one\n\n## Talk A\n\nx\n\n# Day two\n\n## Talk B\n", ["Day one", "Day two"]),
    ("## A\nx\n## B\ny\n", ["A", "B"]),
    ("intro\n\n# Only title\n\nbody\n", ["Only title"]),
    ("#python #event\nTalk 1: A\ndescription\nTakeaways\nWhy?\n", ["Talk 1: A"]),
    ("# Learn C#\nx\n# Closing hashes ##\ny\n", ["Learn C#", "Closing hashes"]),
])
def test_note_heading_rules(text, titles):
    assert [note.title for note in parse_notes(text, file="n.md", path="/n.md")] == titles


# --- pyvideo -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pyvideo_talks():
    result = read_path(PYVIDEO)
    assert result.files == 7 and result.skipped == () and result.notes == ()
    return {talk.id: talk for talk in result.talks}


def test_pyvideo_ids(pyvideo_talks):
    assert sorted(pyvideo_talks) == [
        "europython-2021/joannah-nanjekye-python-the-bad-parts",
        "europython-2023/kindnesses-promises-petr-viktorin",
        "europython-2024/event-sourcing-in-production-borjan-tchakaloff",
        "pycon-ca-2013/keynote-hilary-mason",
        "pycon-sk-2019/pycon-sk-2019-edutalks",
        "pycon-thailand-2018/unimaginable-things-in-python",
        "swiss-python-summit-2016/tom-ron-pythons-guide-to-the-galaxy-sps16",
    ]


def test_pyvideo_europython_2024_header(pyvideo_talks):
    talk = pyvideo_talks["europython-2024/event-sourcing-in-production-borjan-tchakaloff"]
    assert (talk.title, talk.speakers, talk.event, talk.event_title) == (
        "Event Sourcing in production", ("Borjan Tchakaloff",), "europython-2024", "EuroPython 2024")
    assert (talk.room, talk.date, talk.language, talk.format) == ("South Hall 2A", "2024-07-10", "eng", Format.PYVIDEO)
    assert talk.urls == ("https://www.youtube.com/watch?v=9sUUpavuQK8",
                         "https://ep2024.europython.eu/session/event-sourcing-in-production")
    assert talk.related_urls == ("https://ep2024.europython.eu/",
                                 "https://ep2024.europython.eu/session/event-sourcing-in-production",
                                 "https://creativecommons.org/licenses/by-nc-sa/4.0/")
    [(field, text)] = talk.texts
    assert field == "description" and "\r" not in text
    assert text.startswith("Event Sourcing (ES) is a powerful concept that lets you adapt")
    assert text.endswith("\n\n---\n\nThis talk assumes some familiarity with _Event Sourcing_ and its friends "
                         "_Domain Driven Design_ (DDD) and _Command Query Responsibility Seggregation_ (CQRS).")
    assert talk.license == EP2024_LICENSE


def test_pyvideo_europython_2023_header_without_title_line(pyvideo_talks):
    talk = pyvideo_talks["europython-2023/kindnesses-promises-petr-viktorin"]
    assert (talk.room, talk.date) == ("Forum Hall", "2023-07-19")
    assert talk.urls[-1] == "https://ep2023.europython.eu/session/kindnesses-promises"
    assert talk.text == (
        "The more applications you build, the more libraries you share, the more they become "
        "an excuse to meet people and have fun together.\n\nWhat makes it fun? And how do we keep it fun?"
    )
    assert talk.license == ("This work is licensed under a Creative Commons Attribution-NonCommercial-ShareAlike 4.0 "
                            "International License http://creativecommons.org/licenses/by-nc-sa/4.0/")


@pytest.mark.parametrize(("talk_id", "text", "licence"), [
    ("europython-2021/joannah-nanjekye-python-the-bad-parts",
     "Python the Bad Parts\n[EuroPython 2021 - Keynote - 2021-07-30 - Optiver]\n[Online]\n\nBy Joannah Nanjekye",
     "License: This video is licensed under the CC BY-NC-SA 4.0 license: "
     "https://creativecommons.org/licenses/by-nc-sa/4.0/ Please see our speaker release agreement for details: "
     "https://ep2021.europython.eu/events/speaker-release-agreement/"),
    ("swiss-python-summit-2016/tom-ron-pythons-guide-to-the-galaxy-sps16",
     "\"Python tricks and optimizations for beginners. Presenting few tricks which Python beginners usually "
     "don't know and can save a while both on development and on production.\"\n\n"
     "Talk recorded at the Swiss Python Summit on February 5th, 2016.",
     "Licensed as Creative Commons Attribution 4.0 International."),
])
def test_pyvideo_licence_variants_are_cut(pyvideo_talks, talk_id, text, licence):
    talk = pyvideo_talks[talk_id]
    assert (talk.text, talk.license) == (text, licence)


def test_pyvideo_text_only_in_summary_or_abstract(pyvideo_talks):
    assert pyvideo_talks["pycon-ca-2013/keynote-hilary-mason"].texts == (
        ("summary", "Keynote - Hilary Mason Saturday, August 10 2013 05 PM"),)
    thai = pyvideo_talks["pycon-thailand-2018/unimaginable-things-in-python"]
    assert [field for field, _ in thai.texts] == ["abstract"]
    assert thai.text.startswith("Have you ever felt that Python has let you down?")
    assert (thai.language, thai.date, thai.room) == ("tha", "2018-06-16", None)


def test_pyvideo_placeholder_speaker_is_dropped(pyvideo_talks):
    talk = pyvideo_talks["pycon-sk-2019/pycon-sk-2019-edutalks"]
    assert (talk.title, talk.speakers, talk.event_title) == ("PyCon SK 2019 - Edutalks", (), "PyCon SK 2019")


@pytest.mark.parametrize("speakers", [
    ["Various speakers"], ["Various Speakers"], ["Various"], ["TBD"], ["Unknown"], [""], ["  "],
    ["Multiple Speakers"], ["Various Contributors"],
])
def test_placeholder_speakers(tmp_path, speakers):
    file = tmp_path / "ev" / "videos" / "t.json"
    file.parent.mkdir(parents=True)
    file.write_text(f'{{"title": "T", "speakers": {speakers!r}, "description": ""}}'.replace("'", '"'))
    [talk] = read_path(file).talks
    assert talk.speakers == ()


def test_single_video_file_takes_event_from_its_folders():
    file = PYVIDEO / "europython-2024" / "videos" / "event-sourcing-in-production-borjan-tchakaloff.json"
    [talk] = read_path(file).talks
    assert (talk.id, talk.event_title) == ("europython-2024/event-sourcing-in-production-borjan-tchakaloff",
                                           "EuroPython 2024")


@pytest.mark.parametrize("folder", [PYVIDEO / "europython-2024", PYVIDEO / "europython-2024" / "videos"])
def test_one_event_folder_is_pyvideo(folder):
    assert detect_format(folder) is Format.PYVIDEO
    [talk] = read_path(folder).talks
    assert (talk.event, talk.event_title) == ("europython-2024", "EuroPython 2024")


def test_missing_or_broken_category_falls_back_to_folder_name(tmp_path):
    for event, category in [("conf-a", None), ("conf-b", b"{not json")]:
        (tmp_path / event / "videos").mkdir(parents=True)
        shutil.copy(PYVIDEO / "pycon-sk-2019" / "videos" / "pycon-sk-2019-edutalks.json",
                    tmp_path / event / "videos" / "talk.json")
        if category is not None:
            (tmp_path / event / "category.json").write_bytes(category)
    (tmp_path / "conf-c" / "videos").mkdir(parents=True)
    (tmp_path / "conf-c" / "category.json").write_text('{"title": "Conf C"}')
    (tmp_path / "conf-c" / "videos" / "README.txt").write_text("not a talk")
    result = read_path(tmp_path)
    assert [(t.id, t.event_title) for t in result.talks] == [("conf-a/talk", "conf-a"), ("conf-b/talk", "conf-b")]
    assert result.files == 2 and result.skipped == ()


# --- Encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    "Talk 1: Marian Špilka\n\n• ☐ check Café notes 漢字 🎉\n".encode(),
    codecs.BOM_UTF8 + "Talk 1: Marian Špilka\n\n• ☐ check Café notes 漢字 🎉\n".encode(),
    "Talk 1: Marian Špilka\r\n\r\n• ☐ check Café notes 漢字 🎉\r\n".encode("utf-16"),  # with BOM
    "Talk 1: Marian Špilka\n\n• ☐ check Café notes 漢字 🎉\n".encode("utf-16-le"),  # no BOM
    "Talk 1: Marian Špilka\n\n• ☐ check Café notes 漢字 🎉\n".encode("utf-16-be"),
], ids=["utf-8", "utf-8-bom", "utf-16-bom-crlf", "utf-16-le", "utf-16-be"])
def test_unicode_encodings_read_the_same(tmp_path, data):
    file = tmp_path / "notes.txt"
    file.write_bytes(data)
    (note,) = read_path(file).notes
    assert note.title == "Talk 1: Marian Špilka"
    assert [t.text for t in note.todos] == ["check Café notes 漢字 🎉"]


def test_legacy_single_byte_notes_are_read(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_bytes("Talk 1: Café – “quotes”\n\nnaïve notes\n".encode("cp1252"))
    (note,) = read_path(file).notes
    assert (note.title, note.text) == ("Talk 1: Café – “quotes”", "naïve notes")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"Talk 1: Caf\xe9 \x81\n\nbody\n")  # 0x81 is undefined in cp1252: Latin-1 then
    assert read_path(latin).notes[0].title == "Talk 1: Café \x81"


def test_decomposed_accents_are_composed(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("Talk 1: Marian S\u030cpilka\n\nbody\n")
    assert read_path(file).notes[0].title == "Talk 1: Marian Špilka"


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("talk.json", b'{"title": "x",}',
     "invalid JSON: Expecting property name enclosed in double quotes (line 1 column 15)"),
    ("talk.json", b'{"title": "x"}\n{"title": "y"}', "invalid JSON: Extra data (line 2 column 1)"),
    ("talk.json", b"[1, 2]", "not a pyvideo talk: no title"),
    ("talk.json", b'{"speakers": ["A"], "title": "  "}', "not a pyvideo talk: no title"),
    ("notes.md", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "binary file, not text"),
    ("talk.json", b"", "empty file"),
    ("notes.txt", b" \n\t\r\n", "empty file"),
    ("notes.txt", codecs.BOM_UTF8, "empty file"),
    ("talks.csv", b"title,speaker\n",
     "unknown format: '.csv' file (expected .json, .txt, .md, .markdown, .srt, .vtt or a folder)"),
])
def test_bad_file_is_skipped_with_its_reason(tmp_path, name, data, reason):
    file = tmp_path / name
    file.write_bytes(data)
    result = read_path(file)
    assert (result.talks, result.notes, result.skipped, result.files) == ((), (), (Skipped(str(file), reason),), 1)


def test_detect_format_raises_for_an_unknown_file(tmp_path):
    file = tmp_path / "talks.csv"
    file.write_text("a,b\n")
    with pytest.raises(InputError) as caught:
        detect_format(file)
    assert caught.value.reason.startswith("unknown format: '.csv' file")


def test_missing_path_raises(tmp_path):
    with pytest.raises(InputError) as caught:
        read_path(tmp_path / "nowhere")
    assert (caught.value.path, caught.value.reason) == (str(tmp_path / "nowhere"), "no such file or directory")


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    videos = tmp_path / "europython-2024" / "videos"
    videos.mkdir(parents=True)
    shutil.copy(PYVIDEO / "europython-2024" / "category.json", tmp_path / "europython-2024")
    shutil.copy(PYVIDEO / "europython-2024" / "videos" / "event-sourcing-in-production-borjan-tchakaloff.json", videos)
    (videos / "broken.json").write_text('{"title": ')
    result = read_path(tmp_path)
    assert [talk.id for talk in result.talks] == ["europython-2024/event-sourcing-in-production-borjan-tchakaloff"]
    assert result.skipped == (Skipped(str(videos / "broken.json"), "invalid JSON: Expecting value (line 1 column 11)"),)
    assert result.files == 2


def test_text_tree_reads_listings_and_notes_and_skips_the_rest(tmp_path):
    shutil.copy(LISTING, tmp_path / "listing.txt")
    (tmp_path / "sub").mkdir()
    shutil.copy(NOTES, tmp_path / "sub" / "pyconweb.md")
    (tmp_path / "sub" / "bad.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden").mkdir()
    shutil.copy(NOTES, tmp_path / ".hidden" / "secret.txt")
    result = read_path(tmp_path)
    assert (len(result.talks), len(result.notes), result.files) == (9, 7, 3)
    assert result.notes[0].id == "note:sub/pyconweb.md#talk-1-ines-montani-spacy"
    assert result.notes[0].file == "sub/pyconweb.md"
    assert result.skipped == (Skipped(str(tmp_path / "sub" / "bad.txt"), "binary file, not text"),)


def test_format_can_be_forced():
    assert detect_format(LISTING) is Format.LISTING and detect_format(NOTES) is Format.NOTES
    assert detect_format(PYVIDEO) is Format.PYVIDEO and detect_format(MARKDOWN) is Format.NOTES
    forced = read_path(LISTING, format=Format.NOTES)
    assert forced.talks == () and [note.title for note in forced.notes] == ["List of videos"]
    assert read_path(NOTES, format=Format.LISTING).skipped == (Skipped(str(NOTES.absolute()), "no talks found"),)


# --- Decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(("encode", "name"), [
    (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-sig"),
    (lambda text: text.encode("utf-16"), "utf-16 with BOM"),
    (lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "utf-16-be with BOM"),
    (lambda text: text.replace("\n", "\r\n").encode("utf-8"), "CRLF"),
])
def test_encodings_decode_to_the_same_notes(tmp_path, encode, name):
    file = tmp_path / NOTES.name
    file.write_bytes(encode(NOTES.read_text(encoding="utf-8")))
    assert [(n.title, n.line_start, n.line_end, n.text, n.todos) for n in read_path(file).notes] == [
        (n.title, n.line_start, n.line_end, n.text, n.todos) for n in read_path(NOTES).notes
    ], name


def test_text_is_nfc(tmp_path):
    file = tmp_path / "nfd.txt"
    file.write_bytes("Talk 1: Marian S\u030cpilka\n\nnotes".encode())
    [note] = read_path(file).notes
    assert note.title == "Talk 1: Marian Špilka"


# --- Fuzzing -------------------------------------------------------------------------------

LINE_PIECES = [
    "", "Talk 1: A", "2. Talk: B", "# Title", "## Sub", "### deep", "#tag #other", "• ☐ todo", "- [x] done",
    "[ ]", "```", "~~~", "List of videos", "Watch", "A — B", "A - B by C https://x.y/z",
    "[EuroPython 2024 — Hall on 2024-07-10]", "[E - R on 2024-01-01] T by S https://a.b text --- "
    "This work is licensed under a Creative Commons X", "---", "https://example.org/(a)", "\t", "#",
]
lines = st.lists(st.one_of(st.sampled_from(LINE_PIECES), st.text(max_size=40)), max_size=25)


@settings(max_examples=200, deadline=None)
@given(lines)
def test_parsers_only_raise_input_error(pieces):
    text = "\n".join(pieces)
    for parse in (lambda: parse_notes(text, file="f.md", path="/f.md"),
                  lambda: parse_listing(text, source="/f.txt")):
        try:
            parse()
        except InputError:
            pass


@pytest.mark.parametrize("line", [
    "# x" + " " * 50_000 + "y", "☐ a" + " " * 50_000 + "b", "[" + "a — b on " * 5_000, "a by " * 20_000,
    "[EuroPython — " + "x" * 50_000, "http://" + "(" * 50_000,
])
def test_long_lines_parse_in_linear_time(line):
    start = time.perf_counter()
    for parse in (lambda: parse_notes(line, file="f.md", path="/f.md"),
                  lambda: parse_listing(line, source="/f.txt")):
        try:
            parse()
        except InputError:
            pass
    assert time.perf_counter() - start < 1.0  # a quadratic regex takes ~10 s here


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_notes_parser_on_any_text(text):
    try:
        notes = parse_notes(text, file="f.md", path="/f.md")
    except InputError:
        return
    assert notes and all(1 <= n.line_start <= n.line_end for n in notes)


def test_note_ids_stay_unique_when_headings_repeat():
    notes = parse_notes("## A\nx\n## A\ny\n## A 2\nz\n", file="dir/n.md", path="/dir/n.md")
    assert [note.id for note in notes] == ["note:dir/n.md#a", "note:dir/n.md#a-2", "note:dir/n.md#a-2-2"]


def test_a_listing_bracket_without_a_room_or_with_a_hyphen_in_its_event_is_its_own_talk():
    listing = (DATA / "listing" / "000_0432f46ee71f120e.txt").read_text(encoding="utf-8") + """
Roomless talk — Ann Example

[PyCon US 2024 on 2024-05-18] Roomless talk by Ann Example https://example.org/a An abstract.

Watch

Online talk — Bo Example

[PyData Global - Online — Stream 1 on 2024-12-03] Online talk by Bo Example https://example.org/b Another.

Watch
"""
    talks = parse_listing(listing, source="listing.txt")
    assert len(talks) == 11 and "Roomless" not in talks[-3].texts[0][1]  # not glued to the talk above
    assert [(t.id, t.event_title, t.room, t.date, t.texts) for t in talks[-2:]] == [
        ("pycon-us-2024/roomless-talk", "PyCon US 2024", None, "2024-05-18", (("abstract", "An abstract."),)),
        ("pydata-global-online/online-talk", "PyData Global - Online", "Stream 1", "2024-12-03",
         (("abstract", "Another."),))]
