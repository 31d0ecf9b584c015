"""Frozen records that cross module boundaries.

Readers produce `TalkRecord` (one talk as one source describes it) and `Note`
(one note with its `Todo` items). The linker merges talk records into `Talk`.
The build turns talks and notes into `Document`s, splits them into `Passages`
and extracts `Mention`s; the store writes them. Search returns `Hit`.
`asdict()` of any record is its JSON form (`jsonable` makes it, and any value DuckDB
gives, what JSON holds: the CLI's `--json` and the web API's). Closed sets are enums, checked by
`choice` with one message.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    import numpy as np

E = TypeVar("E", bound=enum.StrEnum)
PASSAGE_VERSION = 3  # bump when passage splitting changes, to re-split everything (3: no space added inside a word)
TRANSCRIPT_VERSION = 1  # bump when a transcript's windows change, to cut every transcript again

Progress = Callable[[str, int, int], None]  # (stage, done, total), called as a long run goes


class Format(enum.StrEnum):
    """Input formats talksearch can read."""

    PYVIDEO = "pyvideo"
    LISTING = "listing"
    NOTES = "notes"
    TRANSCRIPT = "transcript"


class Precision(enum.StrEnum):
    """How the encoder computes at index time: bf16 where the CPU has it natively (auto), or as told."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"


class Kind(enum.StrEnum):
    """What a search result is."""

    TALK = "talk"
    NOTE = "note"
    TRANSCRIPT = "transcript"  # a transcript linked to no talk: its own item, titled by its file name


class Within(enum.StrEnum):
    """Which text of the documents a query searches (`--in`)."""

    ABSTRACT = "abstract"  # talks by their catalog text
    TRANSCRIPT = "transcript"  # talks by what was said in them, and transcripts linked to no talk
    NOTE = "note"


class Mode(enum.StrEnum):
    """How a query is ranked: the blend of both rankers (shipped), their rank fusion, or one of them."""

    HYBRID = "hybrid"
    RRF = "rrf"
    DENSE = "dense"
    LEXICAL = "lexical"


class Sort(enum.StrEnum):
    """The order of a query's results."""

    RELEVANCE = "relevance"
    DATE = "date"  # the best matches, newest first


class RowFormat(enum.StrEnum):
    """How `sql` writes its rows."""

    TABLE = "table"  # a table, for reading
    CSV = "csv"  # RFC 4180, a header row first
    TSV = "tsv"  # tab-separated, a header row first; tab, newline and backslash in a value written \t, \n, \\
    JSONL = "jsonl"  # one JSON object a line


def choice(kind: type[E], value: object, name: str, *, optional: bool = False) -> E | None:
    """`value` as a member of `kind` (a member, or its value as text); UsageError naming `name` otherwise.

    >>> choice(Mode, "rrf", "--mode")
    <Mode.RRF: 'rrf'>
    >>> choice(Sort, "newest", "--sort")
    Traceback (most recent call last):
    talksearch.errors.UsageError: --sort must be relevance or date, not 'newest'
    """
    if value is None and optional:
        return None
    try:
        return kind(value)
    except ValueError:
        from .errors import UsageError

        values = [member.value for member in kind]
        listed = f"{', '.join(values[:-1])} or {values[-1]}"
        raise UsageError(f"{name} must be {listed}, not {value!r}") from None


def jsonable(value: Any) -> Any:
    """`value` as JSON can hold it: lists as arrays, dates and times ISO 8601, blobs as `\\x` and hex digits
    (PostgreSQL's bytea form), decimals as numbers, NaN and infinities as null; anything else as its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return jsonable(float(value))
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    return str(value)


FIRST_YEAR, LAST_YEAR = 1900, 2999  # what a year filter accepts: four digits, not a two-digit "24"


def years(since: object, until: object, names: tuple[str, str] = ("since", "until")) -> None:
    """UsageError unless `since` and `until` are each None or a year, and `since` is not after `until`; the
    message names them as `names` do (the API's keywords, or the CLI's flags).

    >>> years(20, None, ("--since", "--until"))
    Traceback (most recent call last):
    talksearch.errors.UsageError: --since must be a year such as 2024, not 20
    >>> years(2025, 2020)
    Traceback (most recent call last):
    talksearch.errors.UsageError: since 2025 is after until 2020: no talk could match
    """
    from .errors import UsageError

    for name, year in zip(names, (since, until), strict=True):
        if year is not None and (type(year) is not int or not FIRST_YEAR <= year <= LAST_YEAR):
            raise UsageError(f"{name} must be a year such as 2024, not {year!r}")
    if since is not None and until is not None and since > until:
        raise UsageError(f"{names[0]} {since} is after {names[1]} {until}: no talk could match")


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
    """One note: the part of a notes file under one talk heading, a whole file of one talk's notes, or a whole file
    with front matter."""

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
    sections: tuple[str, ...] = ()  # its section headings, in order, as its text holds them (one talk's file, vault)


class Cue(NamedTuple):
    """What is said from `start` to `end` (seconds from the start of the video): one subtitle cue, or a window of
    consecutive cues."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """One subtitle file (.srt, .vtt) of a talk: its cues as clean text with times, each word once."""

    id: str  # "transcript:<file relative to the indexed path>"
    title: str  # from the file name: "[video id]" and ".lang" dropped, "-" and "_" read as spaces
    file: str  # path relative to the indexed path
    path: str  # absolute path of the file
    cues: tuple[Cue, ...]
    video_id: str | None = None  # yt-dlp's "<Title> [<id>].<lang>.vtt"
    language: str | None = None  # as the file name gives it ("en", "es-419"), else None
    english: bool = True  # English as the file name says or as detected in its words
    event: str | None = None  # the folder it is in (above an `originals/` folder): an event slug, perhaps
    original: bool = False  # in an `originals/` folder: the machine's transcript beside a reviewed copy
    dropped: tuple[tuple[str, int], ...] = ()  # (what, cues) left out: ("repeated", 40), ("punctuation", 3)

    @property
    def duration(self) -> float:
        return self.cues[-1].end if self.cues else 0.0


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
    transcripts: tuple[Transcript, ...] = ()
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
class Moment:
    """Where in a talk's video its transcript says what matched: seconds, a link that starts the video there (None
    when the recording has no video URL), and the words said."""

    start: float
    end: float
    url: str | None
    text: str


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
    section: str | None = None  # notes only: the heading of the section the snippet is from
    talk: str | None = None  # notes only: the id of the talk the note is about (None: linked to none)
    moment: Moment | None = None  # talks with a transcript (and transcripts): the moment that matches best
    explain: dict | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = self.kind.value
        if self.kind is Kind.TALK:
            for key in ("file", "line", "todos", "talk"):
                data.pop(key)
        elif self.kind is Kind.NOTE:
            data.pop("moment")  # a talk's or a transcript's: null for a talk without a transcript
        else:
            for key in ("line", "todos", "talk"):
                data.pop(key)
        if self.section is None:
            data.pop("section")
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


FACETS = ("tool", "entity", "phrase")  # what a `Mention` names


class Mention(NamedTuple):
    """One facet of one document: how often the document names it."""

    facet: str  # "tool" | "entity" | "phrase"
    label: str  # TOOL, PHRASE, or spaCy's entity label
    key: str
    term: str  # as written
    n: int  # times the document names it


@dataclass(frozen=True)
class Document:
    """One talk or note as the encoder and the lexical index see it."""

    id: str
    kind: str  # "talk" | "note"
    title: str
    meta: str  # title, speakers and event: the one passage of a document without text
    text: str
    english: bool = True  # English or unknown: entities and phrases are extracted
    cues: tuple[Cue, ...] = ()  # a transcript's: its passages are windows of them, with their times

    @cached_property  # asked for by reuse, scratch look-ups and the metadata: the whole text hashed once
    def hash(self) -> str:
        if self.kind == Kind.TRANSCRIPT:  # its passages are its cues' windows, embedded without a title
            payload = json.dumps([PASSAGE_VERSION, TRANSCRIPT_VERSION, self.kind, self.english, self.cues])
        else:
            payload = json.dumps([PASSAGE_VERSION, self.kind, self.title, self.meta, self.text, self.english])
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Passages:
    """Every passage of an index by row: its document (documents.pos) and ordinal (0: the one passage of a document
    without text; 1, 2, ...: its text's); the texts are in the generation's stored passage texts."""

    owner: np.ndarray
    ordinal: np.ndarray
    start: np.ndarray | None = None  # seconds into the video where a transcript's passage starts; NaN for others
    end: np.ndarray | None = None
