"""A query as typed, and the filters: parsed once, then turned into the SQL that lists what they let through.

`filter_plan` builds that SQL (`FilterPlan`: one statement for talks, one for notes, with bound parameters);
`Searcher.allowed` runs it. Kept apart so the plan can be shown (`FilterPlan.sql`) without running it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..normalize import fold, key, strip_accents
from ..records import Kind, Within, choice, years

if TYPE_CHECKING:
    import numpy as np

_ISO3 = {"en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "ru": "rus", "ja": "jpn",
         "ko": "kor", "zh": "zho", "pl": "pol", "nl": "nld", "cs": "ces", "uk": "ukr"}


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking, so `k` results come back whenever `k` match."""

    event: str | None = None
    speaker: str | None = None
    since: int | None = None
    until: int | None = None
    kind: Kind | None = None  # only talks, or only notes
    lang: str | None = None
    phrases: tuple[str, ...] = ()  # must appear, case and accents folded ("exact phrase" in a query)
    excluded: tuple[str, ...] = ()  # must not appear (-word in a query)
    mentions: tuple[str, ...] = ()  # must name each of these tools, entities or phrases (`facets.py`)
    within: Within | None = None  # search only abstracts, transcripts or notes (--in)

    def __post_init__(self) -> None:
        for name in ("phrases", "excluded", "mentions"):  # one term given as a string is that term, not its letters
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        object.__setattr__(self, "kind", choice(Kind, self.kind, "kind", optional=True))
        object.__setattr__(self, "within", choice(Within, self.within, "within", optional=True))
        years(self.since, self.until)
        for name in ("event", "speaker", "lang"):
            if (value := getattr(self, name)) is not None and not isinstance(value, str):
                raise UsageError(f"{name} must be a string, not {value!r}")
        for name in ("phrases", "excluded", "mentions"):
            if bad := [v for v in getattr(self, name) if not isinstance(v, str)]:
                raise UsageError(f"{name} must be strings, not {bad[0]!r}")

    def __bool__(self) -> bool:
        return any(v not in (None, ()) for v in self.__dict__.values())

    @property
    def narrows(self) -> bool:
        """True when a filter asks for something of a talk or note (an event, a speaker, a phrase, ...): what a
        transcript linked to no talk has no answer to."""
        return any(v not in (None, ()) for k, v in self.__dict__.items() if k not in ("kind", "within"))


@dataclass(frozen=True)
class Query:
    """A query as typed: the words to rank by, and the phrases and words that filter."""

    text: str  # what the rankers see: everything but the -words, quotes removed
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()


_SYMBOL = re.compile(r"[+#]")  # what folding drops but a name needs: C++, C#, F#, Notepad++
_RUNS = re.compile(r"[^\W_]+|[+#]+")  # letters and digits, or + and #
# what a document's `folded` text holds (`lexical.document_text`), as written: a talk's title, speakers, event and
# text; a note's heading, its linked talk's title, its context and text
_TALK_TEXT = "strip_accents(concat_ws(' ', t.title, array_to_string(t.speakers, ' '), t.event_title, t.text))"
_NOTE_TEXT = "strip_accents(concat_ws(' ', n.title, t.title, n.context, n.text))"
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')  # -?"a phrase", or a word


def parse_query(raw: str) -> Query:
    """`"exact phrase"` must appear, `-word` and `-"a phrase"` must not; the rest (and the phrases' words) rank.

    >>> parse_query('"event sourcing" -django production -"dry run"')
    Query(text='event sourcing production', phrases=('event sourcing',), excluded=('django', 'dry run'))
    >>> parse_query('"rm -rf" -C#')
    Query(text='rm -rf', phrases=('rm -rf',), excluded=('C#',))
    """
    words, phrases, excluded = [], [], []
    for minus, quoted, word in _QUERY_TOKEN.findall(raw):
        if word:  # a word, or what is left of an unclosed quote
            word = word.replace('"', "")
            if word.startswith("-") and fold(word[1:]):
                excluded.append(word[1:])
            else:
                words.append(word)
        elif fold(quoted):
            (excluded if minus else phrases).append(quoted.strip())
            if not minus:
                words.append(quoted.strip())
    return Query(" ".join(words), tuple(phrases), tuple(excluded))


def as_written(term: str) -> str:
    r"""An RE2 pattern (for DuckDB's `regexp_matches`, case ignored) for `term` as folding matches it, but with its
    `+` and `#`: its runs of letters and digits and of `+` and `#` in order, as close as in `term`, what separates
    them there (spaces, other punctuation) optional; whole words at its ends.

    >>> print(as_written("C++"), as_written("Café's C#"))
    (?:^|[^\pL\pN_])C\+\+ (?:^|[^\pL\pN_])Cafe[^\pL\pN+#]*s[^\pL\pN+#]*C\#
    """
    term = strip_accents(term)
    runs = list(_RUNS.finditer(term))
    pattern = "".join(("" if not i or runs[i - 1].end() == run.start() else r"[^\pL\pN+#]*")
                      + re.sub(r"([+#])", r"\\\1", run.group()) for i, run in enumerate(runs))
    edge = r"[^\pL\pN_]"
    return ((f"(?:^|{edge})" if runs[0].group()[0].isalnum() else "") + pattern
            + (f"(?:{edge}|$)" if runs[-1].group()[-1].isalnum() else ""))


@dataclass
class _Where:
    """One select's conditions, each with its bound parameters."""

    select: str
    clauses: list[str] = field(default_factory=list)
    args: list = field(default_factory=list)

    def add(self, clause: str, *args) -> None:
        self.clauses.append(clause)
        self.args += args

    @property
    def sql(self) -> str:
        return " and ".join([self.select, *self.clauses]) if self.clauses else self.select


@dataclass(frozen=True)
class FilterPlan:
    """The SQL that lists the ids of the talks and of the notes some filters let through (None: that kind is left
    out), with the parameters bound to each."""

    talks: tuple[str, list] | None
    notes: tuple[str, list] | None

    @property
    def sql(self) -> str:
        """Both statements, for reading (--explain, tests)."""
        return "\nunion all\n".join(sql for sql, _ in filter(None, (self.talks, self.notes)))


def filter_plan(filters: Filters, containing: Callable[[str], np.ndarray | None]) -> FilterPlan | None:
    """The SQL for `filters` (None: no filter, everything passes). `containing(phrase)` names the documents
    (documents.pos) holding all a phrase's terms, or None: only those are scanned for it (2-3x faster)."""
    if not filters.narrows and filters.kind is None:
        return None
    for name in ("event", "speaker"):
        value = getattr(filters, name)
        if value is not None and not fold(value):
            raise UsageError(f"--{name} {value!r} has no letters or digits to match")
    talks = _Where("select id from talks t where true")
    notes = _Where("select n.id from notes n left join talks t on t.id = n.talk_id where true")
    text = _Where("select d.id from documents d where true")  # on the document's folded text: talks and notes alike
    if filters.event:
        talks.add("t.event_folded like ?", f"%{fold(filters.event)}%")
        notes.add("(t.event_folded like ? or n.context_folded like ?)", *[f"%{fold(filters.event)}%"] * 2)
    if filters.speaker:
        spoken = "exists (select 1 from speakers s where s.talk_id = t.id and s.folded like ?)"
        talks.add(spoken, f"%{fold(filters.speaker)}%")
        # the talk's speakers, or the front matter's
        notes.add(f"({spoken} or n.speakers_folded like ?)", *[f"%{fold(filters.speaker)}%"] * 2)
    # the date a note shows: its talk's, else its front matter's (`store.fields`); undated notes are left out
    note_year = "try_cast(substr(coalesce(t.date, n.date), 1, 4) as integer)"
    for year, compare in ((filters.since, ">="), (filters.until, "<=")):
        if year is not None:
            talks.add(f"t.year {compare} ?", year)
            notes.add(f"{note_year} {compare} ?", year)
    if filters.lang:
        code = _ISO3.get(filters.lang.lower(), filters.lang.lower())
        talks.add("t.language = ?", code)
        if code != "eng":
            notes.add("false")
    for phrase in filters.phrases:
        rows = containing(phrase)
        if rows is not None:
            text.add("d.pos in (select unnest(?::BIGINT[]))", rows.tolist())
        text.add("d.folded like ?", f"% {fold(phrase)} %")
    written = [("", phrase) for phrase in filters.phrases if _SYMBOL.search(phrase)]
    for word in filters.excluded:
        if _SYMBOL.search(word):  # "C++" and "C#" as written, not as the "c" folding leaves
            written.append(("not ", word))
        else:
            text.add("d.folded not like ?", f"% {fold(word)} %")
    for negate, term in written:
        talks.add(f"{negate}regexp_matches({_TALK_TEXT}, ?, 'i')", as_written(term))
        notes.add(f"{negate}regexp_matches({_NOTE_TEXT}, ?, 'i')", as_written(term))
    for term in filters.mentions:
        if not key(term):
            raise UsageError(f"--mentions {term!r} has no letters or digits to match")
        text.add("d.id in (select doc_id from mentions where key = ?)", key(term))
    if text.clauses:
        talks.add(f"t.id in ({text.sql})", *text.args)
        notes.add(f"n.id in ({text.sql})", *text.args)
    return FilterPlan(talks=(talks.sql, talks.args) if filters.kind in (None, Kind.TALK) else None,
                      notes=(notes.sql, notes.args) if filters.kind in (None, Kind.NOTE) else None)
