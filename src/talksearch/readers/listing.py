"""Read a "List of videos" listing: a page of talks copied from a conference video site.

Each entry is a heading line, a paragraph opening with a bracket, and a "Watch" line:

    Event Sourcing in production — Borjan Tchakaloff

    [EuroPython 2024 — South Hall 2A on 2024-07-10] Event Sourcing in production by Borjan
    Tchakaloff https://ep2024.europython.eu/session/... abstract --- This work is licensed ...

    Watch

A talk's id is `<event-slug>/<title-slug>`, e.g. `europython-2024/event-sourcing-in-production`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from talksearch.errors import InputError
from talksearch.normalize import fold, slugify
from talksearch.readers.files import cut_license, unique
from talksearch.records import Format, TalkRecord

BRACKET = re.compile(
    r"^\[(?P<event>[^\]\n]{1,200}?) (?:—|–|-) (?P<room>[^\]\n]{1,200}?) on (?P<date>\d{4}-\d{2}-\d{2})\][ \t]*",
    re.MULTILINE,
)
# an entry's bracket once the file is a listing (detected by BRACKET): the room may be missing
_ENTRY = re.compile(r"^\[(?P<inside>[^\]\n]{1,400}?) on (?P<date>\d{4}-\d{2}-\d{2})\][ \t]*")
_ROOM_SEPARATORS = (" — ", " – ", " - ")  # "PyData Global - Online — Stream 1": the event keeps its hyphen
MAX_HEADING = 400  # a longer line above a bracket is prose, not a "Title — Speaker" heading
NOT_TITLES = frozenset({"watch", "list of videos"})  # fixed lines of the page, never a heading
_DASH = re.compile(r" (?:—|–|-) ")
_SPEAKER_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+|&\s*)?|\s+and\s+|\s*&\s*")
_BY_LINE = re.compile(r"(?P<title>[^\n]+?) by (?P<speakers>[^\n]{1,300}?)(?=\s+https?://)")
_LEADING_URL = re.compile(r"\s*(https?://\S+)")


@dataclass(frozen=True)
class _Entry:
    heading: str  # the "Title — Speaker" line above the bracket, or ""
    bracket: re.Match[str]
    paragraph: str  # what follows the bracket, to the next entry

    @property
    def event_and_room(self) -> tuple[str, str | None]:
        """The bracket's event and room, split at its last em dash (else en dash, else hyphen); no dash, no room."""
        inside = self.bracket.group("inside").strip()
        for separator in _ROOM_SEPARATORS:
            if separator in inside:
                event, room = inside.rsplit(separator, 1)
                return event.strip(), room.strip() or None
        return inside, None


def looks_like_listing(text: str) -> bool:
    """True if some line opens with an "[Event — Room on YYYY-MM-DD]" bracket."""
    return BRACKET.search(text) is not None


def parse_listing(text: str, *, source: str) -> list[TalkRecord]:
    """The talks of a listing's text; `InputError` "no talks found" if it has none."""
    talks: list[TalkRecord] = []
    ids: dict[str, int] = {}  # every id taken -> the last suffix taken after it, so repeats stay linear
    for entry in _split_entries(text.split("\n")):
        talk = _parse_entry(entry, source)
        if talk is None:
            continue
        count = ids.get(talk.id, 1)
        talk_id = f"{talk.id}-{count}" if count > 1 else talk.id
        while talk_id in ids:
            count += 1
            talk_id = f"{talk.id}-{count}"
        ids[talk.id] = count
        ids.setdefault(talk_id, 1)
        talks.append(replace(talk, id=talk_id))
    if not talks:
        raise InputError(source, "no talks found")
    return talks


def split_speakers(text: str) -> tuple[str, ...]:
    """Names from "A, B and C" / "A & B" as a listing writes them."""
    return unique(name.strip() for name in _SPEAKER_SEPARATOR.split(text.strip()))


def _split_entries(lines: list[str]) -> list[_Entry]:
    starts = [(i, m) for i, line in enumerate(lines) if (m := _ENTRY.match(line))]
    headings = [_heading_index(lines, i, starts[k - 1][0] if k else -1)
                for k, (i, _) in enumerate(starts)]
    entries = []
    for k, (i, match) in enumerate(starts):
        end = len(lines)
        if k + 1 < len(starts):
            following = headings[k + 1]
            end = following if following is not None else starts[k + 1][0]
        body = [lines[i][match.end():], *lines[i + 1 : end]]
        while body and body[-1].strip().casefold() in ("", "watch"):
            body.pop()
        heading = lines[headings[k]].strip() if headings[k] is not None else ""
        entries.append(_Entry(heading, match, "\n".join(body).strip()))
    return entries


def _heading_index(lines: list[str], bracket: int, previous: int) -> int | None:
    """The "Title — Speaker" line just above a bracket, if there is one."""
    index = bracket - 1
    while index > previous and not lines[index].strip():
        index -= 1
    line = lines[index].strip() if index > previous else ""
    if not line or line.casefold() in NOT_TITLES or len(line) > MAX_HEADING:
        return None
    return index if _DASH.search(line) else None


def _parse_entry(entry: _Entry, source: str) -> TalkRecord | None:
    title, speakers, rest = _title_and_speakers(entry.heading, entry.paragraph)
    if not title:
        return None
    url = None
    if match := _LEADING_URL.match(rest):
        url, rest = match.group(1), rest[match.end() :]
    abstract, license_text = cut_license(rest.strip())
    event_title, room = entry.event_and_room
    event = slugify(event_title)
    return TalkRecord(
        id=f"{event}/{slugify(title)}",
        title=title,
        speakers=split_speakers(speakers),
        event=event,
        event_title=event_title,
        source=source,
        format=Format.LISTING,
        date=entry.bracket.group("date"),
        room=room,
        urls=(url,) if url else (),
        texts=(("abstract", abstract),) if abstract else (),
        license=license_text,
    )


def _title_and_speakers(heading: str, paragraph: str) -> tuple[str, str, str]:
    """(title, speakers, rest of the paragraph after its "Title by Speakers")."""
    splits = [
        (heading[: dash.start()].strip(), heading[dash.end() :].strip())
        for dash in _DASH.finditer(heading)
    ]
    for title, speakers in splits:
        prefix = f"{title} by {speakers}"
        if paragraph.startswith(prefix):
            return title, speakers, paragraph[len(prefix) :]
    by_line = _BY_LINE.match(paragraph)
    if splits:  # the paragraph words it differently: trust the heading's last dash
        title, speakers = splits[-1]
        if by_line and fold(by_line.group("title")) == fold(title):
            paragraph = paragraph[by_line.end() :]
        return title, speakers, paragraph
    if by_line:
        return by_line.group("title").strip(), by_line.group("speakers"), paragraph[by_line.end() :]
    return "", "", paragraph

