"""Notes as people keep them: an Obsidian-style vault with front matter, #tags and [[wiki links]]."""

from __future__ import annotations

import codecs
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talksearch.errors import InputError
from talksearch.link import link_notes, merge_talks
from talksearch.readers import read_path
from talksearch.readers.notes import parse_notes, parse_notes_with_warnings
from talksearch.records import Format, Note, Skipped, Todo

from .conftest import DATA

VAULT = Path(__file__).parent / "vault"
EP2024 = VAULT / "EuroPython 2024"
LISTING = DATA / "000_0432f46ee71f120e.txt"
SEED_NOTES = DATA / "004_7fcc6484864bb2bb.txt"


def one_note(text: str, file: str = "note.md") -> Note:
    notes, warnings = parse_notes_with_warnings(text, file=file, path=f"/vault/{file}")
    assert warnings == ()
    [note] = notes
    return note


def front(fields: str, body: str = "body\n") -> str:
    return f"---\n{fields}\n---\n{body}"


# --- The vault -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vault():
    return read_path(VAULT)


@pytest.fixture(scope="module")
def by_id(vault):
    return {note.id: note for note in vault.notes}


def test_vault_reads_every_file_and_warns_about_the_broken_one(vault, by_id):
    assert (vault.files, vault.skipped, vault.talks) == (6, (), ())
    assert vault.warnings == (Skipped(
        str(EP2024 / "Broken front matter.md"),
        "malformed front matter (line 2: mapping values are not allowed here); indexed the body without it",
    ),)
    assert list(by_id) == [
        "note:Conference log.md#talk-1-deadcode",
        "note:Conference log.md#talk-2-aggregating-data-in-django",
        "note:EuroPython 2024/Broken front matter.md#talk-1-zero-trust-apis-with-python",
        "note:EuroPython 2024/Broken front matter.md#talk-2-animations-from-first-principles",
        "note:EuroPython 2024/Event sourcing.md#event-sourcing-in-production",
        "note:EuroPython 2024/Lightning talks.md#lightning-talks-day-one",
        "note:EuroPython 2024/Selling a rewrite.md#selling-a-rewrite-to-the-business",
        "note:People/Ines Montani.md#ines-montani",
    ]


def test_a_file_with_front_matter_is_one_note_with_its_fields(by_id):
    note = by_id["note:EuroPython 2024/Event sourcing.md#event-sourcing-in-production"]
    assert (note.title, note.speakers, note.event, note.date) == (
        "Event Sourcing in production", ("Borjan Tchakaloff",), "EuroPython 2024", "2024-07-10")
    assert note.context == "Borjan Tchakaloff — EuroPython 2024"
    assert (note.line_start, note.line_end) == (1, 27)
    assert note.text.startswith("# Event sourcing\n\nBorjan's team replays the event log")
    assert "\n## Takeaways\n" in note.text and "\n## Questions\n" in note.text  # headings are sections
    assert note.text.endswith("Slides: https://speakerdeck.com/tchakaloff/event-sourcing-in-production")
    assert note.tags == ("python", "architecture", "event-sourcing", "cqrs")  # front matter, then inline
    assert note.links == ("Borjan Tchakaloff", "CQRS", "Event Store", "Outbox pattern")  # none from the code block
    assert note.todos == (
        Todo("read up on [[CQRS]] and [[Event Store|event stores]]", True, 17),
        Todo("compare with [[Outbox pattern#Relay]]", False, 18),
    )
    assert note.urls == ("https://speakerdeck.com/tchakaloff/event-sourcing-in-production",)


def test_block_lists_quoted_dates_case_and_talk_headings_in_a_front_matter_file(by_id):
    note = by_id["note:EuroPython 2024/Selling a rewrite.md#selling-a-rewrite-to-the-business"]
    assert (note.title, note.speakers, note.event, note.date, note.context) == (
        "Selling a rewrite to the business", ("Ivett Ördög",), None, "2024-07-10", "Ivett Ördög")
    assert note.tags == ("refactoring", "management/stakeholders", "todo/work")
    assert "\n## Talk 1: the pitch\n" in note.text  # a talk heading, but front matter makes the file one note
    assert note.todos == (Todo('try the "strangler fig" framing with the billing team #todo/work', False, 20),)
    assert (note.line_start, note.line_end, note.links) == (1, 20, ())


def test_missing_fields_title_from_the_first_heading(by_id):
    note = by_id["note:EuroPython 2024/Lightning talks.md#lightning-talks-day-one"]
    assert (note.title, note.speakers, note.event, note.date) == ("Lightning talks, day one", (), "EuroPython 2024", None)
    assert note.tags == ("lightning",)  # not `#hashtag` in code, "C#" or "#123"
    assert note.links == ("EuroPython 2024",)  # a [[link]] in a front matter value
    assert note.context == "EuroPython 2024"


def test_malformed_front_matter_is_left_out_and_the_body_split_at_talk_headings(by_id):
    first, second = (note for note in by_id.values() if note.file == "EuroPython 2024/Broken front matter.md")
    assert (first.title, first.line_start, first.line_end, first.context) == ("Talk 1: Zero Trust APIs with Python", 5, 8, "")
    assert first.todos == (Todo("look at https://ep2024.europython.eu/session/zero-trust-apis-with-python again", False, 8),)
    assert (first.speakers, first.event, first.date) == ((), None, None)
    assert (second.title, second.line_start, second.line_end, second.text) == (
        "Talk 2: Animations from first principles", 10, 12, "- manim, from scratch")


def test_a_horizontal_rule_inside_a_file_is_not_front_matter(by_id):
    deadcode = by_id["note:Conference log.md#talk-1-deadcode"]
    assert deadcode.context == "Notes from the hallway track, not tied to one talk.\n\n---"
    assert (deadcode.text, deadcode.tags, deadcode.line_start) == ("Finds unused code; #static-analysis\n\n---",
                                                                   ("static-analysis",), 5)


def test_a_file_without_front_matter_keeps_its_links(by_id):
    person = by_id["note:People/Ines Montani.md#ines-montani"]
    assert (person.title, person.links, person.speakers) == ("Ines Montani", ("PyCon DE 2024",), ())


def test_the_seed_notes_get_no_new_fields():
    result = read_path(SEED_NOTES)
    assert result.warnings == () and len(result.notes) == 7
    assert all((n.speakers, n.event, n.date, n.links) == ((), None, None, ()) for n in result.notes)
    assert [n.tags for n in result.notes][:6] == [()] * 6


# --- Front matter rules --------------------------------------------------------------------


@pytest.mark.parametrize(("written", "date"), [
    ("date: 2024-04-23", "2024-04-23"),  # a YAML date
    ("date: '2024-04-23'", "2024-04-23"),
    ("date: 2024-04-23T10:30:00+02:00", "2024-04-23"),  # a YAML datetime
    ("date: 2024-04-23 10:30", "2024-04-23"),
    ("date: 2024/4/3", "2024-04-03"),
    ("date: [2024-04-23]", "2024-04-23"),
    ("date: '2024-02-30'", None),  # quoted: text, and no such day
    ("date: 23.04.2024", None),
    ("date: next tuesday", None),
    ("date: 20240423", None),
    ("date:", None),
    ("date: {day: 23}", None),
])
def test_dates(written, date):
    assert one_note(front(f"title: T\n{written}")).date == date


@pytest.mark.parametrize(("written", "speakers"), [
    ("speaker: Ana Lee", ("Ana Lee",)),
    ("speaker: Ana Lee and Bo Chen", ("Ana Lee", "Bo Chen")),
    ("speakers: Ana Lee, Bo Chen", ("Ana Lee", "Bo Chen")),
    ("speakers: [Ana Lee, Bo Chen]", ("Ana Lee", "Bo Chen")),
    ("speakers:\n  - Ana Lee\n  - '[[people/Bo Chen|Bo Chen]]'", ("Ana Lee", "Bo Chen")),
    ('speaker: "[[Ana Lee]]"', ("Ana Lee",)),
    ("speaker: [[Ana Lee]]", ("Ana Lee",)),  # unquoted: YAML reads a list in a list
    ("speakers:\n  - [[Ana Lee]]\n  - [[Bo Chen]]", ("Ana Lee", "Bo Chen")),
    ("speaker: Ana Lee\nspeakers: [Bo Chen, Ana Lee]", ("Ana Lee", "Bo Chen")),
    ("Speaker: Ana Lee", ("Ana Lee",)),  # keys are case-insensitive
    ("speaker: {name: Ana Lee}", ()),
    ("speaker:", ()),
    ("speaker: true", ()),
])
def test_speakers(written, speakers):
    assert one_note(front(f"title: T\n{written}")).speakers == speakers


@pytest.mark.parametrize(("fields", "body", "title"), [
    ("title: Polars in production", "# Other heading\n", "Polars in production"),
    ("title: '  Polars   in\n  production '", "", "Polars in production"),
    ("title: '[[Polars in production]]'", "", "Polars in production"),
    ("title: 1984", "", "1984"),
    ("title: 2024-04-23", "", "2024-04-23"),
    ("title: [A, B]", "", "A"),
    ("title: {nested: x}", "# From the heading ##\n", "From the heading"),
    ("title: null", "## Not level one\n# Level one\n", "Level one"),
    ("title: no", "```\n# in code\n```\n", "talk-notes"),  # YAML 1.1 reads `no` as false: ignored
    ("speaker: A", "Talk 1: first line\n", "talk-notes"),
])
def test_title_from_front_matter_else_first_heading_else_file_name(fields, body, title):
    assert one_note(front(fields, body), file="talk-notes.md").title == title


@pytest.mark.parametrize(("written", "tags"), [
    ("tags: [a, b]", ("a", "b")),
    ("tags:\n  - a\n  - '#b'\n  - nested/c", ("a", "b", "nested/c")),
    ("tags: a, b c", ("a", "b", "c")),
    ("tag: solo", ("solo",)),
    ("tags: [a, a]\ntag: a", ("a",)),
    ("tags: 2024", ("2024",)),
    ("tags: {a: 1}", ()),
    ("tags:", ()),
])
def test_front_matter_tags(written, tags):
    assert one_note(front(written)).tags == tags


def test_unknown_keys_are_ignored_but_their_urls_and_links_kept():
    note = one_note(front(
        "title: T\ncssclasses: [wide]\nrating: 4.5\nsource: https://example.org/talk\nrelated:\n  - [[Other note]]\n"
        "nested: {deep: {deeper: '[[Deep link]]'}}",
        "see https://example.org/more\n",
    ))
    assert (note.urls, note.links) == (("https://example.org/talk", "https://example.org/more"), ("Other note", "Deep link"))
    assert (note.speakers, note.event, note.date, note.tags, note.context) == ((), None, None, (), "")


def test_empty_front_matter_still_makes_one_note():
    note = one_note("---\n---\nTalk 1: A\nx\nTalk 2: B\n", file="two.md")
    assert (note.title, note.line_start, note.line_end, note.text) == ("two", 1, 5, "Talk 1: A\nx\nTalk 2: B")


def test_front_matter_without_a_body_is_a_note_without_text():
    note = one_note("---\ntitle: To watch\nspeaker: Ana Lee\n...\n\n")
    assert (note.title, note.text, note.line_start, note.line_end, note.speakers) == ("To watch", "", 1, 4, ("Ana Lee",))


@pytest.mark.parametrize(("text", "reason"), [
    ("---\ntitle: A: B\n---\nbody\n", "malformed front matter (line 2: mapping values are not allowed here)"),
    ("---\ntitle: T\ntags: [a, b\n---\nbody\n", "malformed front matter (line 3: expected ',' or ']', but got '<stream end>')"),
    ('---\ntitle: "T\\q"\n---\nbody\n', "malformed front matter (line 2: found unknown escape character 'q')"),
    ("---\ntitle: T\n\tspeaker: S\n---\nbody\n",
     "malformed front matter (line 3: found character '\\t' that cannot start any token)"),
    ("---\n- a\n- b\n---\nbody\n", "malformed front matter (a list, not 'key: value' fields)"),
    ("---\njust a sentence\n---\nbody\n", "malformed front matter (a text, not 'key: value' fields)"),
    ("---\ndate: 2024-02-30\n---\nbody\n", "malformed front matter (invalid value: day is out of range for month)"),
    ("---\na: " + "[" * 17 + "]" * 17 + "\n---\nbody\n", "malformed front matter ([ ] or { } nested more than 16 deep)"),
    ("---\na: " + "x" * 16_384 + "\n---\nbody\n", "malformed front matter (longer than 16384 characters)"),
    ("---\nx: !!python/object/apply:os.system [ls]\n---\nbody\n",
     "malformed front matter (line 2: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system')"),
])
def test_malformed_front_matter_is_a_warning_and_the_body_is_read(text, reason):
    notes, warnings = parse_notes_with_warnings(text, file="f.md", path="/f.md")
    assert warnings == (f"{reason}; indexed the body without it",)
    assert [(n.title, n.line_start, n.text, n.speakers) for n in notes] == [("body", text.count("\n"), "", ())]


def test_malformed_front_matter_with_nothing_after_it_is_skipped(tmp_path):
    file = tmp_path / "bad.md"
    file.write_text("---\ntitle: [\n---\n\n")
    result = read_path(file)
    assert result.skipped == (Skipped(str(file), "malformed front matter (line 2: expected the node content, "
                                                 "but found '<stream end>') and nothing after it"),)
    assert result.warnings == () and result.notes == ()


@pytest.mark.parametrize(("text", "warnings", "titles"), [
    ("---\ntitle: T\n\n# Heading\nbody\n", ("front matter not closed (no '---' line after its fields); "
                                          "indexed the file as plain notes",), ["Heading"]),
    ("---\n\nFirst paragraph after a rule.\n", (), ["---"]),  # a rule, as before
    ("Intro\n---\ntitle: T\n---\nbody\n", (), ["Intro"]),  # `---` not on the first line
    (" ---\ntitle: T\n---\nbody\n", (), ["---"]),
    ("\n---\ntitle: T\n---\nbody\n", (), ["---"]),
])
def test_only_a_first_line_dash_rule_opens_front_matter(text, warnings, titles):
    notes, found = parse_notes_with_warnings(text, file="f.md", path="/f.md")
    assert (found, [n.title for n in notes]) == (warnings, titles)
    assert all(n.speakers == () for n in notes)


VAULT_NOTE = (
    "---\ntitle: Polars in production\nspeaker: Ritchie Vink\nevent: PyCon DE 2024\ndate: 2024-04-23\n"
    "tags: [polars]\n---\n# Polars\n\n- [ ] try `scan_parquet` #dataframes\n- see [[Arrow]]\n"
)


@pytest.mark.parametrize("encode", [
    lambda t: t.encode(),
    lambda t: t.replace("\n", "\r\n").encode(),
    lambda t: codecs.BOM_UTF8 + t.encode(),
    lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r\n").encode(),
    lambda t: t.replace("\n", "\r\n").encode("utf-16"),
], ids=["lf", "crlf", "bom", "bom-crlf", "utf-16-crlf"])
def test_crlf_and_bom_files_read_the_same(tmp_path, encode):
    file = tmp_path / "polars.md"
    file.write_bytes(encode(VAULT_NOTE))
    result = read_path(file)
    assert result.warnings == ()
    [note] = result.notes
    assert note == Note(
        id="note:polars.md#polars-in-production", title="Polars in production", file="polars.md", path=str(file),
        line_start=1, line_end=11, text="# Polars\n\n- [ ] try `scan_parquet` #dataframes\n- see [[Arrow]]",
        context="Ritchie Vink — PyCon DE 2024", todos=(Todo("try `scan_parquet` #dataframes", False, 10),),
        tags=("polars", "dataframes"), urls=(), speakers=("Ritchie Vink",), event="PyCon DE 2024",
        date="2024-04-23", links=("Arrow",), sections=("Polars",),
    )


def test_a_bom_left_in_the_text_still_opens_front_matter():
    assert one_note("\ufeff" + VAULT_NOTE).title == "Polars in production"


# --- Inline #tags and [[links]] ------------------------------------------------------------


@pytest.mark.parametrize(("line", "tags"), [
    ("great talk #python #async-io", ("python", "async-io")),
    ("#python at the start, then prose", ("python",)),
    ("nested #topic/data/polars tag", ("topic/data/polars",)),
    ("punctuation after #tag, and #end.", ("tag", "end")),
    ("#py3 and #3d but not #2024 or #123", ("py3", "3d")),
    ("not C# or F#, not page#anchor", ()),
    ("https://example.org/page#section and [docs](#local)", ()),
    ("`#code` and ``#more`` and ``a`#b`` spans", ()),
    ("&#123; an entity", ()),
    ("words #über and #日本語", ("über", "日本語")),
])
def test_inline_tags(line, tags):
    note = parse_notes(f"Talk 1: T\n{line}\n", file="f.md", path="/f.md")[0]
    assert note.tags == tags


def test_tags_from_headings_context_and_tag_lines_in_order():
    text = "# Day one #pycon\n\nIntro #berlin\n\n## Talk A #data\n\nbody #late\n\n#tagline #other\n"
    [note] = parse_notes(text, file="f.md", path="/f.md")
    assert (note.title, note.context, note.tags) == ("Talk A #data", "Day one #pycon\n\nIntro #berlin",
                                                     ("pycon", "berlin", "tagline", "other", "data", "late"))


@pytest.mark.parametrize(("line", "links"), [
    ("see [[Other note]]", ("Other note",)),
    ("[[Target|shown text]] and [[Target#Heading]]", ("Target",)),
    ("[[Target#^block-id]] [[folder/Deep note.md]]", ("Target", "folder/Deep note.md")),
    ("| [[Table link\\|alias]] | cell |", ("Table link",)),
    ("![[diagram.png]] ![[Embedded note]]", ()),
    ("[[#Heading in this file]] [[]] [not a link]", ()),
    ("`[[in code]]` [[real]]", ("real",)),
    ("[[a]] [[b]] [[a]]", ("a", "b")),
])
def test_wiki_links(line, links):
    note = parse_notes(f"Talk 1: T\n{line}\n", file="f.md", path="/f.md")[0]
    assert note.links == links


# --- Linking to catalog talks --------------------------------------------------------------


@pytest.fixture(scope="module")
def listing():
    return list(read_path(LISTING).talks)


def test_vault_notes_link_to_catalog_talks(vault, listing):
    links = link_notes(vault.notes, merge_talks(listing))
    assert links == {
        # front matter title and speaker (the note's URL is not the catalog's)
        "note:EuroPython 2024/Event sourcing.md#event-sourcing-in-production": "europython-2024/event-sourcing-in-production",
        # front matter speaker; the title is the note's own
        "note:EuroPython 2024/Selling a rewrite.md#selling-a-rewrite-to-the-business":
            "europython-2024/how-to-sell-a-big-refactor-or-rewrite-to-the-business",
        # malformed front matter: the body's URL and talk headings still link
        "note:EuroPython 2024/Broken front matter.md#talk-1-zero-trust-apis-with-python":
            "europython-2024/zero-trust-apis-with-python",
        "note:EuroPython 2024/Broken front matter.md#talk-2-animations-from-first-principles":
            "europython-2024/animations-from-first-principles",
    }


def note_about(fields: str) -> Note:
    return one_note(front(fields, "- notes\n"))


def test_front_matter_speaker_settles_a_title_two_talks_share(listing):
    original = next(t for t in listing if t.title == "Event Sourcing in production")
    other = replace(original, id="pycon-cz-2024/event-sourcing-in-production", speakers=("Ana Lee",),
                    event="pycon-cz-2024", event_title="PyCon CZ 2024", format=Format.PYVIDEO)
    talks = merge_talks([original, other])
    title = "title: Event Sourcing in production"
    assert link_notes([note_about(title)], talks) == {}  # ambiguous, as before
    assert link_notes([note_about(f"{title}\nspeaker: Borjan Tchakaloff")], talks) == {
        "note:note.md#event-sourcing-in-production": original.id}
    assert link_notes([note_about(f"{title}\nspeaker: ana lee")], talks) == {
        "note:note.md#event-sourcing-in-production": other.id}
    assert link_notes([note_about(f"{title}\nevent: PyCon CZ 2024")], talks) == {
        "note:note.md#event-sourcing-in-production": other.id}


def test_front_matter_event_and_date_pick_the_recording(listing):
    talk = next(t for t in listing if t.title == "Animations from first principles")
    again = replace(talk, id="pycon-cz-2024/animations", event="pycon-cz-2024", event_title="PyCon CZ 2024",
                    date="2024-09-21", format=Format.PYVIDEO)
    other = replace(talk, id="europython-2024/manim-workshop", title="Manim workshop", date="2024-07-11")
    talks = merge_talks([talk, again, other])
    base = "title: Animations from first principles\nspeaker: Rodrigo Girão Serrão"
    cases = {
        base: "europython-2024/animations-from-first-principles",  # one talk, two recordings: the smaller id
        f"{base}\nevent: PyCon CZ 2024": again.id,
        f"{base}\nevent: '[[PyCon CZ 2024]]'": again.id,
        f"{base}\ndate: 2024-09-21": again.id,
        f"{base}\nevent: PyCon US 2024": "europython-2024/animations-from-first-principles",  # no such event: ignored
        "title: Rodrigo's second session\nspeaker: Rodrigo Girao Serrao\ndate: 2024-07-11": other.id,
        "title: Rodrigo's session\nspeaker: rodrigo girão serrão\nevent: PyCon CZ 2024": again.id,
    }
    for fields, talk_id in cases.items():
        note = note_about(fields)
        assert link_notes([note], talks) == {note.id: talk_id}, fields


def test_front_matter_naming_no_catalog_talk_links_nothing(listing):
    talks = merge_talks(listing)
    for fields in ("title: Something else entirely\nspeaker: Ana Lee\nevent: EuroPython 2024",
                   "title: Lightning talks\nevent: EuroPython 2024\ndate: 2024-07-10",
                   "speaker: Borjan"):
        assert link_notes([note_about(fields)], talks) == {}, fields


def test_front_matter_url_links_first(listing):
    note = note_about("title: My notes\nurl: https://ep2024.europython.eu/session/zero-trust-apis-with-python")
    assert link_notes([note], merge_talks(listing)) == {note.id: "europython-2024/zero-trust-apis-with-python"}


# --- Robustness ----------------------------------------------------------------------------

FRONT_PIECES = [
    "---", "...", "title: T", "title: [[A]]", "speaker: [A, B]", "speakers:", "  - [[X]]", "  - 5", "date: 2024-02-30",
    "date: 2024-04-23", "tags: [a, b", "tags: a, b", "a: &x [1, *x]", "b: *x", "? [k]", ": v", "key: {x: [y]}",
    "title: 'unterminated", "!!binary x", "- item", "Talk 1: A", "## Sub", "#tag", "[[link]]", "\t", "",
]
front_lines = st.lists(st.one_of(st.sampled_from(FRONT_PIECES), st.text(max_size=30)), max_size=20)


@settings(max_examples=300, deadline=None)
@given(front_lines)
def test_front_matter_only_raises_input_error(pieces):
    text = "\n".join(["---", *pieces])
    try:
        notes, warnings = parse_notes_with_warnings(text, file="f.md", path="/f.md")
    except InputError:
        return
    assert notes and all(isinstance(w, str) for w in warnings)
    for note in notes:
        assert isinstance(note.title, str) and note.title
        assert all(isinstance(value, str) and value for value in (*note.speakers, *note.tags, *note.links))
        assert note.date is None or len(note.date) == 10


@pytest.mark.parametrize("text", [
    "---\ntitle: " + "x" * 200_000 + "\n---\nbody",
    "Talk 1: A\n" + "[[" * 50_000,
    "Talk 1: A\n" + "[[a" * 50_000,
    "Talk 1: A\n" + " #a" * 50_000,
    "Talk 1: A\n" + "#" * 100_000,
    "Talk 1: A\n" + "`#a" * 50_000,
    "---\n" + "title: x\n" * 20_000,
    "---\na: " + "[" * 5_000 + "]" * 5_000 + "\n---\nbody",  # deeper than the parser goes
    "---\na: " + "[" * 16 + "x," * 8_150 + "]" * 16 + "\n---\nbody",
    "---\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nspeakers: *f\ntags: *f\n---\nbody",  # aliases: ten million items
])
def test_large_and_hostile_files_are_read_quickly(text):
    start = time.perf_counter()
    try:
        parse_notes_with_warnings(text, file="f.md", path="/f.md")
    except InputError:
        pass
    assert time.perf_counter() - start < 2.0


# --- show: [[links]] and backlinks, on a real index ----------------------------------------------


def test_show_resolves_links_and_backlinks(tmp_path, standin):
    from typer.testing import CliRunner

    from talksearch import kb
    from talksearch.cli import app

    from .conftest import build_index

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Event sourcing.md").write_text(
        "---\ntitle: Event Sourcing in production\nspeaker: Borjan Tchakaloff\ndate: 2024-07-10\n---\n"
        "Events as the source of truth; see [[CQRS notes]] and [[Outbox pattern#Relay]].\n")
    (vault / "CQRS notes.md").write_text("---\ntitle: Command and query separation\n---\nRead models, projections.\n")
    root = tmp_path / "index"
    build_index(root, [vault], standin)
    with kb.open(root, embedder=standin) as base:  # no query: links are resolved by title
        source = base.talk("note:Event sourcing.md#event-sourcing-in-production")
        target = base.talk("Command and query separation")
    assert [(lk["link"], lk["id"], lk["direction"]) for lk in source.links] == [
        ("CQRS notes", "note:CQRS notes.md#command-and-query-separation", "to"), ("Outbox pattern", None, "to")]
    assert [(lk["id"], lk["direction"]) for lk in target.links] == [
        ("note:Event sourcing.md#event-sourcing-in-production", "from")]
    result = CliRunner().invoke(app, ["show", "Event Sourcing in production", "--index-dir", str(root)])
    assert result.exit_code == 0, result.output
    assert "→ [[CQRS notes]] · note:CQRS notes.md#command-and-query-separation" in result.stdout
    assert "→ [[Outbox pattern]] · (no such note)" in result.stdout
