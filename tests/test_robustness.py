"""Interrupted and concurrent runs never damage the live index."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import talksearch
from talksearch import kb, store
from talksearch.cli import app

from .conftest import DATA, build_index, copy_index

runner = CliRunner()


# Storage mechanics: indexes here are built and queried with the stand-in encoder, except where a `talksearch index`
# process builds one (it loads the real encoder); only the ids a query returns before and after are compared.


@pytest.fixture
def live(tmp_path, standin_demo_index):
    """data/ indexed (with the stand-in encoder), for this test to change."""
    return copy_index(standin_demo_index, tmp_path / "index")


def answers(root, embedder) -> list[str]:
    with kb.open(root, embedder=embedder) as base:
        return [h.id for h in base.query("celery retries", k=5)]


def test_a_second_index_run_is_turned_away(live):
    with store.locked(live):
        result = runner.invoke(app, ["index", str(DATA), "--index-dir", str(live)])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {live}/: another `talksearch index` (or `adapt`) run is writing this index; "
                             "wait for it to finish\n")


def test_leftovers_of_a_killed_run_are_cleaned_up(live, standin):
    stale = live / ".tmp-20000101T000000-1-000000"
    (stale / "lexical").mkdir(parents=True)
    old_generation = (live / store.CURRENT).read_text().strip()
    build_index(live, [], standin, rebuild=True)  # a run that writes a generation
    build_index(live, [], standin, rebuild=True)  # and again: the first generation is now two runs old
    assert not stale.exists()
    assert not (live / old_generation).exists()
    assert len(list(live.glob("gen-*"))) == 2  # the live one and the previous one
    assert not list(live.glob(".tmp-*"))


def wait_for(pattern: str, root: Path, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until a path matching `pattern` exists under `root` (polled every 10 ms), while `proc` runs."""
    deadline = time.monotonic() + timeout
    while not any(root.glob(pattern)):
        assert proc.poll() is None, f"index ended (exit code {proc.returncode}) before writing {pattern}"
        assert time.monotonic() < deadline, f"no {pattern} after {timeout:.0f} s"
        time.sleep(0.01)


# killed while it splits and embeds (its scratch folder exists), or once the vectors are written: by what the run has
# written, not after a fixed delay, which a fast machine outran (the run had swapped its generation in)
@pytest.mark.parametrize(("sig", "stage"), [(signal.SIGKILL, f".tmp-*/{store.SCRATCH}"),
                                            (signal.SIGKILL, f".tmp-*/{store.VECTORS}"),
                                            (signal.SIGINT, f".tmp-*/{store.SCRATCH}")])
def test_killing_index_leaves_the_previous_index_answering(live, standin, sig, stage):
    before = answers(live, standin)
    pointer = (live / store.CURRENT).read_text()
    proc = subprocess.Popen([sys.executable, "-m", "talksearch", "index", "--rebuild", str(DATA), "--index-dir",
                             str(live)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(stage, live, proc)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and err.strip().splitlines()[-1] == "interrupted"
    else:
        assert proc.returncode == -sig
    assert (live / store.CURRENT).read_text() == pointer
    assert answers(live, standin) == before
    build_index(live, [], standin)  # the next run completes and cleans up
    assert answers(live, standin) == before
    assert not list(live.glob(".tmp-*"))


def test_queries_during_an_index_run_use_the_previous_index(live, standin):
    with kb.open(live, embedder=standin) as base:
        first = [h.id for h in base.query("uuid v7", k=3)]
        build_index(live, [DATA], standin, rebuild=True)  # swaps a new generation in underneath
        assert [h.id for h in base.query("uuid v7", k=3)] == first


def test_a_refresh_with_nothing_changed_keeps_the_generation_and_one_that_finds_a_change_writes_one(tmp_path, standin):
    source = tmp_path / "talks"
    shutil.copytree(DATA, source)
    root = tmp_path / "index"
    build_index(root, [source], standin)
    live = (root / store.CURRENT).read_text()
    stale = root / ".tmp-20000101T000000-1-000000"
    stale.mkdir()
    summary = build_index(root, [], standin)
    assert (summary.embedded, summary.unchanged, summary.changed) == (0, 2, 0)
    assert (root / store.CURRENT).read_text() == live and not stale.exists()
    (source / "broken.txt").write_bytes(b"\x00\x01\x02")  # a new unreadable file is news: it is listed as skipped
    summary = build_index(root, [], standin)
    assert summary.embedded == 0 and [s.path for s in summary.skipped] == [str(source / "broken.txt")]
    assert (root / store.CURRENT).read_text() != live
    with kb.open(root, embedder=standin) as base:
        assert list(base.sql("select path from skipped")["path"]) == [str(source / "broken.txt")]


def test_refresh_keeps_passages_of_identical_documents_once(tmp_path, standin):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "qa.md").write_text("# Day 1\n\n## Q&A\n\n- asked about retries\n\n## Q&A\n\n- asked about retries\n")
    root = tmp_path / "index"
    counts = [build_index(root, [notes] if i == 0 else [], standin).passages for i in range(4)]
    assert counts == [2, 2, 2, 2]
    with kb.open(root, embedder=standin) as base:
        ordinals = base.sql("select doc_id, list(ordinal order by ordinal) as o from passages group by 1 order by 1")
        assert [list(o) for o in ordinals["o"]] == [[1], [1]]


def test_metadata_written_in_slices_equals_one_insert(tmp_path, standin, standin_demo_index, monkeypatch):
    # rows go to DuckDB INSERT_ROWS at a time (memory); slices of 3 rows must give the very same tables
    from talksearch.store import tables as written

    monkeypatch.setattr(written, "INSERT_ROWS", 3)
    sliced = tmp_path / "index"
    build_index(sliced, [DATA], standin)
    tables = ["talks", "talk_sources", "speakers", "events", "notes", "todos", "mentions", "passages", "documents",
              "extracted", "skipped"]
    with kb.open(standin_demo_index) as whole, kb.open(sliced) as parts:
        for table in tables:
            query = f"select * from {table} order by all"
            expected, got = whole.sql(query), parts.sql(query)
            assert len(got) == len(expected) and len(got) > 0 or table == "skipped", table
            assert got.astype(str).equals(expected.astype(str)), table
            assert [str(t) for t in got.dtypes] == [str(t) for t in expected.dtypes], table
    # the stored fields (streamed a slice at a time) are the same bytes; the spill of the run is gone
    whole, parts = store.current(standin_demo_index).path, store.current(sliced).path
    for name in ("hits.bin", "hits.offsets.npy", "passages.bin", "passages.offsets.npy", "passage_docs.npy"):
        assert (parts / name).read_bytes() == (whole / name).read_bytes(), name
    assert sorted(p.name for p in parts.iterdir()) == sorted(p.name for p in whole.iterdir())
    assert not (parts / store.SCRATCH).exists()


def test_forked_work_returns_its_result_or_raises_its_error():
    # the gazetteer is built in a forked process: its result comes back, its error is raised here, its death named
    from talksearch import build
    from talksearch.errors import TalksearchError

    assert build._forked(lambda: {"tools": ["celery", "django"]}) == {"tools": ["celery", "django"]}

    def fails():
        raise ValueError("no tools today")

    with pytest.raises(ValueError, match="^no tools today$"):
        build._forked(fails)

    def dies():
        os._exit(3)

    with pytest.raises(TalksearchError, match=r"^dies: its worker process died \(exit code 3\)$"):
        build._forked(dies)

    # the child sees what it inherited frozen (its collections leave those pages shared); the parent, nothing
    assert build._forked(gc.get_freeze_count) > 10_000
    assert gc.get_freeze_count() == 0
    gc.freeze()  # an application that froze its own objects (a pre-forking server) keeps them frozen
    unfreeze, unfrozen = gc.unfreeze, []
    gc.unfreeze = lambda: unfrozen.append(True)  # (the count alone drops whenever a frozen object is freed)
    try:
        assert build._forked(lambda: "done") == "done"
        assert unfrozen == [] and gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze = unfreeze
        gc.unfreeze()


def test_the_gazetteer_reads_back_its_sources_as_written(tmp_path):
    # its forked process reads them from a file, not from the build's objects: nothing may change on the way
    from talksearch import build, facets
    from talksearch.records import Mention

    sources = [facets.Source("Zürich: «DuckDB» talk", "Uses Celery.\n\nAnd DuckDB — twice", "europython-2024", True,
                             ("celery", "duckdb")),
               facets.Source("My notes", "", None, False, ())]
    mentions = [[Mention("entity", "ORG", "celery", "Celery", 2), Mention("phrase", "PHRASE", "duck db", "Duck DB", 1)],
                []]
    spilled = build._SpilledSources.write(tmp_path / "sources", sources, mentions)
    assert list(spilled) == sources
    assert list(spilled) == sources  # iterated again, as Gazetteer.build does
    assert list(spilled.mentions()) == mentions


def test_sharing_a_generation_links_its_files_and_never_copies_over_one(tmp_path):
    source = tmp_path / "gen" / "lexical"
    source.mkdir(parents=True)
    (source / "vocab.txt").write_text("celery\n")
    store.share(source.parent, tmp_path / "next")
    assert (tmp_path / "next" / "lexical" / "vocab.txt").samefile(source / "vocab.txt")
    (tmp_path / "other").write_text("new")
    with pytest.raises(FileExistsError):
        store.share(tmp_path / "other", tmp_path / "next" / "lexical" / "vocab.txt")
    assert (source / "vocab.txt").read_text() == "celery\n"  # the shared file is left as it was


def test_a_carried_manifest_keeps_the_version_that_read_its_records(tmp_path):
    root = tmp_path / "index"
    with store.Writer(root) as writer:
        carried = writer.commit({"talksearch_version": "0.0.1", "created": "2020-01-01T00:00:00+00:00"})
    with store.Writer(root) as writer:
        fresh = writer.commit({})
    old, new = (json.loads((path / store.MANIFEST).read_text()) for path in (carried, fresh))
    assert (old["talksearch_version"], new["talksearch_version"]) == ("0.0.1", talksearch.__version__)
    assert old["format"] == new["format"] == store.INDEX_FORMAT and old["created"] > "2020-01-01T00:00:00+00:00"


def test_a_writer_never_writes_through_a_shared_file(tmp_path):
    import numpy as np

    root = tmp_path / "index"
    with store.Writer(root) as writer:
        store.tables.database(writer).close()
        writer.write_document_vectors(np.ones((2, 3), dtype=np.float32))
        with store.RecordsWriter(writer.path / store.PASSAGE_TEXTS) as out:
            out.append("Celery retries")
        live = writer.commit({})
    before = {p: p.read_bytes() for p in live.rglob("*") if p.is_file()}
    with store.Writer(root) as writer:
        for item in live.iterdir():
            store.share(item, writer.path / item.name)
        con = store.tables.database(writer)
        con.execute("insert into skipped values ('notes/empty.md', 'no text')")
        con.close()
        writer.write_document_vectors(np.zeros((2, 3), dtype=np.float32))
        with store.RecordsWriter(writer.path / store.PASSAGE_TEXTS) as out:
            out.append("RQ")
        writer.commit({})
    assert {p: p.read_bytes() for p in live.rglob("*") if p.is_file()} == before
