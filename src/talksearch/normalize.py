"""Text folding for matching: case, accents, punctuation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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
    """Lower-case, strip accents and collapse punctuation to single spaces.

    >>> fold("Marian Špilka!")
    'marian spilka'
    """
    return _NON_WORD.sub(" ", strip_accents(text).casefold().replace("_", " ")).strip()


def strip_accents(text: str) -> str:
    """NFKD without combining marks: letters as their base letters, punctuation kept.

    >>> strip_accents("Špilka’s C++")
    'Spilka’s C++'
    """
    if text.isascii():  # ASCII decomposes to itself and has no combining marks: only the rest is looked at
        return text
    return _NON_ASCII.sub(_strip_marks, unicodedata.normalize("NFKD", text))


def _strip_marks(run: re.Match) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


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
