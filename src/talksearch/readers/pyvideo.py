"""Read the pyvideo.org data layout: `<event>/category.json` and `<event>/videos/<slug>.json`.

One video file is one talk, with id `<event>/<slug>`. Text fields keep only prose: licence
boilerplate moves to `license`, and the EuroPython 2023/2024 header
("[EuroPython 2024 — South Hall 2A on 2024-07-10]", "Title by Speaker", session URL)
becomes `room`, `date` and a URL.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from talksearch.errors import InputError
from talksearch.normalize import fold, storable
from talksearch.readers.files import check_regular, cut_license, read_text, unique
from talksearch.records import Format, Skipped, TalkRecord

TEXT_FIELDS = ("description", "summary", "abstract")  # pyvideo fields kept as `texts`
_PLACEHOLDER_SPEAKER = re.compile(
    r"(?:various(?: \w+)?|multiple speakers|several speakers|tb[ad]|unknown|n/?a|none"
    r"|anonymous|speakers?|[-?.]*)",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"\[(?P<event>[^\]\n]{1,200}?) [—–-] (?P<room>[^\]\n]{0,200}?) (?:on|at) (?P<date>\d{4}-\d{2}-\d{2})"
    r"[^\]\n]*\]?[ \t]*(?:\n|$)"
)
MAX_TITLE_LINE = 300  # a "Title by Speaker" line in a header is no longer than this
_BARE_URL = re.compile(r"[ \t]*(https?://\S+)[ \t]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_pyvideo_dir(path: Path) -> bool:
    """True for a pyvideo data folder, one event folder of it, or an event's `videos/`."""
    if (path / "category.json").is_file() and (path / "videos").is_dir():
        return True
    if path.name == "videos" and _has_json(path):
        return True
    return any(
        (event / "category.json").is_file() and _has_json(event / "videos")
        for event in _subdirs(path)
    )


def read_pyvideo_dir(path: Path) -> tuple[list[TalkRecord], list[Skipped], int]:
    """Every talk under a pyvideo folder: (talks, skipped files, files looked at)."""
    talks: list[TalkRecord] = []
    skipped: list[Skipped] = []
    files = 0
    for event_dir, video_dir in _event_dirs(path):
        event = event_dir.name
        event_title = read_event_title(event_dir)
        for name in sorted(os.listdir(video_dir)):
            if name.startswith(".") or not name.endswith(".json"):
                continue
            file = video_dir / name
            files += 1
            try:
                talks.append(read_video_file(file, event=event, event_title=event_title))
            except InputError as error:
                skipped.append(Skipped(error.path, error.reason))
    return talks, skipped, files


def read_video_file(
    path: Path, *, event: str | None = None, event_title: str | None = None
) -> TalkRecord:
    """One video file as a talk; the event defaults to the folder it sits in."""
    if event is None:
        event_dir = path.parent.parent if path.parent.name == "videos" else path.parent
        event = event_dir.name
        event_title = read_event_title(event_dir)
    talk = _load_json(read_text(path), str(path))
    return parse_talk(
        talk, talk_id=f"{event}/{path.stem}", event=event,
        event_title=event_title or event, source=str(path),
    )


def read_event_title(event_dir: Path) -> str:
    """The event title from `category.json`, or the folder name if it has none."""
    try:
        check_regular(event_dir / "category.json")
        data = json.loads((event_dir / "category.json").read_bytes())
    except (InputError, OSError, ValueError, RecursionError):
        return event_dir.name
    title = data.get("title") if isinstance(data, dict) else None
    return _clean(title) or event_dir.name


def parse_talk(
    data: Any, *, talk_id: str, event: str, event_title: str, source: str
) -> TalkRecord:
    """A decoded video JSON object as a `TalkRecord`; `InputError` if it isn't a talk."""
    title = _clean(data.get("title")) if isinstance(data, dict) else ""
    if not title:
        raise InputError(source, "not a pyvideo talk: no title")
    description, room, header_date, session_url = split_header(
        _clean(data.get("description")), title
    )
    texts, license_text = _collect_texts(description, data)
    recorded = data.get("recorded")
    date = header_date or (recorded[:10] if isinstance(recorded, str) and
                           _DATE.match(recorded) else None)
    language = _clean(data.get("language"))
    return TalkRecord(
        id=talk_id,
        title=title,
        speakers=clean_speakers(data.get("speakers")),
        event=event,
        event_title=event_title,
        source=source,
        format=Format.PYVIDEO,
        date=date,
        room=room,
        language=language or None,
        tags=unique(_clean(tag) for tag in _strings(data.get("tags"))),
        urls=unique([*_video_urls(data.get("videos")), session_url or ""]),
        related_urls=unique(_related_urls(data.get("related_urls"))),
        texts=texts,
        license=license_text,
    )


def split_header(text: str, title: str) -> tuple[str, str | None, str | None, str | None]:
    """Cut a leading "[Event — Room on date]" header off: (text, room, date, session URL)."""
    match = _HEADER.match(text)
    if match is None:
        return text, None, None, None
    lines = text[match.end() :].split("\n")
    start = _skip_blank(lines, 0)
    url = None
    if start < len(lines) and (bare := _BARE_URL.fullmatch(lines[start])):
        url, start = bare.group(1), start + 1
    elif start < len(lines):
        after = _skip_blank(lines, start + 1)
        bare = _BARE_URL.fullmatch(lines[after]) if after < len(lines) else None
        if bare and len(lines[start]) <= MAX_TITLE_LINE:
            url, start = bare.group(1), after + 1
        elif fold(lines[start]).startswith(f"{fold(title)} by "):
            start += 1
    rest = "\n".join(lines[start:]).strip()
    return rest, match.group("room").strip() or None, match.group("date"), url


def clean_speakers(value: Any) -> tuple[str, ...]:
    """Speaker names, with placeholders such as "Various speakers" or "TBD" dropped."""
    names = (" ".join(_clean(name).split()) for name in _strings(value))
    return unique(name for name in names if not _PLACEHOLDER_SPEAKER.fullmatch(name))


def _collect_texts(
    description: str, data: dict[str, Any]
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    texts: list[tuple[str, str]] = []
    licenses: list[str] = []
    seen: set[str] = set()
    for name in TEXT_FIELDS:
        raw = description if name == "description" else _clean(data.get(name))
        if not raw:
            continue
        text, license_text = cut_license(raw)
        if license_text:
            licenses.append(license_text)
        key = " ".join(text.split())  # a summary equal to the description up to spacing is dropped
        if key and key not in seen:
            seen.add(key)
            texts.append((name, text))
    return tuple(texts), licenses[0] if licenses else None


def _load_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"invalid JSON: {error.msg} (line {error.lineno} column {error.colno})"
        raise InputError(path, reason) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None


def _event_dirs(path: Path) -> list[tuple[Path, Path]]:
    if (path / "videos").is_dir():
        return [(path, path / "videos")]
    if path.name == "videos" and _has_json(path):
        return [(path.parent, path)]
    return [(event, event / "videos") for event in _subdirs(path) if (event / "videos").is_dir()]


def _subdirs(path: Path) -> list[Path]:
    with os.scandir(path) as entries:
        names = [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]
    return [path / name for name in sorted(names)]


def _has_json(path: Path) -> bool:
    if not path.is_dir():
        return False
    with os.scandir(path) as entries:
        return any(entry.name.endswith(".json") for entry in entries)


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _clean(value: Any) -> str:
    """A JSON string field as NFC text without carriage returns or lone surrogates; "" if absent."""
    if not isinstance(value, str):
        return ""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "")
    return storable(value).strip()


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _video_urls(value: Any) -> list[str]:
    items = value if isinstance(value, list) else []
    return [_clean(item.get("url")) for item in items if isinstance(item, dict)]


def _related_urls(value: Any) -> list[str]:
    items = value if isinstance(value, list) else []
    return [_clean(item.get("url") if isinstance(item, dict) else item) for item in items]
