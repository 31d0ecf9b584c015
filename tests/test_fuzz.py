"""Fuzzed input: the readers only ever raise `InputError`; the CLI answers bad input in one line.

Mutations start from real files (the listing and notes in ../shared/seeds, real pyvideo talk
files) and add random bytes, random JSON values and the pieces that break parsers: BOMs, NUL
bytes, lone surrogates, stray brackets, right-to-left marks, CJK, emoji, front matter. Every
run is derandomized, so CI sees the same examples each time.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
import sys
import tempfile
import unicodedata
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from talksearch import cli
from talksearch.errors import InputError
from talksearch.normalize import fold
from talksearch.readers import detect_format, read_path
from talksearch.records import Format

from .conftest import SHARED, build_index

READERS_DATA = Path(__file__).parent / "data" / "readers"
SEEDS = [path.read_bytes() for path in sorted((SHARED / "seeds").glob("*.txt"))]  # a listing and a notes file
PYVIDEO_SEEDS = [path.read_bytes() for path in sorted((READERS_DATA / "pyvideo").glob("*/videos/*.json"))]
SPLICES = [
    b"\x00", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\r", b"\r\n", b"\n\n", b"\xff", b"\xe2\x80",
    b"\xed\xa0\xbd", "—".encode(), "\u202e\u200f".encode(), "שלום עולם".encode(), "漢字のテスト".encode(),
    "🎉👩‍👩‍👧".encode(), "S\u030cpilka".encode(), b'"', b"{", b"}", b"[", b"]", b"\\u0000", b"\\ud83d", b"\\", b"# ",
    b"## ", b"Talk 1: ", b"- [x] ", "☐ ".encode(), b"---\n", b"title: [", b"&a [*a, *a]", b"\n...\n", b"[[", b"#tag ",
    "[EuroPython 2024 — Hall on 2024-07-10] ".encode(), b" by ", b"https://x.org/(a))", b"-" * 60,
    b"This work is licensed under a Creative Commons ",
]
FUZZ_SETTINGS = {"deadline": None, "derandomize": True, "suppress_health_check": [HealthCheck.too_slow]}

runner = CliRunner()


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A real file with a few bytes changed, spliced in, cut out, repeated or truncated."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("splice", "splice", "delete", "byte", "repeat", "truncate")))
        if edit == "splice":
            data[at:at] = draw(st.sampled_from(SPLICES) | st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "byte":
            data[at : at + 1] = bytes([draw(st.integers(0, 255))])
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 512))]
        else:
            del data[at:]
    return bytes(data)


def check_text(value: object) -> None:
    """Every string in a record is storable text: UTF-8-encodable, no carriage return, NFC."""
    if isinstance(value, str):
        value.encode("utf-8")  # a lone surrogate raises here, and later in spaCy and DuckDB
        assert "\r" not in value
        assert unicodedata.is_normalized("NFC", value), value
    elif isinstance(value, tuple | list):
        for item in value:
            check_text(item)
    elif dataclasses.is_dataclass(value):
        for item in dataclasses.astuple(value):
            check_text(item)
    else:
        assert value is None or isinstance(value, int | Format), value


def read_every_way(file: Path) -> None:
    """Read a file as detected and as each format forced: records are clean, or it is skipped."""
    try:
        detect_format(file)
    except InputError as error:
        assert error.path == str(file) and error.reason
    for forced in (None, *Format):
        result = read_path(file, format=forced)
        assert result.files == 1
        for skipped in result.skipped:
            assert skipped.path == str(file)
            assert skipped.reason and "\n" not in skipped.reason
        assert bool(result.skipped) != bool(result.talks or result.notes)
        for record in (*result.talks, *result.notes):
            check_text(record)
            assert record.title.strip()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- Readers -------------------------------------------------------------------------------


@settings(max_examples=150, **FUZZ_SETTINGS)
@given(data=st.one_of(mutated(SEEDS), mutated(PYVIDEO_SEEDS), st.binary(max_size=600)),
       suffix=st.sampled_from([".txt", ".md", ".json"]))
@example(data=b"[" * 100_000, suffix=".json")  # nested too deeply for the JSON parser
@example(data=codecs.BOM_UTF16_LE + "Talk 1: x\n".encode("utf-16-le") + b"\x00\xd8", suffix=".md")
@example(data=codecs.BOM_UTF8 + b"Talk 1: caf\xe9\n", suffix=".txt")
@example(data=b"---\ntitle: &a [*a, *a, *a]\n---\n# T\n", suffix=".md")
@example(data=b'{"title": "\\ud83d", "description": "\\udfff\\u0000"}', suffix=".json")
def test_readers_take_mutated_real_files_and_random_bytes(workdir, data, suffix):
    file = workdir / f"input{suffix}"
    file.write_bytes(data)
    read_every_way(file)


JSON_STRINGS = st.lists(st.text(max_size=10) | st.sampled_from(["\ud83d", "\udfff", "\x00", "\r\n", "S\u030c", "\u202e"]),
                        max_size=4).map("".join)  # half an emoji's surrogate pair, NUL, CR, NFD, RTL override
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | JSON_STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
URL_ITEMS = st.lists(st.fixed_dictionaries({"url": JSON_STRINGS}) | JSON_STRINGS, max_size=3)
PYVIDEO_FIELDS = {  # each field as pyvideo writes it, or any JSON value at all
    "title": JSON_STRINGS, "description": JSON_STRINGS, "summary": JSON_STRINGS, "abstract": JSON_STRINGS,
    "recorded": JSON_STRINGS | st.dates().map(str), "language": JSON_STRINGS,
    "speakers": st.lists(JSON_STRINGS, max_size=3), "tags": st.lists(JSON_STRINGS, max_size=3),
    "videos": URL_ITEMS, "related_urls": URL_ITEMS,
}


@settings(max_examples=150, **FUZZ_SETTINGS)
@given(seed=st.sampled_from(PYVIDEO_SEEDS),
       changes=st.fixed_dictionaries({}, optional={name: values | JSON_VALUES for name, values in PYVIDEO_FIELDS.items()}),
       whole=st.none() | st.none() | JSON_VALUES)
def test_pyvideo_reader_takes_any_json_in_any_field(workdir, seed, changes, whole):
    talk = {**json.loads(seed), **changes} if whole is None else whole
    file = workdir / "ev" / "videos" / "talk.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(talk))  # ASCII with \\u escapes, lone surrogates included
    result = read_path(file)
    if result.skipped:
        assert [s.reason for s in result.skipped] in (["not a pyvideo talk: no title"], ["invalid JSON: nested too deeply"])
    else:
        [record] = result.talks
        check_text(record)


def test_half_an_escaped_emoji_in_pyvideo_json_becomes_a_replacement_character(tmp_path):
    file = tmp_path / "ev" / "videos" / "talk.json"
    file.parent.mkdir(parents=True)
    file.write_text('{"title": "Emoji \\ud83d talk", "speakers": ["Ana\\udfff"], "language": "eng\\ud800",'
                    ' "description": "A half \\ud83d emoji. Then a whole one \\ud83c\\udf89."}')
    [talk] = read_path(file).talks
    assert (talk.title, talk.speakers, talk.language) == ("Emoji \ufffd talk", ("Ana\ufffd",), "eng\ufffd")
    assert talk.text == "A half \ufffd emoji. Then a whole one 🎉."


def test_a_file_name_that_is_not_utf8_is_skipped_with_its_reason(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ok.md").write_text("# Talk\n\nnotes\n")
    videos = tmp_path / "catalog" / "ev" / "videos"
    videos.mkdir(parents=True)
    (videos.parent / "category.json").write_text('{"title": "Ev"}')
    (videos / "ok.json").write_text('{"title": "T"}')
    try:
        for folder, name in ((notes, "caf\xe9.md"), (videos, "caf\xe9.json")):
            with open(os.path.join(os.fsencode(folder), name.encode("latin-1")), "wb") as fh:
                fh.write(b'{"title": "T"}' if name.endswith(".json") else b"# Talk\n\nnotes\n")
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    reason = "file name is not valid UTF-8; rename the file"
    read = read_path(notes)
    assert [n.file for n in read.notes] == ["ok.md"]
    assert [(s.path, s.reason) for s in read.skipped] == [(f"{notes}/caf\\xe9.md", reason)]
    read = read_path(tmp_path / "catalog")
    assert [t.id for t in read.talks] == ["ev/ok"]
    assert [(s.path, s.reason) for s in read.skipped] == [(f"{videos}/caf\\xe9.json", reason)]


def test_escapes_in_front_matter_become_storable_nfc_text(tmp_path):
    file = tmp_path / "talk.md"
    file.write_text('---\ntitle: "emoji \\ud83d by S\\u030cpilka"\nspeakers: ["Marian S\\u030cpilka"]\n---\nbody\n')
    [note] = read_path(file).notes
    check_text(note)


# --- Text ----------------------------------------------------------------------------------

LISTING_SEED = SHARED / "seeds" / "000_0432f46ee71f120e.txt"
NOTES_SEED = SHARED / "seeds" / "004_7fcc6484864bb2bb.txt"
PYVIDEO_TALK = READERS_DATA / "pyvideo" / "europython-2024" / "videos" / "event-sourcing-in-production-borjan-tchakaloff.json"


def mixed_newlines(text: str) -> str:
    """Lines ended by CRLF, LF and CR in turn, as a file edited on three systems (CR never before LF)."""
    ends = ("\r\n", "\n", "\r")
    return "".join(line + ends[i % 3] for i, line in enumerate(text.split("\n")))


ENCODINGS = {
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16": lambda text: text.encode("utf-16"),
    "utf-16-le-no-bom": lambda text: text.encode("utf-16-le"),
    "windows-1252": lambda text: text.encode("cp1252"),
    "mixed-newlines": lambda text: mixed_newlines(text).encode("utf-8"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("seed", [LISTING_SEED, NOTES_SEED, PYVIDEO_TALK], ids=["listing", "notes", "pyvideo"])
def test_every_format_reads_the_same_in_every_encoding(tmp_path, seed, encoding):
    text = seed.read_text(encoding="utf-8")
    if encoding == "windows-1252":
        text = text.replace("☐", "[ ]")  # the one character of the seeds that Windows-1252 lacks
        if seed == PYVIDEO_TALK:
            text = json.dumps(json.loads(text), ensure_ascii=False)
    place = Path(*seed.parts[-3:]) if seed == PYVIDEO_TALK else Path(seed.name)  # the event is a folder name
    original, encoded = tmp_path / "original" / place, tmp_path / "encoded" / place
    for file in (original, encoded):
        file.parent.mkdir(parents=True)
    original.write_text(text, encoding="utf-8")
    encoded.write_bytes(ENCODINGS[encoding](text))
    assert records_read(encoded) == records_read(original) != []


def records_read(file: Path) -> list:
    """The talks and notes read from a file, without the path they were read from."""
    result = read_path(file)
    assert result.skipped == ()
    return [dataclasses.replace(r, **{name: "" for name in ("source", "path") if hasattr(r, name)})
            for r in (*result.talks, *result.notes)]


def test_nul_bytes(tmp_path):
    """NUL in the first 8 KB means binary; one further on, or escaped in JSON, is kept as text."""
    head = tmp_path / "head.md"
    head.write_bytes(b"# Talk\n\nnotes \x00 here\n")
    assert [s.reason for s in read_path(head).skipped] == ["binary file, not text"]
    late = tmp_path / "late.md"
    late.write_bytes(b"# Talk\n\n" + b"notes " * 2000 + b"\x00 after\n")
    [note] = read_path(late).notes
    assert note.text.endswith("notes \x00 after")
    escaped = tmp_path / "ev" / "videos" / "t.json"
    escaped.parent.mkdir(parents=True)
    escaped.write_text('{"title": "T\\u0000", "description": "a\\u0000b"}')
    [talk] = read_path(escaped).talks
    assert (talk.title, talk.text) == ("T\x00", "a\x00b")


SPILKAS = {"nfd": "Marian S\u030cpilka", "ascii": "Marian Spilka"}  # the speaker as two sources write him
HEBREW = "הרצאה על פייתון ומסדי נתונים"
ARABIC = "محاضرة عن بايثون وقواعد البيانات"
CJK = "用 Pickle 寫程式是否搞錯了什麼？"
EMOJI = "🐍 Python 🎉 packaging 👩‍👩‍👧"


@pytest.fixture(scope="module")
def world_index(tmp_path_factory, embedder):
    """Notes and pyvideo talks in right-to-left scripts, CJK and emoji, with NUL bytes, and a speaker
    written decomposed (NFD) in one talk and without accents in another: indexed."""
    root = tmp_path_factory.mktemp("world")
    notes = root / "notes"
    notes.mkdir()
    (notes / "hebrew.md").write_text(f"# {HEBREW}\n\nדיברו על אינדקסים ועל שאילתות איטיות.\n")
    (notes / "arabic.md").write_text(f"# {ARABIC}\n\nتحدثوا عن الفهارس والاستعلامات البطيئة.\n")
    (notes / "emoji.md").write_text(f"# {EMOJI}\n\n- [ ] try uv 🚀 for the build ✅\n")
    (notes / "nul.md").write_bytes(b"# Late NUL\n\n" + b"padding words " * 700 + b"\x00 kept\n")
    event = root / "catalog" / "pycon-tw-2023"
    (event / "videos").mkdir(parents=True)
    (event / "category.json").write_text('{"title": "PyCon TW 2023"}')
    (event / "videos" / "pickle.json").write_text(json.dumps({
        "title": CJK, "speakers": ["splitline"], "language": "zho",
        "description": "🪄 在本議程中，我們會深度剖析 Pickle 序列化格式。\u0000最後也會簡單講述資訊安全事項。🚀"}))
    event = root / "catalog" / "europython-2024"
    (event / "videos").mkdir(parents=True)
    (event / "category.json").write_text('{"title": "EuroPython 2024"}')
    talk = json.loads(PYVIDEO_TALK.read_text())
    for name, speaker in SPILKAS.items():
        (event / "videos" / f"{name}.json").write_text(json.dumps({**talk, "title": f"{talk['title']} ({name})",
                                                                   "speakers": [speaker]}))
    index = root / "index"
    summary = build_index(index, [notes, event.parent], embedder)
    assert (summary.added, summary.skipped) == ({"talks": 3, "notes": 4, "transcripts": 0}, ())
    return index


def console(*args: object) -> tuple[int, str, str]:
    """Run the `talksearch` console script in-process: (exit code, stdout, stderr)."""
    with runner.isolation() as (out, err, _), mock.patch.object(sys, "argv", ["talksearch", *map(str, args)]):
        try:
            cli.main()
        except SystemExit as stop:
            code = stop.code
        else:
            code = 0
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.mark.parametrize(("title", "query"), [
    (HEBREW, HEBREW), (ARABIC, ARABIC), (CJK, CJK), (EMOJI, "🐍 Python 🎉 packaging"),
], ids=["hebrew", "arabic", "cjk", "emoji"])
def test_right_to_left_cjk_and_emoji_are_found_and_shown_as_written(world_index, title, query):
    code, out, err = console("query", query, "-k", "1", "--json", "--index-dir", world_index)
    assert (code, err) == (0, "")
    [hit] = json.loads(out)
    assert hit["title"] == title
    code, out, err = console("show", hit["id"], "--index-dir", world_index)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == title


def test_nul_bytes_are_indexed_and_printed_as_text(world_index):
    code, out, err = console("query", "padding words kept", "-k", "1", "--index-dir", world_index)
    assert (code, err) == (0, "")
    assert out.startswith(" 1. Late NUL  [note]") and "padding words \\x00 kept\n" in out
    code, out, err = console("query", "序列化格式", "-k", "1", "--index-dir", world_index)
    assert (code, err) == (0, "")
    assert out.startswith(f" 1. {CJK}  [talk]") and "Pickle 序列化格式。\\x00最後也會" in out


@pytest.mark.parametrize("speaker", ["Špilka", "S\u030cpilka", "Spilka", "MARIAN SPILKA"],
                         ids=["nfc", "nfd", "ascii", "upper-ascii"])
def test_speaker_filter_from_the_command_line_in_any_normal_form(demo_index, speaker):
    code, out, err = console("query", "credentials", "--speaker", speaker, "--json", "--index-dir", demo_index)
    assert (code, err) == (0, "")
    assert {tuple(hit["speakers"]) for hit in json.loads(out)} == {("Marian Špilka",)}


@pytest.mark.parametrize("typed", ["Špilka", "S\u030cpilka", "spilka"], ids=["nfc", "nfd", "ascii"])
def test_a_speaker_written_decomposed_or_without_accents_is_found_by_any_form(world_index, typed):
    code, out, err = console("query", "event sourcing", "--speaker", typed, "--json", "--index-dir", world_index)
    assert (code, err) == (0, "")
    assert sorted((hit["id"], tuple(hit["speakers"])) for hit in json.loads(out)) == [
        ("europython-2024/ascii", ("Marian Spilka",)), ("europython-2024/nfd", ("Marian Špilka",))]


@settings(max_examples=400, **FUZZ_SETTINGS)
@given(text=st.one_of(st.text(), st.sampled_from([s.decode("utf-8", "replace") for s in SPLICES]),
                      st.text(alphabet="İıßẞﬁǄ½Ｆé\u0301\u0307\u093c\u05b4 aZ_-!\U0001f389", max_size=40)))
@example(text="İstanbul ß ﬁle Ǆ ½ Ｆｕｌｌ 한국어 हिन्दी עִבְרִית café \ud83d")
def test_fold_is_nfkd_without_combining_marks_casefolded_with_punctuation_as_spaces(text):
    """`fold` looks at non-ASCII runs only: the same as its definition applied to the whole text (Latin letters
    transliterated, when anyascii writes them as ASCII letters; Hangul syllables composed again)."""
    from anyascii import anyascii

    def latin(ch: str) -> str:
        if unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith("LATIN "):
            return anyascii(ch) if anyascii(ch).isascii() and anyascii(ch).isalpha() else ch
        return ch

    stripped = "".join(latin(ch) for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    stripped = unicodedata.normalize("NFC", stripped)
    assert fold(text) == " ".join(re.split(r"[^\w]+", stripped.casefold().replace("_", " "))).strip()


# --- Command line --------------------------------------------------------------------------


def assert_one_line_error(code: int, out: str, err: str, codes: set[int]) -> None:
    """No traceback, a documented exit code, and an error that is one line (or candidates after it)."""
    assert "Traceback" not in out + err
    assert code in codes, (code, err)
    if code == 0:  # a filter value that matches nothing says so, one line each
        assert all(re.fullmatch(r"no (event|speaker|talk is in language|tool, entity or phrase) .*", line)
                   for line in err.splitlines()), err
        return
    first, *rest = err.splitlines()
    assert first.startswith("error: ") and "unexpected" not in first, first
    assert not rest or (" matches " in first and all(line.startswith("  ") for line in rest)), err


@settings(max_examples=15, **FUZZ_SETTINGS)
@given(data=st.one_of(mutated(PYVIDEO_SEEDS), st.binary(max_size=300)))
@example(data=b"")
@example(data=b"\x00" * 64)
@example(data=b'{"title": ')
def test_index_of_a_fuzzed_file_is_a_summary_or_one_line(workdir, data):
    """Readable: a summary, exit 0. Unreadable: one line naming the file and why, exit 1."""
    run = Path(tempfile.mkdtemp(dir=workdir)).resolve()
    file = run / "talk.json"
    file.write_bytes(data)
    skipped = read_path(file).skipped
    code, out, err = console("index", file, "--index-dir", run / "index")
    assert_one_line_error(code, out, err, {1} if skipped else {0})
    if skipped:
        [why] = skipped
        assert err == (f"error: nothing could be read from {file} (1 files skipped; {file}: {why.reason}); "
                       "the index is unchanged\n")
    else:
        assert "added 1 talks, 0 notes" in out


@pytest.mark.parametrize(("name", "data"), [
    ("notes.md", b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
    ("notes.md", codecs.BOM_UTF16_LE + b"\x00\xd8"),
    ("talks.csv", b"title,speaker\n"),
    ("listing.txt", b" \n\t\r\n"),
    ("talk.json", b"[" * 100_000),
])
def test_index_of_an_unreadable_file_is_one_line_with_the_file_and_reason(tmp_path, name, data):
    file = tmp_path.resolve() / name
    file.write_bytes(data)
    [why] = read_path(file).skipped
    code, out, err = console("index", file, "--index-dir", tmp_path / "index")
    assert (code, out) == (1, "")
    assert err == (f"error: nothing could be read from {file} (1 files skipped; {file}: {why.reason}); "
                   "the index is unchanged\n")


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # lone surrogates: tested below
NUMBERS = st.integers(-3, 10**20).map(str) | TEXT
QUERY_OPTIONS = st.lists(st.one_of(
    st.tuples(st.sampled_from(["--speaker", "--event", "--lang"]), TEXT | st.sampled_from(["Špilka", "S\u030cpilka"])),
    st.tuples(st.sampled_from(["--kind"]), st.sampled_from(["talk", "note", "video", ""])),
    st.tuples(st.sampled_from(["--mode"]), st.sampled_from(["hybrid", "rrf", "dense", "lexical", "best"])),
    st.tuples(st.sampled_from(["--sort"]), st.sampled_from(["relevance", "date", "random"])),
    st.tuples(st.sampled_from(["-k", "--offset", "--since", "--until"]), NUMBERS),
), max_size=3)


@settings(max_examples=25, **FUZZ_SETTINGS)
@given(text=TEXT | st.sampled_from(["-", "--", '"unclosed', '"event sourcing" -django', "\x00", "\u202e", "漢字"]),
       options=QUERY_OPTIONS)
def test_query_with_fuzzed_text_and_options_is_results_or_one_line(demo_index, text, options):
    code, out, err = console("query", text, *[part for option in options for part in option], "--index-dir", demo_index)
    assert_one_line_error(code, out, err, {0, 2})


@settings(max_examples=20, **FUZZ_SETTINGS)
@given(command=st.sampled_from(["show", "related"]),
       reference=TEXT | st.sampled_from(["note:", "note:004", "europython-2024/", "%", "_", "Talk", "\x00"]))
def test_show_and_related_with_fuzzed_references_are_results_or_one_line(demo_index, command, reference):
    code, out, err = console(command, reference, "--index-dir", demo_index)
    assert_one_line_error(code, out, err, {0, 2})


def test_a_query_with_bytes_that_are_not_utf8_is_answered(demo_index):
    """The byte that is not UTF-8 is read as U+FFFD: the answer is that text's, exit 0."""
    code, out, err = console("query", os.fsdecode(b"caf\xe9"), "--json", "--index-dir", demo_index)
    assert (code, err) == (0, "")
    assert len(json.loads(out)) == 10
    assert (code, out, err) == console("query", "caf\ufffd", "--json", "--index-dir", demo_index)


def test_a_file_name_with_a_newline_stays_one_error_line(tmp_path):
    file = tmp_path / "bad\nname.md"
    file.write_bytes(b"PK\x03\x04\x00\x00")
    code, out, err = console("index", file, "--index-dir", tmp_path / "index")
    assert_one_line_error(code, out, err, {1})
