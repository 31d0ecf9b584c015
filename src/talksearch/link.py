"""One talk from many sources; recordings of one talk grouped; notes matched to talks."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath

from .normalize import fold, slugify, url_key
from .records import Format, Note, Talk, TalkRecord

# titles that name a session, not a talk: recordings with these titles are never grouped
_SESSION_LABEL = re.compile(
    r"^(lightning talks?|keynote|opening|closing|welcome|panel|sprints?|plenary|announcements?|q ?a|"
    r"break|lunch|day \d|introduction|intro)\b",
)
MIN_TITLE_WORDS = 2  # a note heading must share a title of at least this many words to link by title


def talk_key(record: TalkRecord) -> tuple[str, tuple[str, ...], str]:
    """Records with equal keys describe the same talk: title, speakers and event, folded."""
    event = slugify(record.event_title or record.event)
    return fold(record.title), tuple(sorted(fold(s) for s in record.speakers)), event


def merge_talks(records: Iterable[TalkRecord]) -> list[Talk]:
    """Merge records of the same talk from different formats; catalog ids win over listing ids.

    Records of one format are never merged with each other (two files of one catalog are two
    talks, even with one title), nor are records without speakers or titled like a session;
    the same record read from two sources counts once.
    """
    by_key: dict[tuple, list[list[TalkRecord]]] = defaultdict(list)
    talks_of: list[list[TalkRecord]] = []
    # the same file under two sources (same format, same id) is one record: the first source's
    records = {(r.format, r.id): r for r in reversed(list(records))}.values()
    for record in sorted(records, key=lambda r: (r.format.value, r.id)):
        key = talk_key(record)
        if not key[1] or _SESSION_LABEL.match(key[0]):
            talks_of.append([record])
            continue
        home = next((talk for talk in by_key[key] if all(r.format is not record.format for r in talk)), None)
        if home is None:
            home = []
            by_key[key].append(home)
            talks_of.append(home)
        home.append(record)
    talks = [_merge(group) for group in talks_of]
    _assign_groups(talks)
    return sorted(talks, key=lambda t: t.id)


def _merge(records: list[TalkRecord]) -> Talk:
    # catalogs first, then the more specific (a room), then the longer text
    records = sorted(records, key=lambda r: (r.format is not Format.PYVIDEO, r.room is None, -len(r.text), r.id))
    first = records[0]
    specific = next((r for r in records if r.room), first)
    return Talk(
        id=first.id,
        title=first.title,
        speakers=first.speakers,
        event=first.event,
        event_title=first.event_title,
        date=specific.date or next((r.date for r in records if r.date), None),
        room=specific.room,
        language=next((r.language for r in records if r.language), None),
        tags=_union(r.tags for r in records),
        urls=_union(r.urls for r in records),
        related_urls=_union(r.related_urls for r in records),
        text=max((r.text for r in records), key=len),
        license=next((r.license for r in records if r.license), None),
        records=tuple(records),
    )


def _union(seqs: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for seq in seqs for item in seq))


def _assign_groups(talks: list[Talk]) -> None:
    """Recordings of one talk at several events share group_id (their smallest id)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, talk in enumerate(talks):
        title = fold(talk.title)
        if talk.speakers and title and not _SESSION_LABEL.match(title):
            groups[(title, tuple(sorted(fold(s) for s in talk.speakers)))].append(i)
    for talk in talks:
        object.__setattr__(talk, "group_id", talk.id)
    for members in groups.values():
        group_id = min(talks[i].id for i in members)
        for i in members:
            object.__setattr__(talks[i], "group_id", group_id)


def link_notes(notes: Iterable[Note], talks: list[Talk]) -> dict[str, str]:
    """Map note id to the talk it is about, where the note names it unambiguously.

    A note links to a talk whose URL it contains, else to a talk whose full title
    its heading contains, else to a talk by a speaker its heading names (front matter:
    its `speakers`, however many words their names have), but only where something besides
    the name agrees, and nothing contradicts (see `_by_speaker`).

    Front matter sharpens the title match: of the talks its title names, those by its
    `speakers` win, then those at its `event` (then on its `date`), where any are.
    """
    by_url = {url_key(url): t.id for t in talks for url in t.urls}
    by_title: dict[str, list[Talk]] = defaultdict(list)
    by_speaker: dict[str, list[Talk]] = defaultdict(list)
    for talk in talks:
        if len(fold(talk.title).split()) >= MIN_TITLE_WORDS:
            by_title[fold(talk.title)].append(talk)
        for speaker in talk.speakers:
            by_speaker[fold(speaker)].append(talk)
    events = _event_pattern(talks)
    links = {}
    for note in notes:
        talk_id = _link_one(note, by_url, by_title, by_speaker, events)
        if talk_id:
            links[note.id] = talk_id
    return links


def _link_one(note: Note, by_url, by_title, by_speaker, events: re.Pattern | None) -> str | None:
    for url in note.urls:
        if (key := url_key(url)) in by_url:
            return by_url[key]
    named = {t.id: t for speaker in note.speakers for t in by_speaker.get(fold(speaker), ())}
    heading = f" {fold(note.title)} "
    titled = [t for title, ts in by_title.items() if f" {title} " in heading for t in ts]
    titled = _narrow(note, [t for t in titled if t.id in named] or titled)
    if len({t.group_id for t in titled}) == 1:
        return min(t.id for t in titled)
    spoken = list(named.values()) or list({
        t.id: t for name, ts in by_speaker.items() if len(name.split()) >= 2 and f" {name} " in heading for t in ts
    }.values())
    return _by_speaker(note, spoken, events)


def _by_speaker(note: Note, spoken: list[Talk], events: re.Pattern | None) -> str | None:
    """The talk by the note's speaker that something besides the name points to, else None.

    A talk is out when the note contradicts it: the note names an event the talk was not given
    at (the name of an event in the collection, in its front matter `event`, file context,
    heading, tags or folder; or a conference-like word such as "pyconweb" or "flaskcon" in any
    of these but the heading), names only years the talk was not given in, or its front matter
    `event` is not the talk's. Of the rest, a talk links when
    the note's front matter `event`, its context, heading, tags or folder name the talk's event,
    or its `date` is the talk's, or its heading and text hold at least half (and at least two) of
    the meaningful words of the talk's title (a one-word title: that word in the heading); the
    most supported one wins, and a tie between different talks links nothing. With no such
    support, a speaker with one talk (its recordings at several events count as one) links to it.
    """
    if not spoken:
        return None
    folders = PurePosixPath(note.file.replace("\\", "/")).parent.parts
    parts = [fold(part) for part in (note.event or "", note.context, note.title, *note.tags, *folders)]
    where = " ".join(parts)
    mentioned = set(events.findall(f" {where} ")) if events else set()
    # conference-like words in what the note says about itself (not its heading, which names people)
    where_meta = " ".join(parts[:2] + parts[3:])
    mentioned |= set(_EVENTISH.findall(where_meta))
    years = set(_YEAR.findall(where)) | ({note.date[:4]} if note.date else set())
    words = set(fold(f"{note.title} {note.text}").split())
    heading_words = set(fold(note.title).split())

    scored = []
    for talk in spoken:
        names, series, talk_years = _event_names(talk)
        if any(not any(f" {m} " in f" {n} " for n in names) for m in mentioned):
            continue  # the note names another event
        if years and not years & talk_years:
            continue  # the note names other years
        at_event = note.event is not None and _at_event(note.event, talk, series, talk_years)
        if note.event is not None and not at_event:
            continue  # front matter names another event
        at_event = at_event or any(f" {s} " in f" {where} " for s in series)
        on_date = note.date is not None and any(s.date == note.date for s in (talk, *talk.records))
        content = _title_words(talk)
        shared = content & words
        titled = content <= heading_words if len(content) == 1 else len(shared) >= 2 and 2 * len(shared) >= len(content)
        scored.append(((at_event + on_date + titled, len(shared)), talk))
    if not scored:
        return None
    best = max(key for key, _ in scored)
    if best[0]:
        top = [t for key, t in scored if key == best]
        return min(t.id for t in top) if len({t.group_id for t in top}) == 1 else None
    if len({t.group_id for t in spoken}) == 1:  # the speaker's one talk, and nothing against it
        return min(t.id for _, t in scored)
    return None


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# words that name a conference even when the collection holds none of its talks: pyconweb, flaskcon, djangocon,
# pydata, europython, euroscipy, ploneconf
_EVENTISH = re.compile(r"(?<!\w)(?:\w*pycon\w*|\w{3,}con|\w+conf|pydata\w*|euro\w*py\w*)(?!\w)")
_STOP = frozenset(
    "a an and are as at be but by can do does for from how i in into is it its make not of on or our so than that "
    "the their this to too use using vs we what when where which who why will with without you your".split()
)


def _event_pattern(talks: list[Talk]) -> re.Pattern | None:
    """Matches, in folded text, the name of any event in the collection, without its year (longest first)."""
    events = {(s.event, s.event_title) for talk in talks for s in (talk, *talk.records)}
    folded = {fold(name) for pair in events for name in pair}
    series = {" ".join(_YEAR.sub(" ", name).split()) for name in folded} - {""}
    if not series:
        return None
    alternatives = "|".join(re.escape(s) for s in sorted(series, key=lambda s: (-len(s), s)))
    return re.compile(rf"(?<=\s)(?:{alternatives})(?=\s)")


def _event_names(talk: Talk) -> tuple[set[str], set[str], set[str]]:
    """The talk's event names (folded, with and without years), the names without years, and its years."""
    full = {n for s in (talk, *talk.records) for n in (fold(s.event_title), fold(s.event)) if n}
    series = {" ".join(_YEAR.sub(" ", n).split()) for n in full} - {""}
    years = {y for n in full for y in _YEAR.findall(n)} | {s.date[:4] for s in (talk, *talk.records) if s.date}
    return full | series, series, years


def _at_event(event: str, talk: Talk, series: set[str], talk_years: set[str]) -> bool:
    """Whether a front matter `event` names the talk's event: its slug, or its name with no other year."""
    slug = slugify(event)
    if any(slug in (s.event, slugify(s.event_title)) for s in (talk, *talk.records)):
        return True
    folded = f" {fold(event)} "
    years = set(_YEAR.findall(folded))
    return any(f" {s} " in folded for s in series) and (not years or bool(years & talk_years))


def _title_words(talk: Talk) -> set[str]:
    """The words of the talk's title that say what it is about: no stop words, numbers or speaker names."""
    names = {w for speaker in talk.speakers for w in fold(speaker).split()}
    return {w for w in fold(talk.title).split() if len(w) > 2 and not w.isdigit() and w not in _STOP and w not in names}


def _narrow(note: Note, talks: list[Talk]) -> list[Talk]:
    """The talks at the note's event, then on its date, where any are; else the talks as given."""
    if note.event:
        event = slugify(note.event)
        talks = [t for t in talks if any(event in (s.event, slugify(s.event_title)) for s in (t, *t.records))] or talks
    if note.date:
        talks = [t for t in talks if any(s.date == note.date for s in (t, *t.records))] or talks
    return talks
