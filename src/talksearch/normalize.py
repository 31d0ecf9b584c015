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


@lru_cache(maxsize=1 << 18)  # called for every word of every document: words repeat
def key(term: str) -> str:
    """A term's matching key: folded, with C++ and C# kept apart from C.

    >>> key("scikit-learn"), key("C++"), key("Špilka")
    ('scikit learn', 'cpp', 'spilka')
    """
    return fold(term.replace("++", "pp").replace("#", " sharp"))
