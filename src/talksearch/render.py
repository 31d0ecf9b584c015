"""Terminal output: hits with highlighted snippets, tables, summaries; JSON for --json.

Text from indexed files is always printed as text: rich markup, emoji codes, terminal escape
sequences and bidi overrides in a note never reach the terminal. Into a pipe or file nothing is
wrapped or cut: tables take the width their cells need.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import Candidate, OutputError
from .normalize import matched_words
from .records import jsonable

if TYPE_CHECKING:
    from .adapt import Summary as AdaptSummary
    from .build import Summary
    from .kb import Detail
    from .records import Hit, Transcript

# C0 and C1 controls but tab and newline; bidi embeddings, overrides and isolates (they reorder what follows them)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
UNWRAPPED = 1 << 30  # width of output into a pipe or file: nothing is wrapped or cut


class _Stdout:
    """sys.stdout as it is at each write (test runners swap it), a write it refuses raised as `OutputError`; with
    stdout closed (`>&-`: Python sets it to None), output goes to the null device, as `print` drops it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_target(), name)

    def write(self, text: str) -> int:
        with _writing():
            return _target().write(text)

    def flush(self) -> None:
        with _writing():
            _target().flush()


def _target():
    if sys.stdout is None:
        return _null()
    if isinstance(getattr(sys.stdout, "buffer", None), io.RawIOBase):
        return _buffered(sys.stdout)
    return sys.stdout


@cache
def _buffered(stream: io.TextIOWrapper) -> io.TextIOWrapper:
    """`stream`'s file through a buffer. With PYTHONUNBUFFERED=1 (or -u: common in containers) stdout writes
    straight to the file, and the text layer ignores a short write's count: what a full disk, a file size limit or a
    reader gone mid-write left out was lost without an error. A buffered writer writes the rest, and fails on it.
    Flushed at each line, as unbuffered output is; over a file object of its own that never closes the descriptor,
    so that `stream` (and a test runner's capture behind it) is left as it was."""
    raw = io.FileIO(stream.fileno(), "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding=stream.encoding, errors=stream.errors,
                            line_buffering=True, write_through=True)


@cache
def _null():
    return open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - held for the process, like stdout


STDOUT = _Stdout()  # where every command's output goes


@contextmanager
def _writing() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:  # the reader has gone (`| head`): not an error, the CLI ends quietly
        raise
    except OSError as exc:  # `> /dev/full`
        discard_output()
        raise OutputError(f"cannot write output: {exc.strerror or exc}") from exc


def discard_output() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail again on a closed pipe or full disk."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # not a file descriptor (an in-process test runner)
        pass


def echo(line: str) -> None:
    """One line of plain output (a message such as "no matches")."""
    STDOUT.write(line + "\n")


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader closed the pipe (`| head`): raise, so that the CLI ends quietly (rich would exit 1)."""
        raise BrokenPipeError


def console(*, stderr: bool = False) -> Console:
    """A console that wraps to the terminal, and does not wrap or cut at all into a pipe or file.

    Strings are never read as rich markup or emoji codes: styles are given as `Text` styles.
    """
    out = _Console(file=None if stderr else STDOUT, stderr=stderr, highlight=False, markup=False, emoji=False)
    if not out.is_terminal:
        out.soft_wrap = True
        out.width = UNWRAPPED
    return out


def clean(text: str | None) -> str:
    """Text with control characters (escape sequences, bidi overrides) made visible and harmless."""
    return _CONTROL.sub(_escape, text or "")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cell(value: Any) -> str:
    """A value as a table shows it: lists comma-separated, dates ISO, blobs as `\\x` and hex, NULL empty."""
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        value = value.tolist()
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    plain = jsonable(value)
    return plain if isinstance(plain, str) else str(value)


def one_line(text: str | None) -> str:
    """`clean`, with newlines made visible too: for messages that must stay on one line (file names, errors)."""
    return clean(text).replace("\n", "\\n")


CANDIDATE_SPEAKERS = 3  # speakers named on a candidate's line


def candidate(found: Candidate) -> str:
    """One candidate of an ambiguous reference, on one line: id, title, and what tells it from the others.

    >>> candidate(Candidate("pycon-us-2019/keynote-3", "Keynote", ("Łukasz Langa",), "PyCon US 2019", "2019-05-03"))
    '  pycon-us-2019/keynote-3  Keynote · Łukasz Langa · PyCon US 2019 · 2019-05-03'
    """
    people = ", ".join(found.speakers[:CANDIDATE_SPEAKERS])
    if len(found.speakers) > CANDIDATE_SPEAKERS:
        people += f" and {len(found.speakers) - CANDIDATE_SPEAKERS} more"
    parts = [found.title, people, found.event or "", found.date or ""]
    return f"  {found.id}  " + one_line(" · ".join(part for part in parts if part))


def highlight(text: str, query: str) -> Text:
    out = Text(clean(text))
    for start, end in matched_words(out.plain, query):
        out.stylize("bold yellow", start, end)
    return out


def print_json(data: Any) -> None:
    echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


def indented(out: Console, text: Text, indent: int = 4, *, first: Text | None = None) -> None:
    """Print `text` with every line, wrapped ones too, `indent` columns in; `first` in front of its first line."""
    first = first or Text(" " * indent)
    if out.is_terminal:  # a grid wraps the text in its own column
        grid = Table.grid()
        grid.add_column(width=max(indent, first.cell_len), no_wrap=True)  # "100. " is wider than the indent
        grid.add_column(overflow="fold")  # a long id or URL is folded, not cut
        grid.add_row(first, text)
        out.print(grid)
    else:  # nothing wraps; the lines of text with newlines are indented, and not padded as a grid would
        out.print(first + Text("\n" + " " * indent).join(text.split("\n", allow_blank=True)))


def hits(out: Console, results: list[Hit], query: str = "", *, start: int = 1) -> None:
    for n, hit in enumerate(results, start=start):
        head = Text(clean(hit.title), style="bold")
        head.append(f"  [{hit.kind.value}]  {hit.score:.3f}", style="dim")
        indented(out, head, first=Text(f"{n:>2}. ", style="bold"))
        where = [", ".join(hit.speakers), hit.event or "", hit.date or ""]
        if hit.file:
            where.append(f"{hit.file}:{hit.line}")
        indented(out, Text(" · ".join(clean(w) for w in where if w), style="cyan"))
        if hit.snippet:  # a note's section first: "Questions › …"
            section = Text(f"{clean(hit.section)} › ", style="bold cyan") if hit.section else Text()
            indented(out, section + highlight(hit.snippet, query))
        if hit.moment:  # "▶ 12:34  what was said", then the link that starts the video there
            moment = hit.moment
            indented(out, Text(f"▶ {clock(moment.start)}  ", style="bold green") + highlight(moment.text, query))
            if moment.url and moment.url != hit.url:
                indented(out, Text(moment.url if "t=" in moment.url else f"{moment.url} at {clock(moment.start)}",
                                   style="green"))
        if len(hit.recordings) > 1:
            others = ", ".join(f"{clean(r.event)} ({r.date or '?'})" for r in hit.recordings if r.id != hit.id)
            indented(out, Text(f"also given at: {others}", style="dim"))
        if hit.explain:
            e = hit.explain
            ranks = " · ".join(f"{name} rank {e[f'{name}_rank']} score {e[f'{name}_score']}"
                               + (f" (by its {e[f'{name}_from']})" if e.get(f"{name}_from") else "")
                               if e[f"{name}_rank"] is not None else f"{name}: no score (no match, or not in this mode)"
                               for name in ("dense", "lexical"))
            indented(out, Text(ranks, style="magenta"))
        indented(out, Text("  ".join(clean(part) for part in (hit.url, f"id: {hit.id}") if part), style="dim"))


def clock(seconds: float) -> str:
    """Seconds as a video player shows them: "12:34", "1:02:03".

    >>> clock(754.2), clock(3723), clock(5)
    ('12:34', '1:02:03', '0:05')
    """
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


_DROPPED = {"repeated": ("cue repeating the one before (a loop)", "cues repeating the ones before (loops)"),
            "punctuation": ("cue without words", "cues without words"), "sound": ("sound label", "sound labels"),
            "duplicates": ("second file of one talk", "second files of one talk")}


def summary(out: Console, result: Summary) -> None:
    heard = any(part.get("transcripts") for part in (result.added, result.updated, result.removed))

    def counts(part: dict[str, int]) -> str:
        return f"{part['talks']} talks, {part['notes']} notes" + (f", {part['transcripts']} transcripts" if heard else "")

    for skipped in result.skipped:
        out.print(Text(f"skipped {one_line(skipped.path)}: {one_line(skipped.reason)}", style="yellow"))
    for warning in result.warnings:
        out.print(Text(f"warning {one_line(warning.path)}: {one_line(warning.reason)}", style="yellow"))
    out.print(
        f"indexed {len(result.sources)} source(s), {result.files} files ({result.changed} new or changed, "
        f"{result.unchanged} unchanged, {len(result.skipped)} skipped): added {counts(result.added)}; "
        f"updated {counts(result.updated)}; removed {counts(result.removed)}; "
        f"{result.passages} passages ({result.embedded} embedded); {result.seconds:.1f} s"
    )
    if result.unlinked or result.dropped:
        dropped = ", ".join(f"{count} {_DROPPED.get(what, (what, what))[count != 1]}"
                            for what, count in result.dropped.items())
        out.print(Text("transcripts: " + "; ".join(part for part in (
            f"{result.unlinked} linked to no talk (searchable on their own)" if result.unlinked else "",
            f"left out {dropped}" if dropped else "") if part), style="dim"))
    _stages(out, result.stages)


def _stages(out: Console, stages: dict[str, float]) -> None:
    if stages:
        out.print(Text("time: " + " · ".join(f"{stage} {sec:.1f} s" for stage, sec in stages.items()), style="dim"))


def adapted(out: Console, result: AdaptSummary) -> None:
    out.print(
        f"adapted the encoder on {result.pairs} talks' (title, abstract) pairs ({result.steps} steps, "
        f"{result.epochs:g} epoch(s), seed {result.seed}) and re-embedded {result.passages} passages; "
        f"weights SHA-256 {result.sha256[:12]}…; {result.seconds:.1f} s"
    )
    _stages(out, result.stages)


def detail(out: Console, info: Detail) -> None:
    hit = info.hit
    out.print(Text(clean(hit.title), style="bold"))
    fields = [(key, clean(cell(value))) for key, value in info.fields.items() if value not in (None, "", [])
              and key != "title"]
    width = max((len(key) for key, _ in fields), default=0)
    if out.is_terminal:  # a grid wraps each value beside its key
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="cyan")
        grid.add_column()
        for key, value in fields:
            grid.add_row(key, Text(value))
        out.print(grid)
    else:  # a grid would pad every line to the longest value
        for key, value in fields:
            out.print(Text(key.ljust(width), style="cyan") + Text("  " + value.replace("\n", "\n" + " " * (width + 2))))
    if len(hit.recordings) > 1:
        out.print(Text("recordings", style="bold"))
        for r in hit.recordings:
            indented(out, Text(" · ".join(clean(cell(v)) for v in (r.event, r.date or "?", r.url, r.id))), 2)
    if info.sources:
        out.print(Text("sources", style="bold"))
        for source in info.sources:
            indented(out, Text(" · ".join(clean(cell(v)) for v in source.values() if v not in (None, "", []))), 2)
    if info.notes:
        out.print(Text("notes" if hit.kind.value == "talk" else "about", style="bold"))
        for note in info.notes:
            indented(out, Text(" · ".join(clean(cell(v)) for v in note.values() if v is not None)), 2)
    if info.links:
        out.print(Text("links", style="bold"))
        for link in info.links:
            arrow = "→" if link["direction"] == "to" else "←"
            target = f" · {link['id']}" if link["id"] else " · (no such note)"
            indented(out, Text(f"{arrow} [[{clean(link['link'])}]]{clean(target)}"), 2)
    for facet, terms in info.facets.items():
        out.print(Text({"entity": "entities"}.get(facet, f"{facet}s"), style="bold"))
        indented(out, Text(clean(", ".join(f"{term} ({count})" if count > 1 else term for term, count in terms))), 2)
    if info.transcripts and hit.kind.value == "talk":
        out.print(Text("transcripts", style="bold"))
        for t in info.transcripts:
            others = [f for f in t["files"] if f != t["path"]]
            about = [t["path"], t["language"] or ("English" if t["english"] else "not English"), clock(t["duration"]),
                     f"{t['cues']} cues", f"also: {', '.join(others)}" if others else None]
            indented(out, Text(" · ".join(clean(cell(v)) for v in about if v)), 2)
    if info.todos:
        out.print(Text("to-dos", style="bold"))
        for todo in info.todos:
            indented(out, Text(f"[{'x' if todo.done else ' '}] {clean(todo.text)} (line {todo.line})"), 2)


def transcript(out: Console, transcript: Transcript, *, at: float = 0.0) -> None:
    """A transcript's cues from `at` seconds on, each with its time."""
    out.print(Text(clean(transcript.title), style="bold"))
    for cue in transcript.cues:
        if cue.end >= at:
            indented(out, Text(clean(cue.text)), 9, first=Text(f"{clock(cue.start):>8} ", style="green"))


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def rows(columns: list[str], found: list[tuple], format: str) -> None:
    """Rows as CSV (a header first; lists comma-separated as a table shows them), TSV (tab, newline and backslash
    in a value escaped as \\t, \\n, \\\\) or JSON lines (one object a line, lists as arrays): for a pipe."""
    if format == "jsonl":
        for row in found:
            echo(json.dumps(jsonable(dict(zip(columns, row, strict=True))), ensure_ascii=False))
    elif format == "tsv":
        for values in (columns, *([cell(v) for v in row] for row in found)):
            echo("\t".join(clean(v.translate(_TSV_ESCAPES)) for v in values))
    else:
        import csv

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([clean(c) for c in columns])
        writer.writerows([clean(cell(v)) for v in row] for row in found)
        STDOUT.write(buffer.getvalue())


def place(path: str, line: int | None) -> str:
    """`path:line` as an editor opens it: relative to the working directory when the file is under it, else absolute.

    >>> place(os.path.join(os.getcwd(), "notes", "ep24.md"), 12), place("/elsewhere/ep24.md", 3)
    ('notes/ep24.md:12', '/elsewhere/ep24.md:3')
    """
    relative = os.path.relpath(path)
    shown = path if relative.startswith("..") else relative
    return f"{shown}:{line}" if line is not None else shown


def table(out: Console, title: str, columns: list[str], rows: list[tuple]) -> None:
    """A table of values from the index (`cell` shows each one); every cell is printed as text."""
    grid = Table(title=Text(title) if title else None, title_justify="left")
    for column in columns:
        grid.add_column(Text(clean(column)))
    for row in rows:
        grid.add_row(*(Text(clean(cell(v))) for v in row))
    out.print(grid)
