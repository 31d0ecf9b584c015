"""Terminal output: hits with highlighted snippets, tables, summaries; JSON for --json.

Text from indexed files is always printed as text: rich markup and terminal
escape sequences in a note never reach the terminal.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .normalize import fold_word

if TYPE_CHECKING:
    from .adapt import Summary as AdaptSummary
    from .build import Summary
    from .kb import Detail
    from .records import Hit

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WORD = re.compile(r"\w+")


def console(*, stderr: bool = False) -> Console:
    """A console that wraps to the terminal, and does not wrap at all into a pipe or file."""
    out = Console(stderr=stderr, highlight=False)
    out.soft_wrap = not out.is_terminal
    return out


def clean(text: str | None) -> str:
    """Text with control characters (escape sequences included) made visible and harmless."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text or "")


def one_line(text: str | None) -> str:
    """`clean`, with newlines made visible too: for messages that must stay on one line (file names, errors)."""
    return clean(text).replace("\n", "\\n")


def highlight(text: str, query: str) -> Text:
    words = {fold_word(w) for w in _WORD.findall(query) if len(w) > 1}
    out = Text(clean(text))
    for match in _WORD.finditer(out.plain):
        if fold_word(match.group()) in words:
            out.stylize("bold yellow", match.start(), match.end())
    return out


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def hits(out: Console, results: list[Hit], query: str = "", *, start: int = 1) -> None:
    for n, hit in enumerate(results, start=start):
        head = Text(f"{n:>2}. ", style="bold")
        head.append(clean(hit.title), style="bold")
        head.append(f"  [{hit.kind.value}]  {hit.score:.3f}", style="dim")
        out.print(head)
        where = [", ".join(hit.speakers), hit.event or "", hit.date or ""]
        if hit.file:
            where.append(f"{hit.file}:{hit.line}")
        out.print(Text("    " + " · ".join(clean(w) for w in where if w), style="cyan"))
        if hit.snippet:
            out.print(Text("    ") + highlight(hit.snippet, query))
        if len(hit.recordings) > 1:
            others = ", ".join(f"{clean(r.event)} ({r.date or '?'})" for r in hit.recordings if r.id != hit.id)
            out.print(Text(f"    also given at: {others}", style="dim"))
        if hit.explain:
            e = hit.explain
            out.print(Text(f"    dense rank {e['dense_rank']} score {e['dense_score']} · "
                           f"lexical rank {e['lexical_rank']} score {e['lexical_score']}", style="magenta"))
        out.print(Text("    " + "  ".join(part for part in (hit.url, f"id: {hit.id}") if part), style="dim"))


def summary(out: Console, result: Summary) -> None:
    def counts(part: dict[str, int]) -> str:
        return f"{part['talks']} talks, {part['notes']} notes"

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
    table = Table.grid(padding=(0, 2))
    table.add_column(style="cyan")
    table.add_column()
    for key, value in info.fields.items():
        if value in (None, "", []) or key in ("title",):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        table.add_row(key, clean(str(value)))
    out.print(table)
    if len(hit.recordings) > 1:
        out.print(Text("recordings", style="bold"))
        for r in hit.recordings:
            out.print(f"  {clean(r.event)} · {r.date or '?'} · {r.url or ''} · {r.id}")
    if info.sources:
        out.print(Text("sources", style="bold"))
        for source in info.sources:
            values = " · ".join(clean(str(v if not isinstance(v, list) else ", ".join(v)))
                                for v in source.values() if v not in (None, "", []))
            out.print(f"  {values}")
    if info.notes:
        out.print(Text("notes" if hit.kind.value == "talk" else "about", style="bold"))
        for note in info.notes:
            out.print("  " + " · ".join(clean(str(v)) for v in note.values() if v is not None))
    if info.links:
        out.print(Text("links", style="bold"))
        for link in info.links:
            arrow = "→" if link["direction"] == "to" else "←"
            out.print(f"  {arrow} [[{clean(link['link'])}]]" + (f" · {clean(link['id'])}" if link["id"] else " · (no such note)"))
    for facet, terms in info.facets.items():
        out.print(Text({"entity": "entities"}.get(facet, f"{facet}s"), style="bold"))
        out.print("  " + clean(", ".join(f"{term} ({count})" if count > 1 else term for term, count in terms)))
    if info.todos:
        out.print(Text("to-dos", style="bold"))
        for todo in info.todos:
            out.print(f"  [{'x' if todo.done else ' '}] {clean(todo.text)} (line {todo.line})")


def table(out: Console, title: str, columns: list[str], rows: list[tuple]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(clean("" if v is None else str(v)) for v in row))
    out.print(grid)
