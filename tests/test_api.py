"""The public Python API."""

from __future__ import annotations

import pytest

import talksearch


def test_public_names_are_pinned():
    assert sorted(talksearch.__all__) == sorted([
        "AmbiguousTalkError", "Detail", "FilterWarning", "Filters", "Hit", "IndexDamagedError", "IndexLockedError",
        "IndexMissingError", "IndexReplacedError",
        "InputError", "Kind", "KnowledgeBase", "ModelError", "NoSourcesError", "Note", "Recording", "Talk",
        "TalkNotFoundError", "TalkRecord", "TalksearchError", "Todo", "Topics", "UsageError", "__version__", "open",
    ])
    assert all(hasattr(talksearch, name) for name in talksearch.__all__)


def test_open_is_a_context_manager_returning_typed_records(demo_index, embedder):
    with talksearch.open(demo_index, embedder=embedder) as kb:
        hits = kb.query("uuid v7", k=2)
        assert isinstance(hits[0], talksearch.Hit) and hits[0].kind is talksearch.Kind.NOTE
        frame = kb.to_frame(hits)
        assert list(frame["id"]) == [h.id for h in hits]
        assert list(frame.columns[:4]) == ["id", "kind", "title", "speakers"]
        detail = kb.talk(hits[0].id)
        assert isinstance(detail, talksearch.Detail)
        assert kb.sql("select count(*) as n from todos")["n"][0] == 4


def test_a_frame_of_hits_has_the_same_columns_and_types_with_talks_notes_or_no_hits(demo):
    mixed = demo.to_frame(demo.query("uuid v7", k=5))
    assert set(mixed["kind"]) == {"talk", "note"}
    empty = demo.to_frame([])
    assert list(empty.columns) == list(mixed.columns) and len(empty) == 0
    assert str(mixed["line"].dtype) == str(empty["line"].dtype) == "Int64"
    talks, notes = mixed[mixed["kind"] == "talk"], mixed[mixed["kind"] == "note"]
    assert talks["line"].isna().all() and notes["line"].notna().all()
    assert all(todos == () for todos in talks["todos"])


def test_filters_take_one_term_as_a_string_and_refuse_an_unknown_kind(demo):
    one = [h.id for h in demo.query("web", k=5, filters=talksearch.Filters(mentions="django"))]
    assert one and one == [h.id for h in demo.query("web", k=5, filters=talksearch.Filters(mentions=("django",)))]
    assert one == [h.id for h in demo.query("web", k=5, filters=talksearch.Filters(mentions=["django"]))]
    with pytest.raises(talksearch.UsageError) as refused:
        talksearch.Filters(kind="video")
    assert str(refused.value) == "kind must be talk, note or transcript, not 'video'"


def test_a_closed_knowledge_base_refuses_every_call_in_one_way(demo_index, embedder):
    from talksearch.errors import UsageError

    base = talksearch.open(demo_index, embedder=embedder)
    base.query("celery", k=1, filters=talksearch.Filters(kind="note"))  # DuckDB opened
    base.close()
    calls = [lambda: base.query("celery"), lambda: base.query("celery", filters=talksearch.Filters(since=2020)),
             lambda: base.related("Zero Trust APIs with Python"), lambda: base.sql("select 1"), base.todos, base.stats,
             lambda: base.con]
    for call in calls:
        with pytest.raises(UsageError, match=r"^this KnowledgeBase is closed: open the index again \(talksearch.open\)$"):
            call()


def test_one_knowledge_base_serves_two_threads(demo_index, embedder):
    from concurrent.futures import ThreadPoolExecutor

    def calls(base):
        return ([h.id for h in base.query("security", k=5, filters=talksearch.Filters(kind="talk", since=2020))],
                [h.id for h in base.related("Zero Trust APIs with Python", k=3)],
                base.sql("select count(*) as n from notes")["n"].tolist(), len(base.todos()))

    with talksearch.open(demo_index, embedder=embedder) as base:
        expected = calls(base)
    with talksearch.open(demo_index, embedder=embedder) as base, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: calls(base), range(60)))  # DuckDB's one connection, the searcher's caches
    assert expected[0] and results == [expected] * 60


def test_a_knowledge_base_open_across_two_refreshes_says_to_open_it_again(tmp_path, standin):
    import shutil

    from talksearch.errors import IndexReplacedError

    from .conftest import DATA, build_index

    source = tmp_path / "talks"
    shutil.copytree(DATA, source)
    root = tmp_path / "index"
    build_index(root, [source], standin)
    base = talksearch.open(root, embedder=standin)
    for n in range(2):  # a refresh keeps the generation before it, not the one before that
        (source / f"new-{n}.md").write_text(f"# Meetup {n}\n\n- a talk about sqlite {n}\n")
        build_index(root, [], standin)
    with pytest.raises(IndexReplacedError, match=r"^\S+/gen-\S+: replaced by a later `talksearch index` run; "
                                                 r"open the index again$"):
        base.sql("select count(*) from notes")
    base.close()
    with talksearch.open(root, embedder=standin) as again:
        assert again.sql("select count(*) as n from notes")["n"].tolist() == [9]


@pytest.mark.parametrize(("call", "message"), [
    (lambda kb: talksearch.Filters(since="abc"), "since must be a year such as 2024, not 'abc'"),
    (lambda kb: talksearch.Filters(until=24), "until must be a year such as 2024, not 24"),
    (lambda kb: talksearch.Filters(since=2025, until=2020), "since 2025 is after until 2020: no talk could match"),
    (lambda kb: talksearch.Filters(event=2024), "event must be a string, not 2024"),
    (lambda kb: talksearch.Filters(mentions=["celery", 3]), "mentions must be strings, not 3"),
    (lambda kb: kb.query(123), "text must be a string, not 123"),
    (lambda kb: kb.query("celery", k="5"), "k must be an integer of at least 1, not '5'"),
    (lambda kb: kb.query("celery", k=0), "k must be an integer of at least 1, not 0"),
    (lambda kb: kb.query("celery", offset=-1), "offset must be an integer of at least 0, not -1"),
    (lambda kb: kb.related("Zero Trust APIs with Python", k=2.0), "k must be an integer of at least 1, not 2.0"),
    (lambda kb: kb.related("Zero Trust APIs with Python", diversity="0.3"),
     "diversity must be a number from 0 up to (not including) 1, not '0.3'"),
    (lambda kb: kb.related(42), "a talk or note is named by a string (an id, a unique id prefix or a title), not 42"),
    (lambda kb: kb.talk(None), "a talk or note is named by a string (an id, a unique id prefix or a title), not None"),
    (lambda kb: kb.topics(n=0), "n must be an integer of at least 1, not 0"),
])
def test_arguments_of_the_wrong_type_are_one_usage_error_in_the_apis_terms(demo, call, message):
    from talksearch.errors import UsageError

    with pytest.raises(UsageError) as raised:
        call(demo)
    assert str(raised.value) == message


def test_one_id_as_a_string_is_that_id(demo):
    note = demo.query("celery retries", k=1)[0].id
    assert demo.topics(ids=note).documents == 1  # one id as a string: that id, not its letters


def test_a_notes_event_is_the_first_line_of_a_long_preamble(tmp_path, standin):
    from .conftest import build_index

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "flaskcon.md").write_text("David Lord — FlaskCon 2024\n\nRoom B, after lunch.\n- [ ] upload these notes\n\n"
                                       "## OpenTelemetry for Flask\n\n- the OTLP exporter batches spans\n")
    build_index(tmp_path / "index", [notes], standin)
    with talksearch.open(tmp_path / "index", embedder=standin) as base:
        [hit] = base.query("OTLP exporter")  # the one note: the stand-in's vectors choose nothing
        assert hit.event == "David Lord — FlaskCon 2024"
        assert "upload these notes" in base.talk(hit.id).fields["context"]  # `show` keeps the whole preamble
