"""The `talksearch` command: parse, call the library, render, map errors to exit codes.

Exit codes: 0 done (also: no results), 1 input or index problem, 2 usage
(bad option, unknown or ambiguous talk, no index yet), 130 interrupted.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import render
from .errors import AmbiguousTalkError, FilterWarning, TalksearchError
from .records import Format, Kind, Mode, Precision, RowFormat, Sort, Within, choice, years
from .version import __version__

app = typer.Typer(
    help="Search conference talks and your notes on them, locally, by meaning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

IndexDir = Annotated[
    Optional[Path],
    typer.Option("--index-dir", envvar="TALKSEARCH_INDEX", help=r"Index directory \[default: ./indexes]."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (schema in the README).")]
K = Annotated[int, typer.Option("-k", min=1, help="How many results.")]
SQL_LIMIT = 1000  # rows `sql` prints unless --limit says otherwise


def _a_reference(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("give an id, a unique id prefix or a title; find one with "
                                 "`talksearch query \"words from its title\"`")
    return value


def _a_diversity(value: float) -> float:
    if not 0 <= value < 1:
        raise typer.BadParameter(f"must be from 0 up to (not including) 1, not {value:g}")
    return value


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"talksearch {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Search conference talks and your notes on them, locally, by meaning."""


Since = Annotated[Optional[int], typer.Option(help="Only talks from this year on.")]
Until = Annotated[Optional[int], typer.Option(help="Only talks up to this year.")]
Talk = Annotated[str, typer.Argument(help="A talk or note: id, unique id prefix, title, or its video or page URL.",
                                      callback=_a_reference)]


def command(*args, **kwargs):
    """app.command, with TalksearchError and Ctrl-C turned into one line and an exit code."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(*a, **kw):
            kw = {name: _storable(value) for name, value in kw.items()}  # argv bytes that are not UTF-8
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", FilterWarning)
                    done = fn(*a, **kw)
                render.STDOUT.flush()  # so that a failed write is one of the errors below, not a complaint at exit
                for warning in caught:  # a filter that matches nothing says why: one line, beside "no matches"
                    if issubclass(warning.category, FilterWarning):
                        typer.echo(render.one_line(str(warning.message)), err=True)
                    else:
                        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
                return done
            except AmbiguousTalkError as exc:
                typer.echo(f"error: {render.one_line(str(exc))}", err=True)
                for candidate in exc.candidates:
                    typer.echo(render.candidate(candidate), err=True)
                raise typer.Exit(exc.exit_code) from None
            except TalksearchError as exc:
                typer.echo(f"error: {render.one_line(str(exc))}", err=True)
                raise typer.Exit(exc.exit_code) from None
            except BrokenPipeError:  # `talksearch query ... | head`: the reader has what it wanted
                render.discard_output()
                raise typer.Exit(0) from None
            except KeyboardInterrupt:
                typer.echo("interrupted", err=True)
                raise typer.Exit(130) from None
            except Exception as exc:  # a bug: still one line, unless asked for the traceback
                if os.environ.get("TALKSEARCH_DEBUG"):
                    raise
                typer.echo(f"error: unexpected {type(exc).__name__}: {render.one_line(str(exc))} "
                           "(set TALKSEARCH_DEBUG=1 for the traceback, and please report it)", err=True)
                raise typer.Exit(1) from None

        return app.command(*args, **kwargs)(run)

    return decorate


def _storable(value):
    from .normalize import storable

    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _open(index_dir: Path | None):
    from .kb import open as open_kb

    return open_kb(index_dir)


@command()
def index(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or directories to add or refresh.")] = None,
    index_dir: IndexDir = None,
    format: Annotated[Optional[Format], typer.Option(
        "--format", help="Read PATHs as this format (remembered for them) instead of detecting it.")] = None,
    remove: Annotated[Optional[list[Path]], typer.Option(
        "--remove", help="Drop a known source and its talks and notes (the last one too: the index is then empty).")] = None,
    rebuild: Annotated[bool, typer.Option(
        "--rebuild", help="Re-read and re-embed every known source (and PATHs), reusing nothing.")] = False,
    precision: Annotated[Precision, typer.Option(help="Encoder precision.")] = Precision.AUTO,
) -> None:
    """Read catalogs and notes, embed their passages, and write the index.

    With no PATH, refresh every known source.
    """
    from . import build
    from .embed import SentenceTransformerEmbedder

    with _progress() as progress:
        result = build.run(
            index_dir, list(paths or []), remove=list(remove or []), rebuild=rebuild, format=format, progress=progress,
            embedder_factory=lambda weights: SentenceTransformerEmbedder(precision=precision, weights=weights),
        )
    render.summary(render.console(), result)


@command()
def adapt(
    index_dir: IndexDir = None,
    epochs: Annotated[float, typer.Option(help="Passes over the talks' (title, abstract) pairs.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the training order and weights' updates.")] = 0,
) -> None:
    """Fine-tune the encoder on this collection's titles and abstracts, and re-embed the index with it.

    Opt-in and slow: on 2 CPU cores a training step of 32 talks takes 2.6-5 s, and every passage is embedded again
    (the whole pyvideo corpus at half an epoch: 230 steps, 10-20 min of training; 5 min of embedding in bf16, ~20 in
    fp32). Measured there, related talks gain and query ranking does not (README, "Ranking quality"). Queries and
    later `index` runs then embed with the adapted weights; `index --rebuild` returns to the published ones. It trains
    on talks with a title and an abstract of 200+ characters, and needs their number x epochs to make 2 batches of 32
    (128 talks at 0.5).
    """
    from . import adapt as adapting

    with _progress() as progress:
        result = adapting.run(index_dir, epochs=epochs, seed=seed, progress=progress)
    render.adapted(render.console(), result)


@command()
def query(
    words: Annotated[Optional[list[str]], typer.Argument(
        metavar="TEXT...", help="What to look for, in your own words (quotes not needed). Without words: everything "
                                "the filters let through, newest first.")] = None,
    k: K = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results (paging).")] = 0,
    event: Annotated[Optional[str], typer.Option(help="Only this event (slug or title, any case or accents).")] = None,
    speaker: Annotated[Optional[str], typer.Option(help="Only talks by this speaker (any case or accents).")] = None,
    since: Since = None,
    until: Until = None,
    kind: Annotated[Optional[str], typer.Option(
        help="Only talks, notes, or transcripts linked to no talk: talk|note|transcript.")] = None,
    within: Annotated[Optional[str], typer.Option(
        "--in", help="Search only abstracts, only transcripts (what was said) or only notes: abstract|transcript|note.")] = None,
    lang: Annotated[Optional[str], typer.Option(help="Only talks in this language (en, eng, es, ...).")] = None,
    mentions: Annotated[Optional[list[str]], typer.Option(
        help="Only talks and notes that name this tool, entity or phrase (e.g. celery); repeat for several.")] = None,
    mode: Annotated[str, typer.Option(help="Ranking: hybrid (blend), rrf, dense or lexical.")] = "hybrid",
    all_recordings: Annotated[bool, typer.Option("--all-recordings", help="One row per recording.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show dense and lexical ranks per result.")] = False,
    sort: Annotated[str, typer.Option(help="relevance, or date: the 100 best matches newest first.")] = "relevance",
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """Talks and notes that match TEXT by meaning, with the passage that matched; with filters and no TEXT, what the
    filters let through, newest first (all talks of a speaker: talksearch query --speaker "Lukasz Langa").

    In TEXT, "an exact phrase" (quoted) must appear, -word or -"a phrase" must not: talksearch query '"event sourcing" -django'.

    Punctuation in them is ignored, except + and #: "C++" and -C# match as written.
    """
    from .search import Filters

    # one message for a value outside a closed set, the library's (`records.choice`), named as the flag
    kind, mode, sort = choice(Kind, kind, "--kind", optional=True), choice(Mode, mode, "--mode"), choice(Sort, sort, "--sort")
    within = choice(Within, within, "--in", optional=True)
    years(since, until, ("--since", "--until"))
    text = " ".join(words or ())
    filters = Filters(event=event, speaker=speaker, since=since, until=until, kind=kind, lang=lang,
                      mentions=tuple(mentions or ()), within=within)
    with _open(index_dir) as kb:
        results = kb.query(text, k=k, offset=offset, filters=filters, mode=mode, all_recordings=all_recordings,
                           explain=explain, sort=sort)
    _show_hits(results, text, json, start=offset + 1)


@command()
def related(
    talk: Talk,
    k: K = 10,
    other_speakers: Annotated[bool, typer.Option("--other-speakers", help="Leave out talks by the same speakers.")] = False,
    diversity: Annotated[float, typer.Option(callback=_a_diversity,
                                             help="0 = most similar first; higher = more varied (MMR), e.g. 0.3.")] = 0.0,
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """Talks and notes about the same thing as TALK."""
    with _open(index_dir) as kb:
        results = kb.related(talk, k=k, other_speakers=other_speakers, diversity=diversity)
    _show_hits(results, "", json)


@command()
def show(
    talk: Talk,
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """Everything known about one talk or note: sources, recordings, notes, to-dos."""
    with _open(index_dir) as kb:
        info = kb.talk(talk)
    if json:
        render.print_json(info.to_dict())
    else:
        render.detail(render.console(), info)


def _a_time(value: Optional[str]) -> float:  # noqa: UP045 - a callback's annotation as typer reads it
    """--at as seconds: "12:34", "1:02:03", "754" or "754s"."""
    if value is None:
        return 0.0
    parts = value.strip().removesuffix("s").split(":")
    try:
        if len(parts) > 3 or any(not p.isdigit() for p in parts[1:]):
            raise ValueError
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        if seconds < 0 or seconds != seconds:
            raise ValueError
    except ValueError:
        raise typer.BadParameter(f"must be a time such as 12:34, 1:02:03 or 754 (seconds), not {value!r}") from None
    return seconds


@command()
def transcript(
    talk: Talk,
    at: Annotated[Optional[str], typer.Option(callback=_a_time, help="Start here: 12:34, 1:02:03, or seconds.")] = None,
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """What was said in TALK, cue by cue with its time (from --at on)."""
    start = at or 0.0
    with _open(index_dir) as kb:
        found = kb.transcript(talk)
    if json:
        render.print_json({**asdict(replace(found, cues=())),  # the cues from --at on, each an object
                           "cues": [cue._asdict() for cue in found.cues if cue.end >= start]})
    else:
        render.transcript(render.console(), found, at=start)


PLURALS = {"tool": "tools", "entity": "entities", "phrase": "phrases"}


@command()
def topics(
    event: Annotated[Optional[str], typer.Option(help="The slice: this event (slug or title, any case or accents).")] = None,
    since: Annotated[Optional[int], typer.Option(help="The slice: talks from this year on.")] = None,
    until: Annotated[Optional[int], typer.Option(help="The slice: talks up to this year.")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Terms per facet.")] = 10,
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """The tools, entities and phrases that set a slice apart from the rest of the collection.

    Ranked by how much more often the slice's talks name them than the rest's do (log-odds ratio with an
    informative prior), not by raw frequency. Without a slice: the collection's most widespread ones.
    """
    years(since, until, ("--since", "--until"))
    with _open(index_dir) as kb:
        found = kb.topics(event=event, since=since, until=until, n=n)
    if json:
        render.print_json(found.to_dict())
        return
    if not found.documents:
        render.echo("no matches")
        return
    out = render.console()
    out.print(f"{found.documents} of {found.total} talks and notes")
    for facet, terms in found.facets.items():
        render.table(out, PLURALS[facet], [facet, "talks", "share", "overall", "score"],
                     [(c.term, c.documents, f"{c.share:.1%}", f"{c.overall:.1%}", f"{c.score:.1f}") for c in terms])


@command()
def stats(index_dir: IndexDir = None, json: Json = False) -> None:
    """Counts by event, year, source kind and language; index size; model."""
    with _open(index_dir) as kb:
        info = kb.stats()
    if json:
        render.print_json(info)
        return
    out = render.console()
    adapted = info["adapted"]
    how = f", adapted: {adapted['steps']} steps on {adapted['pairs']} talks" if adapted else ""
    out.print(f"index {info['index']} · {info['bytes'] / 1e6:.1f} MB · model {info['model']} ({info['precision']}{how}) "
              f"· built {info['created']}")
    out.print(" · ".join(f"{v} {k}" for k, v in info["counts"].items()))
    for title, key, column in (("by source", "by_source", "source"), ("by language", "by_language", "language"),
                               ("by year", "by_year", "year"), ("by event (top 20)", "by_event", "event")):
        render.table(out, title, [column, "talks"], info[key][:20])


@command()
def sources(index_dir: IndexDir = None, json: Json = False) -> None:
    """The sources the index reads, with their counts."""
    with _open(index_dir) as kb:
        rows = kb.sources()
    if json:
        render.print_json(rows)
        return
    columns = ["path", "format", "files", "talks", "notes", "skipped", "indexed"]
    render.table(render.console(), "sources", columns, [tuple(r[c] for c in columns) for r in rows])


@command()
def todos(
    open_only: Annotated[bool, typer.Option("--open", help="Only the open ones.")] = False,
    talk: Annotated[Optional[str], typer.Option(
        help="Only the notes of this talk (id, prefix, title or URL; any of its recordings), or this note.")] = None,
    event: Annotated[Optional[str], typer.Option(help="Only notes of this event (slug or title).")] = None,
    file: Annotated[Optional[str], typer.Option(
        help="Only notes in this file (a path, or part of its name).")] = None,
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """Checkbox items from your notes, with their note, talk and path:line (relative to here when under it)."""
    with _open(index_dir) as kb:
        rows = kb.todos(open_only=open_only, talk=talk, event=event, file=file)
    if json:
        render.print_json(rows)
    elif not rows:
        render.echo("no to-dos")
    else:
        render.table(render.console(), "to-dos", ["", "to-do", "note", "talk", "where"],
                     [("x" if r["done"] else " ", r["text"], r["note"], r["talk"] or "", render.place(r["path"], r["line"]))
                      for r in rows])


@command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only DuckDB query over the tables in the README.")],
    limit: Annotated[int, typer.Option(min=1, help="Print at most N rows; stderr says when rows were left out.")] = SQL_LIMIT,
    row_format: Annotated[str, typer.Option(
        "--format", help="table, or for a pipe csv, tsv or jsonl (one JSON object a line).")] = "table",
    index_dir: IndexDir = None,
    json: Json = False,
) -> None:
    """Run read-only SQL over the index's metadata (talks, speakers, events, notes, todos, passages, ...).

    With --json (or --format jsonl), lists are JSON arrays, dates ISO 8601, blobs \\x and hex digits; tables, CSV and
    TSV show lists comma-separated.
    """
    row_format = choice(RowFormat, row_format, "--format")
    with _open(index_dir) as kb:
        columns, rows = kb.sql_rows(query, limit=limit + 1)
    if len(rows) > limit:
        rows = rows[:limit]
        typer.echo(f"sql: showing the first {limit} rows; there are more (--limit N shows N)", err=True)
    if json:
        render.print_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif row_format is RowFormat.TABLE:
        render.table(render.console(), "", columns, rows)
    else:
        render.rows(columns, rows, row_format)


@command()
def serve(
    index_dir: IndexDir = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8000,
    host: Annotated[str, typer.Option(
        help="Address to listen on; any but 127.0.0.1, localhost or ::1 lets others read the index.")] = "127.0.0.1",
) -> None:
    """Serve the index as web pages on this machine: search, talks, notes, to-dos, topics, and JSON under /api/.

    Read-only; Ctrl-C stops it.
    """
    try:
        from .web import run
    except ModuleNotFoundError as exc:  # the `serve` extra is not installed
        raise TalksearchError(f"`talksearch serve` needs {exc.name}: install talksearch with its web server, "
                              "pip install 'talksearch[serve]'") from None
    run(index_dir, host=host, port=port)


def _show_hits(results, text: str, json: bool, *, start: int = 1) -> None:
    if json:
        render.print_json([hit.to_dict() for hit in results])
    elif not results:
        render.echo("no matches")
    else:
        render.hits(render.console(), results, text, start=start)


class _progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), TaskProgressColumn(),
                            TimeElapsedColumn(), console=render.console(stderr=True), transient=True)
        self.bar.start()
        self.tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(stage, total=total)
            self.bar.update(self.tasks[stage], completed=done, total=total)

        return update

    def __exit__(self, *exc_info) -> None:
        if hasattr(self, "bar"):
            self.bar.stop()


def main() -> None:
    """The console script: usage errors too are one line on stderr (exit 2), never a box or a traceback."""
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
        from typer.exceptions import Abort
    except ImportError:  # typer releases that use click itself
        from click.exceptions import Abort, ClickException, NoArgsIsHelpError
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare `talksearch`: the help, as with --help
        typer.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        sys.exit(0)
    except ClickException as exc:
        commands = {c.name or c.callback.__name__ for c in app.registered_commands}
        used = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in commands else None
        hint = f" (see `talksearch {used} --help`)" if used else " (see `talksearch --help`)"
        typer.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except (Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
