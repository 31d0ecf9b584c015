"""Ranking and lookups on real text: the demo collection and two real EuroPython events."""

from __future__ import annotations

import json
import re
import warnings

import pytest

import talksearch
from talksearch.errors import AmbiguousTalkError, FilterWarning, TalkNotFoundError, UsageError
from talksearch.records import Kind
from talksearch.search import Filters, Query, as_written, parse_query

from .conftest import build_index, unpack

HEPPER = "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper"
UUID = "note:004_7fcc6484864bb2bb.txt#talk-3-uuid"
SECURITY = "note:004_7fcc6484864bb2bb.txt#talk-6-security-python-web-applications"
EVENT_SOURCING = "europython-2024/event-sourcing-in-production-borjan-tchakaloff"
ZERO_TRUST = "europython-2024/zero-trust-apis-with-python-jose-haro-peralta"


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("celery retries", HEPPER),
        ("uuid v7", UUID),
        ("running slow jobs outside the web request", HEPPER),
        ("monotonic identifiers for database rows", UUID),
        ("selling a rewrite to management", "europython-2024/how-to-sell-a-big-refactor-or-rewrite-to-the-business"),
        ("find unused functions in my codebase", "europython-2024/deadcode-a-tool-to-find-and-fix-unused-dead-python-code"),
    ],
)
def test_demo_query_ranks_the_right_item_first(demo, query, first):
    assert demo.query(query, k=3)[0].id == first


def test_hit_carries_the_matching_passage_and_note_position(demo):
    hit = demo.query("celery retries", k=1)[0]
    assert hit.kind is Kind.NOTE
    assert hit.title == "2. Talk: Daniel Hepper"
    assert (hit.file, hit.line) == ("004_7fcc6484864bb2bb.txt", 31)
    assert "Retries" in hit.snippet


def test_note_hit_lists_its_todos(demo):
    hit = next(h for h in demo.query("spacy prodigy annotation", k=5) if h.title.startswith("Talk 1"))
    assert [t.text for t in hit.todos] == [
        "check prodigy from the same as spacy",
        "real-time commodities trading insights by extracting structured attributes",
        "high-security environments",
        "used LLM during annotation",
    ]
    assert not any(t.done for t in hit.todos)


def test_empty_headings_are_found_by_title(demo):
    assert demo.query("Django as an AI orchestrator", k=1)[0].id.endswith("#talk-5-django-as-an-ai-orchestrator")
    assert demo.query("25 microservices to one async modulith", k=1)[0].id.endswith(
        "#talk-7-from-25-microservices-to-1-async-modulith")


def test_related_zero_trust_finds_the_security_note(demo):
    related = demo.related("Zero Trust APIs with Python", k=3)
    assert related[0].id == SECURITY
    assert all(hit.id != "europython-2024/zero-trust-apis-with-python" for hit in related)


def test_related_never_returns_the_talk_itself(demo):
    ids = [hit.id for hit in demo.related("europython-2024/event-sourcing", k=20)]
    assert "europython-2024/event-sourcing-in-production" not in ids
    assert len(ids) == 15  # every other talk and note of the demo


def test_filters_apply_before_the_cut(demo):
    talks = demo.query("python", k=9, filters=Filters(kind="talk"))
    assert len(talks) == 9 and {h.kind for h in talks} == {Kind.TALK}
    notes = demo.query("python", k=7, filters=Filters(kind="note"))
    assert len(notes) == 7 and {h.kind for h in notes} == {Kind.NOTE}


@pytest.mark.parametrize("speaker", ["Špilka", "spilka", "SPILKA", "Marian Spilka"])
def test_speaker_filter_folds_case_and_accents(demo, speaker):
    hits = demo.query("data engineering", k=5, filters=Filters(speaker=speaker))
    assert [h.speakers for h in hits] == [("Marian Špilka",)]


def test_date_filter_leaves_out_undated_notes(demo):
    hits = demo.query("security", k=20, filters=Filters(since=2024))
    assert hits and all(h.kind is Kind.TALK for h in hits)
    assert demo.query("security", k=20, filters=Filters(until=2023)) == []


def test_event_filter_matches_slug_or_title(demo):
    by_title = demo.query("security", k=20, filters=Filters(event="EuroPython 2024"))
    by_slug = demo.query("security", k=20, filters=Filters(event="europython-2024"))
    assert [h.id for h in by_title] == [h.id for h in by_slug]
    assert len(by_title) == 9
    notes = demo.query("security", k=20, filters=Filters(event="pyconweb"))
    assert {h.kind for h in notes} == {Kind.NOTE} and len(notes) == 7


def test_resolve_by_prefix_title_and_ambiguity(demo):
    assert demo.resolve("europython-2024/event-sourcing") == "europython-2024/event-sourcing-in-production"
    assert demo.resolve("event sourcing in production") == "europython-2024/event-sourcing-in-production"
    with pytest.raises(AmbiguousTalkError) as err:
        demo.resolve("europython-2024/")
    assert str(err.value) == "'europython-2024/' matches 9 talks or notes (showing 8 of 9); give one of these ids:"
    with pytest.raises(TalkNotFoundError) as missing:
        demo.resolve("quantum knitting")
    assert str(missing.value) == (
        "no talk or note matches 'quantum knitting'; find its id with `talksearch query 'quantum knitting'`")


# -- a real pyvideo subset, merged with the demo listing ------------------------------------------------------------


def test_listing_and_pyvideo_merge_into_one_talk(subset):
    hits = subset.query("event sourcing in production", k=10, filters=Filters(kind="talk"))
    matching = [h for h in hits if h.title == "Event Sourcing in production"]
    assert [h.id for h in matching] == [EVENT_SOURCING]
    detail = subset.talk(EVENT_SOURCING)
    assert sorted(s["format"] for s in detail.sources) == ["listing", "pyvideo"]
    assert detail.fields["room"] == "South Hall 2A"
    assert detail.fields["date"] == "2024-07-10"


def test_all_nine_listing_talks_merge(subset):
    rows = subset.sql("select talk_id, count(*) n from talk_sources group by 1 having n > 1")
    assert len(rows) == 9
    assert not subset.sql("select * from talks where id like 'europython-2024/%' and id not in "
                          "(select record_id from talk_sources where format = 'pyvideo')").shape[0]


def test_subset_query_finds_real_talks(subset):
    top = subset.query("Rust extensions for Python with PyO3", k=3, filters=Filters(kind="talk"))
    assert any("pyo3" in h.title.lower() for h in top)


def test_note_links_to_the_talk_it_names(subset):
    # the notes name Daniel Hepper and a Celery talk; no EuroPython 2023/2024 talk is his, so no link
    detail = subset.talk(HEPPER)
    assert detail.notes == ()


# -- query syntax ---------------------------------------------------------------------------------------------------


def test_quoted_phrase_must_appear(demo):
    hits = demo.query('"sql injection" security', k=10)
    assert [h.id for h in hits] == ["europython-2024/zero-trust-apis-with-python"]


def test_minus_word_excludes(demo):
    with_api = {h.id for h in demo.query("security", k=16)}
    without = {h.id for h in demo.query("security -api", k=16)}
    assert "europython-2024/zero-trust-apis-with-python" in with_api - without
    assert SECURITY in with_api - without  # its text says "API Key"
    assert without and without < with_api


def test_parse_query():
    from talksearch.search import Query, parse_query

    assert parse_query('"Event Sourcing" -django production') == Query(
        "Event Sourcing production", ("Event Sourcing",), ("django",))
    assert parse_query("c-extensions -") == Query("c-extensions -", (), ())


def test_offset_pages_through_the_same_ranking(subset):
    six = [h.id for h in subset.query("web frameworks", k=6)]
    assert [h.id for h in subset.query("web frameworks", k=3, offset=3)] == six[3:]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])  # rrf fuses each ranker's best `depth`: not these
def test_pages_past_the_ranking_depth_go_on_without_gaps_or_repeats(subset, monkeypatch, mode):
    # the ranking keeps its best LEXICAL_DEPTH (1,000) documents: here 5, so that `-k 30` and `--offset 40` need more
    from talksearch.search import searcher

    whole = [h.id for h in subset.query("python", k=60, mode=mode)]
    monkeypatch.setattr(searcher, "LEXICAL_DEPTH", 5)
    assert len(whole) == 60 and [h.id for h in subset.query("python", k=30, mode=mode)] == whole[:30]
    assert [h.id for p in range(0, 60, 20) for h in subset.query("python", k=20, offset=p, mode=mode)] == whole


def test_sort_by_date_newest_first(subset):
    hits = subset.query("testing", k=20, sort="date", filters=Filters(kind="talk"))
    dates = [h.date for h in hits]
    assert len(hits) == 20 and None not in dates and dates == sorted(dates, reverse=True)
    by_relevance = [h.id for h in subset.query("testing", k=100, filters=Filters(kind="talk"))]
    assert {h.id for h in hits} <= set(by_relevance)  # the best matches, re-ordered


# a talk given at five events from 2012 to 2015, and a talk of April 2015 between its recordings' dates
HUMANS = ("pyohio-2012/python-for-humans", "pycon-ca-2012/python-for-humans-0", "pycon-us-2013/python-for-humans-1",
          "chipy/python-for-humans-3", "pycon-se-2015/python-for-humans-4")
TDD_2015 = "pycon-us-2015/a-beginners-guide-to-test-driven-development"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, standin):
    """Six talks indexed with the stand-in encoder: sorted by date, every one of them is in the pool, whatever the
    scores (these tests are about dates and recordings, not ranking)."""
    talks = [f"{event}/videos/{slug}.json" for event, slug in (i.split("/") for i in (*HUMANS, TDD_2015))]
    events = {i.split("/")[0] for i in (*HUMANS, TDD_2015)}
    source = unpack(tmp_path_factory.mktemp("recordings"), (*talks, *(f"{e}/category.json" for e in events)))
    root = tmp_path_factory.mktemp("recordings-index") / "index"
    build_index(root, [source], standin)
    with talksearch.open(root, embedder=standin) as base:
        yield base


def test_sort_by_date_places_a_talk_by_its_newest_recording_and_shows_that_one(recordings):
    hits = recordings.query("python for humans", sort="date")
    assert [(h.id, h.date) for h in hits] == [("pycon-se-2015/python-for-humans-4", "2015-05-25"),
                                              (TDD_2015, "2015-04-11")]
    assert sorted(r.id for r in hits[0].recordings) == sorted(HUMANS)
    by_recording = recordings.query("python for humans", sort="date", all_recordings=True)
    assert [h.date for h in by_recording] == ["2015-05-25", "2015-04-11", "2014-12-11", "2013-03-16", "2012-11-11",
                                              "2012-07-29"]


def test_sort_by_date_places_a_talk_by_its_newest_recording_the_filters_let_through(recordings):
    hits = recordings.query("python for humans", sort="date", filters=Filters(event="pycon us"))
    assert [(h.id, h.date) for h in hits] == [(TDD_2015, "2015-04-11"), ("pycon-us-2013/python-for-humans-1", "2013-03-16")]


def test_words_inside_quotes_are_never_exclusions_and_a_minus_before_quotes_excludes_the_phrase():
    assert parse_query('"rm -rf" build') == Query("rm -rf build", ("rm -rf",), ())
    assert parse_query('pasta -"dry run" -C#') == Query("pasta", (), ("dry run", "C#"))


def _talks_matching(pyvideo_subset, pattern: str) -> set[str]:
    """Ids of the subset's talks whose title or description matches `pattern` (case ignored)."""
    found = set()
    for path in pyvideo_subset.glob("*/videos/*.json"):
        talk = json.loads(path.read_text())
        if re.search(pattern, f"{talk['title']} {talk.get('description') or ''}", re.IGNORECASE):
            found.add(f"{path.parts[-3]}/{path.stem}")
    return found


def test_a_phrase_with_a_plus_or_hash_must_appear_as_written(subset, pyvideo_subset):
    written = _talks_matching(pyvideo_subset, r"(?<!\w)c\+\+")
    assert len(written) >= 5
    hits = subset.query('"C++"', k=50, filters=Filters(kind="talk"))
    assert {h.id for h in hits} == written  # not every talk with a lone "c", which is what folding leaves of it


def test_excluding_a_word_with_a_plus_keeps_what_only_shares_its_letters(subset, pyvideo_subset):
    cpp = _talks_matching(pyvideo_subset, r"(?<!\w)c\+\+")
    c_only = _talks_matching(pyvideo_subset, r"(?<![\w-])c(?![\w+#'-])") - cpp
    hits = {h.id for h in subset.query("C extensions -C++", k=100, filters=Filters(kind="talk"))}
    assert not hits & cpp
    assert hits & c_only


@pytest.mark.parametrize(("term", "text", "matches"), [
    ("C# developers", "C#\u00a0developers", True),  # a no-break space, common in text from HTML
    ("Python's C++", "Python\u2019s C++", True),  # a curly apostrophe
    ("C++ Rust", "C++, Rust", True),  # punctuation between words, ignored as folding ignores it
    ("Café C#", "cafe c#", True),
    ("C++", "Objective-C is C", False),
    ("C++", "C ++", False),  # what is joined in the term is joined in the text
    ("C#", "abc# notation", False),
    ("c++", "Notepad++", False),
])
def test_a_term_with_a_plus_or_hash_matches_text_as_folding_would_but_for_those(term, text, matches):
    import duckdb

    found = duckdb.connect().execute("select regexp_matches(strip_accents(?), ?, 'i')", [text, as_written(term)])
    assert found.fetchone()[0] is matches


def test_explain_shows_both_rankers(demo):
    hit = demo.query("uuid v7", k=1, explain=True)[0]
    assert hit.explain["dense_rank"] == 1 and hit.explain["lexical_rank"] == 1
    assert "v7" in hit.explain["passage"]


def test_related_other_speakers_and_diversity(subset):
    seed = "europython-2024/event-sourcing-in-production-borjan-tchakaloff"
    plain = subset.related(seed, k=10, diversity=0)
    assert all("Borjan Tchakaloff" not in h.speakers for h in subset.related(seed, k=10, other_speakers=True))
    varied = subset.related(seed, k=10, diversity=0.5)
    assert plain[0].id == varied[0].id  # the first pick is the most similar either way
    assert [h.id for h in plain] != [h.id for h in varied]


def test_related_on_real_talks_makes_sense(subset):
    near_es = [h.title.lower() for h in subset.related(EVENT_SOURCING, k=5)]
    assert sum(("event" in t and "driven" in t) or "domain" in t for t in near_es) >= 2, near_es
    near_zt = [h.title.lower() for h in subset.related("Zero Trust APIs with Python", k=5)]
    assert sum("secur" in t for t in near_zt) >= 3, near_zt


def test_refreshing_unchanged_sources_changes_nothing(subset_index, embedder, tmp_path):
    import shutil

    from .conftest import build_index

    copy = tmp_path / "copy"
    shutil.copytree(subset_index, copy)
    queries = ["celery retries", "event sourcing", "type hints for decorators"]
    with talksearch.open(copy, embedder=embedder) as before:
        expected = [[(h.id, round(h.score, 5)) for h in before.query(q, k=10)] for q in queries]
    summary = build_index(copy, [], embedder)
    nothing = {"talks": 0, "notes": 0, "transcripts": 0}
    assert summary.embedded == 0 and summary.added == summary.updated == summary.removed == nothing
    with talksearch.open(copy, embedder=embedder) as after:
        assert [[(h.id, round(h.score, 5)) for h in after.query(q, k=10)] for q in queries] == expected


def test_a_10000_character_query_is_answered(demo):
    query = ("how do celery retries interact with idempotent tasks and late acknowledgement " * 130)[:10_000]
    hits = demo.query(query, k=3)
    assert hits[0].id == HEPPER
    assert len(hits[0].snippet) < 300


@pytest.mark.parametrize("phrase", ["web application", "machine learning", "the", "of the", "c-extensions",
                                    "type hints", "zyxwvut python", "Python's"])
def test_phrase_filter_equals_a_scan_of_every_document(subset, phrase):
    # phrases are looked for only in documents holding all their terms (BM25 postings): same answer as a full scan
    from talksearch.normalize import fold

    allowed = subset.searcher.allowed(Filters(phrases=(phrase,)))
    scan = {pos for (pos,) in subset.searcher.con.execute(
        "select pos from documents where folded like ?", [f"% {fold(phrase)} %"]).fetchall()}
    assert allowed == scan
    assert phrase != "machine learning" or len(scan) > 10  # real text: the common phrase does match


def test_an_ambiguous_title_lists_the_closest_candidates_first(subset):
    with pytest.raises(AmbiguousTalkError) as found:
        subset.related("Lightning talks thursdy")  # a typo: no title holds it, three days' sessions are close
    titles = [candidate.title.lower() for candidate in found.value.candidates]
    assert titles[0].endswith("lightning talks thursday") and any("friday" in t for t in titles[1:])


LANGA = ["europython-2023/cpython-core-developer-panel",
         "europython-2023/games-of-life-generative-art-in-python-lukasz-langa",
         "europython-2024/europython-2024-cpython-core-development-panel",
         "europython-2024/live-coding-music-with-pyrepl-in-python-3-13-lukasz-langa"]


@pytest.mark.parametrize("speaker", ["Lukasz Langa", "Łukasz Langa", "LUKASZ", "łukasz langa"])
def test_speaker_filter_folds_letters_unicode_does_not_decompose(subset, speaker):
    hits = subset.query("python", k=20, filters=Filters(speaker=speaker, kind="talk"), all_recordings=True)
    assert sorted(h.id for h in hits) == LANGA


def test_phrases_and_words_fold_letters_unicode_does_not_decompose(subset):
    hits = subset.query('"Kacper Lukawski" embeddings', k=5)
    assert [(h.id, h.speakers) for h in hits] == [
        ("europython-2024/deconstructing-the-text-embedding-models-kacper-lukawski", ("Kacper Łukawski",))]
    rokita = "europython-2024/multimedia-processing-with-ffmpeg-and-python-michal-rokita"
    assert subset.query("multimedia processing with ffmpeg", k=1)[0].id == rokita
    assert rokita not in [h.id for h in subset.query("multimedia processing with ffmpeg -Rokita", k=20)]


@pytest.mark.parametrize(("filters", "message"), [
    (Filters(event="EuroPython 2022"), "no event matches 'EuroPython 2022'; did you mean EuroPython 2023 "
                                       "(europython-2023) or EuroPython 2024 (europython-2024)?"),
    (Filters(event="PyCon US"), "no event matches 'PyCon US'"),  # nothing close: nothing named
    (Filters(speaker="Lukas Langa"), "no speaker matches 'Lukas Langa'; did you mean Łukasz Langa?"),
    (Filters(speaker="Peraltaa"), "no speaker matches 'Peraltaa'; did you mean Jose Haro Peralta?"),
    (Filters(lang="de"), "no talk is in language 'de'; the index has eng"),
    (Filters(mentions=("django", "pydantc")), "no tool, entity or phrase matches 'pydantc'; did you mean Pydantic?"),
])
def test_a_filter_value_that_matches_nothing_names_the_closest_known_values(subset, filters, message):
    with pytest.warns(FilterWarning) as caught:
        assert subset.query("python", filters=filters) == []
    assert [str(w.message) for w in caught] == [message]
    assert [str(w) for w in subset.unmatched(filters)] == [message]


def test_filters_that_each_match_but_not_together_warn_of_nothing(subset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert subset.query("python", filters=Filters(speaker="Łukasz Langa", event="europython-2023", since=2024)) == []
    miss = subset.unmatched(Filters(speaker="Lukas Langa", event="europython-2023"))
    assert [(m.filter, m.value, m.near) for m in miss] == [("speaker", "Lukas Langa", ("Łukasz Langa",))]


def test_filters_without_words_list_what_they_let_through_newest_first(subset):
    listed = subset.query("", filters=Filters(speaker="Lukasz Langa"), k=10)
    assert [(h.date, h.id) for h in listed] == [
        ("2024-07-12", "europython-2024/live-coding-music-with-pyrepl-in-python-3-13-lukasz-langa"),
        ("2024-07-10", "europython-2024/europython-2024-cpython-core-development-panel"),
        ("2023-07-20", "europython-2023/games-of-life-generative-art-in-python-lukasz-langa"),
        ("2023-07-19", "europython-2023/cpython-core-developer-panel")]
    assert [h.id for h in subset.query("", filters=Filters(speaker="Lukasz Langa"), k=2, offset=1)] == [
        h.id for h in listed[1:3]]
    assert [h.id for h in subset.query("-panel", filters=Filters(speaker="Lukasz Langa"))] == [
        listed[0].id, listed[2].id]  # only words to leave out: a listing too
    with pytest.raises(UsageError, match="^the query is empty: give some words to search for, or filters to list "
                                         "what they let through$"):
        subset.query("  ")


def test_an_ambiguous_title_names_each_candidates_speakers_event_and_date(subset):
    with pytest.raises(AmbiguousTalkError) as found:
        subset.talk("Lightning talks")
    friday = [c for c in found.value.candidates if c.id == "europython-2024/europython-2024-lightning-talks-friday"]
    assert [(c.title, c.speakers[:2], c.event, c.date) for c in friday] == [
        ("EuroPython 2024 — Lightning talks Friday", ("Sunkanya Mandal", "Miro Hrončok"), "EuroPython 2024", "2024-07-12")]


@pytest.mark.parametrize("url", ["https://www.youtube.com/watch?v=dK6HGcSb60Y", "https://youtu.be/dK6HGcSb60Y?t=30",
                                 "youtube.com/watch?v=dK6HGcSb60Y&t=60s", "https://www.youtube.com/embed/dK6HGcSb60Y"])
def test_show_and_related_take_a_talks_video_url_in_any_form(subset, url):
    assert subset.resolve(url) == "europython-2024/live-coding-music-with-pyrepl-in-python-3-13-lukasz-langa"
    assert "europython-2024/live-coding-music-with-pyrepl-in-python-3-13-lukasz-langa" not in [
        h.id for h in subset.related(url, k=5)]


def test_a_url_no_talk_has_is_not_found(subset):
    with pytest.raises(TalkNotFoundError) as missing:
        subset.resolve("https://youtu.be/notavideo00")
    assert str(missing.value) == ("no talk has the URL 'https://youtu.be/notavideo00'; find its id with "
                                  '`talksearch query "words from its title"`')
