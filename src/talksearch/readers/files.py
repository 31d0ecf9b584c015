"""Helpers shared by the readers: decoding a file's bytes, and cleaning talk text.

Every reader gets its text through `read_text`, so all formats agree on what an
unreadable file is and say so with the same `InputError` reasons:

    "empty file"                                  nothing but whitespace
    "binary file, not text"                       NUL bytes in the first 8 KB, no UTF-16 BOM
    "not UTF-16 text (decode error at byte N)"    a UTF-16 BOM (or NUL pattern) over bytes that are not UTF-16
    "cannot read: <OS error>"                     permissions, a directory named like a file...
    "not a regular file (<what it is>)"           a named pipe, socket or device: reading it could wait forever
    "file name is not valid UTF-8; rename the file"   bytes in its name that no index can store

A UTF-8 or UTF-16 BOM is honoured, UTF-16 without one is recognised by its NUL bytes, and bytes
that are not UTF-8 are read as Windows-1252 (Latin-1 where that fails); newlines become "\\n";
text is Unicode NFC.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from talksearch.errors import InputError

SNIFF_BYTES = 8192  # how much of a file is searched for NUL bytes
_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device"}  # what a path that is not a regular file is, as a skipped file's reason
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# Licence boilerplate that conference exports append to descriptions (EuroPython 2018-2024,
# Swiss Python Summit): the sentence, and EuroPython's release-agreement line after it.
_LICENSE_START = re.compile(
    r"(?<!\S)(?:This work is licensed under a Creative Commons"
    r"|License: This (?:video|work) is licensed under"
    r"|Licensed as Creative Commons)"
)
_LICENSE_TAIL = re.compile(r"[^\n]*(?:\s*Please see our speaker release agreement[^\n]*)?\s*")
_URL = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^]+")
_URL_TRAILING = ".,;:!?*'\""


def read_text(path: Path) -> str:
    """The decoded, newline- and NFC-normalised text of a file; `InputError` if it isn't text."""
    name = path_text(path)
    try:
        check_regular(path)
        data = path.read_bytes()
    except OSError as error:
        raise InputError(name, f"cannot read: {error.strerror or error}") from None
    return decode_text(data, name)


def check_regular(path: Path) -> None:
    """`InputError` unless `path` is a regular file (or a link to one): opening a named pipe waits for a writer,
    a device may never end. A directory passes: reading it fails with its own "cannot read" reason."""
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError(path_text(path), f"not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'special file')})")


def path_text(path: Path) -> str:
    """The path as text; `InputError` if its name holds bytes that are not UTF-8 (no index can store it)."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise InputError(shown, "file name is not valid UTF-8; rename the file") from None
    return name


def decode_text(data: bytes, path: str) -> str:
    """Decode a text file's bytes (BOM-aware, else strict UTF-8) and normalise it."""
    if not data.strip():
        raise InputError(path, "empty file")
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data[len(codecs.BOM_UTF8) :], "utf-8", path, offset=len(codecs.BOM_UTF8))
    elif data.startswith(_UTF16_BOMS):
        text = _decode(data, "utf-16", path)
    elif (encoding := _sniff_utf16(data[:SNIFF_BYTES])) is not None:
        text = _decode(data, encoding, path)
    elif b"\x00" in data[:SNIFF_BYTES]:
        raise InputError(path, "binary file, not text")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # notes from older editors: Windows-1252, else Latin-1 (which decodes any byte)
            text = _decode_legacy(data)
    text = normalize_text(text)
    if not text.strip():
        raise InputError(path, "empty file")
    return text


def _sniff_utf16(head: bytes) -> str | None:
    """UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte, on one side."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0 : 2 * pairs : 2].count(0), head[1 : 2 * pairs : 2].count(0)
    if odd > 0.6 * pairs and even == 0:
        return "utf-16-le"
    if even > 0.6 * pairs and odd == 0:
        return "utf-16-be"
    return None


def _decode_legacy(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode(data: bytes, encoding: str, path: str, *, offset: int = 0) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        name = "UTF-8" if encoding == "utf-8" else "UTF-16"
        raise InputError(
            path, f"not {name} text (decode error at byte {error.start + offset})"
        ) from None


def normalize_text(text: str) -> str:
    """Newlines as "\\n" and Unicode NFC."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def cut_license(text: str) -> tuple[str, str | None]:
    """Split trailing licence boilerplate off a text: (text without it, licence or None).

    >>> cut_license("Talk about X. --- This work is licensed under a Creative Commons "
    ...             "Attribution 4.0 International License")
    ('Talk about X.', 'This work is licensed under a Creative Commons Attribution 4.0 International License')
    """
    if "icens" not in text:  # fast path: no "License", "licensed", "Licensed"
        return text, None
    start = 0
    while (match := _LICENSE_START.search(text, start)) is not None:
        tail = _LICENSE_TAIL.match(text, match.end())
        if tail is not None and tail.end() == len(text):
            license_text = " ".join(text[match.start() :].split())
            return _drop_trailing_rules(text[: match.start()]), license_text
        start = text.find("\n", match.end()) + 1 or len(text)  # later starts on this line end here too
    return text, None


def _drop_trailing_rules(text: str) -> str:
    """The text without the "---" separators and spaces left at its end, before a licence.

    A loop, not a regex: `(?:\\s*-{3,})+$` backtracks exponentially on a long run of dashes.
    """
    end = len(text)
    while True:
        while end and text[end - 1].isspace():
            end -= 1
        start = end
        while start and text[start - 1] == "-":
            start -= 1
        if end - start < 3:
            return text[:end]
        end = start


def find_urls(text: str) -> tuple[str, ...]:
    """The http(s) URLs in a text, in order, each once, without trailing punctuation."""
    return unique(_trim_url(match.group()) for match in _URL.finditer(text))


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a ")" that closes prose, not the URL."""
    unmatched = url.count(")") - url.count("(")
    end = len(url)
    while end:
        if url[end - 1] in _URL_TRAILING:
            end -= 1
        elif url[end - 1] == ")" and unmatched > 0:
            end -= 1
            unmatched -= 1
        else:
            break
    return url[:end]


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Non-empty items in first-seen order, duplicates dropped."""
    return tuple(dict.fromkeys(item for item in items if item))
