"""Generations: the index directory's layout, finding the live generation, the lock, writing a new one and
swapping it in atomically (package docstring: the layout)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import IndexDamagedError, IndexLockedError, IndexMissingError, IndexReplacedError, UsageError
from ..version import __version__
from .files import Records, RecordsWriter, fsync_dir, fsync_file, share, unshared, write_atomic

if TYPE_CHECKING:
    import duckdb
    import numpy as np

    from ..embed import Weights

T = TypeVar("T")

INDEX_FORMAT = 9  # bump when the layout or schema changes (8: folded columns transliterate ł, ø, ß; 9: transcripts)
FACETS_FORMAT = 4  # the first format whose `extracted` table can be reused
KEYS_FORMAT = 8  # the first format whose `extracted` keys fold ł, ø, ß: an older one's are folded again when reused
TRANSCRIPTS_FORMAT = 9  # the first format with transcripts and passages' times
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
HOMES = "homes.npy"  # each document's position as results show it: its own, or a linked transcript's talk's
PASSAGE_SPANS = "passage_spans.npy"  # each passage's start and end in seconds (NaN: not a transcript's)
LEXICAL_WINDOWS = "lexical-windows"  # BM25 over the transcripts' passages (windows), row i = passage FIRST_WINDOW + i
SCRATCH = ".scratch"  # in a generation being written: the build's working files, removed before the swap
ENCODER = "encoder"  # weights `talksearch adapt` trained for this index (manifest: "adapted"), in a sentence-transformers folder
REINDEX = "re-index with `talksearch index --rebuild`"



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
        from ..embed import WEIGHTS_FILE, Weights, WeightsCheck

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

    def size(self) -> int:
        """Bytes on disk, every file counted (files shared with another generation too)."""
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def carry_over(self, writer: Writer, *, replaced: set[str]) -> None:
        """Every file and folder of this generation but those named in `replaced`, shared into `writer`'s."""
        for item in self.path.iterdir():
            if item.name not in replaced:
                writer.keep(item, item.name)


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
            f"{manifest.get('talksearch_version')}); refresh it with `talksearch index` (its vectors are reused)"
        )
    from ..embed import DIMENSION, MODEL_NAME

    if (manifest.get("model"), manifest.get("dimension")) != (MODEL_NAME, DIMENSION):
        raise IndexDamagedError(
            f"{path}: built with model {manifest.get('model')} ({manifest.get('dimension')} dims), not {MODEL_NAME} "
            f"({DIMENSION} dims); {REINDEX}"
        )
    records = (f"{n}{end}" for n in (HITS, PASSAGE_TEXTS, SEEDS) for end in (".bin", ".offsets.npy"))
    stored = (DOCUMENT_VECTORS, DOCUMENT_IDS, PASSAGE_DOCS, FOREIGN, HOMES, PASSAGE_SPANS, *records)
    if manifest.get("adapted"):
        from ..embed import WEIGHTS_FILE

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
    # readers never write, attach, install or touch files outside the index; nor can `sql` turn this back on. Given
    # at connect, not set after: a second reader of the same file in one process shares DuckDB's instance, whose
    # configuration the first one locked
    try:
        con = duckdb.connect(str(generation.database), read_only=True,
                             config={"enable_external_access": False, "lock_configuration": True})
    except duckdb.Error as exc:
        raise IndexDamagedError(f"{generation.database}: {exc}; {REINDEX}") from exc
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


def live_name(root: Path) -> str | None:
    """The name of the live generation as CURRENT says now (None: no index), without checking it: cheap enough to
    ask before every request of a long-running reader."""
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def is_index(folder: str | os.PathLike) -> bool:
    """A talksearch index directory: its CURRENT pointer names one of its generations."""
    try:
        with open(os.path.join(folder, CURRENT), encoding="utf-8") as pointer:
            live = pointer.read(200).strip()
    except (OSError, UnicodeDecodeError):
        return False
    return live.startswith("gen-") and os.path.isdir(os.path.join(folder, live))


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

    @property
    def scratch(self) -> Path:
        """A folder for the build's working files (what spaCy's workers returned), made on first use; it goes with
        the generation if the run fails, and before the swap if it does not."""
        path = self.path / SCRATCH
        path.mkdir(exist_ok=True)
        return path

    @property
    def encoder(self) -> Path:
        """Where the encoder's weights `adapt` trained for this generation go (a sentence-transformers folder)."""
        return self.path / ENCODER

    def keep(self, source: Path, name: str) -> None:
        """`source` (a committed generation's file or folder) as this generation's `name`, shared (`share`)."""
        share(source, self.path / name)

    def passage_texts(self) -> RecordsWriter:
        """Writes each passage's text, by row."""
        return RecordsWriter(self.path / PASSAGE_TEXTS)

    def read_passage_texts(self) -> Records:
        """The passage texts written so far."""
        return Records.open(self.path / PASSAGE_TEXTS)

    def write_vectors(self, vectors: np.ndarray) -> None:
        """Exact search under `ann.EXACT_LIMIT` passages, IVF above it (`ann.py` has the measurements)."""
        import faiss

        from .. import ann

        index = ann.build(vectors) if len(vectors) else faiss.IndexFlatIP(vectors.shape[1])
        faiss.write_index(index, str(unshared(self.path / VECTORS)))

    def write_document_vectors(self, vectors: np.ndarray) -> None:
        import numpy as np

        np.save(unshared(self.path / DOCUMENT_VECTORS), vectors)

    def commit(self, manifest: dict) -> Path:
        shutil.rmtree(self.path / SCRATCH, ignore_errors=True)
        # a manifest carried over (adapt) keeps the version that read its records: refreshes trust what it skipped
        manifest = {"format": INDEX_FORMAT, "talksearch_version": __version__, **manifest,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"), "files": _sizes(self.path)}
        write_atomic(self.path / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        for path in self.path.rglob("*"):  # on disk before CURRENT can point at them, even after a power cut
            if path.is_file():
                fsync_file(path)
        for folder in [*(p for p in self.path.rglob("*") if p.is_dir()), self.path]:  # lexical/, encoder/, ...
            fsync_dir(folder)
        final = self.root / f"gen-{self.stamp}"
        os.rename(self.path, final)
        write_atomic(self.root / CURRENT, final.name + "\n")
        fsync_dir(self.root)
        remove_stale(self.root)
        return final


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


