"""What a heading or a line of a notes file says about a talk: a generic part of talk notes ("Outline", "Q&A"), a
speaker ("Speaker: Jane Doe", "Title — Jane Doe"), a video or talk page URL, an event ("PyCon US 2024"). The notes
reader decides from these whether a file is one talk's notes (`readers.notes`)."""

from __future__ import annotations

import re

from talksearch.normalize import fold

# a heading that names a part of one talk's notes (folded): "Outline", "Q&A", "Key takeaways:", "3. References"
_SECTION_NAME = re.compile(
    r"(?:\d+ )?(?:(?:my|key|main|open|final|other|related|useful|further|personal|quick|raw|general|some|more) )*"
    r"(?:outline|agenda|overview|summary|tl ?dr|abstract|description|notes?|questions?|q a|q and a|qa|take ?aways?|"
    r"key points|points|highlights|learnings?|lessons(?: learn(?:ed|t))?|references?|links?|resources?|sources|"
    r"reading(?: list)?|slides?|videos?|recording|code|examples?|demos?|speakers?|about the speakers?|bio|to ?dos?|"
    r"to do|action items?|next steps|follow ?ups?|thoughts|opinions?|ideas?|quotes?|tools?|libraries|context|"
    r"background|intro(?:duction)?|conclusions?|misc(?:ellaneous)?|details|problems?|solutions?|tips?|"
    r"pros (?:and )?cons|glossary|definitions|timestamps|chapters|rating|comments?|feedback|reflections?|"
    r"impressions?|reviews?|verdict|homework|exercises?)")
_NAME = r"[^\W\d_][\w.'’-]*(?:[ \t]+[^\W\d_][\w.'’-]*){1,3}"  # two to four words (capitals checked by _is_name)
_SPEAKER_LINE = re.compile(  # "Speaker: Jane Doe", "- **Presenter:** Jane Doe (Acme)", "by Jane Doe"
    r"[ \t]*(?:[-*+•][ \t]*)?[*_]{0,2}(?:speakers?|presenters?|presented by|talk by|given by|by)[*_]{0,2}"
    r"[ \t]*[:—–-]?[*_]{0,2}[ \t]*(?P<name>" + _NAME + r")[*_]{0,2}(?:[ \t]*[,(—–|].*)?", re.I)
_HEADING_SPEAKER = re.compile(r"\S.*?(?:[ \t](?:—|–|-|by)[ \t]+|[ \t]\()(?P<name>" + _NAME + r")\)?[ \t]*")
_TALK_URL = re.compile(r"youtube\.com|youtu\.be|vimeo\.com|pyvideo\.org|media\.ccc\.de|/(?:sessions?|talks?|schedule)/",
                       re.I)
_EVENT_TITLE = re.compile(  # folded: "PyCon US 2024", "EuroPython", "DjangoCon", "Python meetup", "Day 2"
    r"(?<!\w)(?:\w*pycon\w*|\w{3,}con|\w+conf|pydata\w*|euro\w*py\w*|meetups?|summit|conference|sprints?|"
    r"day \d+)(?!\w)")


def generic_section(heading: str) -> bool:
    """Whether a heading names a part of one talk's notes, not a talk: "Outline", "Q&A", "3. Key takeaways:"."""
    return _SECTION_NAME.fullmatch(fold(heading)) is not None


def heading_speaker(heading: str) -> bool:
    """Whether a heading ends with a speaker's name: "Title — Jane Doe", "Title by Jane Doe", "Title (Jane Doe)"."""
    found = _HEADING_SPEAKER.fullmatch(heading)
    return found is not None and _is_name(found.group("name"))


def speaker_line(line: str) -> bool:
    """Whether a line names a talk's speaker: "Speaker: Jane Doe", "- **Presenter:** Jane Doe (Acme)", "by Jane Doe"."""
    found = _SPEAKER_LINE.fullmatch(line)
    return found is not None and _is_name(found.group("name"))


def talk_url(url: str) -> bool:
    """Whether a URL is a talk's video or page: YouTube, Vimeo, pyvideo.org, media.ccc.de, a /session/ or /talk/."""
    return _TALK_URL.search(url) is not None


def event_title(title: str) -> bool:
    """Whether a title names an event rather than a talk: "PyCon US 2024", "DjangoCon", "Python meetup", "Day 2"."""
    return _EVENT_TITLE.search(fold(title)) is not None


def _is_name(words: str) -> bool:
    """"Jane Doe", "Guido van Rossum": a person's name as a line or heading gives it (first and last capitalised)."""
    parts = words.split()
    return parts[0][0].isupper() and parts[-1][0].isupper()
