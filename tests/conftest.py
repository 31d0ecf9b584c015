"""Shared fixtures: the real model once per session, the stand-in encoder, the demo index once per session (tests that
change an index copy it), the demo data indexed with the stand-in, a real pyvideo subset."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from talksearch import build, kb
from talksearch.embed import SentenceTransformerEmbedder

from .standin import StandInEmbedder

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpora" / "pyvideo-data.tar.gz"
SUBSET_EVENTS = ("europython-2023", "europython-2024")  # real events for end-to-end tests


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path, monkeypatch):
    """Every test gets its own default index directory; nothing touches ./indexes."""
    monkeypatch.setenv("TALKSEARCH_INDEX", str(tmp_path / "default-index"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real encoder, loaded once for the whole run."""
    model = SentenceTransformerEmbedder()
    model.embed(["warm up"])
    return model


@pytest.fixture(scope="session")
def standin() -> StandInEmbedder:
    """The deterministic stand-in encoder (tests/standin.py), for storage mechanics only. An index built with it is
    queried with it too (`kb.open(root, embedder=standin)`), never through the CLI, which embeds a query with the
    real weights; CLI commands that embed nothing (sql, show, sources, a refused or removing `index`) are fine."""
    return StandInEmbedder()


def build_index(root: Path, paths: list[Path], embedder, **options) -> build.Summary:
    return build.run(root, paths, embedder_factory=lambda weights: embedder, **options)


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory, embedder) -> Path:
    root = tmp_path_factory.mktemp("demo") / "index"
    build_index(root, [DATA], embedder)
    return root


@pytest.fixture(scope="session")
def standin_demo_index(tmp_path_factory, standin) -> Path:
    """data/ indexed once with the stand-in encoder; tests that change an index work on a copy (`copy_index`)."""
    root = tmp_path_factory.mktemp("standin-demo") / "index"
    build_index(root, [DATA], standin)
    return root


def copy_index(index: Path, root: Path) -> Path:
    """A copy of `index` at `root`, to change or damage: its sources are the same files."""
    shutil.copytree(index, root)
    return root


@pytest.fixture
def demo(demo_index, embedder):
    with kb.open(demo_index, embedder=embedder) as base:
        yield base


@pytest.fixture(scope="session")
def pyvideo_subset(tmp_path_factory) -> Path:
    """europython-2023 and -2024 unpacked from the real corpus."""
    return unpack(tmp_path_factory.mktemp("pyvideo"), tuple(f"{event}/" for event in SUBSET_EVENTS))


def unpack(target: Path, prefixes: tuple[str, ...]) -> Path:
    """The corpus' files and folders under `prefixes` (paths inside pyvideo-data/) unpacked in `target`."""
    if not CORPUS.is_file():
        pytest.fail(f"{CORPUS} is missing: the tests need ../shared beside the repo")
    prefixes = tuple(f"pyvideo-data/{prefix}" for prefix in prefixes)
    with tarfile.open(CORPUS) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefixes) and (m.isfile() or m.isdir())]
        tar.extractall(target, members=members, filter="data")
    return target / "pyvideo-data"


@pytest.fixture(scope="session")
def subset_index(tmp_path_factory, pyvideo_subset, embedder) -> Path:
    """The two real events plus the demo data, indexed once."""
    root = tmp_path_factory.mktemp("subset") / "index"
    build_index(root, [pyvideo_subset, DATA], embedder)
    return root


@pytest.fixture
def subset(subset_index, embedder):
    with kb.open(subset_index, embedder=embedder) as base:
        yield base


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A writable copy of data/, for tests that change sources."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target
