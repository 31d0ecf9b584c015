"""Transcripts and the talks they belong to: each linked to its talk, one kept of a talk's several, and each kept one
as the document whose windows of cues are its passages.

    link_transcripts(transcripts, talks)   transcript id -> talk id
    choose(transcripts, links)             the transcripts indexed, and for each the files of the same talk it stands for

A transcript links to a talk by its video id (yt-dlp's `<Title> [<id>].<lang>.vtt`; a catalog talk's video URLs give
its ids), else by title: the file name's (`-` and `_` read as spaces) equal to the title of a talk of the event its
folder names (`<event>/[originals/]<Title>.srt`), else of exactly one talk in the collection. One that links to
nothing stays searchable on its own, titled by its file name; a later run links it once its talk is indexed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .normalize import fold, slugify, url_key
from .records import Document, Kind, Talk, Transcript

VIDEO_HOSTS = ("youtube:", "vimeo.com/", "player.vimeo.com/")  # url_key prefixes of a page that plays the video


def link_transcripts(transcripts: Iterable[Transcript], talks: list[Talk]) -> dict[str, str]:
    """Map transcript id to the talk it transcribes, where its video id or its title names one talk."""
    by_video: dict[str, str] = {}
    by_title: dict[str, list[Talk]] = defaultdict(list)
    for talk in talks:
        for url in talk.urls:
            by_video.setdefault(url_key(url), talk.id)
        by_title[fold(talk.title)].append(talk)
    links = {}
    for transcript in transcripts:
        if transcript.video_id and (talk_id := by_video.get(f"youtube:{transcript.video_id}")
                                    or by_video.get(f"vimeo.com/{transcript.video_id}")):
            links[transcript.id] = talk_id
            continue
        titled = by_title.get(fold(transcript.title), [])
        if transcript.event:
            event = slugify(transcript.event)
            titled = [t for t in titled if event in {t.event, *(r.event for r in t.records)}] or titled
        if len(titled) == 1:
            links[transcript.id] = titled[0].id
    return links


def choose(transcripts: Iterable[Transcript], links: dict[str, str]) -> tuple[list[Transcript], dict[str, list[str]]]:
    """The transcripts to index, by id: of several of one talk (a reviewed copy beside the machine's original in
    `originals/`, one per language, the same file twice), the reviewed English one, else the first by path; of
    unlinked ones, one per content. And for each kept transcript, the paths of every file it stands for, its own
    first."""
    groups: dict[tuple, list[Transcript]] = defaultdict(list)
    for transcript in transcripts:
        talk = links.get(transcript.id)
        groups[("talk", talk) if talk else ("cues", transcript.cues)].append(transcript)
    kept, files = [], {}
    for group in groups.values():
        group.sort(key=lambda t: (not t.english, t.original, t.path))
        kept.append(group[0])
        files[group[0].id] = [t.path for t in group]
    return sorted(kept, key=lambda t: t.id), files


def transcript_document(transcript: Transcript, talk: Talk | None) -> Document:
    """A transcript as a document: its talk's title (else its file's), its words, its cues."""
    title = talk.title if talk else transcript.title
    text = " ".join(cue.text for cue in transcript.cues)
    return Document(transcript.id, Kind.TRANSCRIPT.value, title, title, text, transcript.english, transcript.cues)


def video_url(transcript: Transcript, talk: Talk | None) -> str | None:
    """Where the transcript's video plays: its own video id's YouTube page, else its talk's first video URL (YouTube,
    Vimeo), else the talk's first URL."""
    if transcript.video_id:
        return f"https://www.youtube.com/watch?v={transcript.video_id}"
    if talk is None:
        return None
    return next((u for u in talk.urls if url_key(u).startswith(VIDEO_HOSTS)), talk.url)
