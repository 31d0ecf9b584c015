"""Read personal talk notes (plain text, markdown, an Obsidian-style vault): one `Note` per talk.

A file opening with YAML front matter (a first line `---`, a mapping, a closing `---` or `...`
line) is one note about the talk it names: `title` (else its first `# ` heading, else the file
name), `speaker` or `speakers`, `event`, `date` and `tags` are its metadata (`readers.vault`
reads them). Its headings are sections. Front matter that does not parse to a mapping is a
warning: it is left out and the body after it is read as below.

A file of one talk's notes is one note (`_one_talk`), decided from what its sections say, not from heading
levels alone. Its sections are the headings that would split it below (below its title heading, if it has one).
It is one talk's notes when it has no "Talk N" heading, no section heading comes twice ("## Q&A" under each of two
talks), none of its sections names a talk of its own (a speaker in the heading, "Title — Jane Doe"; a "Speaker: ..."
or "by Jane Doe" line, or a video or talk page URL, under the heading before the next one: `readers.sections`), and
either every section heading is a generic part of talk notes (Outline, Notes, Questions, Q&A, Takeaways, Summary,
References, Links, Resources, Slides, Key points, TODO, ...), or it has a title heading that is not an event's
("PyCon US 2024", "DjangoCon", "Day 2") with a speaker line or a video or talk URL under it. The note is titled by
the title heading (without one, which takes two sections or more: by the first line above the sections, else by
the file name); its text is everything below the title, headings included, and its `sections` are the headings
below the title, in order.

Any other file is split at headings:

- markdown headings (`#` to `######`, and setext: a one-line paragraph underlined with `===` or `---`),
  when the file has any: the first heading, if it is at the top level used and the other headings at that
  level have no deeper headings under them, is the file's title (context); each note-level heading starts
  a note, a deeper one is a section of the note above it (in its `sections`). The note level is the level of the file's
  markdown talk headings (`## Talk 3: ...`) if it has some, else the top level used (below the title).
  A heading above that level, or one above every note (`## A` before a later `# Summary`), starts a note
  too, so no heading turns earlier sections into context;
- "Talk N" lines (a line opening with "Talk N", "Talk N:", "N. Talk" or "N. Talk:") split a file with no
  `#` heading but, at most, one title above the first of them. In a file with `#` headings they are text
  ("Talk 2 of the day was the best one" is prose there).

Lines before the first heading are every note's `context`; the to-dos among them are the first note's.
A line made only of hashtags (`#python #event`) gives tags to its note and is left out of its text.
Checkbox items (☐ ☑ ☒ `[ ]` `[x]`) are to-dos. A file without headings is one note titled by its first
line (by the file name when that line is a to-do or too long to be a title).

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
from talksearch.normalize import fold, slugify
from talksearch.readers.files import find_urls, unique
from talksearch.readers.sections import event_title, generic_section, heading_speaker, speaker_line, talk_url
from talksearch.readers.vault import FRONT_MATTER_OPEN, FrontMatter, front_matter_end, link_targets, parse_front_matter
from talksearch.records import Note, Todo

MAX_TITLE = 120  # a longer first line of a heading-less file is prose, not its title
_TALK_HEADING = re.compile(r"(?:talk[ \t]+\d+\b|\d+[ \t]*\.[ \t]*talk\b)", re.I)
_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(\S.*)")
_SETEXT = re.compile(r" {0,3}(?:={3,}|-{3,})[ \t]*")  # the underline of a setext heading (or a rule)
_NOT_SETEXT_TITLE = re.compile(r"[ \t]*(?:[-*+>|•‣◦☐☑☒]|\d+[.)][ \t]|\[[ xX]\])")  # list items, quotes, tables
_LEVEL, _TALK, _PLAIN_TALK = 0x0F, 0x10, 0x20  # a heading's level: markdown level | _TALK, or _PLAIN_TALK
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
    level: int  # 0 not a heading, else a markdown level 1-6 (| _TALK for "## Talk N"), or _PLAIN_TALK
    tag_line: bool
    in_code: bool
    underline: bool = False  # the `===`/`---` line under a setext heading


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
    splits, markdown = _split_points(lines)  # not markdown: a "Talk N" file, where an underline is text
    if not splits:
        return [_whole_file_note(lines, file=file, path=path)]
    if markdown and (title := _one_talk(lines, splits)) is not None:
        return [_one_talk_note(lines, title, splits, file=file, path=path)]
    context_lines = lines[: splits[0]]
    context = _join(_strip_heading(line) for line in context_lines
                    if not line.tag_line and not (markdown and line.underline))
    file_tags = unique([*_tags(context_lines), *_inline_tags(context_lines)])
    file_links = _links(context_lines)
    preamble_todos = _todos(context_lines)  # listed once, with the first note
    notes: list[Note] = []
    slugs: dict[str, int] = {}
    for k, start in enumerate(splits):
        end = splits[k + 1] if k + 1 < len(splits) else len(lines)
        heading = lines[start]
        title = _strip_heading(heading).strip()
        body = lines[start + 1 : end]
        if markdown:
            body = [line for line in body if not line.underline]
        sections = tuple(_strip_heading(lines[i]).strip() for i in range(start + 1, end)
                         if markdown and lines.levels[i] and lines.levels[i] != _PLAIN_TALK)
        note_id = f"note:{file}#{_unique_slug(slugify(title), slugs)}"
        notes.append(_note(note_id, title, heading, body, file=file, path=path, context=context, tags=file_tags,
                           links=file_links, todos=preamble_todos if k == 0 else (), sections=sections))
    return notes


class _Lines(Sequence[_Line]):
    """A file's lines, numbered from `first` (the file line of raw[0]) and classified once into two bytes a line;
    a `_Line` is made when one is read, so a big file never holds an object per line at once."""

    _TAG_LINE, _IN_CODE, _UNDERLINE, _SETEXT = 1, 2, 4, 8  # bits of `flags`

    def __init__(self, raw: list[str], *, first: int = 1) -> None:
        self.raw, self.first = raw, first
        self.levels = bytearray(len(raw))  # 0 not a heading, else a markdown level (| _TALK), or _PLAIN_TALK
        self.flags = bytearray(len(raw))
        in_code = False
        for index, text in enumerate(raw):
            fence = _FENCE.match(text) is not None
            if fence:
                in_code = not in_code
            if in_code or fence:
                self.flags[index] = self._IN_CODE
            elif _SETEXT.fullmatch(text) and self._setext_title(index - 1):
                talk = _TALK if self.levels[index - 1] == _PLAIN_TALK else 0
                self.levels[index - 1] = (1 if text.lstrip().startswith("=") else 2) | talk
                self.flags[index - 1] |= self._SETEXT
                self.flags[index] = self._UNDERLINE
            else:
                self.levels[index] = _level(text)
                self.flags[index] = self._TAG_LINE if _TAG_LINE.fullmatch(text) else 0

    def _setext_title(self, index: int) -> bool:
        """Whether line `index` is a one-line paragraph that an underline below it makes a setext heading."""
        if index < 0 or self.flags[index] or self.levels[index] not in (0, _PLAIN_TALK):
            return False
        text = self.raw[index]
        return (bool(text.strip()) and not _NOT_SETEXT_TITLE.match(text) and not _SETEXT.fullmatch(text)
                and (index == 0 or not self.raw[index - 1].strip()))

    def setext(self, index: int) -> bool:
        return bool(self.flags[index] & self._SETEXT)

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
                     bool(flags & self._IN_CODE), bool(flags & self._UNDERLINE))


def _level(text: str) -> int:
    if _TALK_HEADING.match(text):
        return _PLAIN_TALK
    heading = _MD_HEADING.fullmatch(text)
    if not heading:
        return 0
    return len(heading.group(1)) | (_TALK if _TALK_HEADING.match(heading.group(2)) else 0)


def _split_points(lines: _Lines) -> tuple[list[int], bool]:
    """Indexes of the heading lines that start a note, from each line's heading level (see the module's doc),
    and whether they are markdown headings (else "Talk N" lines)."""
    levels = lines.levels
    headings = [i for i, level in enumerate(levels) if level and level != _PLAIN_TALK]
    plain = [i for i, level in enumerate(levels)
             if level == _PLAIN_TALK or (level & _TALK and lines.setext(i))]  # "Talk N" lines, underlined or not
    if plain:
        atx = [i for i in headings if not lines.setext(i)]  # an underlined line in plain text may be a rule
        if not atx or (len(atx) == 1 and atx[0] < plain[0]):
            return plain, False  # a "Talk N" file, with at most a title above its talks
    if not headings:
        return [], True
    level = [levels[i] & _LEVEL for i in headings]
    top = min(level)
    tops = [k for k, h in enumerate(level) if h == top]
    if (len(headings) > 1 and tops[0] == 0 and level[1] > top
            and all(k + 1 == len(level) or level[k + 1] == top for k in tops[1:])):
        headings, level = headings[1:], level[1:]  # the file's title heading: context
    talks = [h for i, h in zip(headings, level, strict=True) if levels[i] & _TALK]
    note_level = min(talks or level)
    splits: list[int] = []
    current = 0  # the level of the heading that started the current note
    for i, h in zip(headings, level, strict=True):
        if not splits or h <= max(current, note_level):
            splits.append(i)
            current = h
    return splits, True


def _note(note_id: str, title: str, heading: _Line, body: Sequence[_Line], *, file: str, path: str, context: str,
          tags: tuple[str, ...], links: tuple[str, ...], todos: tuple[Todo, ...] = (),
          sections: tuple[str, ...] = ()) -> Note:
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
        todos=(*todos, *_todos(body)),
        tags=unique([*tags, *_tags(body), *_inline_tags([heading, *body])]),
        urls=find_urls(text),
        links=unique([*links, *_links([heading, *body])]),
        sections=sections,
    )


def _whole_file_note(lines: Sequence[_Line], *, file: str, path: str) -> Note:
    """A file without headings: one note, titled by its first line if that is short and not a to-do."""
    content = [i for i, line in enumerate(lines) if line.text.strip() and not line.tag_line]
    first = content[0] if content else next(i for i, line in enumerate(lines) if line.text.strip())
    if content and len(lines[first].text.strip()) <= MAX_TITLE and not _todos([lines[first]]):
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


# --- One talk's notes ----------------------------------------------------------------------

def _one_talk(lines: _Lines, splits: list[int]) -> int | None:
    """When the file is one talk's notes (see the module's doc): the index of its title heading, or -1 when it has
    none; else None."""
    levels = lines.levels
    headings = [i for i, level in enumerate(levels) if level and level != _PLAIN_TALK]
    if any(levels[i] & _TALK for i in headings):
        return None
    title = headings[0] if headings[0] < splits[0] else -1
    if title < 0 and len(splits) == 1:
        return None  # one note already, titled by its heading
    generic, seen = True, set()
    for start in splits:
        heading = _strip_heading(lines[start]).strip()
        if (folded := fold(heading)) in seen:
            return None  # "## Q&A" twice: the questions of two talks
        seen.add(folded)
        if generic_section(heading):
            continue
        generic = False
        if _names_a_talk(lines, start, heading):
            return None  # a section about a talk of its own: a file of several talks
    if generic:
        return title
    if title < 0 or event_title(_strip_heading(lines[title])):
        return None
    return title if _names_a_talk(lines, title, "") else None


def _names_a_talk(lines: _Lines, heading: int, title: str) -> bool:
    """Whether a heading names a speaker ("Title — Jane Doe"), or the lines under it up to the next heading
    hold a speaker line or a video or talk page URL."""
    if heading_speaker(title):
        return True
    end = next((i for i in range(heading + 1, len(lines)) if lines.levels[i]), len(lines))
    own = [line.text for line in lines[heading + 1 : end] if not line.in_code]
    if any(speaker_line(text) for text in own):
        return True
    return any(talk_url(url) for url in find_urls("\n".join(own)))


def _one_talk_note(lines: _Lines, title: int, splits: list[int], *, file: str, path: str) -> Note:
    """A file of one talk's notes as one note: titled by its title heading (without one: by its first line, else
    its file name); the headings below the title are its sections, kept in its text."""
    first = title if title >= 0 else next(
        (i for i in range(splits[0]) if lines[i].text.strip() and not lines[i].tag_line), splits[0])
    heading, context_lines = lines[first], lines[:first]  # above a first line: blank lines and tags
    text = _strip_heading(heading).strip()
    named = title >= 0 or (first < splits[0] and len(text) <= MAX_TITLE and not _todos([heading]))
    name, body = (text, lines[first + 1 :]) if named else (Path(file).stem, lines[first:])
    context = _join(_strip_heading(line) for line in context_lines if not line.tag_line and not line.underline)
    sections = tuple(_strip_heading(lines[i]).strip() for i, level in enumerate(lines.levels)
                     if level and level != _PLAIN_TALK and i > title and i >= splits[0])
    return _note(f"note:{file}#{slugify(name)}", name, heading, [line for line in body if not line.underline],
                 file=file, path=path, context=context,
                 tags=unique([*_tags(context_lines), *_inline_tags(context_lines)]), links=_links(context_lines),
                 todos=_todos(context_lines), sections=sections)


# --- Front matter --------------------------------------------------------------------------


def _front_matter_note(front: FrontMatter, lines: _Lines, *, close_line: int, file: str, path: str) -> Note:
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
        sections=tuple(heading for i, level in enumerate(lines.levels) if level and level != _PLAIN_TALK
                       and (heading := _strip_heading(lines[i]).strip()) != title and not lines[i].in_code),
    )


def _first_title_heading(lines: Sequence[_Line]) -> str | None:
    """The first `# ` heading outside code, without its hashes."""
    for line in lines:
        heading = None if line.in_code else _MD_HEADING.fullmatch(line.text)
        if heading and len(heading.group(1)) == 1:
            return _drop_closing_hashes(heading.group(2).rstrip()) or None
    return None
