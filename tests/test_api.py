"""The public Python API."""

from __future__ import annotations

import pytest

import talksearch


def test_public_names_are_pinned():
    assert sorted(talksearch.__all__) == sorted([
        "AmbiguousTalkError", "Detail", "Filters", "Hit", "IndexDamagedError", "IndexLockedError", "IndexMissingError",
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
    assert str(refused.value) == "kind must be talk or note, not 'video'"
