"""Facets on real text: tools, entities and phrases per talk and note; `topics`; `--mentions`."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from talksearch import FilterWarning, facets, kb, topics
from talksearch.cli import app
from talksearch.search import Filters

from .conftest import DATA, build_index

runner = CliRunner()
HEPPER = "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper"  # the Celery note


def tools_of(base, doc_id: str) -> set[str]:
    return {k for k, in base.con.execute("select key from mentions where doc_id = ? and facet = 'tool'", [doc_id])
            .fetchall()}


def test_the_celery_note_names_celery_as_a_tool(demo):
    assert "celery" in tools_of(demo, HEPPER)
    entities = demo.con.execute("select key from mentions where doc_id = ? and facet = 'entity'", [HEPPER]).fetchall()
    assert ("celery",) not in entities  # a tool, not an ORG


def test_a_notes_detail_lists_its_tools(demo):
    assert "Celery" in [term for term, _ in demo.talk(HEPPER).facets["tool"]]


def test_show_lists_a_notes_tools(demo_index):  # no KnowledgeBase open: DuckDB allows one configuration per file
    result = runner.invoke(app, ["show", HEPPER, "--index-dir", str(demo_index)])
    assert result.exit_code == 0
    assert "tools" in result.stdout and "Celery" in result.stdout.split("tools", 1)[1]


def test_the_bundled_gazetteer_knows_python_tools_and_not_english_words():
    known = {t.key: t for t in facets.bundled()}
    for tool in ("celery", "django", "fastapi", "pytest", "numpy", "duckdb", "spacy"):
        assert tool in known, tool
    for word in ("testing", "web", "data", "security", "europython", "pycon"):
        assert word not in known, word
    assert known["python"].cased  # an English word: only "Python" counts, and "go" is never Go


def test_a_collections_own_tools_come_from_its_capitalised_terms_and_tags(subset):
    tools = {k for k, in subset.con.execute("select distinct key from mentions where facet = 'tool'").fetchall()}
    assert {"django", "fastapi", "cpython", "pydantic"} <= tools
    speakers = {w for name, in subset.con.execute("select folded from speakers").fetchall() for w in name.split()}
    assert not {t for t in tools if t in speakers and len(t) > 3} - {k.key for k in facets.bundled()}


def test_tool_matching_is_case_blind_except_for_english_words():
    gazetteer = facets.Gazetteer([facets.Tool("celery", "Celery", cased=False), facets.Tool("go", "Go", cased=True),
                                  facets.Tool("scikit learn", "scikit-learn", cased=False)])
    found = gazetteer.find("celery retries, Celery beat; go and see. Go channels with scikit-learn", ["Go 1.21"])
    assert found == {"celery": 2, "go": 1, "scikit learn": 1}


def test_europython_2024s_characteristic_tools_appear_there(subset):
    found = subset.topics(event="europython-2024", n=8)
    tools = found.facets["tool"]
    assert len(tools) >= 3 and found.documents < found.total
    texts = [f"{t} {x}".lower() for t, x in subset.con.execute(
        "select title, coalesce(text, '') from talks where event = 'europython-2024'").fetchall()]
    for tool in tools:
        assert tool.share > tool.overall  # over-represented in the slice, not merely frequent
        assert sum(tool.term.lower() in text for text in texts) >= 2, tool


def test_characteristic_prefers_over_represented_to_frequent():
    # (facet, key, term, documents in the slice of 100, documents overall of 1000)
    rows = [("tool", "python", "Python", 60, 600), ("tool", "polars", "Polars", 12, 15),
            ("tool", "django", "Django", 5, 200)]
    best = topics.characteristic(rows, 100, 1000, n=5)["tool"]
    assert [c.key for c in best] == ["polars"]


def test_topics_of_an_empty_slice_is_empty_not_an_error(subset):
    with pytest.warns(FilterWarning, match="^no event matches 'nowhere-con'"):
        topics = subset.topics(event="nowhere-con")
    assert (topics.documents, topics.total) == (0, len(subset.searcher.position))
    assert all(terms == [] for terms in topics.facets.values()) and len(topics.to_frame()) == 0


def test_topics_cli_json(subset_index):
    result = runner.invoke(app, ["topics", "--event", "europython 2023", "-n", "3", "--json",
                                 "--index-dir", str(subset_index)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["facets"]) == {"tool", "entity", "phrase"} and data["documents"] < data["total"]
    assert all(len(terms) <= 3 for terms in data["facets"].values())
    assert set(data["facets"]["tool"][0]) == {"facet", "term", "key", "documents", "share", "overall", "score"}


def test_mentions_filters_to_talks_that_name_the_tool(subset):
    hits = subset.query("building web applications", k=10, filters=Filters(mentions=("Django",)))
    assert len(hits) >= 3
    for hit in hits:
        assert "django" in tools_of(subset, hit.id)
    unfiltered = subset.query("building web applications", k=10)
    assert [h.id for h in hits] != [h.id for h in unfiltered]


def test_facets_are_incremental_and_equal_a_full_build(subset_index, pyvideo_subset, standin, tmp_path):
    """Index one event, then add the other: the same facets as indexing both at once (facets do not depend on the
    vectors: the stand-in encoder embeds here, the real one embedded subset_index)."""
    first = tmp_path / "pyvideo"
    shutil.copytree(pyvideo_subset / "europython-2023", first / "europython-2023")
    root = tmp_path / "index"
    build_index(root, [first, DATA], standin)
    shutil.copytree(pyvideo_subset / "europython-2024", first / "europython-2024")
    summary = build_index(root, [], standin)
    assert summary.added["talks"] > 100

    def table(path, sql):
        from talksearch import store

        con = store.connect(store.current(path))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    new = table(root, "select count(*) from passages where doc_id like 'europython-2024/%'")[0][0]
    assert summary.embedded <= new < summary.passages  # only the new event's talks were embedded
    sql = 'select doc_id, facet, label, key, term, "count" from mentions order by all'
    rows = [(doc_id.replace(str(pyvideo_subset), "X").replace(str(first), "X"), *rest)
            for doc_id, *rest in table(root, sql)]
    expected = [(doc_id.replace(str(pyvideo_subset), "X"), *rest) for doc_id, *rest in table(subset_index, sql)]
    assert rows == expected


def _mentions_and_gazetteer(root) -> tuple[list[tuple], str]:
    from talksearch import kb, store

    with kb.open(root) as base:  # no query: no encoder
        rows = [tuple(row) for row in base.con.execute("select * from mentions order by all").fetchall()]
    return rows, store.current(root).manifest["gazetteer"]


def test_a_refresh_matches_tools_in_changed_documents_only_and_writes_what_a_full_build_does(tmp_path, standin,
                                                                                             monkeypatch):
    source = tmp_path / "talks"
    shutil.copytree(DATA, source)
    root = tmp_path / "index"
    build_index(root, [source], standin)
    _, before = _mentions_and_gazetteer(root)
    (source / "notes.md").write_text("# Lunch chat\n\n- moved our Celery workers to Django 5\n- [ ] try pytest-xdist\n")
    matched = []
    mentions = facets.mentions
    monkeypatch.setattr(facets, "mentions", lambda *args: matched.append(args[1]) or mentions(*args))
    summary = build_index(root, [], standin)
    refreshed, after = _mentions_and_gazetteer(root)
    assert summary.added == {"talks": 0, "notes": 1, "transcripts": 0} and after == before  # the same tools: the test's premise
    assert matched == ["Lunch chat\n- moved our Celery workers to Django 5\n- [ ] try pytest-xdist"]
    assert {"celery", "django"} <= {key for doc, _, facet, _, key, *_ in refreshed if facet == "tool" and "notes.md" in doc}
    whole = tmp_path / "whole"
    build_index(whole, [source], standin)
    assert _mentions_and_gazetteer(whole) == (refreshed, after)


def test_a_refresh_with_other_tools_matches_every_document_again(tmp_path, standin, monkeypatch):
    source = tmp_path / "talks"
    shutil.copytree(DATA, source)
    root = tmp_path / "index"
    build_index(root, [source], standin)
    (source / "notes.md").write_text("# Lunch chat\n\n- Hypercorn or Uvicorn?\n")
    known = facets.bundled()  # a new release's gazetteer: a word of the Celery note becomes a tool
    monkeypatch.setattr(facets, "bundled", lambda: [*known, facets.Tool("idempotent", "idempotent", cased=False)])
    matched = []
    mentions = facets.mentions
    monkeypatch.setattr(facets, "mentions", lambda *args: matched.append(args[1]) or mentions(*args))
    build_index(root, [], standin)
    with kb.open(root, embedder=standin) as base:
        assert len(matched) == base.con.execute("select count(*) from documents").fetchone()[0]
        assert "idempotent" in tools_of(base, HEPPER)
    whole = tmp_path / "whole"
    build_index(whole, [source], standin)
    assert _mentions_and_gazetteer(whole) == _mentions_and_gazetteer(root)
