"""Text folding for matching: case, accents, punctuation, and Latin letters Unicode does not decompose (ł, ø, ß);
URLs as links compare them (`url_key`).

Latin letters are transliterated (anyascii), other scripts are not: a Cyrillic, Greek, Chinese, Japanese or Korean
word stays itself (accents stripped), so it matches only itself. Pinyin or Romaji would make homophones one word
(数据 and 书局 both "shuju"), read kanji as Chinese, and hand English stemming and stop words words of other languages.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

_NON_WORD = re.compile(r"[^\w]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SURROGATE = re.compile("[\ud800-\udfff]")  # half an escaped emoji ("\ud83d"), or argv bytes that are not UTF-8


def storable(text: str) -> str:
    r"""Text that can be stored and encoded: NFC, lone surrogates replaced by U+FFFD.

    >>> storable("S\u030cpilka \ud83d")
    'Špilka �'
    """
    return unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", text))


def fold(text: str) -> str:
    """Lower-case, strip accents, transliterate Latin letters, collapse punctuation to single spaces.

    >>> fold("Marian Špilka!"), fold("Łukasz Langa"), fold("Straße"), fold("Москва 数据")
    ('marian spilka', 'lukasz langa', 'strasse', 'москва 数据')
    """
    return _NON_WORD.sub(" ", latin_letters(text).casefold().replace("_", " ")).strip()


def latin_letters(text: str) -> str:
    """`strip_accents`, and the Latin letters left that are not ASCII transliterated: ł ø ß æ đ ı þ œ ŋ as l o ss ae
    d i th oe ng. Other scripts, punctuation and symbols are kept.

    >>> latin_letters("Søren Ljødal, Gönül Aycı, Đipanov’s C++, Сергей")
    'Soren Ljodal, Gonul Ayci, Dipanov’s C++, Сергеи'
    """
    if text.isascii():
        return text
    text = _NON_ASCII.sub(_letters, unicodedata.normalize("NFKD", text))
    return text if text.isascii() else unicodedata.normalize("NFC", text)  # Korean syllables, not their jamo


def strip_accents(text: str) -> str:
    """NFKD without combining marks: letters as their base letters, punctuation kept (DuckDB's `strip_accents`; ł and
    ø are kept: `latin_letters` folds them too).

    >>> strip_accents("Špilka’s C++")
    'Spilka’s C++'
    """
    if text.isascii():  # ASCII decomposes to itself and has no combining marks: only the rest is looked at
        return text
    return _NON_ASCII.sub(_strip_marks, unicodedata.normalize("NFKD", text))


def _strip_marks(run: re.Match) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def _letters(run: re.Match) -> str:
    return "".join(_latin(ch) for ch in run.group() if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def _latin(ch: str) -> str:
    """A Latin letter as ASCII letters (anyascii's), else `ch`: ʔ is not "'", and ✝ (LATIN CROSS) not ":cross:"."""
    if unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith("LATIN "):
        from anyascii import anyascii  # imported on the first such letter: it costs ~40 ms (importlib.resources)

        ascii_letters = anyascii(ch)
        if ascii_letters.isascii() and ascii_letters.isalpha():
            return ascii_letters
    return ch


def slugify(text: str, *, max_length: int = 80) -> str:
    """A stable, URL-safe slug: folded words joined by hyphens.

    >>> slugify("Event Sourcing in production")
    'event-sourcing-in-production'
    """
    slug = fold(text).replace(" ", "-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or "untitled"


fold_word = lru_cache(maxsize=1 << 16)(fold)  # snippets and highlighting fold the same words over and over
_WORD = re.compile(r"\w+")


def query_words(query: str) -> set[str]:
    """The words of a query that a snippet highlights: folded, two letters or more."""
    return {fold_word(w) for w in _WORD.findall(query) if len(w) > 1}


def matched_words(text: str, query: str) -> list[tuple[int, int]]:
    """Where in `text` the words of `query` are (start, end), case and accents folded: what the terminal and the web
    page highlight.

    >>> matched_words("Celery retries, celery tasks", "celery retry")
    [(0, 6), (16, 22)]
    """
    words = query_words(query)
    return [m.span() for m in _WORD.finditer(text) if fold_word(m.group()) in words] if words else []


@lru_cache(maxsize=1 << 18)  # called for every word of every document: words repeat
def key(term: str) -> str:
    """A term's matching key: folded, with C++ and C# kept apart from C.

    >>> key("scikit-learn"), key("C++"), key("Špilka")
    ('scikit learn', 'cpp', 'spilka')
    """
    return fold(term.replace("++", "pp").replace("#", " sharp"))


_VIDEO_PATH = re.compile(r"/(?:embed|v|shorts|live)/([\w-]+)")
_VIMEO_PATH = re.compile(r"/(?:video/)?(\d+)")


def url_key(url: str) -> str:
    """A URL as links compare it: a YouTube or Vimeo video by its id, whatever the form (`youtu.be/ID`,
    `watch?v=ID&t=120s`, `embed/ID`, `player.vimeo.com/video/ID`); any other page without its scheme, `www.`,
    fragment or trailing slash.

    >>> url_key("https://youtu.be/TluZ4kJvceM?t=3") == url_key("http://www.youtube.com/watch?v=TluZ4kJvceM&t=120s")
    True
    >>> url_key("https://player.vimeo.com/video/76140373") == url_key("vimeo.com/76140373#t=10")
    True
    >>> url_key("https://www.pyvideo.org/europython-2024/event-sourcing.html#top")
    'pyvideo.org/europython-2024/event-sourcing.html'
    """
    url = url.strip()
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = parts.netloc.lower().removeprefix("www.").removeprefix("m.")
    if host == "youtu.be":
        return "youtube:" + parts.path.strip("/").split("/")[0]
    if host == "youtube.com" or host.endswith(".youtube.com") or host == "youtube-nocookie.com":
        video = parse_qs(parts.query).get("v") if parts.path == "/watch" else None
        found = _VIDEO_PATH.match(parts.path)
        if video or found:
            return "youtube:" + (video[0] if video else found.group(1))
    if host in ("vimeo.com", "player.vimeo.com") and (found := _VIMEO_PATH.fullmatch(parts.path.rstrip("/"))):
        return "vimeo:" + found.group(1)
    return host + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
