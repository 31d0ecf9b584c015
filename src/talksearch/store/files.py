"""Files of a generation, written once and read by row or mapped: the building blocks of `store`.

- `Records`: strings by row number, in one file of UTF-8 bytes and one of offsets (stored fields);
- `share`: a committed generation's files lent to the next one by hard links (never written through:
  `unshared` makes a path a generation's own before it is written);
- atomic writes and fsyncs, for the swap.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path


def _data(stem: Path) -> Path:
    """A `Records` file pair's UTF-8 bytes."""
    return stem.with_name(stem.name + ".bin")


def _offsets(stem: Path) -> Path:
    """A `Records` file pair's offsets: row i is bytes offsets[i]:offsets[i + 1]."""
    return stem.with_name(stem.name + ".offsets.npy")


class Records:
    """Strings by row number, stored as one file of UTF-8 bytes and one of offsets.

    Reading row i slices a memory map: stored fields as search engines keep them. A DuckDB look-up of ten
    rows by id scans whole columns (5-25 ms on the pyvideo corpus; measured by benchmarks/query_speed.py).
    """

    def __init__(self, data, offsets) -> None:
        self._data = data
        self._offsets = offsets

    @classmethod
    def open(cls, stem: Path) -> Records:
        import mmap

        import numpy as np

        offsets = np.load(_offsets(stem), mmap_mode="r")
        with open(_data(stem), "rb") as fh:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if int(offsets[-1]) else b""
        if len(data) != int(offsets[-1]):
            raise ValueError(f"holds {len(data)} bytes, its offsets say {int(offsets[-1])}")
        return cls(data, offsets)

    @staticmethod
    def read(stem: Path) -> Iterator[str]:
        """Every record in row order, read from the file rather than mapped: what was read does not stay in this
        process's resident set, as a map's pages do."""
        import numpy as np

        sizes = np.diff(np.load(_offsets(stem)))
        with open(_data(stem), "rb") as fh:
            for size in sizes.tolist():
                yield fh.read(size).decode("utf-8")

    @staticmethod
    def write(stem: Path, texts: Iterable[str]) -> None:
        with RecordsWriter(stem) as out:
            for text in texts:
                out.append(text)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, row: int) -> str:
        return self._data[int(self._offsets[row]) : int(self._offsets[row + 1])].decode("utf-8")


class RecordsWriter:
    """Appends strings to a `Records` file pair; the offsets are written on leaving the block."""

    def __init__(self, stem: Path) -> None:
        from array import array

        self.stem = stem
        self._offsets = array("q", [0])  # one buffer, not an int object per record
        self._fh = open(unshared(_data(stem)), "wb")

    def __enter__(self) -> RecordsWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        import numpy as np

        self._fh.close()
        np.save(unshared(_offsets(self.stem)), np.frombuffer(self._offsets, dtype=np.int64))

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def append(self, text: str) -> int:
        """Write `text` as the next record; its row."""
        self._offsets.append(self._offsets[-1] + self._fh.write(text.encode("utf-8")))
        return len(self._offsets) - 2


def share(source: Path, target: Path) -> None:
    """`target` gets `source` (a file, or a folder and everything in it) by hard links where the file system allows,
    copies where not. Only for a committed generation's files, which nothing writes again: two generations then
    share them instead of holding them twice."""
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link)
    else:
        _link(source, target)


def unshared(path: Path, *, keep: bool = False) -> Path:
    """`path`, made this generation's own if it is a hard link `share` made: unlinked (the caller writes a new file),
    or with `keep` replaced by a private copy (the caller writes into it). Never written through into a committed
    generation."""
    if path.is_file() and path.stat().st_nlink > 1:
        if keep:
            private = path.with_name(path.name + ".copy")
            shutil.copy2(path, private)
            os.replace(private, path)
        else:
            path.unlink()
    return path


def _link(source, target) -> None:
    try:
        os.link(source, target)
    except OSError as exc:  # a file system without hard links, or at its limit of links per file
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EOPNOTSUPP, errno.EMLINK):
            raise  # an existing target above all: never copy over it
        shutil.copy2(source, target)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:  # read-only: a hard-linked file may belong to a generation someone else wrote
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
