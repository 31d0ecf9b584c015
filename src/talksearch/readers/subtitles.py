"""Read a subtitle file (SubRip `.srt`, WebVTT `.vtt`) into a `Transcript`: its cues as clean text with times.

The file is decoded as every text file is (`files.read_text`) and parsed by webvtt-py, as WebVTT when it opens with
"WEBVTT", else as SubRip, whatever its suffix. Cue text loses its tags (`<i>`, `<c>`, `<v Speaker>`, YouTube's word
timings `<00:00:01.500>`, SubRip's `{\\an8}`), has its HTML entities unescaped and its whitespace collapsed.
Rolling captions (YouTube's auto-generated ones, saved by yt-dlp) are read with each word once (`cues.unroll`);
cues without words and Whisper's loops are left out and counted (`cues.drop_noise`).

What the file name says (see `name_parts`): yt-dlp's `<Title> [<video id>].<lang>.vtt` gives the video id and the
language; the rest is the title. The folder says the rest (see `read_subtitles`). A file that is not subtitles
raises `InputError` with one of these reasons:

    "not a subtitle file: an HTML page"               a web page saved in place of the subtitles
    "not a subtitle file: no cue timings found"       no "-->" line at all
    "not a SubRip file: it must open with a cue number and its timing line"
    "broken cue timing on line N: '<the line>'"       a timing line that cannot be read
    "broken cue timing: a cue ends before it starts (<start> --> <end>)"
    "no cues found"                                   a WebVTT header (and notes) only
    "no cues with text"                               every cue is empty, or (": all N are ...") only punctuation
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from talksearch.cues import drop_noise, unroll
from talksearch.errors import InputError
from talksearch.readers.files import read_text
from talksearch.records import Cue, Transcript

if TYPE_CHECKING:
    from webvtt import Caption

SUBTITLE_SUFFIXES = frozenset({".srt", ".vtt"})
ORIGINALS = "originals"  # a folder of the machine's transcripts, beside reviewed copies of some of them
MIN_WORDS = 20  # fewer words than this: the language is not guessed (English, as for any unknown text)
ENGLISH_SHARE = 0.15  # share of English function words from which a text is English (dev set: English talks
#                       0.36 and up, Spanish and Whisper's Welsh 0.04 and below, an English tutorial half in
#                       Whisper's Indonesian 0.24)
_FUNCTION_WORDS = frozenset(
    "the of and to in is that it for you this with we be are on was have as not so if what can do can't don't "
    "it's i'm that's there they just like but or at from by an all about how which will would".split()
)  # common English words that Spanish, Portuguese, French, German and Welsh do not spell the same
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_INLINE_TIME = re.compile(r"<\d+:\d{2}(?::\d{2})?\.\d+>")  # YouTube's word timings: rolling captions
_SRT_TAG = re.compile(r"</?(?:[biu]|font)(?:\s[^>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)  # SubRip's formatting
_TIMING_LIKE = re.compile(r"\s*\d+:\d{2}[\d:.,]*\s*(?:-|–|—|=)*>")  # a line a player would take for cue timings
_SLUG_APOSTROPHE = re.compile(r"(?<=[A-Za-z])_(?=(?:s|t|re|ll|ve|d|m)(?:[-_.]|$))")  # "Python_s", "don_t"
_LANGUAGE = re.compile(r"\.(?P<code>(?P<primary>[a-z]{2,3})(?:-[A-Za-z0-9]{2,8})*)$")
_BRACKETS = re.compile(r"(?:^|(?<=[\s_-]))\[(?P<id>[A-Za-z0-9_-]+)\]$")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_PLAIN_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")  # "[Programming]" is a word in a title, not an id
_OTHER_ID = re.compile(r"\d{6,}")  # Vimeo's and others' numeric ids; "[2019]" is a year
# ISO 639-1: a ".xx" before the suffix is a language only if it is one ("setup.py.srt" is not Python's language);
# a longer code ("fil", "yue") only where yt-dlp writes it, after "[<video id>]"
_ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee "
    "el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is "
    "it iu iw ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr "
    "ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si "
    "sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo "
    "xh yi yo za zh zu".split()
)


def read_subtitles(file: Path, rel: str) -> Transcript:
    """The transcript in a subtitle file; `InputError` if it holds none.

    `rel` is the file's path relative to the indexed path: the id is "transcript:<rel>". The folder it is in is
    its `event` (the folder above, for a file in an `originals/` folder, which marks it `original`: the
    published layout keeps the machine's transcript there, beside a reviewed copy). `english` is what the file
    name's language says, else what the words say (`looks_english`).
    """
    path = str(file)
    text = read_text(file)
    captions = _captions(text, path)
    cues = _clean_cues(captions, srt=not _is_vtt(text))
    if _rolling(captions):
        cues = unroll(cues)
    kept, dropped = drop_noise(cues)
    if not kept:
        raise InputError(path, _nothing_said(dropped))
    title, video_id, language = name_parts(file.name)
    folder = file.absolute().parent
    original = folder.name == ORIGINALS
    event = (folder.parent if original else folder).name or None
    english = language.split("-")[0] in ("en", "eng") if language else looks_english(cue.text for cue in kept)
    return Transcript(id=f"transcript:{rel}", title=title, file=rel, path=path, cues=tuple(kept),
                      video_id=video_id, language=language, english=english, event=event, original=original,
                      dropped=dropped)


def name_parts(name: str) -> tuple[str, str | None, str | None]:
    """(title, video id, language) from a subtitle file's name.

    yt-dlp names subtitles `<Title> [<video id>].<lang>.vtt`. The language is a final ".en", ".en-US", ".es-419"
    (an ISO 639-1 code, or any code after "[id]"). The video id is the bracketed name's end: 11 characters of
    `[A-Za-z0-9_-]` (YouTube's; not a plain word such as "[Programming]") or 6+ digits (Vimeo's); "[2019]" and
    "[PyCon 2019]" stay in the title. A name without spaces is a slug: "-" and "_" are read as spaces ("---" as
    " - "), and "_" before "s", "t", "re", "ll", "ve", "d", "m" as an apostrophe ("Python_s" -> "Python's"), as
    the published Whisper transcripts write "'", ":", "/" and "?".

    >>> name_parts("Faster-Python-Programs---Measure,-don_t-Guess.srt")
    ("Faster Python Programs - Measure, don't Guess", None, None)
    >>> name_parts("Raymond Hettinger - Beyond PEP 8 [wf-BqAjZb8M].en-US.vtt")
    ('Raymond Hettinger - Beyond PEP 8', 'wf-BqAjZb8M', 'en-US')
    """
    stem = name
    if Path(name).suffix.lower() in SUBTITLE_SUFFIXES:
        stem = name[: -len(Path(name).suffix)]
    language = None
    if (match := _LANGUAGE.search(stem)) is not None:
        before = stem[: match.start()]
        if match["primary"] in _ISO_639_1 or before.endswith("]"):
            language, stem = match["code"], before
    video_id = None
    if (match := _BRACKETS.search(stem)) is not None and _is_video_id(match["id"]):
        video_id, stem = match["id"], stem[: match.start()]
    if " " not in stem.strip():
        stem = " - ".join(part.replace("-", " ").replace("_", " ") for part in _SLUG_APOSTROPHE.sub("'", stem).split("---"))
    return " ".join(stem.split()) or name, video_id, language


def _is_video_id(text: str) -> bool:
    return bool((_YOUTUBE_ID.fullmatch(text) and not _PLAIN_WORD.fullmatch(text)) or _OTHER_ID.fullmatch(text))


def looks_english(texts: Iterable[str]) -> bool:
    """Whether words read as English: a share of at least ENGLISH_SHARE of them are common English function words.

    Fewer than MIN_WORDS words are too few to tell: English, as any text whose language is unknown.
    """
    words = _WORD.findall(" ".join(texts).casefold())
    if len(words) < MIN_WORDS:
        return True
    return sum(word in _FUNCTION_WORDS for word in words) >= ENGLISH_SHARE * len(words)


def _is_vtt(text: str) -> bool:
    return text.lstrip().startswith("WEBVTT")


def _captions(text: str, path: str) -> list[Caption]:
    """The file's captions as webvtt-py reads them, in order of their start; `InputError` for a file that is not
    subtitles or has a timing line it cannot read (webvtt-py would leave that cue out, or add it to the cue before)."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    head = text.lstrip()[:200].casefold()
    if head.startswith(("<!doctype html", "<html", "<?xml")) and "<html" in head:
        raise InputError(path, "not a subtitle file: an HTML page")
    vtt = _is_vtt(text)
    if not vtt and "-->" not in text:
        raise InputError(path, "not a subtitle file: no cue timings found")
    try:
        captions = webvtt.from_buffer([text.lstrip()], format="vtt" if vtt else "srt").captions
    except (MalformedFileError, MalformedCaptionError):
        raise InputError(path, "not a SubRip file: it must open with a cue number and its timing line") from None
    timings = webvtt.vtt.WebVTTCueBlock.CUE_TIMINGS_PATTERN if vtt else webvtt.srt.SRTCueBlock.CUE_TIMINGS_PATTERN
    for number, line in enumerate(text.split("\n"), start=1):
        if ("-->" in line or _TIMING_LIKE.match(line)) and not timings.match(line):
            raise InputError(path, f"broken cue timing on line {number}: {line.strip()[:80]!r}")
    if not captions:
        raise InputError(path, "no cues found")
    for caption in captions:
        if caption.end_time.in_milliseconds() < caption.start_time.in_milliseconds():
            raise InputError(path, f"broken cue timing: a cue ends before it starts ({caption.start} --> {caption.end})")
    return sorted(captions, key=lambda caption: caption.start_time.in_milliseconds())


def _clean_cues(captions: list[Caption], *, srt: bool) -> list[Cue]:
    """Each caption as a `Cue`: seconds as floats (webvtt-py's `start_in_seconds` drops the milliseconds), text
    without tags, entities unescaped, whitespace collapsed. SubRip has no escaping, so only its formatting tags
    go ("if a < b and c > d" said in a talk stays); WebVTT escapes "<", so every tag goes."""
    cues = []
    for caption in captions:
        raw = caption.raw_text
        text = _SRT_TAG.sub("", raw) if srt else caption.text
        text = " ".join(html.unescape(text).split())
        if text:  # an empty cue says nothing, and is nothing left out
            cues.append(Cue(caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000,
                            text))
    return cues


def _rolling(captions: list[Caption]) -> bool:
    """Rolling captions: word timings in the text (YouTube's auto-generated captions), or most cues opening with
    the line that ended the cue before."""
    if any(_INLINE_TIME.search(caption.raw_text) for caption in captions):
        return True
    carried = sum(
        1 for before, caption in zip(captions, captions[1:], strict=False)
        if len(caption.lines) > 1 and before.lines and caption.lines[0].strip()
        and caption.lines[0].strip() == before.lines[-1].strip()
    )
    return carried * 2 > len(captions)


def _nothing_said(dropped: tuple[tuple[str, int], ...]) -> str:
    """The reason for a file whose cues all went: empty, or only punctuation and sound labels."""
    counts = dict(dropped)
    total = sum(counts.values())
    if not total:
        return "no cues with text"
    what = " or ".join(label for key, label in (("punctuation", "punctuation"), ("sound", "sound labels ([Music])"))
                       if counts.get(key))
    return f"no cues with text: all {total} are only {what}"
