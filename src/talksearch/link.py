"""One talk from many sources; recordings of one talk grouped; notes matched to talks."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from .normalize import fold, slugify
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
    its heading contains, else to the one talk by a speaker its heading names
    (several talks by that speaker: the one whose title shares most words with the note).

    Front matter sharpens this: of the talks its title names, those by its `speakers` win;
    with no title match, its speakers' talks are the candidates (however many words their
    names have). Either way, candidates at its `event` (then on its `date`) win, where any are.
    """
    by_url = {url: t.id for t in talks for url in t.urls}
    by_title: dict[str, list[Talk]] = defaultdict(list)
    by_speaker: dict[str, list[Talk]] = defaultdict(list)
    for talk in talks:
        if len(fold(talk.title).split()) >= MIN_TITLE_WORDS:
            by_title[fold(talk.title)].append(talk)
        for speaker in talk.speakers:
            by_speaker[fold(speaker)].append(talk)
    links = {}
    for note in notes:
        talk_id = _link_one(note, by_url, by_title, by_speaker)
        if talk_id:
            links[note.id] = talk_id
    return links


def _link_one(note: Note, by_url, by_title, by_speaker) -> str | None:
    for url in note.urls:
        if url in by_url:
            return by_url[url]
    named = {t.id: t for speaker in note.speakers for t in by_speaker.get(fold(speaker), ())}
    heading = f" {fold(note.title)} "
    titled = [t for title, ts in by_title.items() if f" {title} " in heading for t in ts]
    titled = _narrow(note, [t for t in titled if t.id in named] or titled)
    if len({t.group_id for t in titled}) == 1:
        return min(t.id for t in titled)
    spoken = list(named.values()) or [
        t for name, ts in by_speaker.items() if len(name.split()) >= 2 and f" {name} " in heading for t in ts
    ]
    spoken = _narrow(note, spoken)
    if not spoken:
        return None
    words = set(fold(f"{note.title} {note.text}").split())
    best = max(spoken, key=lambda t: (len(words & set(fold(t.title).split())), t.date or "", t.id))
    return best.id


def _narrow(note: Note, talks: list[Talk]) -> list[Talk]:
    """The talks at the note's event, then on its date, where any are; else the talks as given."""
    if note.event:
        event = slugify(note.event)
        talks = [t for t in talks if any(event in (s.event, slugify(s.event_title)) for s in (t, *t.records))] or talks
    if note.date:
        talks = [t for t in talks if any(s.date == note.date for s in (t, *t.records))] or talks
    return talks
