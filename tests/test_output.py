"""What the commands print: text from files stays text, pipes get whole lines, `sql` is capped and typed, and
writing to a closed pipe or a full disk ends as the README says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from talksearch.cli import app

from .conftest import DATA, build_index
from .test_fuzz import console as run_console_script

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# the black-box review's note (/tmp/review/mk/m.md), with a wiki link, and a note with a right-to-left override
MARKUP_NOTE = """Meetup

Talk 1: Markup [b]injection[/b] test [red]

Use the [red] flag, see [link=https://evil.example]click here[/link] and array[i] index and [bold]loud[/bold] \
words. Config in [tool.poetry] section. Markdown link [docs](https://x.y). :red_circle:
See [[Deploy checklist]] and [[a]].
- [ ] fix [tool.ruff] settings

Talk 2: Right to left

Open the attachment invoice\u202efdp.exe before the meeting.
"""


@pytest.fixture(scope="module")
def marked(tmp_path_factory, embedder):
    """The demo data and the markup note (in a folder whose name is markup too), in an index named like markup."""
    base = tmp_path_factory.mktemp("output")
    notes = base / "notes [red]"
    notes.mkdir()
    (notes / "markup.md").write_text(MARKUP_NOTE, encoding="utf-8")
    root = base / "index [bold]"
    build_index(root, [DATA, notes], embedder)
    return root


def invoke(*args, env: dict | None = None):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "80", **(env or {})})


def squeezed(text: str) -> str:
    """Table cells without the spaces that pad them to their column's width."""
    return re.sub(r" {2,}", " ", text)


def run(root, *args, env: dict | None = None):
    result = invoke(*args, "--index-dir", root, env=env)
    assert result.exit_code == 0, result.output
    return result


# -- 1. text from files is never rich markup ------------------------------------------------------------------

def test_show_prints_markup_in_a_note_as_text(marked):
    out = run(marked, "show", "Talk 1: Markup").stdout.splitlines()
    assert out[0] == "Talk 1: Markup [b]injection[/b] test [red]"
    assert "text        Use the [red] flag, see [link=https://evil.example]click here[/link] and array[i] index " \
           "and [bold]loud[/bold] words. Config in [tool.poetry] section. Markdown link [docs](https://x.y). " \
           ":red_circle:" in out
    assert out[out.index("links") + 1:out.index("links") + 3] == ["  → [[Deploy checklist]] · (no such note)",
                                                                  "  → [[a]] · (no such note)"]
    assert out[-2:] == ["to-dos", "  [ ] fix [tool.ruff] settings (line 7)"]


def test_markup_in_a_terminal_is_neither_styled_nor_a_link(marked):
    out = run(marked, "show", "Talk 1: Markup", env={"FORCE_COLOR": "1", "COLUMNS": "200"}).stdout
    assert "\x1b]8;" not in out  # no OSC 8 hyperlink
    assert "\x1b[31m" not in out and "🔴" not in out  # no red, no emoji
    assert "[link=https://evil.example]click here[/link]" in ANSI.sub("", out)


@pytest.mark.parametrize(("args", "line"), [
    (["todos"], "│ │ fix [tool.ruff] settings │ Talk 1: Markup [b]injection[/b] test [red] │ │ {notes}/markup.md:7 │"),
    (["sql", "select text, note_id from todos where text like 'fix%'"],
     "│ fix [tool.ruff] settings │ note:markup.md#talk-1-markup-b-injection-b-test-red │"),
])
def test_tables_print_markup_in_a_note_as_text(marked, args, line):
    notes = marked.parent / "notes [red]"  # a to-do's path:line: absolute, outside the working directory
    assert line.format(notes=notes) in squeezed(run(marked, *args).stdout).splitlines()


def test_sources_and_stats_print_markup_in_paths_as_text(marked):
    notes = marked.parent / "notes [red]"
    assert f"│ {notes} │ " in run(marked, "sources").stdout
    assert run(marked, "stats").stdout.startswith(f"index {marked}/gen-")


# -- 2. and 3. sql: capped, and values as JSON and tables hold them ---------------------------------------------

def test_sql_stops_at_the_limit_without_reading_the_rest(marked):
    result = invoke("sql", "select * from range(100000000)", "--limit", "2", "--index-dir", marked)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[3:5] == ["│ 0     │", "│ 1     │"]
    assert result.stderr == "sql: showing the first 2 rows; there are more (--limit N shows N)\n"
    result = invoke("sql", "select * from range(100000000)", "--limit", "2", "--json", "--index-dir", marked)
    assert (json.loads(result.stdout), result.stderr) == (
        [{"range": 0}, {"range": 1}], "sql: showing the first 2 rows; there are more (--limit N shows N)\n")


@pytest.mark.parametrize(("rows", "note"), [
    (1000, ""), (1001, "sql: showing the first 1000 rows; there are more (--limit N shows N)\n"),
])
def test_sql_prints_1000_rows_unless_told(marked, rows, note):
    result = invoke("sql", f"select * from range({rows})", "--json", "--index-dir", marked)
    assert (len(json.loads(result.stdout)), result.stderr) == (1000, note)


def test_sql_json_has_arrays_iso_dates_and_hex_blobs(marked):
    result = run(marked, "sql", "select n.urls, n.tags, k.speakers, k.date, timestamp '2020-01-01 10:30' as at, "
                 "'x\\x00'::blob as b, 1.5 as x from notes n, talks k where n.file = 'markup.md' and n.line_start = 3 "
                 "and k.id = 'europython-2024/aggregating-data-in-django-using-database-views'", "--json")
    assert json.loads(result.stdout) == [{
        "urls": ["https://evil.example", "https://x.y"], "tags": [], "speakers": ["Mikuláš Poul"],
        "date": "2024-07-10", "at": "2020-01-01T10:30:00", "b": "\\x7800", "x": 1.5}]


def test_sql_table_shows_lists_and_dates_readably(marked):
    result = run(marked, "sql", "select n.urls, k.date, 'x\\x00'::blob as b from notes n, talks k "
                 "where n.file = 'markup.md' and n.line_start = 3 "
                 "and k.id = 'europython-2024/aggregating-data-in-django-using-database-views'")
    assert "│ https://evil.example, https://x.y │ 2024-07-10 │ \\x7800 │" in result.stdout.splitlines()


# -- 4. into a pipe nothing is cut -------------------------------------------------------------------------------

def test_tables_into_a_pipe_are_not_cut(marked, monkeypatch):
    monkeypatch.chdir(DATA.parent)  # a to-do's path:line, relative to the working directory
    todos = run(marked, "todos").stdout  # CliRunner's stdout is not a terminal, and COLUMNS is 80
    assert "│ check prodigy from the same as spacy │ Talk 1: Ines Montani > Spacy │ │ data/004_7fcc6484864bb2bb.txt:7 │" \
        in squeezed(todos)
    assert str(marked.parent / "notes [red]") in run(marked, "sources").stdout
    assert max(map(len, todos.splitlines())) > 80


# -- 5. a closed pipe ends quietly; a full disk is one line --------------------------------------------------------

@pytest.mark.parametrize("args", [["query", "web", "-k", "20"], ["query", "web", "--json"], ["todos"]])
def test_a_closed_pipe_ends_quietly_with_exit_0(marked, args):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line, like `| head -0`
    done = subprocess.run([sys.executable, "-m", "talksearch", *args, "--index-dir", str(marked)], stdout=write,
                          stderr=subprocess.PIPE, text=True)
    os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("args", [["query", "web"], ["todos"], ["sql", "select 1", "--json"]])
def test_a_closed_stdout_is_output_dropped_not_an_error(marked, args):
    done = subprocess.run([sys.executable, "-m", "talksearch", *args, "--index-dir", str(marked)],
                          stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, pass_fds=(),
                          preexec_fn=lambda: os.close(1))  # `>&-`: no file descriptor 1 at all
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("args", [["query", "web"], ["query", "web", "--json"], ["sql", "select 1"]])
def test_a_full_disk_is_one_error_line(marked, args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "talksearch", *args, "--index-dir", str(marked)], stdout=full,
                              stderr=subprocess.PIPE, text=True)
    assert (done.returncode, done.stderr) == (1, "error: cannot write output: No space left on device\n")


# 0.7 MB: ten times what a pipe holds (64 KB) and the file size limit below; 100,000 rows (6.9 MB) cost 13 s a run
BIG_SQL = ["sql", "select range as n, repeat('x', 50) as pad from range(10000)", "--limit", "10000"]


def _unbuffered(unbuffered: bool) -> dict:
    """The environment with or without PYTHONUNBUFFERED (often set in containers, and in CI here)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, "PYTHONUNBUFFERED": "1"} if unbuffered else env


@pytest.mark.parametrize("unbuffered", [True, False])
def test_a_pipe_closed_in_the_middle_of_the_output_ends_quietly_with_exit_0(marked, unbuffered):
    command = [sys.executable, "-m", "talksearch", *BIG_SQL, "--index-dir", str(marked)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_unbuffered(unbuffered)) as proc:
        first = proc.stdout.readline()  # the reader takes one line, like `| head -1`, and goes
        proc.stdout.close()
        error = proc.stderr.read()
    assert first.startswith("┏".encode()) and (proc.returncode, error) == (0, b"")


@pytest.mark.parametrize("unbuffered", [True, False])
def test_output_cut_short_by_a_file_size_limit_is_one_error_line(marked, tmp_path, unbuffered):
    # a write the file takes only in part: with PYTHONUNBUFFERED=1 the rest used to be dropped, with exit 0
    import resource
    import signal

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))

    with open(tmp_path / "out.txt", "w") as out:
        done = subprocess.run([sys.executable, "-m", "talksearch", *BIG_SQL, "--index-dir", str(marked)], stdout=out,
                              stderr=subprocess.PIPE, text=True, preexec_fn=limit, env=_unbuffered(unbuffered))
    assert (done.returncode, done.stderr) == (1, "error: cannot write output: File too large\n")


# -- 6. wrapped lines keep their indent; bidi controls are escaped ------------------------------------------------

def test_wrapped_result_lines_keep_their_indent(marked):
    out = ANSI.sub("", run(marked, "query", "celery retries", "-k", "2", env={"FORCE_COLOR": "1", "COLUMNS": "40"}).stdout)
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == " 1. 2. Talk: Daniel Hepper  [note]"  # the score wraps to the next line, indented
    assert lines[2:4] == ["    Python Events: pyconweb ·", "    004_7fcc6484864bb2bb.txt:31"]
    assert all(line.startswith(("    ", " 1. ", " 2. ")) for line in lines)
    assert max(map(len, lines)) <= 40


def test_a_result_number_past_99_is_shown_whole_in_a_terminal(subset_index):
    out = ANSI.sub("", run(subset_index, "query", "testing", "-k", "1", "--offset", "99",
                           env={"FORCE_COLOR": "1", "COLUMNS": "60"}).stdout)
    assert out.startswith("100. ")


def test_a_right_to_left_override_is_escaped(marked):
    out = run(marked, "query", "attachment invoice before the meeting", "-k", "1").stdout
    assert "\u202e" not in out
    assert "    Open the attachment invoice\\u202efdp.exe before the meeting." in out.splitlines()
    shown = run(marked, "show", "Talk 2: Right to left").stdout
    assert "\u202e" not in shown and "invoice\\u202efdp.exe" in shown


# -- 7. messages ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["show", ""], "error: Invalid value for 'talk': give an id, a unique id prefix or a title; find one with "
                   "`talksearch query \"words from its title\"` (see `talksearch show --help`)\n"),
    (["related", " "], "error: Invalid value for 'talk': give an id, a unique id prefix or a title; find one with "
                       "`talksearch query \"words from its title\"` (see `talksearch related --help`)\n"),
    (["related", "Talk 3: UUID", "--diversity", "1.5"], "error: Invalid value for '--diversity': must be from 0 up "
                                                        "to (not including) 1, not 1.5 (see `talksearch related --help`)\n"),
])
def test_usage_errors_name_only_what_is_wrong(marked, args, message):
    assert run_console_script(*args, "--index-dir", marked) == (2, "", message)


def test_topics_with_no_match_is_not_an_error(marked):
    assert run_console_script("topics", "--event", "nosuch", "--index-dir", marked) == (
        0, "no matches\n", "no event matches 'nosuch'\n")  # nothing close to it: no names


def test_explain_says_which_ranker_gave_no_score(marked):
    dense = run(marked, "query", "uuid v7", "-k", "1", "--mode", "dense", "--explain").stdout
    assert "dense rank 1 score " in dense and "lexical: no score (no match, or not in this mode)" in dense
    assert "None" not in dense
