"""Frozen records that cross module boundaries.

Readers produce `TalkRecord` (one talk as one source describes it) and `Note`
(one note with its `Todo` items). The linker merges talk records into `Talk`.
Search returns `Hit`. `asdict()` of any record is its JSON form.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class Format(enum.StrEnum):
    """Input formats talksearch can read."""

    PYVIDEO = "pyvideo"
    LISTING = "listing"
    NOTES = "notes"


class Precision(enum.StrEnum):
    """How the encoder computes at index time: bf16 where the CPU has it natively (auto), or as told."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"


class Kind(enum.StrEnum):
    """What a search result is."""

    TALK = "talk"
    NOTE = "note"


@dataclass(frozen=True)
class TalkRecord:
    """One talk as one source file describes it."""

    id: str  # "<event>/<slug>" for catalogs, "<event-slug>/<title-slug>" for listings
    title: str
    speakers: tuple[str, ...]
    event: str  # event slug, e.g. "europython-2024"
    event_title: str
    source: str  # path of the file this record was read from
    format: Format
    date: str | None = None  # ISO date "YYYY-MM-DD"
    room: str | None = None
    language: str | None = None  # ISO 639-3 as pyvideo gives it ("eng")
    tags: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()  # video / session page URLs
    related_urls: tuple[str, ...] = ()
    texts: tuple[tuple[str, str], ...] = ()  # (field, text): description, summary, abstract
    license: str | None = None  # licence boilerplate cut from the text

    @property
    def text(self) -> str:
        """All the talk's prose, fields in order, blank-line separated."""
        return "\n\n".join(text for _, text in self.texts if text.strip())


@dataclass(frozen=True)
class Todo:
    """A checkbox item in a note."""

    text: str
    done: bool
    line: int  # 1-based line in the note's file


@dataclass(frozen=True)
class Note:
    """One note: the part of a notes file under one talk heading, or a whole file with front matter."""

    id: str  # "note:<file relative to the indexed path>#<heading-slug>"
    title: str  # the heading as written, or the front matter's title
    file: str  # path relative to the indexed path
    path: str  # absolute path of the file
    line_start: int  # 1-based, the heading line (1 for a file with front matter)
    line_end: int  # 1-based, inclusive
    text: str  # body below the heading (below the front matter), as written
    context: str = ""  # the file's leading lines before the first heading; "speakers — event" from front matter
    todos: tuple[Todo, ...] = ()
    tags: tuple[str, ...] = ()  # front matter tags, "#tag" lines, then inline #tags, without "#"
    urls: tuple[str, ...] = ()  # front matter URLs first, then the text's
    speakers: tuple[str, ...] = ()  # front matter `speaker` / `speakers`
    event: str | None = None  # front matter `event`, as written
    date: str | None = None  # front matter `date`, ISO "YYYY-MM-DD"
    links: tuple[str, ...] = ()  # [[wiki link]] targets as written: "[[A#Part|alias]]" -> "A"


@dataclass(frozen=True)
class Skipped:
    """An input file that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class ReadResult:
    """What reading one PATH given to `index` produced."""

    talks: tuple[TalkRecord, ...] = ()
    notes: tuple[Note, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    files: int = 0  # files looked at, read or skipped
    warnings: tuple[Skipped, ...] = ()  # files read despite a problem (malformed front matter), and what it was


@dataclass(frozen=True)
class Recording:
    """One recording of a talk: where and when it was given."""

    id: str
    event: str
    date: str | None
    url: str | None


@dataclass(frozen=True)
class Hit:
    """One search result: a talk or a note, with the passage that matched."""

    id: str
    kind: Kind
    title: str
    speakers: tuple[str, ...]
    event: str | None
    date: str | None
    url: str | None
    score: float
    snippet: str
    sources: tuple[str, ...] = ()
    recordings: tuple[Recording, ...] = ()
    file: str | None = None  # notes only
    line: int | None = None  # notes only
    todos: tuple[Todo, ...] = ()  # notes only
    explain: dict | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = self.kind.value
        if self.kind is Kind.TALK:
            for key in ("file", "line", "todos"):
                data.pop(key)
        if self.explain is None:
            data.pop("explain")
        return data


@dataclass(frozen=True)
class Talk:
    """One talk, merged from every source that describes it."""

    id: str
    title: str
    speakers: tuple[str, ...]
    event: str
    event_title: str
    date: str | None
    room: str | None
    language: str | None
    tags: tuple[str, ...]
    urls: tuple[str, ...]
    related_urls: tuple[str, ...]
    text: str
    license: str | None
    records: tuple[TalkRecord, ...]  # every source's own values
    group_id: str = ""  # the smallest id among recordings of the same talk at other events

    @property
    def url(self) -> str | None:
        return self.urls[0] if self.urls else None
