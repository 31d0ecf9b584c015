"""The only code that touches the index directory.

Layout of an index directory (default `indexes/`):

    CURRENT             name of the live generation, replaced atomically
    .lock               held (flock) by the one `index` run allowed at a time
    gen-<stamp>/        one complete index:
        manifest.json   model, weights hash, dimension, counts, version, created
        meta.duckdb     talks, speakers, events, sources, passages, notes, todos, ...
        passages.faiss  normalised passage vectors, row i = passages.row i
        documents.npy   one normalised mean vector per document, row = documents.pos
        hits.bin, hits.offsets.npy          each document's result fields as JSON, row = documents.pos
        passages.bin, passages.offsets.npy  each passage's text, row = passages.row
        passage_docs.npy                    each passage's documents.pos
        foreign.npy                         each document: known to be in a language other than English
        seeds.bin, seeds.offsets.npy        each document's title and the start of its text (for `related`)
        documents.json                      every document's id and kind, by documents.pos
        lexical/        bm25s index over talk and note documents
        encoder/        only after `talksearch adapt`: the encoder's weights trained for this collection
    .tmp-<stamp>/       a generation being written (removed if a run dies)

A run writes a whole new generation into `.tmp-*`, renames it to `gen-*` and
then replaces CURRENT: readers see the old index or the new one, never a mix.
The previous generation is kept until the next run, so queries that opened it
just before the swap finish undisturbed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import __version__
from .errors import IndexDamagedError, IndexLockedError, IndexMissingError, IndexReplacedError, UsageError

if TYPE_CHECKING:
    import duckdb
    import numpy as np

    from .embed import Weights

T = TypeVar("T")

INDEX_FORMAT = 6  # bump when the layout or schema changes
FACETS_FORMAT = 4  # the first format whose `extracted` table can be reused
ENV_INDEX = "TALKSEARCH_INDEX"
DEFAULT_INDEX = "indexes"
CURRENT = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
DATABASE = "meta.duckdb"
VECTORS = "passages.faiss"
DOCUMENT_VECTORS = "documents.npy"  # one normalised mean vector per document, row = documents.pos
LEXICAL = "lexical"
HITS = "hits"  # Records: what a result shows of each document, so a query reads 10 rows, not DuckDB's columns
PASSAGE_TEXTS = "passages"  # Records: passage texts, for snippets
PASSAGE_DOCS = "passage_docs.npy"
SEEDS = "seeds"  # Records: each document's title and the start of its text, the words `related` looks for
DOCUMENT_IDS = "documents.json"  # [ids, kinds] by documents.pos
FOREIGN = "foreign.npy"  # True for each document known to be in a language other than English
ENCODER = "encoder"  # weights `talksearch adapt` trained for this index (manifest: "adapted"), in a sentence-transformers folder
REINDEX = "re-index with `talksearch index --rebuild`"

SCHEMA = """
create table sources (path varchar primary key, format varchar, files integer, talks integer,
    notes integer, skipped integer, indexed varchar);
create table skipped (path varchar, reason varchar);
create table events (slug varchar primary key, title varchar, talks integer);
create table talks (id varchar primary key, title varchar, speakers varchar[], event varchar,
    event_title varchar, date varchar, year integer, room varchar, language varchar, tags varchar[],
    url varchar, urls varchar[], related_urls varchar[], text varchar, license varchar,
    group_id varchar, event_folded varchar, doc_hash varchar, record_hash varchar);
create table talk_sources (talk_id varchar, record_id varchar, source varchar, format varchar,
    title varchar, speakers varchar[], event_title varchar, date varchar, room varchar,
    language varchar, urls varchar[]);
create table speakers (talk_id varchar, name varchar, folded varchar);
create table notes (id varchar primary key, title varchar, file varchar, path varchar, source varchar,
    line_start integer, line_end integer, context varchar, text varchar, tags varchar[],
    urls varchar[], speakers varchar[], event varchar, date varchar, links varchar[], talk_id varchar,
    context_folded varchar, speakers_folded varchar, doc_hash varchar, record_hash varchar);
create table todos (note_id varchar, line integer, text varchar, done boolean);
create table documents (pos integer primary key, id varchar, kind varchar, folded varchar);
create table passages ("row" integer primary key, doc_id varchar, kind varchar, ordinal integer,
    text varchar);
create table mentions (doc_id varchar, kind varchar, facet varchar, label varchar, key varchar, term varchar,
    "count" integer);
create table extracted (doc_hash varchar, facet varchar, label varchar, key varchar, term varchar,
    "count" integer);
"""


def resolve_root(path: str | os.PathLike | None = None) -> Path:
    """The index directory: the argument, else $TALKSEARCH_INDEX, else ./indexes."""
    return Path(path or os.environ.get(ENV_INDEX) or DEFAULT_INDEX)


@dataclass(frozen=True)
class Generation:
    """One complete index on disk."""

    path: Path
    manifest: dict

    @property
    def database(self) -> Path:
        return self.path / DATABASE

    @property
    def weights(self) -> Weights:
        """The weights that embedded this index, which its queries must be embedded with too."""
        from .embed import WEIGHTS_FILE, Weights, WeightsCheck

        check = self.manifest.get("weights_check")
        adapted = self.manifest.get("adapted")
        if not adapted:
            return Weights(known=WeightsCheck(**check) if check else None)
        directory = self.path / ENCODER
        # the check was made where `adapt` wrote the file, before this generation got its name
        known = WeightsCheck(**{**check, "path": str(directory / WEIGHTS_FILE)}) if check else None
        return Weights(directory, self.manifest["weights_sha256"], known, adapted)

    @property
    def vectors(self) -> Path:
        return self.path / VECTORS

    @property
    def lexical(self) -> Path:
        return self.path / LEXICAL

    @property
    def document_vectors(self) -> Path:
        return self.path / DOCUMENT_VECTORS

    def read(self, name: str, load: Callable[[Path], T], *, errors: tuple[type[Exception], ...] = (OSError, ValueError)) -> T:
        """`load` of one of this generation's files; a file it cannot read is IndexDamagedError, in one line."""
        path = self.path / name
        try:
            return load(path)
        except errors as exc:
            raise IndexDamagedError(f"{path}: unreadable ({exc}); {REINDEX}") from exc

    def array(self, name: str) -> np.ndarray:
        """A stored `.npy` array, memory-mapped."""
        import numpy as np

        return self.read(name, lambda path: np.load(path, mmap_mode="r"))

    def records(self, name: str) -> Records:
        return self.read(f"{name}.bin", lambda _: Records.open(self.path / name))


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
        self._fh = open(_unshared(_data(stem)), "wb")

    def __enter__(self) -> RecordsWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        import numpy as np

        self._fh.close()
        np.save(_unshared(_offsets(self.stem)), np.frombuffer(self._offsets, dtype=np.int64))

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def append(self, text: str) -> int:
        """Write `text` as the next record; its row."""
        self._offsets.append(self._offsets[-1] + self._fh.write(text.encode("utf-8")))
        return len(self._offsets) - 2


def current(root: Path, *, strict: bool = True, sizes: bool = True) -> Generation:
    """The live generation; IndexMissingError if none was built, IndexDamagedError if it is broken.

    `strict=False` accepts another index format, for reusing its vectors when re-indexing; `sizes=False` leaves the
    files' sizes unchecked, for reading the list of sources of an index about to be rebuilt.
    """
    _check_root(root)
    pointer = root / CURRENT
    if not pointer.is_file():
        raise IndexMissingError(f"no index at {root}/: build one with `talksearch index PATH` (e.g. `talksearch index data/`)")
    path = root / pointer.read_text().strip()
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(f"{path / MANIFEST}: unreadable manifest ({exc}); {REINDEX}") from exc
    if not isinstance(manifest, dict):
        raise IndexDamagedError(f"{path / MANIFEST}: not a manifest (a JSON {type(manifest).__name__}); {REINDEX}")
    if sizes:
        _check_sizes(path, manifest.get("files") or {})
    if strict and manifest.get("format") != INDEX_FORMAT:
        raise IndexDamagedError(
            f"{path}: index format {manifest.get('format')} is not {INDEX_FORMAT} (built by talksearch "
            f"{manifest.get('talksearch_version')}); {REINDEX}"
        )
    from .embed import DIMENSION, MODEL_NAME

    if (manifest.get("model"), manifest.get("dimension")) != (MODEL_NAME, DIMENSION):
        raise IndexDamagedError(
            f"{path}: built with model {manifest.get('model')} ({manifest.get('dimension')} dims), not {MODEL_NAME} "
            f"({DIMENSION} dims); {REINDEX}"
        )
    records = (f"{n}{end}" for n in (HITS, PASSAGE_TEXTS, SEEDS) for end in (".bin", ".offsets.npy"))
    stored = (DOCUMENT_VECTORS, DOCUMENT_IDS, PASSAGE_DOCS, FOREIGN, *records)
    if manifest.get("adapted"):
        from .embed import WEIGHTS_FILE

        stored = (*stored, f"{ENCODER}/{WEIGHTS_FILE}")
    for name in (DATABASE, VECTORS, *stored) if strict else (DATABASE, VECTORS):
        if not (path / name).is_file():
            raise IndexDamagedError(f"{path / name}: missing; {REINDEX}")
    return Generation(path, manifest)


def _sizes(path: Path) -> dict[str, int]:
    """The size of every file of a generation but its manifest, by path inside it."""
    return {p.relative_to(path).as_posix(): p.stat().st_size
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != MANIFEST}


def _check_sizes(path: Path, sizes: dict[str, int]) -> None:
    """IndexDamagedError if a file the manifest lists is missing or not the size it was written at (a cut-off copy,
    a file emptied by a full disk): a stat per file, cheap enough for every open."""
    if not isinstance(sizes, dict) or not all(isinstance(n, str) and type(b) is int for n, b in sizes.items()):
        raise IndexDamagedError(f"{path / MANIFEST}: its file sizes are not names and byte counts; {REINDEX}")
    for name, size in sizes.items():
        try:
            actual = (path / name).stat().st_size
        except OSError:
            raise IndexDamagedError(f"{path / name}: missing; {REINDEX}") from None
        if actual != size:
            raise IndexDamagedError(f"{path / name}: {actual:,} bytes, written as {size:,}; {REINDEX}")


def connect(generation: Generation) -> duckdb.DuckDBPyConnection:
    import duckdb

    if not generation.path.is_dir():  # two `index` runs since it was opened: the index is fine, this copy is gone
        raise IndexReplacedError(f"{generation.path}: replaced by a later `talksearch index` run; open the index again")
    try:
        con = duckdb.connect(str(generation.database), read_only=True)
    except duckdb.Error as exc:
        raise IndexDamagedError(f"{generation.database}: {exc}; {REINDEX}") from exc
    # readers never write, attach, install or touch files outside the index; nor can `sql` turn this back on
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


def read_vectors(generation: Generation, *, expected: int):
    """The FAISS index, checked against the number of passages DuckDB holds."""
    import faiss

    try:
        index = faiss.read_index(str(generation.vectors), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0]
        raise IndexDamagedError(f"{generation.vectors}: unreadable ({reason}); {REINDEX}") from exc
    if (ivf := faiss.try_extract_index_ivf(index)) is not None:
        ivf.make_direct_map()  # rows can be looked up by number (snippets, reuse by the next run)
    if index.ntotal != expected or index.d != generation.manifest.get("dimension"):
        raise IndexDamagedError(
            f"{generation.vectors}: holds {index.ntotal} vectors of {index.d} dims, the metadata says "
            f"{expected} of {generation.manifest.get('dimension')}; {REINDEX}"
        )
    return index


def _check_root(root: Path) -> None:
    """UsageError if `root` exists and is not a directory (or a folder on its way is a file): no index can be there."""
    for path in (root, *root.parents):
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise UsageError(f"{path}: not a directory")
            return


@contextlib.contextmanager
def locked(root: Path):
    """Hold the index's write lock (making the directory); IndexLockedError if another run holds it."""
    _check_root(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"{root}/: another `talksearch index` (or `adapt`) run is writing this index; wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Writer:
    """Writes one new generation; `commit()` swaps it in, leaving the block without it discards it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        now = time.time_ns()  # names sort in the order runs started: remove_stale relies on it
        self.stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}-{os.getpid()}"
        self.path = root / f".tmp-{self.stamp}"

    def __enter__(self) -> Writer:
        remove_stale(self.root)
        self.path.mkdir(parents=True)
        return self

    def __exit__(self, *exc_info) -> None:
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)

    def database(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the generation's database; the first one creates the tables. Close each after its
        step: DuckDB frees the rows written through a connection when it closes, not when they are on disk."""
        import duckdb

        path = self.path / DATABASE
        new = not path.exists()
        con = duckdb.connect(str(_unshared(path, keep=True)))
        if new:
            con.execute(SCHEMA)
        return con

    def write_vectors(self, vectors: np.ndarray) -> None:
        """Exact search under `ann.EXACT_LIMIT` passages, IVF above it (`ann.py` has the measurements)."""
        import faiss

        from . import ann

        index = ann.build(vectors) if len(vectors) else faiss.IndexFlatIP(vectors.shape[1])
        faiss.write_index(index, str(_unshared(self.path / VECTORS)))

    def write_document_vectors(self, vectors: np.ndarray) -> None:
        import numpy as np

        np.save(_unshared(self.path / DOCUMENT_VECTORS), vectors)

    def commit(self, manifest: dict) -> Path:
        # a manifest carried over (adapt) keeps the version that read its records: refreshes trust what it skipped
        manifest = {"format": INDEX_FORMAT, "talksearch_version": __version__, **manifest,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"), "files": _sizes(self.path)}
        _write_atomic(self.path / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        for path in self.path.rglob("*"):  # on disk before CURRENT can point at them, even after a power cut
            if path.is_file():
                _fsync_file(path)
        for folder in [*(p for p in self.path.rglob("*") if p.is_dir()), self.path]:  # lexical/, encoder/, ...
            _fsync_dir(folder)
        final = self.root / f"gen-{self.stamp}"
        os.rename(self.path, final)
        _write_atomic(self.root / CURRENT, final.name + "\n")
        _fsync_dir(self.root)
        remove_stale(self.root)
        return final


def share(source: Path, target: Path) -> None:
    """`target` gets `source` (a file, or a folder and everything in it) by hard links where the file system allows,
    copies where not. Only for a committed generation's files, which nothing writes again: two generations then
    share them instead of holding them twice."""
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link)
    else:
        _link(source, target)


def _unshared(path: Path, *, keep: bool = False) -> Path:
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


def remove_stale(root: Path) -> None:
    """Delete leftovers of killed runs and generations older than the previous one (lock held)."""
    live = (root / CURRENT).read_text().strip() if (root / CURRENT).is_file() else None
    generations = sorted(p for p in root.glob("gen-*") if p.is_dir())
    keep = {live}
    older = [g.name for g in generations if g.name != live and (live is None or g.name < live)]
    if older:
        keep.add(older[-1])  # the previous generation, for queries still reading it
    for path in [*root.glob(".tmp-*"), *generations]:
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:  # read-only: a hard-linked file may belong to a generation someone else wrote
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
