"""Errors talksearch raises. The CLI maps each to one line on stderr and an exit code.

    TalksearchError            exit 1 unless said otherwise
    ├── InputError             a source file that cannot be read (reported per file, skipped)
    ├── NoSourcesError         nothing at all could be read
    ├── SourceMissingError     a source is gone or yields nothing: the index is left as it was
    ├── IndexMissingError      exit 2: no index at the directory yet
    ├── IndexDamagedError      the index on disk is incomplete, damaged or from another version
    ├── ModelError             the model's weights are missing or fail their hash check
    ├── TalkNotFoundError      exit 2: no talk or note matches a reference
    ├── AmbiguousTalkError     exit 2: a reference matches several talks
    ├── UsageError             exit 2: an option value that makes no sense
    ├── IndexLockedError       another `index` run holds the index
    └── OutputError            standard output refused a write (a full disk, an I/O error)

    FilterWarning (a UserWarning, not an error): a filter value matches nothing in the collection; the CLI prints it
    as one line on stderr, beside "no matches" (exit 0).
"""

from __future__ import annotations

from typing import NamedTuple


class TalksearchError(Exception):
    """Base class of every error talksearch raises on purpose."""

    exit_code = 1


class InputError(TalksearchError):
    """A source file could not be read."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NoSourcesError(TalksearchError):
    """Nothing given to `index` could be read."""


class SourceMissingError(TalksearchError):
    """A PATH or known source is gone (or, known, yields nothing): never read as the deletion of its talks."""


class IndexMissingError(TalksearchError):
    """There is no index at the directory yet."""

    exit_code = 2


class IndexDamagedError(TalksearchError):
    """The index on disk is incomplete, damaged, or was built by another model or version."""


class IndexReplacedError(TalksearchError):
    """The generation an open KnowledgeBase reads was replaced by later `index` runs and removed."""


class ModelError(TalksearchError):
    """The embedding model is missing, or its weights fail the hash check."""


class TalkNotFoundError(TalksearchError):
    """No talk or note matches a reference."""

    exit_code = 2


class AmbiguousTalkError(TalksearchError):
    """A reference matches several talks or notes."""

    exit_code = 2

    def __init__(self, message: str, candidates: list[Candidate]) -> None:
        super().__init__(message)
        self.candidates = candidates  # closest first


class Candidate(NamedTuple):
    """One of the talks or notes an ambiguous reference matches, with what tells it from the others."""

    id: str
    title: str
    speakers: tuple[str, ...] = ()
    event: str | None = None
    date: str | None = None


class UsageError(TalksearchError):
    """An option value that makes no sense."""

    exit_code = 2


class IndexLockedError(TalksearchError):
    """Another `index` run is writing this index."""


class OutputError(TalksearchError):
    """Standard output refused a write (a full disk, an I/O error); a closed pipe is not an error."""


class FilterWarning(UserWarning):
    """A filter value that matches nothing in the whole collection, and the known values closest to it."""

    def __init__(self, filter: str, value: str, near: tuple[str, ...] = (), *, known: str = "") -> None:
        names = {"event": "no event", "speaker": "no speaker", "lang": "no talk is in language",
                 "mentions": "no tool, entity or phrase"}
        head = f"{names[filter]} {value!r}" if filter == "lang" else f"{names[filter]} matches {value!r}"
        if near:
            tail = f"; did you mean {' or '.join([', '.join(near[:-1]), near[-1]] if len(near) > 1 else near)}?"
        else:
            tail = f"; {known}" if known else ""
        super().__init__(head + tail)
        self.filter = filter  # "event", "speaker", "lang" or "mentions": the Filters field
        self.value = value
        self.near = near  # the closest known values, closest first, as shown ("PyCon US 2024 (pycon-us-2024)")
