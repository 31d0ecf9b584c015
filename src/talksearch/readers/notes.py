"""Read personal talk notes (plain text or markdown): one `Note` per talk heading.

Headings, in order of preference:

- talk headings: a line opening with "Talk N", "Talk N:", "N. Talk" or "N. Talk:";
- else markdown headings at the highest level used for talks: with exactly one `# ` heading
  (a file title, which becomes context) above `## ` headings, split at `## `.

Lines before the first heading are every note's `context`. A line made only of hashtags
(`#python #event`) gives tags to its note. Checkbox items (☐ ☑ ☒ `[ ]` `[x]`) are to-dos.
A file without headings is one note titled by its first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from talksearch.errors import InputError
from talksearch.normalize import slugify
from talksearch.readers.files import find_urls, unique
from talksearch.records import Note, Todo

MAX_TITLE = 120  # a longer first line of a heading-less file is prose, not its title
_TALK_HEADING = re.compile(r"(?:#{1,6}[ \t]+)?(?:talk[ \t]+\d+\b|\d+[ \t]*\.[ \t]*talk\b)", re.I)
_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(\S.*)")
_TAG_LINE = re.compile(r"[ \t]*#\w[^\s#]*(?:[ \t]+#\w[^\s#]*)*[ \t]*")
_TAG = re.compile(r"#(\w[^\s#]*)")
_FENCE = re.compile(r"[ \t]*(?:```|~~~)")
_TODO = re.compile(
    r"[ \t]*(?:(?:[•\-*+‣◦]|\d+[.)])[ \t]*)?"
    r"(?:(?P<box>[☐☑☒])[ \t]*|\[(?P<mark>[ xX])\][ \t]+)(?P<text>\S.*)"
)
OPEN_BOXES = frozenset({"☐", " "})  # box characters of a to-do not yet done


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    text: str
    level: int  # 0 not a heading, 1-6 markdown level, 9 a "Talk N" heading
    tag_line: bool
    in_code: bool


def parse_notes(text: str, *, file: str, path: str) -> list[Note]:
    """Split a notes file's text into one `Note` per talk heading."""
    if not text.strip():
        raise InputError(path, "empty file")
    lines = _classify(text.split("\n"))
    splits = _split_points(lines)
    if not splits:
        return [_whole_file_note(lines, file=file, path=path)]
    context_lines = lines[: splits[0]]
    context = _join(_strip_heading(line) for line in context_lines if not line.tag_line)
    file_tags = _tags(context_lines)
    notes: list[Note] = []
    slugs: set[str] = set()
    for k, start in enumerate(splits):
        end = splits[k + 1] if k + 1 < len(splits) else len(lines)
        title = _strip_heading(lines[start]).strip()
        note_id = f"note:{file}#{_unique_slug(slugify(title), slugs)}"
        notes.append(_note(note_id, title, lines[start], lines[start + 1 : end],
                           file=file, path=path, context=context, tags=file_tags))
    return notes


def _classify(raw: list[str]) -> list[_Line]:
    lines = []
    in_code = False
    for index, text in enumerate(raw):
        fence = _FENCE.match(text) is not None
        if fence:
            in_code = not in_code
        plain = not in_code and not fence
        lines.append(_Line(index + 1, text, _level(text) if plain else 0,
                           plain and _TAG_LINE.fullmatch(text) is not None, in_code or fence))
    return lines


def _level(text: str) -> int:
    if _TALK_HEADING.match(text):
        return 9
    heading = _MD_HEADING.fullmatch(text)
    return len(heading.group(1)) if heading else 0


def _split_points(lines: Sequence[_Line]) -> list[int]:
    """Indexes of the heading lines that start a note."""
    talks = [i for i, line in enumerate(lines) if line.level == 9]
    if talks:
        return talks
    by_level: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if line.level:
            by_level.setdefault(line.level, []).append(i)
    if not by_level:
        return []
    levels = sorted(by_level)
    top = by_level[levels[0]]
    if len(top) == 1 and len(levels) > 1 and top[0] < by_level[levels[1]][0]:
        return by_level[levels[1]]  # one title heading above the talks: it is context
    return top


def _note(note_id: str, title: str, heading: _Line, body: Sequence[_Line], *, file: str,
          path: str, context: str, tags: tuple[str, ...]) -> Note:
    text_lines = [line for line in body if not line.tag_line]
    content = [line for line in text_lines if line.text.strip()]
    text = _join(line.text for line in text_lines)
    return Note(
        id=note_id,
        title=title,
        file=file,
        path=path,
        line_start=heading.number,
        line_end=content[-1].number if content else heading.number,
        text=text,
        context=context,
        todos=_todos(body),
        tags=unique([*tags, *_tags(body)]),
        urls=find_urls(text),
    )


def _whole_file_note(lines: Sequence[_Line], *, file: str, path: str) -> Note:
    """A file without headings: one note, titled by its first line if that is short."""
    content = [line for line in lines if line.text.strip() and not line.tag_line]
    first = content[0] if content else next(line for line in lines if line.text.strip())
    if content and len(first.text.strip()) <= MAX_TITLE:
        title, body = first.text.strip(), lines[first.number :]
    else:
        title, body = Path(file).stem, lines[first.number - 1 :]
    note_id = f"note:{file}#{slugify(title)}"
    return _note(note_id, title, first, body, file=file, path=path, context="", tags=())


def _todos(lines: Sequence[_Line]) -> tuple[Todo, ...]:
    todos = []
    for line in lines:
        match = None if line.in_code else _TODO.fullmatch(line.text)
        if match:
            box = match.group("box") or match.group("mark")
            todos.append(Todo(match.group("text").rstrip(), box not in OPEN_BOXES, line.number))
    return tuple(todos)


def _tags(lines: Sequence[_Line]) -> tuple[str, ...]:
    return unique(tag for line in lines if line.tag_line for tag in _TAG.findall(line.text))


def _strip_heading(line: _Line) -> str:
    heading = _MD_HEADING.fullmatch(line.text) if line.level else None
    return _drop_closing_hashes(heading.group(2).rstrip()) if heading else line.text


def _drop_closing_hashes(title: str) -> str:
    """"Title ##" -> "Title": markdown's optional closing sequence, after a space."""
    stripped = title.rstrip("#")
    if stripped != title and stripped[-1:] in (" ", "\t"):
        return stripped.rstrip()
    return title


def _join(texts: Iterable[str]) -> str:
    """Lines joined as written, without leading or trailing blank lines."""
    lines = list(texts)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _unique_slug(slug: str, used: set[str]) -> str:
    """The slug, or slug-2, slug-3... if an earlier heading of the file took it."""
    unique_slug, count = slug, 1
    while unique_slug in used:
        count += 1
        unique_slug = f"{slug}-{count}"
    used.add(unique_slug)
    return unique_slug
