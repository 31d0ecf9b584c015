"""Notes linked by speaker only where something besides the name agrees: real notes, real pyvideo talks."""

from __future__ import annotations

import pytest

from talksearch.link import link_notes, merge_talks
from talksearch.readers import read_path

from .conftest import DATA, unpack

SEED_NOTES = DATA / "004_7fcc6484864bb2bb.txt"
HEPPER_NOTE = "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper"
MONTANI_NOTE = "note:004_7fcc6484864bb2bb.txt#talk-1-ines-montani-spacy"
HEPPER_UK = "pycon-uk-2019/is-django-too-complicated"
EVENTS = (
    "pycon-uk-2019",  # Daniel Hepper's one talk outside PyCon DE 2013
    "pycon-de-2013",  # three more talks by Daniel Hepper
    "pyconweb-2017",  # the event the seed notes were taken at, some years later
    "europython-2018", "europython-2023",  # a talk by Ines Montani at each
    "django-under-the-hood-2014",  # Andrew Godwin's talk on migrations
    "flaskcon-2024",  # none of his
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return unpack(tmp_path_factory.mktemp("speakers"), tuple(f"{event}/" for event in EVENTS))


def talks_of(corpus, *events):
    return merge_talks([t for event in events for t in read_path(corpus / event).talks])


def seed_links(talks):
    return link_notes(read_path(SEED_NOTES).notes, talks)


def notes_links(tmp_path, text, talks):
    """Links of the notes in a markdown notes file holding `text`, by note title."""
    path = tmp_path / "notes.md"
    path.write_text(text, encoding="utf-8")
    notes = read_path(path).notes
    links = link_notes(notes, talks)
    return {note.title: links.get(note.id) for note in notes}


@pytest.mark.parametrize("events", [
    ("pycon-uk-2019",),  # his only talk in the collection, but the notes say PyConWeb
    ("pycon-uk-2019", "pycon-de-2013"),  # several talks by him: "Django" in the notes picked this one
    ("pycon-uk-2019", "pycon-de-2013", "pyconweb-2017"),  # PyConWeb a known event of the collection
])
def test_the_seed_notes_on_hepper_are_not_linked_to_his_pycon_uk_talk(corpus, events):
    talks = talks_of(corpus, *events)
    assert HEPPER_UK in {t.id for t in talks}
    assert seed_links(talks).get(HEPPER_NOTE) is None


def test_the_seed_notes_on_montani_are_not_linked_to_her_europython_talk(corpus, pyvideo_subset):
    # the end-to-end subset: EuroPython 2023 and 2024 and the demo data; her one talk there is not the PyConWeb one
    talks = merge_talks([*read_path(pyvideo_subset).talks, *read_path(DATA).talks])
    assert "europython-2023/large-language-models-from-prototype-to-production-ines-montani" in {t.id for t in talks}
    assert seed_links(talks) == {}
    assert seed_links(talks_of(corpus, "europython-2018", "europython-2023", "pyconweb-2017")) == {}


@pytest.mark.parametrize("events", [("django-under-the-hood-2014",), ("django-under-the-hood-2014", "flaskcon-2024")])
def test_flaskcon_notes_on_godwin_are_not_linked_to_his_django_talk(tmp_path, corpus, events):
    talks = talks_of(corpus, *events)
    for context in ("FlaskCon 2024", "Notes from flaskcon", "PyCon US 2024"):
        links = notes_links(tmp_path, f"# {context}\n\n## Talk: Andrew Godwin\n\n- async views, one worker per request\n",
                            talks)
        assert links == {"Talk: Andrew Godwin": None}, context


def test_a_speaker_named_in_the_heading_links_where_the_context_names_the_event(tmp_path, corpus):
    talks = talks_of(corpus, "europython-2018", "europython-2023", "pycon-uk-2019", "pycon-de-2013")
    montani = {
        "EuroPython 2018": "europython-2018/ines-montani-how-to-ignore-most-startup-advice-and-build-a-decent-software-"
                           "business",
        "EuroPython 2023 in Prague": "europython-2023/large-language-models-from-prototype-to-production-ines-montani",
        "EuroPython": None,  # both of her talks are EuroPython talks: which one, the notes do not say
        "PyCon DE 2024": None,  # neither
    }
    for context, talk_id in montani.items():
        assert notes_links(tmp_path, f"# {context}\n\n## Talk 1: Ines Montani\n\n- notes\n", talks) == {
            "Talk 1: Ines Montani": talk_id}, context
    # the event without its year, where the speaker gave one talk there
    assert notes_links(tmp_path, "# Python Events: PyCon UK\n\n## 2. Talk: Daniel Hepper\n\n- notes\n", talks) == {
        "2. Talk: Daniel Hepper": HEPPER_UK}


def test_a_speaker_named_in_the_heading_links_where_the_notes_share_its_title_words(tmp_path, corpus):
    talks = talks_of(corpus, "pycon-uk-2019", "pycon-de-2013")
    text = "## Talk: Daniel Hepper\n\n- is Django complicated? Fewer apps, simpler settings\n"
    assert notes_links(tmp_path, text, talks) == {"Talk: Daniel Hepper": HEPPER_UK}
    # one word of two ("django") is not enough: several talks by him, nothing else agrees
    text = "## Talk: Daniel Hepper\n\n- django-background-tasks for the queue\n"
    assert notes_links(tmp_path, text, talks) == {"Talk: Daniel Hepper": None}


def test_a_speaker_with_one_talk_links_where_nothing_contradicts(tmp_path, corpus):
    talks = talks_of(corpus, "pycon-uk-2019", "europython-2023")
    assert notes_links(tmp_path, "## Talk: Daniel Hepper\n\n- notes\n", talks) == {"Talk: Daniel Hepper": HEPPER_UK}
    for context in ("PyConWeb", "EuroPython 2023", "Notes, 2024"):  # another event, another year
        assert notes_links(tmp_path, f"# {context}\n\n## Talk: Daniel Hepper\n\n- notes\n", talks) == {
            "Talk: Daniel Hepper": None}, context


def test_front_matter_naming_another_event_does_not_fall_back_to_the_speakers_talks(tmp_path, corpus):
    talks = talks_of(corpus, "django-under-the-hood-2014", "flaskcon-2024")
    path = tmp_path / "godwin.md"
    path.write_text("---\ntitle: Async Flask\nspeaker: Andrew Godwin\nevent: FlaskCon 2024\n---\n- notes\n")
    assert link_notes(read_path(path).notes, talks) == {}
    path.write_text("---\ntitle: Migrations\nspeaker: Andrew Godwin\nevent: Django Under the Hood 2014\n---\n- notes\n")
    [note] = read_path(path).notes
    assert link_notes([note], talks) == {note.id: "django-under-the-hood-2014/django-migrations"}
