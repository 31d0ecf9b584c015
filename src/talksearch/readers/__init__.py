"""Read a PATH given to `index` into talk records, notes and transcripts, one reader per format.

    detect_format(path)                 which `Format` a file or directory holds
    read_path(path, format=None, exclude=None)   everything in it (but the folder `exclude`), as a `ReadResult`

A directory is a pyvideo data folder (`*/category.json` with `*/videos/*.json`, or one event
folder), or else a tree of `.txt` / `.md` / `.markdown` files, each a listing or notes, and of
`.srt` / `.vtt` subtitle files, each a transcript (a folder may mix them).
A file that cannot be read becomes a `Skipped` with its reason; reading goes on. A file read
despite a problem (malformed front matter) is also in `ReadResult.warnings`, with what it was.
"""

from __future__ import annotations

import os
from pathlib import Path

from talksearch.errors import InputError
from talksearch.readers.files import read_text
from talksearch.readers.listing import looks_like_listing, parse_listing
from talksearch.readers.notes import parse_note_lines
from talksearch.readers.pyvideo import is_pyvideo_dir, read_pyvideo_dir, read_video_file
from talksearch.readers.subtitles import SUBTITLE_SUFFIXES, read_subtitles
from talksearch.records import Format, Note, ReadResult, Skipped, TalkRecord, Transcript
from talksearch.store import is_index

__all__ = ["SUBTITLE_SUFFIXES", "TEXT_SUFFIXES", "detect_format", "read_path"]

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})  # listing or notes files
TREE_SUFFIXES = TEXT_SUFFIXES | SUBTITLE_SUFFIXES  # the files read in a folder that is not pyvideo data
JSON_SUFFIX = ".json"  # a pyvideo video file


def detect_format(path: Path) -> Format:
    """The format of a file or directory; `InputError` if it is none talksearch reads.

    A directory that is not pyvideo data is `Format.NOTES`: a tree of text and subtitle files,
    each detected on its own when read. A text file is a listing if a line opens with an
    "[Event — Room on YYYY-MM-DD]" bracket, else notes (this reads the file); a `.srt` or
    `.vtt` file is a transcript.
    """
    if path.is_dir():
        return Format.PYVIDEO if is_pyvideo_dir(path) else Format.NOTES
    if not path.exists():
        raise InputError(str(path), "no such file or directory")
    suffix = path.suffix.lower()
    if suffix == JSON_SUFFIX:
        return Format.PYVIDEO
    if suffix in TEXT_SUFFIXES:
        return Format.LISTING if looks_like_listing(read_text(path)) else Format.NOTES
    if suffix in SUBTITLE_SUFFIXES:
        return Format.TRANSCRIPT
    shown = f"'{path.suffix}' file" if path.suffix else "file without an extension"
    raise InputError(
        str(path), f"unknown format: {shown} (expected .json, .txt, .md, .markdown, .srt, .vtt or a folder)"
    )


def read_path(path: Path, *, format: Format | None = None, exclude: Path | None = None) -> ReadResult:  # noqa: A002
    """Read every talk, note and transcript under PATH; only a missing PATH raises `InputError`.

    `exclude` is a folder never read (the index directory, when it sits inside a source folder).
    """
    if not path.exists():
        raise InputError(str(path), "no such file or directory")
    root = path.absolute()
    if root.is_dir():
        if format is Format.PYVIDEO or (format is None and is_pyvideo_dir(root)):
            talks, skipped, files = read_pyvideo_dir(root)
            return ReadResult(talks=tuple(talks), skipped=tuple(skipped), files=files)
        return _read_tree(root, format, exclude)
    return _read_file(root, root.name, format)


def _read_tree(root: Path, format: Format | None, exclude: Path | None = None) -> ReadResult:  # noqa: A002
    results = [_read_file(file, rel, format) for file, rel in _walk_files(root, exclude)]
    return ReadResult(
        talks=tuple(talk for result in results for talk in result.talks),
        notes=tuple(note for result in results for note in result.notes),
        transcripts=tuple(transcript for result in results for transcript in result.transcripts),
        skipped=tuple(skip for result in results for skip in result.skipped),
        files=len(results),
        warnings=tuple(warning for result in results for warning in result.warnings),
    )


def _walk_files(root: Path, exclude: Path | None = None) -> list[tuple[Path, str]]:
    """(file, path relative to root) of each text or subtitle file, sorted; hidden names, a folder's README, the
    folder `exclude` (by its real path) and any talksearch index (`store.is_index`) skipped."""
    excluded = os.path.realpath(exclude) if exclude is not None else None
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(name for name in dirs if not name.startswith(".") and not is_index(os.path.join(folder, name))
                         and (excluded is None or os.path.realpath(os.path.join(folder, name)) != excluded))
        for name in sorted(names):
            if name.startswith(".") or Path(name).stem.upper() == "README":
                continue  # a README describes the folder; it is not one of its notes
            if Path(name).suffix.lower() in TREE_SUFFIXES:
                file = Path(folder, name)
                found.append((file, file.relative_to(root).as_posix()))
    return found


def _read_file(file: Path, rel: str, format: Format | None) -> ReadResult:  # noqa: A002
    """One file as a `ReadResult` of one file: its talks, notes or transcript, or why it was skipped."""
    talks: list[TalkRecord] = []
    notes: list[Note] = []
    transcripts: list[Transcript] = []
    warnings: tuple[str, ...] = ()
    try:
        kind = format or _format_by_suffix(file)
        if kind is Format.PYVIDEO:
            talks = [read_video_file(file)]
        elif kind is Format.TRANSCRIPT:
            transcripts = [read_subtitles(file, rel)]
        else:
            text = read_text(file)
            if format is None and looks_like_listing(text):
                kind = Format.LISTING
            if kind is Format.LISTING:
                talks = parse_listing(text, source=str(file))
            else:
                lines = text.split("\n")
                del text  # the lines hold it again: one copy at a time
                notes, warnings = parse_note_lines(lines, file=rel, path=str(file))
    except InputError as error:
        return ReadResult(skipped=(Skipped(error.path, error.reason),), files=1)
    return ReadResult(talks=tuple(talks), notes=tuple(notes), transcripts=tuple(transcripts), files=1,
                      warnings=tuple(Skipped(str(file), reason) for reason in warnings))


def _format_by_suffix(file: Path) -> Format:
    """PYVIDEO for .json, NOTES for text files (a listing is told by its content), TRANSCRIPT for subtitles."""
    suffix = file.suffix.lower()
    if suffix == JSON_SUFFIX:
        return Format.PYVIDEO
    if suffix in TEXT_SUFFIXES:
        return Format.NOTES
    if suffix in SUBTITLE_SUFFIXES:
        return Format.TRANSCRIPT
    return detect_format(file)  # raises the "unknown format" error
