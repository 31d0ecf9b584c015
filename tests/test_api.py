"""The public Python API."""

from __future__ import annotations

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
