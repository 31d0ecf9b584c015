"""`index` on awkward input: forced formats, over-long titles, vanished sources, the index inside a source, named
pipes, a file as --index-dir, removing the last source, bad option values. Each ends in a clear one-line error and
an index left as it was, or in the index a user expects."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from talksearch import build, store
from talksearch.errors import UsageError

from .conftest import build_index
from .test_cli import invoke
from .test_fuzz import console

READERS = Path(__file__).parent / "data" / "readers"
LISTING = READERS / "listing" / "000_0432f46ee71f120e.txt"  # 9 talks
NOTES = READERS / "notes" / "004_7fcc6484864bb2bb.txt"  # 7 notes
VIDEO = READERS / "pyvideo" / "europython-2024" / "videos" / "event-sourcing-in-production-borjan-tchakaloff.json"


def sql(root: Path, query: str) -> list[dict]:
    result = invoke("sql", query, "--json", "--index-dir", root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail instead of hanging (a read of a named pipe waits for a writer forever)."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def copy(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, folder))


# 1. --format


def test_a_forced_format_is_used_recorded_and_kept_on_refresh(tmp_path, embedder):
    root = tmp_path / "ix"
    listing = copy(LISTING, tmp_path / "src")
    result = invoke("index", listing, "--format", "notes", "--index-dir", root)  # a listing read as notes
    assert result.exit_code == 0, result.output
    assert "added 0 talks, 1 notes" in result.stdout
    assert [(s["path"], s["format"]) for s in sql(root, "select path, format from sources")] == [(str(listing), "notes")]
    for again in (["index"], ["index", listing]):  # a refresh, and the PATH given again without --format
        result = invoke(*again, "--index-dir", root)
        assert result.exit_code == 0, result.output
        assert "added 0 talks, 0 notes; updated 0 talks, 0 notes; removed 0 talks, 0 notes" in result.stdout
        assert sql(root, "select format from sources") == [{"format": "notes"}]
    result = invoke("index", listing, "--format", "listing", "--index-dir", root)  # forced otherwise: read again
    assert "added 9 talks, 0 notes; updated 0 talks, 0 notes; removed 0 talks, 1 notes" in result.stdout
    assert sql(root, "select format from sources") == [{"format": "listing"}]
    assert sql(root, "select distinct format from talk_sources") == [{"format": "listing"}]


def test_format_without_paths_and_an_unknown_format_are_usage_errors(tmp_path):
    result = invoke("index", "--format", "notes", "--index-dir", tmp_path / "ix")
    assert (result.exit_code, result.stderr) == (2, "error: --format applies to the PATHs given with it: name them, "
                                                    "e.g. `talksearch index notes.txt --format notes`\n")
    with pytest.raises(UsageError, match=r"^--format must be pyvideo, listing or notes, not 'csv'$"):
        build.run(tmp_path / "ix", [LISTING], format="csv", embedder_factory=lambda weights: None)
    assert not (tmp_path / "ix").exists()


# 2. over-long titles


def test_a_30000_character_pyvideo_title_is_indexed_whole(tmp_path, standin):
    video = json.loads(VIDEO.read_text(encoding="utf-8"))
    words = video["description"].split()
    title = " ".join(words * (30_000 // len(" ".join(words)) + 1))[:30_000]
    video["title"] = title
    event = tmp_path / "pv" / "europython-2024"
    copy(VIDEO.parent.parent / "category.json", event)
    (event / "videos").mkdir()
    (event / "videos" / VIDEO.name).write_text(json.dumps(video), encoding="utf-8")
    summary = build_index(tmp_path / "ix", [tmp_path / "pv"], standin)
    assert (summary.added, summary.skipped) == ({"talks": 1, "notes": 0, "transcripts": 0}, ())
    assert sql(tmp_path / "ix", "select length(title) as n from talks") == [{"n": 30_000}]
    assert summary.passages >= 2


def test_a_note_with_a_2_mb_heading_line_is_indexed_whole(tmp_path, standin):
    lines = NOTES.read_text(encoding="utf-8").split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("Talk 1: "))
    words = " ".join(lines[first + 1:]).split()
    heading = lines[first] + " " + " ".join(words * (2_000_000 // len(" ".join(words)) + 1))
    lines[first] = heading[:2_000_000]
    notes = tmp_path / "notes" / "talks.md"
    notes.parent.mkdir()
    notes.write_text("\n".join(lines), encoding="utf-8")
    summary = build_index(tmp_path / "ix", [notes.parent], standin)
    assert (summary.added, summary.skipped) == ({"talks": 0, "notes": 7, "transcripts": 0}, ())
    lengths = sql(tmp_path / "ix", "select max(length(title)) as n from notes")
    assert lengths == [{"n": 2_000_000}]


# 3. a vanished source


@pytest.fixture
def two_sources(tmp_path, standin) -> tuple[Path, Path, Path]:
    """(index, listing folder, notes folder): both sources indexed (with the stand-in encoder: nothing here queries)."""
    listing, notes = tmp_path / "catalog", tmp_path / "notes"
    copy(LISTING, listing)
    copy(NOTES, notes)
    root = tmp_path / "ix"
    build_index(root, [listing, notes], standin)
    return root, listing, notes


@pytest.mark.parametrize(("gone", "why"), [
    (lambda folder: shutil.rmtree(folder), "no such file or directory"),
    (lambda folder: [f.unlink() for f in folder.iterdir()], "no files to read"),  # an unmounted drive's mount point
])
def test_a_vanished_source_is_refused_and_the_index_kept(two_sources, gone, why):
    root, listing, notes = two_sources
    before = (root / store.CURRENT).read_text()
    gone(notes)
    result = invoke("index", "--index-dir", root)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"error: {notes}: {why}; the index is unchanged: a source that is gone (moved, deleted, "
                             f"on a drive not mounted, read in a --format it is not) is dropped only when asked: "
                             f"`talksearch index --remove {notes}`\n")
    assert invoke("index", listing, "--index-dir", root).stderr == result.stderr  # a run that names another PATH too
    assert (root / store.CURRENT).read_text() == before
    assert sql(root, "select count(*) as n from notes") == [{"n": 7}]
    removed = invoke("index", "--remove", notes, "--index-dir", root)  # deliberately: done
    assert removed.exit_code == 0, removed.output
    assert "added 0 talks, 0 notes; updated 0 talks, 0 notes; removed 0 talks, 7 notes" in removed.stdout


def test_a_missing_path_is_an_error_not_a_source(two_sources, tmp_path):
    root, listing, _ = two_sources
    before = (root / store.CURRENT).read_text()
    result = invoke("index", listing, tmp_path / "nowhere", "--index-dir", root)
    assert (result.exit_code, result.stderr) == (1, f"error: {tmp_path / 'nowhere'}: no such file or directory; "
                                                    "the index is unchanged\n")
    assert (root / store.CURRENT).read_text() == before


# 4. the index directory inside a source folder


def test_an_index_inside_its_source_folder_is_not_read(tmp_path, embedder, monkeypatch):
    folder = tmp_path / "talks"
    copy(NOTES, folder)
    monkeypatch.chdir(folder)  # `talksearch index .` with the default ./indexes
    monkeypatch.delenv(store.ENV_INDEX)
    first = invoke("index", ".")
    assert first.exit_code == 0, first.output
    for _ in range(2):
        again = invoke("index")
        assert again.exit_code == 0, again.output
        assert "1 files (0 new or changed, 1 unchanged, 0 skipped): added 0 talks, 0 notes" in again.stdout
    ids = [row["id"] for row in sql(folder / "indexes", "select id from notes")]
    assert len(ids) == 7 and all(i.startswith("note:004_7fcc6484864bb2bb.txt#") for i in ids)
    inside = invoke("index", "indexes/CURRENT")
    assert (inside.exit_code, inside.stderr) == (2, "error: indexes/CURRENT: the index directory indexes/ or inside "
                                                    "it; index the files it is built from\n")
    # another index in the folder (not the one written) is not notes either
    other = invoke("index", ".", "--index-dir", tmp_path / "elsewhere")
    assert "1 files (1 new or changed, 0 unchanged, 0 skipped): added 0 talks, 7 notes" in other.stdout, other.output


# 5. named pipes


def test_a_named_pipe_in_a_folder_is_skipped_with_its_reason(tmp_path, embedder):
    folder = tmp_path / "notes"
    copy(NOTES, folder)
    os.mkfifo(folder / "notes.md")
    with deadline(120):
        result = invoke("index", folder, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert f"skipped {folder / 'notes.md'}: not a regular file (a named pipe)" in result.stdout
    assert "2 files (1 new or changed, 0 unchanged, 1 skipped): added 0 talks, 7 notes" in result.stdout


def test_a_named_pipe_given_as_path_is_a_one_line_error(tmp_path):
    pipe = tmp_path / "notes.md"
    os.mkfifo(pipe)
    with deadline(60):
        code, out, err = console("index", pipe, "--index-dir", tmp_path / "ix")
    assert (code, out) == (1, "")
    assert err == (f"error: nothing could be read from {pipe} (1 files skipped; {pipe}: not a regular file "
                   "(a named pipe)); the index is unchanged\n")


# 6. a file as --index-dir


@pytest.mark.parametrize("args", [["index", LISTING], ["index"], ["adapt"], ["query", "celery"], ["show", "celery"],
                                  ["stats"], ["todos"], ["sql", "select 1"]])
@pytest.mark.parametrize("below", [False, True])
def test_a_file_as_index_dir_is_not_a_directory(tmp_path, args, below):
    afile = tmp_path / "afile"
    afile.write_text("ix\n")
    code, out, err = console(*args, "--index-dir", afile / "sub" if below else afile)
    assert (code, out, err) == (2, "", f"error: {afile}: not a directory\n")
    assert afile.read_text() == "ix\n"


# 7. removing the last source


def test_removing_the_last_source_leaves_an_empty_index(tmp_path, standin):
    root = tmp_path / "ix"
    notes = copy(NOTES, tmp_path / "notes")
    build_index(root, [notes], standin)  # the stand-in's vectors are all removed; the CLI adds the source back
    result = invoke("index", "--remove", notes, "--index-dir", root)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 0 source(s), 0 files (0 new or changed, 0 unchanged, 0 skipped): "
                                    "added 0 talks, 0 notes; updated 0 talks, 0 notes; removed 0 talks, 7 notes; "
                                    "0 passages (0 embedded)")
    assert (invoke("query", "celery retries", "--index-dir", root).stdout) == "no matches\n"
    assert json.loads(invoke("sources", "--json", "--index-dir", root).stdout) == []
    again = invoke("index", notes, "--index-dir", root)  # and a source can be added to it again
    assert "added 0 talks, 7 notes" in again.stdout
    assert json.loads(invoke("query", "celery retries", "-k", "1", "--json", "--index-dir", root).stdout)[0]["kind"] == "note"


# 8. --precision


def test_a_bad_precision_is_refused_even_when_nothing_needs_embedding(tmp_path, standin):
    root = tmp_path / "ix"
    build_index(root, [copy(NOTES, tmp_path / "notes")], standin)
    before = (root / store.CURRENT).read_text()
    code, out, err = console("index", "--precision", "fp64", "--index-dir", root)
    assert (code, out, err) == (2, "", "error: Invalid value for '--precision': 'fp64' is not one of 'auto', 'fp32', "
                                       "'bf16'. (see `talksearch index --help`)\n")
    assert (root / store.CURRENT).read_text() == before



def test_notes_named_alike_in_two_sources_are_two_notes_and_keep_their_todos(tmp_path, embedder):
    # each folder's notes.md under the same heading: one id each source would give them, "note:notes.md#keynote-notes"
    for folder, animal in (("a", "aardvark"), ("b", "wombat")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(f"# Keynote notes\nThe {animal} remark.\n- [ ] ask about {animal}s\n")
    root = tmp_path / "index"
    build_index(root, [tmp_path / "a"], embedder)
    summary = build_index(root, [tmp_path / "b"], embedder)  # a second folder, added on a later run
    assert (summary.added["notes"], summary.removed["notes"]) == (2, 1)  # a's note is renamed: its id is a's now
    assert sql(root, "select id, file, path from notes order by id") == [
        {"id": "note:a/notes.md#keynote-notes", "file": "notes.md", "path": str(tmp_path / "a" / "notes.md")},
        {"id": "note:b/notes.md#keynote-notes", "file": "notes.md", "path": str(tmp_path / "b" / "notes.md")}]
    assert [row["text"] for row in sql(root, "select text from todos order by text")] == ["ask about aardvarks",
                                                                                        "ask about wombats"]
    assert json.loads(invoke("query", "wombat", "--json", "--index-dir", root).stdout)[0]["id"] == \
        "note:b/notes.md#keynote-notes"


def test_the_same_notes_file_under_two_sources_is_one_note(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Keynote notes\nThe aardvark remark.\n")
    from talksearch.readers import read_path

    found = build.distinct_notes([read_path(notes).notes, read_path(tmp_path).notes])
    assert [(n.id, n.path) for n in found] == [("note:notes.md#keynote-notes", str(notes))]
