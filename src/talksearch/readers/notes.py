"""Read personal talk notes (plain text, markdown, an Obsidian-style vault): one `Note` per talk.

A file opening with YAML front matter (a first line `---`, a mapping, a closing `---` or `...`
line) is one note about the talk it names: `title` (else its first `# ` heading, else the file
name), `speaker` or `speakers`, `event`, `date` and `tags` are its metadata (`readers.vault`
reads them). Its headings are sections. Front matter that does not parse to a mapping is a
warning: it is left out and the body after it is read as below.

Any other file is split at headings, in order of preference:

- talk headings: a line opening with "Talk N", "Talk N:", "N. Talk" or "N. Talk:";
- else markdown headings at the highest level used for talks: with exactly one `# ` heading
  (a file title, which becomes context) above `## ` headings, split at `## `.

Lines before the first heading are every note's `context`. A line made only of hashtags
(`#python #event`) gives tags to its note and is left out of its text. Checkbox items
(☐ ☑ ☒ `[ ]` `[x]`) are to-dos. A file without headings is one note titled by its first line.

Inline `#tags` count too: a "#" after whitespace or at a line start, then letters, digits,
"_", "-" and "/" with at least one letter (not "#123", "C#", "page#part", "# Heading"), outside
code fences and `code spans`. `[[Target|alias]]` and `[[Target#Heading]]` link to "Target";
`![[embeds]]` are not links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from talksearch.errors import InputError
from talksearch.normalize import slugify
from talksearch.readers.files import find_urls, unique
from talksearch.readers.vault import FRONT_MATTER_OPEN, FrontMatter, front_matter_end, link_targets, parse_front_matter
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
_FM_KEY = re.compile(r"[A-Za-z_][\w -]*:(?:[ \t]|$)")  # "title: ..." after an unclosed "---"
_CODE_SPAN = re.compile(r"(`+)[^\n]*?\1")  # `code`, ``co`de``
_INLINE_TAG = re.compile(r"(?<!\S)#([\w-]+(?:/[\w-]+)*)")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class _Line:
    number: int  # 1-based
    text: str
    level: int  # 0 not a heading, 1-6 markdown level, 9 a "Talk N" heading
    tag_line: bool
    in_code: bool


def parse_notes(text: str, *, file: str, path: str) -> list[Note]:
    """Split a notes file's text into one `Note` per talk heading (one for front matter)."""
    return parse_notes_with_warnings(text, file=file, path=path)[0]


def parse_notes_with_warnings(text: str, *, file: str, path: str) -> tuple[list[Note], tuple[str, ...]]:
    """The notes of a file's text, and what was wrong with it that did not stop it being read."""
    return parse_note_lines(text.split("\n"), file=file, path=path)


def parse_note_lines(raw: list[str], *, file: str, path: str) -> tuple[list[Note], tuple[str, ...]]:
    """`parse_notes_with_warnings` of the text's lines (`text.split("\n")`), for a caller that lets the whole text
    go before parsing: the lines of a big file are its size again."""
    if not any(line.strip() for line in raw):
        raise InputError(path, "empty file")
    raw[0] = raw[0].removeprefix("\ufeff")
    close = front_matter_end(raw)
    if close is None:
        if raw[0].rstrip() == FRONT_MATTER_OPEN and len(raw) > 1 and _FM_KEY.match(raw[1]):
            warning = "front matter not closed (no '---' line after its fields); indexed the file as plain notes"
            return _split_notes(_Lines(["", *raw[1:]]), file=file, path=path), (warning,)
        return _split_notes(_Lines(raw), file=file, path=path), ()
    front, problem = parse_front_matter("\n".join(raw[1:close]))
    body = _Lines(raw[close + 1 :], first=close + 2)
    if front is not None:
        return [_front_matter_note(front, body, close_line=close + 1, file=file, path=path)], ()
    if not any(line.text.strip() for line in body):
        raise InputError(path, f"malformed front matter ({problem}) and nothing after it")
    warning = f"malformed front matter ({problem}); indexed the body without it"
    return _split_notes(body, file=file, path=path), (warning,)


def _split_notes(lines: _Lines, *, file: str, path: str) -> list[Note]:
    splits = _split_points(lines.levels)
    if not splits:
        return [_whole_file_note(lines, file=file, path=path)]
    context_lines = lines[: splits[0]]
    context = _join(_strip_heading(line) for line in context_lines if not line.tag_line)
    file_tags = unique([*_tags(context_lines), *_inline_tags(context_lines)])
    file_links = _links(context_lines)
    notes: list[Note] = []
    slugs: dict[str, int] = {}
    for k, start in enumerate(splits):
        end = splits[k + 1] if k + 1 < len(splits) else len(lines)
        title = _strip_heading(lines[start]).strip()
        note_id = f"note:{file}#{_unique_slug(slugify(title), slugs)}"
        notes.append(_note(note_id, title, lines[start], lines[start + 1 : end], file=file, path=path,
                           context=context, tags=file_tags, links=file_links))
    return notes


class _Lines(Sequence[_Line]):
    """A file's lines, numbered from `first` (the file line of raw[0]) and classified once into two bytes a line;
    a `_Line` is made when one is read, so a big file never holds an object per line at once."""

    _TAG_LINE, _IN_CODE = 1, 2  # bits of `flags`

    def __init__(self, raw: list[str], *, first: int = 1) -> None:
        self.raw, self.first = raw, first
        self.levels = bytearray(len(raw))  # 0 not a heading, 1-6 markdown level, 9 a "Talk N" heading
        self.flags = bytearray(len(raw))
        in_code = False
        for index, text in enumerate(raw):
            fence = _FENCE.match(text) is not None
            if fence:
                in_code = not in_code
            if in_code or fence:
                self.flags[index] = self._IN_CODE
            else:
                self.levels[index] = _level(text)
                self.flags[index] = self._TAG_LINE if _TAG_LINE.fullmatch(text) else 0

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index):
        rows = range(len(self.raw))[index]  # a range's indexing: negative indexes, slices and IndexError as a list's
        return [self._line(i) for i in rows] if isinstance(index, slice) else self._line(rows)

    def __iter__(self):
        return map(self._line, range(len(self.raw)))

    def _line(self, i: int) -> _Line:
        flags = self.flags[i]
        return _Line(i + self.first, self.raw[i], self.levels[i], bool(flags & self._TAG_LINE),
                     bool(flags & self._IN_CODE))


def _level(text: str) -> int:
    if _TALK_HEADING.match(text):
        return 9
    heading = _MD_HEADING.fullmatch(text)
    return len(heading.group(1)) if heading else 0


def _split_points(levels: bytes | bytearray) -> list[int]:
    """Indexes of the heading lines that start a note, from each line's heading level."""
    talks = [i for i, level in enumerate(levels) if level == 9]
    if talks:
        return talks
    by_level: dict[int, list[int]] = {}
    for i, level in enumerate(levels):
        if level:
            by_level.setdefault(level, []).append(i)
    if not by_level:
        return []
    used = sorted(by_level)
    top = by_level[used[0]]
    if len(top) == 1 and len(used) > 1 and top[0] < by_level[used[1]][0]:
        return by_level[used[1]]  # one title heading above the talks: it is context
    return top


def _note(note_id: str, title: str, heading: _Line, body: Sequence[_Line], *, file: str,
          path: str, context: str, tags: tuple[str, ...], links: tuple[str, ...]) -> Note:
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
        tags=unique([*tags, *_tags(body), *_inline_tags([heading, *body])]),
        urls=find_urls(text),
        links=unique([*links, *_links([heading, *body])]),
    )


def _whole_file_note(lines: Sequence[_Line], *, file: str, path: str) -> Note:
    """A file without headings: one note, titled by its first line if that is short."""
    content = [i for i, line in enumerate(lines) if line.text.strip() and not line.tag_line]
    first = content[0] if content else next(i for i, line in enumerate(lines) if line.text.strip())
    if content and len(lines[first].text.strip()) <= MAX_TITLE:
        title, body = lines[first].text.strip(), lines[first + 1 :]
    else:
        title, body = Path(file).stem, lines[first:]
    note_id = f"note:{file}#{slugify(title)}"
    return _note(note_id, title, lines[first], body, file=file, path=path, context="", tags=(), links=())


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


def _inline_tags(lines: Sequence[_Line]) -> tuple[str, ...]:
    """#tags inside prose (tag-only lines are `_tags`), outside code."""
    return unique(
        tag
        for line in lines if "#" in line.text and not line.in_code and not line.tag_line
        for tag in _INLINE_TAG.findall(_CODE_SPAN.sub(" ", line.text)) if _LETTER.search(tag)
    )


def _links(lines: Sequence[_Line]) -> tuple[str, ...]:
    """[[wiki link]] targets outside code, in order."""
    return unique(link for line in lines if "[[" in line.text and not line.in_code
                  for link in link_targets(_CODE_SPAN.sub(" ", line.text)))


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


def _unique_slug(slug: str, used: dict[str, int]) -> str:
    """The slug, or slug-2, slug-3... if an earlier heading of the file took it.

    `used` maps each slug taken to the last suffix taken after it, so a heading repeated
    thousands of times ("## Q&A") costs linear, not quadratic, time.
    """
    count = used.get(slug, 1)
    unique_slug = f"{slug}-{count}" if count > 1 else slug
    while unique_slug in used:
        count += 1
        unique_slug = f"{slug}-{count}"
    used[slug] = count
    used.setdefault(unique_slug, 1)
    return unique_slug


# --- Front matter --------------------------------------------------------------------------


def _front_matter_note(front: FrontMatter, lines: list[_Line], *, close_line: int, file: str, path: str) -> Note:
    """A whole file with front matter as one note: the body's headings are sections."""
    if front.empty and not any(line.text.strip() for line in lines):
        raise InputError(path, "empty file")
    title = front.title or _first_title_heading(lines) or Path(file).stem
    text_lines = [line for line in lines if not line.tag_line]
    content = [line for line in text_lines if line.text.strip()]
    text = _join(line.text for line in text_lines)
    return Note(
        id=f"note:{file}#{slugify(title)}",
        title=title,
        file=file,
        path=path,
        line_start=1,
        line_end=content[-1].number if content else close_line,
        text=text,
        context=" — ".join(part for part in (", ".join(front.speakers), front.event) if part),
        todos=_todos(lines),
        tags=unique([*front.tags, *_tags(lines), *_inline_tags(lines)]),
        urls=unique([*front.urls, *find_urls(text)]),
        speakers=front.speakers,
        event=front.event,
        date=front.date,
        links=unique([*front.links, *_links(lines)]),
    )


def _first_title_heading(lines: Sequence[_Line]) -> str | None:
    """The first `# ` heading outside code, without its hashes."""
    for line in lines:
        heading = None if line.in_code else _MD_HEADING.fullmatch(line.text)
        if heading and len(heading.group(1)) == 1:
            return _drop_closing_hashes(heading.group(2).rstrip()) or None
    return None
