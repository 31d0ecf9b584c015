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


# -- transcripts: PyBay 2021 with real Whisper transcripts (tests/test_transcripts.py, the explore notebook) ------

TRANSCRIPTS = CORPUS.parent / "pyvideo-transcripts-dev.tar.gz"
LEFT_OUT = ("Polyglot-Design-Patterns", "Python-Typing", "Ray-Tune", "Supercharge")  # 12 of PyBay's 16 kept


def _timed(first: str, words: list[tuple[str, str]]) -> str:
    """A rolling caption's new line: its first word, then each word after its time."""
    return first + "".join(f"<{at}><c> {word}</c>" for at, word in words)


ROLLING = "\n".join([
    "WEBVTT", "Kind: captions", "Language: en", "",
    "00:00:00.000 --> 00:00:02.990 align:start position:0%", " ",
    _timed("so", [("00:00:00.400", "today"), ("00:00:00.800", "we"), ("00:00:01.100", "run"), ("00:00:01.500", "a"),
                  ("00:00:01.700", "flask"), ("00:00:02.100", "app")]), "",
    "00:00:02.990 --> 00:00:03.000 align:start position:0%", "so today we run a flask app", " ", "",
    "00:00:03.000 --> 00:00:06.990 align:start position:0%", "so today we run a flask app",
    _timed("and", [("00:00:03.400", "a"), ("00:00:03.600", "golang"), ("00:00:04.100", "service"),
                   ("00:00:04.600", "side"), ("00:00:05.000", "by"), ("00:00:05.300", "side")]), "",
    "00:00:06.990 --> 00:00:07.000 align:start position:0%", "and a golang service side by side", " ", "",
    "00:00:07.000 --> 00:00:11.000 align:start position:0%", "and a golang service side by side",
    _timed("from", [("00:00:07.500", "one"), ("00:00:07.900", "json"), ("00:00:08.300", "configuration"),
                    ("00:00:09.000", "endpoint")]), "",
])

MEETUP = """1
00:00:00,000 --> 00:00:04,000
Welcome to the Thursday meetup, tonight is about baking with Python.

2
00:00:04,000 --> 00:00:09,500
My sourdough starter logs its hydration and temperature to a Raspberry Pi every ten minutes.

3
00:00:09,500 --> 00:00:15,000
A small pandas script tells me when the starter has doubled and the dough is ready to shape.
""" + "".join(f"""
{n}
00:00:{15 + 2 * (n - 4):02d},000 --> 00:00:{17 + 2 * (n - 4):02d},000
Thank you for watching.
""" for n in range(4, 10))


@pytest.fixture(scope="session")
def heard_sources(tmp_path_factory) -> tuple[Path, Path]:
    """(the catalog folder, the transcripts folder)."""
    root = tmp_path_factory.mktemp("heard")
    catalog = unpack(root, ("pybay-2021/",))
    folder = root / "transcripts"
    with tarfile.open(TRANSCRIPTS) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and "/pybay-2021/" in m.name
                   and not any(part in m.name for part in LEFT_OUT)]
        tar.extractall(root / "unpacked", members=members, filter="data")
    shutil.copytree(root / "unpacked" / "pyvideo-transcripts", folder)
    originals = folder / "pybay-2021" / "originals"
    shutil.copy(originals / "Descriptors_-Why-they-are-like-Ninjas.srt", folder / "pybay-2021")  # "reviewed"
    (folder / "youtube").mkdir()
    (folder / "youtube" / "NGINX Unit polyglot apps [6Dxk6mr_6Ts].en.vtt").write_text(ROLLING, encoding="utf-8")
    (folder / "meetup-2024-baking.srt").write_text(MEETUP, encoding="utf-8")
    return catalog, folder


@pytest.fixture(scope="session")
def heard_index(tmp_path_factory, heard_sources, embedder) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("heard-index") / "index"
    summary = build_index(root, list(heard_sources), embedder)
    return root, summary
