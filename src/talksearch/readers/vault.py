"""Obsidian-style vault syntax for the notes reader: YAML front matter and [[wiki links]].

    front_matter_end(lines)          index of the line closing front matter that opens a file, or None
    parse_front_matter(text)         (FrontMatter, None), or (None, what is wrong with it)
    link_targets(text)               [[wiki link]] targets: "[[A#Part|alias]]" -> "A"; ![[embeds]] are not links

Front matter is read with `yaml.safe_load`. Known keys (any case): `title`, `speaker` or
`speakers`, `event`, `date`, `tags` or `tag`; other keys are ignored, but URLs and
[[links]] in any value are kept. Values of the wrong shape (a mapping as a title, a boolean
as a speaker) are ignored; numbers and dates become text. `speaker: [[Ana Lee]]` written
unquoted is YAML for a list in a list; it reads as the link it was meant to be.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from talksearch.normalize import storable
from talksearch.readers.files import find_urls, unique
from talksearch.readers.listing import split_speakers

FRONT_MATTER_OPEN = "---"  # the first line of a file with front matter
FRONT_MATTER_CLOSE = ("---", "...")  # the line that ends it
MAX_CHARS = 16_384  # longer front matter is not parsed (PyYAML reads 40-200 KB a second)
MAX_DEPTH = 16  # deeper [ { nesting is not parsed (PyYAML slows down, then overflows the stack)
MAX_VALUES = 10_000  # items looked at in one front matter (YAML aliases can repeat a list endlessly)
_BRACKET = re.compile(r"[\[\]{}]")
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_TAG_SEPARATOR = re.compile(r"[,\s]+")  # `tags: a, b` or `tags: a b`
_WIKI_LINK = re.compile(r"(!?)\[\[([^\[\]\n]+)\]\]")


@dataclass(frozen=True)
class FrontMatter:
    """The fields of a note file's front matter that talksearch uses."""

    title: str  # "" if none
    speakers: tuple[str, ...]
    event: str | None
    date: str | None  # ISO "YYYY-MM-DD"
    tags: tuple[str, ...]
    urls: tuple[str, ...]  # in any value
    links: tuple[str, ...]  # [[link]] targets in any value
    empty: bool  # no fields at all ("---" then "---")


def front_matter_end(lines: Sequence[str]) -> int | None:
    """Index of the line closing front matter that opens the file (first line `---`), or None."""
    if not lines or lines[0].rstrip() != FRONT_MATTER_OPEN:
        return None
    return next((i for i in range(1, len(lines)) if lines[i].rstrip() in FRONT_MATTER_CLOSE), None)


def parse_front_matter(text: str) -> tuple[FrontMatter | None, str | None]:
    """The front matter between the `---` lines, or what is wrong with it ("line N: ...", N in the file)."""
    fields, problem = _load(text)
    if problem is not None:
        return None, problem
    speakers = unique(
        name
        for key in ("speaker", "speakers")
        for value in _texts(fields.get(key))
        for name in split_speakers(link_text(value))
    )
    values = list(_values(fields, mappings=True))
    return FrontMatter(
        title=_first_text(fields.get("title")),
        speakers=speakers,
        event=_first_text(fields.get("event")) or None,
        date=_iso_date(next(iter(_texts(fields.get("date"))), "")),
        tags=_tags(fields),
        urls=unique(url for value in values for url in find_urls(value)),
        links=unique(link for value in values for link in link_targets(value)),
        empty=not fields,
    ), None


def link_targets(text: str) -> Iterator[str]:
    """The target of each [[wiki link]] in a text, in order; not ![[embeds]] (attachments shown in place)."""
    for match in _WIKI_LINK.finditer(text):
        if not match.group(1):
            yield _link_target(match.group(2))


def _link_target(inner: str) -> str:
    """"A#Part|alias" -> "A"; "A\\|alias" (escaped in a table) too; "#Part" (this file) -> ""."""
    return inner.split("|", 1)[0].removesuffix("\\").split("#", 1)[0].strip()


def link_text(text: str) -> str:
    """A value as shown: "[[people/Ana Lee|Ana]]" -> "Ana", "[[people/Ana Lee]]" -> "Ana Lee"."""
    def shown(match: re.Match) -> str:
        target, _, alias = match.group(2).partition("|")
        return alias.strip() or _link_target(target).rsplit("/", 1)[-1] or target.strip()

    return " ".join(_WIKI_LINK.sub(shown, text).split())


def _load(text: str) -> tuple[dict, str | None]:
    """The front matter's fields by lower-cased key, or what is wrong with it."""
    import yaml

    if len(text) > MAX_CHARS:
        return {}, f"longer than {MAX_CHARS} characters"
    if _flow_depth(text) > MAX_DEPTH:
        return {}, f"[ ] or {{ }} nested more than {MAX_DEPTH} deep"
    try:
        fields = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "not YAML"
        return {}, f"line {mark.line + 2}: {problem}" if mark else problem
    except yaml.YAMLError as error:
        return {}, str(error).split("\n")[0] or "not YAML"
    except (ValueError, TypeError, OverflowError) as error:  # a timestamp that is no date: 2024-02-30
        return {}, f"invalid value: {error}"
    except RecursionError:
        return {}, "nested too deeply"
    if fields is None:
        return {}, None  # "---" then "---": no fields
    if not isinstance(fields, dict):
        kind = "list" if isinstance(fields, list) else "text" if isinstance(fields, str) else type(fields).__name__
        return {}, f"a {kind}, not 'key: value' fields"
    return {key.strip().lower(): value for key, value in fields.items() if isinstance(key, str)}, None


def _flow_depth(text: str) -> int:
    """How deep [ ] and { } nest (brackets inside quotes count too: an upper bound)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _texts(value: object) -> list[str]:
    """A known field's values as text: a scalar, or the scalars of a list; mappings are ignored."""
    return list(_values(value, mappings=False))


def _values(value: object, *, mappings: bool) -> Iterator[str]:
    """The text of each scalar in a value, in order, each list or mapping looked at once."""
    stack: list[tuple[object, bool]] = [(value, False)]
    seen: set[int] = set()
    for _ in range(MAX_VALUES):
        if not stack:
            return
        item, in_list = stack.pop()
        if in_list and isinstance(item, list) and len(item) == 1 and isinstance(item[0], str):
            yield f"[[{item[0]}]]"  # `- [[Ana Lee]]` unquoted
        elif isinstance(item, list) or (mappings and isinstance(item, dict)):
            if id(item) not in seen:
                seen.add(id(item))
                children = list(item.values() if isinstance(item, dict) else item)
                stack.extend((child, isinstance(item, list)) for child in reversed(children))
        elif text := _scalar_text(item):
            yield text


def _scalar_text(value: object) -> str:
    """Text of a string, number or date; "" for anything else (booleans, null, lists, mappings)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float):  # YAML escapes may spell half an emoji or decomposed accents
        return " ".join(storable(str(value)).split())
    return ""


def _first_text(value: object) -> str:
    texts = _texts(value)
    return link_text(texts[0]) if texts else ""


def _tags(fields: dict) -> tuple[str, ...]:
    """`tags` (or `tag`): a list, or one string of names separated by commas or spaces; "#" dropped."""
    tags = []
    for key in ("tags", "tag"):
        value = fields.get(key)
        names = _TAG_SEPARATOR.split(value) if isinstance(value, str) else _texts(value)
        tags += [name.strip().lstrip("#").strip() for name in names]
    return unique(tags)


def _iso_date(text: str) -> str | None:
    """"YYYY-MM-DD" (or with / or .) at the start of a text, as ISO; None if it is no date."""
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        return None
