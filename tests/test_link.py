"""One talk from many sources; recordings grouped; notes linked to the talks they name."""

from __future__ import annotations

from dataclasses import replace

from talksearch.link import link_notes, merge_talks
from talksearch.readers import read_path
from talksearch.records import Format

from .conftest import DATA


def listing_talks():
    return list(read_path(DATA / "000_0432f46ee71f120e.txt").talks)


def test_listing_and_catalog_records_merge_with_the_catalog_id(pyvideo_subset):
    catalog = read_path(pyvideo_subset / "europython-2024").talks
    talks = merge_talks([*catalog, *listing_talks()])
    assert len(talks) == len(catalog)
    merged = next(t for t in talks if t.title == "Event Sourcing in production")
    assert merged.id == "europython-2024/event-sourcing-in-production-borjan-tchakaloff"
    assert sorted(r.format.value for r in merged.records) == ["listing", "pyvideo"]
    assert merged.room == "South Hall 2A" and merged.date == "2024-07-10"


def test_matching_folds_case_accents_and_punctuation():
    original = listing_talks()[0]
    shouted = replace(original, id="x/y", title=original.title.upper() + "!!", speakers=("MARIAN SPILKA",),
                      format=Format.PYVIDEO)
    assert len(merge_talks([original, shouted])) == 1


def test_one_catalog_never_merges_with_itself():
    original = listing_talks()[0]
    twin = replace(original, id="europython-2024/impersonation-2")  # same title, speakers, event, format
    lightning = replace(original, title="Lightning talks", speakers=(), format=Format.PYVIDEO, id="a/lt1")
    lightning2 = replace(lightning, id="a/lt2")
    assert len(merge_talks([original, twin, lightning, lightning2])) == 4


def test_recordings_of_one_talk_share_a_group_but_session_labels_do_not():
    talk = listing_talks()[0]
    again = replace(talk, id="pycon-cz-2024/impersonation", event="pycon-cz-2024", event_title="PyCon CZ 2024")
    lightning = replace(talk, id="a/lt", title="Lightning talks", event="a", event_title="A")
    lightning2 = replace(lightning, id="b/lt", event="b", event_title="B")
    groups = {t.id: t.group_id for t in merge_talks([talk, again, lightning, lightning2])}
    assert groups[talk.id] == groups[again.id] == min(talk.id, again.id)
    assert groups["a/lt"] != groups["b/lt"]


def test_notes_link_by_title_speaker_or_url(tmp_path):
    talks = merge_talks(listing_talks())
    notes_file = tmp_path / "notes.md"
    notes_file.write_text(
        "# EuroPython 2024\n\n"
        "## Event Sourcing in production\n\n- replay history to build projections\n\n"
        "## Ivett Ördög on rewrites\n\n- two key properties\n\n"
        "## Talk about dead code\n\nsee https://ep2024.europython.eu/session/deadcode-a-tool-to-find-and-fix-unused-dead-python-code\n\n"
        "## Something else entirely\n\n- no talk named here\n"
    )
    notes = read_path(notes_file).notes
    links = {n.title: links for n, links in ((n, link_notes([n], talks).get(n.id)) for n in notes)}
    assert links == {
        "Event Sourcing in production": "europython-2024/event-sourcing-in-production",
        "Ivett Ördög on rewrites": "europython-2024/how-to-sell-a-big-refactor-or-rewrite-to-the-business",
        "Talk about dead code": "europython-2024/deadcode-a-tool-to-find-and-fix-unused-dead-python-code",
        "Something else entirely": None,
    }


def test_a_note_links_to_a_video_in_any_of_youtubes_forms(pyvideo_subset, tmp_path):
    # the catalog has https://www.youtube.com/watch?v=2noRXtnCb_U; notes paste what the browser or the app gave them
    talks = merge_talks(read_path(pyvideo_subset / "europython-2024").talks)
    forms = ["https://youtu.be/2noRXtnCb_U?si=Qx3", "https://www.youtube.com/watch?v=2noRXtnCb_U&t=120s",
             "https://m.youtube.com/watch?feature=share&v=2noRXtnCb_U", "https://www.youtube.com/embed/2noRXtnCb_U"]
    for n, url in enumerate(forms):
        (tmp_path / f"{n}.md").write_text(f"# Scaling notes {n}\n\nWatched {url} again.\n")
    notes = read_path(tmp_path).notes
    assert sorted(link_notes(notes, talks).values()) == ["europython-2024/a-tale-of-scaling-observability-toomas-ormisson"] * 4
