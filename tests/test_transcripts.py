"""Transcripts in the index: linked to their talks, their windows searched, the moment that matched in each hit.

The index: PyBay 2021's catalog (16 talks) from the real corpus, 12 of its real Whisper transcripts from the
development set (unpacked at run time: never committed), a reviewed copy of one beside its original, a yt-dlp
auto-caption file (written here, in YouTube's rolling format) named by a talk's video id, and a recording of no
catalog talk with a Whisper loop in it.
"""

from __future__ import annotations

import json
import re

import pytest

from talksearch import kb
from talksearch.records import Kind
from talksearch.search import Filters

from .conftest import build_index, copy_index
from .test_fuzz import console

DATABASE_TALK = "pybay-2021/building-a-database-with-python"
POLYGLOT_TALK = "pybay-2021/polyglot-design-patterns-for-the-adventurous"

# yt-dlp --write-auto-subs: each cue repeats the line before and adds words with their times; 10 ms cues in between
@pytest.fixture
def heard(heard_index, embedder):
    with kb.open(heard_index[0], embedder=embedder) as base:
        yield base


def test_the_summary_counts_transcripts_unlinked_ones_and_what_was_left_out(heard_index):
    summary = heard_index[1]
    assert summary.added == {"talks": 16, "notes": 0, "transcripts": 14}  # 12 + yt-dlp + meetup; the copy is one
    assert summary.unlinked == 1
    assert summary.dropped["duplicate transcripts"] == 1
    # the meetup's "Thank you for watching." six times, kept once; and a real one: Whisper wrote the same Hebrew
    # word every 30 s through "Observable Python Applications" (90 cues, 2 kept)
    assert summary.dropped["repeated cues"] == 5 + 88
    assert summary.files == 16 + 15  # every file accounted for, the reviewed copy and its original too


def test_a_talk_is_found_by_what_was_said_and_lands_on_the_minute(heard):
    hits = heard.query("why connections to postgres are expensive and people put pgbouncer in front", k=3)
    assert hits[0].id == DATABASE_TALK
    moment = hits[0].moment
    assert moment.start <= 854 <= moment.end  # the cue "people put things like pgBouncer ..." starts at 14:14
    assert 20 <= moment.end - moment.start <= 120
    assert moment.url == f"https://www.youtube.com/watch?v=b9G6U5tt_qk&t={int(moment.start)}s"
    assert "pgBouncer" in moment.text
    assert hits[0].explain is None and hits[0].snippet  # the snippet is still the abstract's passage


def test_in_limits_the_search_to_one_kind_of_text(heard):
    question = "why connections to postgres are expensive and people put pgbouncer in front"
    assert heard.query(question, k=1, filters=Filters(within="transcript"))[0].id == DATABASE_TALK
    by_abstract = heard.query(question, k=16, filters=Filters(within="abstract"))
    assert all(hit.kind is Kind.TALK for hit in by_abstract)
    assert DATABASE_TALK not in [hit.id for hit in by_abstract[:1]]
    explained = heard.query(question, k=1, explain=True)[0].explain
    assert explained["dense_from"] == "transcript" and explained["lexical_from"] == "transcript"


def test_a_talk_without_a_transcript_has_no_moment(heard):
    hits = heard.query("Ray Tune distributed hyperparameter optimization", k=1)
    assert hits[0].id == "pybay-2021/ray-tune-distributed-hyperparameter-optimization-made-simple"
    assert hits[0].moment is None
    assert hits[0].to_dict()["moment"] is None


def test_yt_dlp_captions_link_by_video_id_and_read_each_word_once(heard):
    hits = heard.query("golang service beside a flask app from one json configuration", k=1)
    assert hits[0].id == POLYGLOT_TALK
    assert hits[0].moment.text.count("flask") == 1
    found = heard.transcript(POLYGLOT_TALK)
    words = " ".join(cue.text for cue in found.cues).split()
    assert words == ("so today we run a flask app and a golang service side by side from one json "
                     "configuration endpoint").split()
    assert found.video_id == "6Dxk6mr_6Ts" and found.language == "en"


def test_a_transcript_of_no_known_talk_is_its_own_item(heard):
    hits = heard.query("sourdough starter hydration raspberry pi", k=1)
    assert hits[0].kind is Kind.TRANSCRIPT
    assert hits[0].id == "transcript:meetup-2024-baking.srt"
    assert hits[0].title == "meetup 2024 baking"
    assert hits[0].moment.start == 0.0 and hits[0].moment.url is None
    assert heard.transcript("transcript:meetup-2024-baking.srt").dropped == (("repeated", 5),)
    only = heard.query("sourdough", k=5, filters=Filters(kind="transcript"))
    assert [hit.id for hit in only] == ["transcript:meetup-2024-baking.srt"]
    assert heard.query("sourdough", k=5, filters=Filters(event="pybay")) == [] or all(
        hit.kind is Kind.TALK for hit in heard.query("sourdough", k=5, filters=Filters(event="pybay")))


def test_show_lists_a_talks_transcript_files_and_the_reviewed_copy_wins(heard):
    info = heard.talk("Descriptors: Why they are like Ninjas")
    (transcript,) = info.transcripts
    name = "Descriptors_-Why-they-are-like-Ninjas.srt"
    assert not transcript["original"] and transcript["path"].endswith(f"/pybay-2021/{name}")
    assert len(transcript["files"]) == 2 and transcript["files"][1].endswith(f"/originals/{name}")
    assert transcript["cues"] > 50 and transcript["duration"] > 300


def test_cli_prints_the_moment_and_the_transcript_from_a_time(heard_index):
    where = ("--index-dir", str(heard_index[0]))
    code, out, _ = console("query", "pgbouncer in front of postgres", "-k", "1", *where)
    lines = out.splitlines()
    assert code == 0 and any(re.match(r"▶ 1[34]:\d\d  …?.*pgBouncer", line.strip()) for line in lines), out
    assert any(line.strip().startswith("https://www.youtube.com/watch?v=b9G6U5tt_qk&t=") for line in lines)
    as_json = json.loads(console("query", "pgbouncer in front of postgres", "-k", "1", "--json", *where)[1])
    assert set(as_json[0]["moment"]) == {"start", "end", "url", "text"}
    code, out, _ = console("transcript", DATABASE_TALK, "--at", "14:10", *where)
    printed = out.splitlines()
    assert code == 0 and printed[0] == "Building a Database with Python"
    first = printed[1].split()[0]
    assert "14:00" <= first <= "14:14", printed[1]  # the cue under way at 14:10, then on
    assert console("transcript", DATABASE_TALK, "--at", "soon", *where)[0] == 2
    code, _, err = console("transcript", "pybay-2021/ray-tune-distributed-hyperparameter-optimization-made-simple", *where)
    assert (code, err) == (2, "error: pybay-2021/ray-tune-distributed-hyperparameter-optimization-made-simple has no "
                              "transcript; `talksearch index` reads .srt and .vtt files\n")


def test_a_refresh_embeds_nothing_and_a_later_catalog_links_the_transcript(heard_index, heard_sources, tmp_path,
                                                                         embedder):
    root = copy_index(heard_index[0], tmp_path / "index")
    again = build_index(root, [], embedder)
    assert again.embedded == 0 and again.added == {"talks": 0, "notes": 0, "transcripts": 0}
    listing = tmp_path / "meetups.txt"
    listing.write_text("List of videos\n\nMeetup 2024 Baking — Ann Baker\n\n[Python Bakers — Back Room on 2024-03-07] "
                       "Meetup 2024 Baking by Ann Baker https://example.org/bakers/2024-03 Bread, sensors and "
                       "Python.\n", encoding="utf-8")
    with kb.open(root, embedder=embedder) as base:
        assert base.query("sourdough starter hydration", k=1)[0].kind is Kind.TRANSCRIPT
    linked = build_index(root, [listing], embedder)
    assert linked.added["talks"] == 1 and linked.updated["transcripts"] == 1 and linked.unlinked == 0
    assert linked.embedded == 1  # the new talk's one passage: the transcript's windows are reused
    with kb.open(root, embedder=embedder) as base:
        hit = base.query("sourdough starter hydration", k=1)[0]
    assert hit.kind is Kind.TALK and hit.title == "Meetup 2024 Baking"
    assert hit.moment.url == "https://example.org/bakers/2024-03"  # not a video host: its URL, as it is


def test_related_compares_talks_by_what_was_said_too(heard):
    found = heard.related("Descriptors: Why they are like Ninjas", k=15)
    ids = [hit.id for hit in found]
    assert "pybay-2021/descriptors-why-they-are-like-ninjas" not in ids
    assert all(hit.kind is not Kind.TRANSCRIPT or not hit.id.startswith("transcript:pybay") for hit in found)
    assert len(ids) == len(set(ids)) == 15  # 15 other talks and the meetup: never a talk's own transcript
    heard_vector = heard.searcher.heard_vectors[heard.searcher.position[DATABASE_TALK]]
    own = heard.searcher.document_vectors[heard.searcher.position[DATABASE_TALK]]
    assert 0.5 < float(heard_vector @ own) < 0.99  # its transcript moved it, its abstract still holds it
