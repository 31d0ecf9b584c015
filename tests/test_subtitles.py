"""Subtitle files read into transcripts, and transcripts cut into windows, specified on real text.

The real transcripts are Whisper's (and reviewed copies) from ../shared/corpora/pyvideo-transcripts-dev.tar.gz,
unpacked once per run into a temp dir: they must never be copied into the repo, not even in part (the corpus
README). YouTube's rolling auto-captions, manual WebVTT and broken files are small files written here by hand.
"""

from __future__ import annotations

import codecs
import statistics
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talksearch.cues import drop_noise, unroll, windows
from talksearch.embed import Tokenizer, model_dir
from talksearch.errors import InputError
from talksearch.readers import detect_format, read_path
from talksearch.readers.subtitles import looks_english, name_parts, read_subtitles
from talksearch.records import Cue, Format, Skipped

from .conftest import SHARED

CORPUS = SHARED / "corpora" / "pyvideo-transcripts-dev.tar.gz"
ROOT = "pyvideo-transcripts"
SUBSET = ("pycon-us-2022/", "pytexas-2020/", "pycon-us-2019/originals/Lazy-Looping",
          "pycon-us-2019/originals/Pandas-is-for-Everyone", "pycon-us-2019/originals/Applied-Deep-Learning")
LAZY_LOOPING = "pycon-us-2019/originals/Lazy-Looping-in-Python_-Making-and-Using-Generators-and-Iterators.srt"
PANDAS = "pycon-us-2019/originals/Pandas-is-for-Everyone.srt"
NLP = "pycon-us-2019/originals/Applied-Deep-Learning-for-NLP-Using-PyTorch.srt"
QUERIDO = "pycon-us-2022/originals/Querido-Diario_-cómo-liberar-datos-oficiales-de-ciudades-brasileñas-con-Python.srt"
BUDGET = 250  # word pieces per window, as the build packs them


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """pycon-us-2022 (reviewed copies beside originals, the Spanish talks), pytexas-2020, and three long garbled
    tutorials of pycon-us-2019, unpacked from the real transcripts."""
    if not CORPUS.is_file():
        pytest.fail(f"{CORPUS} is missing: the tests need ../shared beside the repo")
    target = tmp_path_factory.mktemp("transcripts")
    prefixes = tuple(f"{ROOT}/{prefix}" for prefix in SUBSET)
    with tarfile.open(CORPUS) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefixes) and (m.isfile() or m.isdir())]
        tar.extractall(target, members=members, filter="data")
    return target / ROOT


@pytest.fixture(scope="session")
def read(corpus):
    """The subset read as `index` reads a folder: one ReadResult."""
    return read_path(corpus)


@pytest.fixture(scope="session")
def by_file(read):
    return {transcript.file: transcript for transcript in read.transcripts}


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    """The encoder's word-piece tokenizer (cheap: no model)."""
    return Tokenizer(model_dir())


# --- Real transcripts -------------------------------------------------------------------------------------------


def test_the_subset_is_read_and_the_one_empty_transcript_skipped(corpus, read):
    files = sorted(path for path in corpus.rglob("*.srt"))
    assert read.files == len(files) == 149
    assert (read.talks, read.notes) == ((), ())
    # Whisper wrote only "." for the whole of one Spanish talk: nothing to index
    assert read.skipped == (Skipped(str(corpus / QUERIDO), "no cues with text: all 396 are only punctuation"),)
    assert len(read.transcripts) == 148


def test_times_increase_and_every_cue_says_something(read):
    for transcript in read.transcripts:
        starts = [cue.start for cue in transcript.cues]
        assert starts == sorted(starts), transcript.file
        assert all(0 <= cue.start <= cue.end for cue in transcript.cues), transcript.file
        assert all(any(ch.isalnum() for ch in cue.text) and cue.text == " ".join(cue.text.split())
                   for cue in transcript.cues), transcript.file


def test_reviewed_copy_and_original_are_two_transcripts_of_one_talk(by_file, corpus):
    reviewed = by_file["pycon-us-2022/Why-Authorization-is-Hard.srt"]
    original = by_file["pycon-us-2022/originals/Why-Authorization-is-Hard.srt"]
    assert (reviewed.id, reviewed.original, reviewed.event) == (
        "transcript:pycon-us-2022/Why-Authorization-is-Hard.srt", False, "pycon-us-2022")
    assert (original.id, original.original, original.event) == (
        "transcript:pycon-us-2022/originals/Why-Authorization-is-Hard.srt", True, "pycon-us-2022")
    assert reviewed.title == original.title == "Why Authorization is Hard"
    assert reviewed.path == str(corpus / reviewed.file)
    assert (len(reviewed.cues), round(reviewed.duration, 2), reviewed.dropped) == (464, 1713.48, ())
    assert (reviewed.video_id, reviewed.language, reviewed.english) == (None, None, True)
    reviewed_copies = [t for t in by_file.values() if t.event == "pycon-us-2022" and not t.original]
    assert len(reviewed_copies) == 15


@pytest.mark.parametrize(("file", "title"), [
    ("pycon-us-2022/A-Pythonista_s-Introductory-Guide-to-Web-Assembly.srt",
     "A Pythonista's Introductory Guide to Web Assembly"),
    ("pycon-us-2022/Better-Air,-Better-Health_-Creating-an-indoor-air-quality-monitoring-and-predictive-system..srt",
     "Better Air, Better Health Creating an indoor air quality monitoring and predictive system."),
    ("pycon-us-2022/(Professionally)-Coding-with-Others.srt", "(Professionally) Coding with Others"),
    ("pycon-us-2022/originals/Software-educativo_-¿que-es_-¿como-se-hace_.srt",
     "Software educativo ¿que es ¿como se hace"),
    ("pycon-us-2022/originals/Animating-NFL-play-by-play-data-using-matplotlib_s-FuncAnimation().srt",
     "Animating NFL play by play data using matplotlib's FuncAnimation()"),
])
def test_titles_come_from_file_names(by_file, file, title):
    assert by_file[file].title == title


def test_a_whisper_loop_of_minutes_is_kept_once(by_file):
    # one two-word cue 12,014 times in a row (and a few shorter loops) in a tutorial Whisper lost its way in
    # (the tests quote no transcript text: the corpus may not be copied into the repo, not even in part)
    looping = by_file[LAZY_LOOPING]
    assert looping.dropped == (("repeated", 12417),)
    assert len(looping.cues) == 58
    loop = looping.cues[47].text
    assert [cue.text for cue in looping.cues].count(loop) == 2  # once for the loop, once said elsewhere
    # a one-letter cue 3,584 times, a sentence 1,782 times, and 6 cues of punctuation among them
    pandas = by_file[PANDAS]
    assert pandas.dropped == (("punctuation", 6), ("repeated", 6468))
    assert len(pandas.cues) == 327
    for transcript in (looping, pandas):
        texts = [cue.text for cue in transcript.cues]
        assert not any(a == b == c for a, b, c in zip(texts, texts[1:], texts[2:], strict=False))


def test_something_said_twice_in_a_row_is_kept(by_file):
    nlp = by_file[NLP]
    assert nlp.dropped == (("repeated", 482),)
    twice = [(a.text, a.start) for a, b in zip(nlp.cues, nlp.cues[1:], strict=False) if a.text == b.text]
    assert len(twice) == 13
    assert [round(start, 2) for _, start in twice][:3] == [704.26, 3134.26, 3151.5]


def test_spanish_talks_and_a_transcript_whisper_wrote_in_welsh_are_not_english(by_file):
    not_english = sorted(t.file.rpartition("/")[2] for t in by_file.values() if not t.english)
    assert not_english == sorted([
        "AyudaPy.org_-De-proyecto-de-fin-de-semana-a-movimiento-ciudadano-clave-durante-la-pandemia.srt",
        "Análisis-exploratorio-de-datos-abiertos-para-el-fortalecimiento-de-democracias.srt",
        "Bailo-con-tu-sombra_-Patch,-stub,-mock.srt",
        "De-cero-a-200-OK-en-30-minutos_-Desarrollo-Web-con-Django,-Heroku,-TravisCI-y-GitHub.srt",
        "Distributed-Python-with-Ray_-Hands-on-with-the-Ray-Core-APIs.srt",  # an English tutorial, in Welsh words
        "Estrategias-para-trabajar-con-datos-a-medida-que-estos-crecen.srt",
        "Match-case-para-principiantes.srt",
        "Nixtla_-Deep-Learning-para-pronóstico-de-series-de-tiempo..srt",
        "Programacion-Reactiva_-Navegando-en-el-mundo-de-la-asincronia-con-RxPy.srt",
        "Python-+-VPS-Jupyter-HUB_Notebook,-aprender,-enseñar,-investigar,-trabajar-de-manera-colaborativa,"
        "-remota-y-presencial.srt",
        "Reconocimiento-de-figuras-con-Visión-Artificial.srt",
        "Reduciendo-prejuicio-en-la-inteligencia-artificial_-introducción-a-Fairlearn.srt",
        "Software-educativo_-¿que-es_-¿como-se-hace_.srt",
        "Uniendo-a-las-comunidades-hispanohablantes-de-Python.srt",
        "Álgebra-de-Mapas-en-Python.srt",
    ])
    assert all(t.language is None for t in by_file.values())  # no file name says it


# --- Windows over real transcripts ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_windows(read, tokenizer):
    return {t.file: windows(t.cues, budget=BUDGET, count_tokens=tokenizer.count, offsets=tokenizer.offsets)
            for t in read.transcripts}


def test_windows_fit_the_budget_and_lose_nothing(read, real_windows, tokenizer):
    for transcript in read.transcripts:
        cut = real_windows[transcript.file]
        assert max(tokenizer.count([w.text for w in cut])) <= BUDGET, transcript.file
        assert " ".join(w.text for w in cut).split() == " ".join(c.text for c in transcript.cues).split()
        assert (cut[0].start, cut[-1].end) == (transcript.cues[0].start, transcript.duration)
        assert all(a.end <= b.start for a, b in zip(cut, cut[1:], strict=False)), transcript.file


def test_windows_last_thirty_to_ninety_seconds(real_windows):
    seconds = [w.end - w.start for cut in real_windows.values() for w in cut]
    assert 60 <= statistics.median(seconds) <= 80
    assert sum(30 <= s <= 90 for s in seconds) >= 0.97 * len(seconds)
    assert max(seconds) < 120  # past 90 s only by a short window's one long cue


# --- YouTube's auto-generated captions (yt-dlp --write-auto-subs), by hand --------------------------------------

# yt-dlp writes a line of one space where a cue has no line to carry over; "\" joins a long line here
ROLLING = """WEBVTT
Kind: captions
Language: en

00:00:00.030 --> 00:00:02.350 align:start position:0%
\x20
hello<00:00:00.510><c> everyone</c><00:00:00.900><c> and</c><00:00:01.170><c> welcome</c>

00:00:02.350 --> 00:00:02.360 align:start position:0%
hello everyone and welcome
\x20

00:00:02.360 --> 00:00:05.030 align:start position:0%
hello everyone and welcome
to<00:00:02.879><c> my</c><00:00:03.120><c> talk</c><00:00:03.360><c> about</c>\
<00:00:03.840><c> generators</c>

00:00:05.030 --> 00:00:05.040 align:start position:0%
to my talk about generators
\x20

00:00:05.040 --> 00:00:07.110 align:start position:0%
to my talk about generators
[Music]

00:00:07.110 --> 00:00:07.120 align:start position:0%
[Music]
\x20

00:00:07.120 --> 00:00:09.990 align:start position:0%
[Music]
so<00:00:07.600><c> a</c><00:00:07.760><c> generator</c><00:00:08.320><c> is</c>\
<00:00:08.560><c> a</c><00:00:08.720><c> function</c>

00:00:09.990 --> 00:00:10.000 align:start position:0%
so a generator is a function
\x20

00:00:10.000 --> 00:00:12.470 align:start position:0%
so a generator is a function
that<00:00:10.400><c> is</c><00:00:10.640><c> a</c><00:00:10.880><c> function</c>\
<00:00:11.360><c> that</c><00:00:11.600><c> yields</c>
"""


def test_rolling_auto_captions_give_each_word_once_with_its_cues_times(tmp_path):
    file = tmp_path / "PyCon US 2019" / "Lazy Looping in Python [tQ8R-rl1sLk].en.vtt"
    file.parent.mkdir()
    file.write_text(ROLLING, encoding="utf-8")
    transcript = read_subtitles(file, "PyCon US 2019/Lazy Looping in Python [tQ8R-rl1sLk].en.vtt")
    assert transcript.cues == (
        Cue(0.03, 2.35, "hello everyone and welcome"),
        Cue(2.36, 5.03, "to my talk about generators"),
        Cue(7.12, 9.99, "so a generator is a function"),
        Cue(10.0, 12.47, "that is a function that yields"),  # "a function" again, said again
    )
    assert transcript.dropped == (("sound", 1),)  # [Music]
    assert (transcript.title, transcript.video_id, transcript.language, transcript.english) == (
        "Lazy Looping in Python", "tQ8R-rl1sLk", "en", True)
    assert (transcript.event, transcript.original) == ("PyCon US 2019", False)


def test_unroll_keeps_a_new_line_that_starts_with_the_words_that_ended_the_last():
    cues = [Cue(0.0, 1.0, "so what is"), Cue(1.0, 1.01, "so what is"), Cue(1.01, 3.0, "so what is is a question")]
    assert unroll(cues) == [Cue(0.0, 1.0, "so what is"), Cue(1.01, 3.0, "is a question")]


# --- Manual WebVTT and SubRip, by hand --------------------------------------------------------------------------

MANUAL = """WEBVTT - reviewed captions

STYLE
::cue(.speaker) { color: yellow }

NOTE checked against the video on 2024-05-01

intro
00:00:01.000 --> 00:00:04.250 line:90% align:center
<v Jane Doe>Welcome to <i>Testing &amp; Types</i>,</v>
a talk about <c.speaker>pytest</c>&nbsp;&lt;3

00:01:04.500 --> 00:01:06.000
- Is 1 &lt; 2?
- Yes.
"""


def test_manual_webvtt_cues_lose_tags_and_keep_their_times(tmp_path):
    file = tmp_path / "Testing-and-Types.en-GB.vtt"
    file.write_text(MANUAL, encoding="utf-8")
    transcript = read_subtitles(file, file.name)
    assert transcript.cues == (
        Cue(1.0, 4.25, "Welcome to Testing & Types, a talk about pytest <3"),
        Cue(64.5, 66.0, "- Is 1 < 2? - Yes."),
    )
    assert (transcript.title, transcript.language, transcript.english, transcript.video_id) == (
        "Testing and Types", "en-GB", True, None)
    assert transcript.event == tmp_path.name and transcript.id == "transcript:Testing-and-Types.en-GB.vtt"


SRT = "1\n00:00:01,500 --> 00:00:03,000\n<i>Café</i> {\\an8}au lait\n\n2\n00:00:03,000 --> 00:00:04,000\nif a < b and c > d\n"


@pytest.mark.parametrize("data", [
    SRT.encode("cp1252"),
    codecs.BOM_UTF8 + SRT.encode("utf-8"),
    codecs.BOM_UTF16_LE + SRT.replace("\n", "\r\n").encode("utf-16-le"),
    SRT.encode("utf-16-le"),
], ids=["windows-1252", "utf-8 with BOM", "utf-16 with BOM and CRLF", "utf-16 without BOM"])
def test_subrip_in_any_encoding(tmp_path, data):
    file = tmp_path / "Charla.srt"
    file.write_bytes(data)
    assert read_subtitles(file, file.name).cues == (
        Cue(1.5, 3.0, "Café au lait"),
        Cue(3.0, 4.0, "if a < b and c > d"),  # SubRip has no escaping: only its own tags go
    )


def test_the_file_names_language_decides_english(tmp_path):
    file = tmp_path / "Pruebas [tQ8R-rl1sLk].es.srt"
    file.write_text(SRT, encoding="utf-8")
    assert (read_subtitles(file, file.name).language, read_subtitles(file, file.name).english) == ("es", False)


@pytest.mark.parametrize(("name", "parts"), [
    ("Raymond Hettinger - Beyond PEP 8 [wf-BqAjZb8M].en.vtt", ("Raymond Hettinger - Beyond PEP 8", "wf-BqAjZb8M", "en")),
    ("Keynote [tQ8R-rl1sLk].es-419.vtt", ("Keynote", "tQ8R-rl1sLk", "es-419")),
    ("Keynote [tQ8R-rl1sLk].fil.vtt", ("Keynote", "tQ8R-rl1sLk", "fil")),
    ("Lightning talks [76979871].en.vtt", ("Lightning talks", "76979871", "en")),  # Vimeo
    ("Lightning_talks_[tQ8R-rl1sLk].en.vtt", ("Lightning talks", "tQ8R-rl1sLk", "en")),  # --restrict-filenames
    ("PyCon [2019].srt", ("PyCon [2019]", None, None)),
    ("Keynote [Programming].srt", ("Keynote [Programming]", None, None)),
    ("Talk [PyCon 2019].en.srt", ("Talk [PyCon 2019]", None, "en")),
    ("Demystifying-setup.py.srt", ("Demystifying setup.py", None, None)),
    ("Speaker-Name - Title.srt", ("Speaker-Name - Title", None, None)),  # spaces: "-" is written, not a space
    ("Don_t-be-a-robot,-build-the-bot.srt", ("Don't be a robot, build the bot", None, None)),
    ("Python_s-Many-Concurrency-Models.vtt", ("Python's Many Concurrency Models", None, None)),
    ("Russell-Keith-Magee---Keynote---PyCon-2019.srt", ("Russell Keith Magee - Keynote - PyCon 2019", None, None)),
    ("AyudaPy.org_-De-proyecto.srt", ("AyudaPy.org De proyecto", None, None)),
    (".en.srt", (".en.srt", None, "en")),
])
def test_name_parts(name, parts):
    assert name_parts(name) == parts


# --- Degenerate text --------------------------------------------------------------------------------------------


def said(*texts: str) -> list[Cue]:
    return [Cue(float(i), float(i + 1), text) for i, text in enumerate(texts)]


@pytest.mark.parametrize(("texts", "kept", "dropped"), [
    (("Yeah.", "Yeah.", "So"), ("Yeah.", "Yeah.", "So"), ()),  # twice is speech
    (("Yeah.", "yeah", "Yeah!", "So"), ("Yeah.", "So"), (("repeated", 2),)),
    (("A.", "B.", "A.", "B.", "A.", "B.", "C."), ("A.", "B.", "C."), (("repeated", 4),)),  # a run of two, looped
    (("A.", "B.", "A.", "B.", "C."), ("A.", "B.", "A.", "B.", "C."), ()),  # a refrain, twice
    (("Hi", ".", "...", "—", "♪", "[Music]", "(applause)", "[Music] ♪"), ("Hi",), (("punctuation", 4), ("sound", 3))),
    (("I said [inaudible] twice",), ("I said [inaudible] twice",), ()),
])
def test_drop_noise(texts, kept, dropped):
    cues, what = drop_noise(said(*texts))
    assert (tuple(cue.text for cue in cues), what) == (kept, dropped)


def test_english_is_told_from_function_words():
    assert looks_english(["So the thing is that we want to be able to test this code, and it's not easy to do."] * 2)
    assert not looks_english(["Entonces lo que queremos es poder probar este código, y no es fácil de hacer."] * 2)
    assert looks_english(["Gracias."])  # too few words to tell: unknown, read as English


# --- Bad files --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("talk.srt", b"", "empty file"),
    ("talk.srt", b"Some notes about a talk\nthat are not subtitles\n", "not a subtitle file: no cue timings found"),
    ("talk.vtt", b"<!DOCTYPE html>\n<html><head><title>YouTube</title></head><body><!-- x --></body></html>\n",
     "not a subtitle file: an HTML page"),
    ("talk.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:02,000 -> 00:00:03,000\nworld\n",
     "broken cue timing on line 6: '00:00:02,000 -> 00:00:03,000'"),
    ("talk.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:02 --> 00:00:03,000\nworld\n",
     "broken cue timing on line 6: '00:00:02 --> 00:00:03,000'"),
    ("talk.vtt", b"WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHello\n",
     "broken cue timing on line 3: '00:00:01,000 --> 00:00:02,000'"),
    ("talk.srt", b"1\n00:00:05,000 --> 00:00:04,000\nHello\n",
     "broken cue timing: a cue ends before it starts (00:00:05.000 --> 00:00:04.000)"),
    ("talk.srt", b"00:00:01,000 --> 00:00:02,000\nHello\n",
     "not a SubRip file: it must open with a cue number and its timing line"),
    ("talk.vtt", b"WEBVTT\n\nNOTE nothing yet\n", "no cues found"),
    ("talk.srt", b"1\n00:00:01,000 --> 00:00:02,000\n.\n\n2\n00:00:03,000 --> 00:00:04,000\n...\n",
     "no cues with text: all 2 are only punctuation"),
    ("talk.vtt", b"WEBVTT\n\n00:01.000 --> 00:02.000\n[Music]\n\n00:03.000 --> 00:04.000\n.\n",
     "no cues with text: all 2 are only punctuation or sound labels ([Music])"),
    ("talk.vtt", b"WEBVTT\n\n00:01.000 --> 00:02.000\n<c></c>\n", "no cues with text"),
])
def test_bad_file_is_skipped_with_its_reason(tmp_path, name, data, reason):
    file = tmp_path / name
    file.write_bytes(data)
    result = read_path(file)
    assert (result.transcripts, result.skipped, result.files) == ((), (Skipped(str(file), reason),), 1)


SEEDS = [ROLLING.encode(), MANUAL.encode(), SRT.encode()]
SPLICES = [b"-->", b"\n\n", b"\n", b"WEBVTT\n", b"<", b">", b"<00:00:01.000>", b"\x00", codecs.BOM_UTF8, b"\xff",
           b"99:99:99,999", b"1\n", "♪".encode()]


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(SEEDS), cuts=st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(SPLICES)), max_size=4))
def test_broken_subtitles_only_ever_raise_input_error(tmp_path, seed, cuts):
    data = seed
    for at, splice in cuts:
        data = data[:at] + splice + data[at:]
    file = tmp_path / "fuzz.vtt"
    file.write_bytes(data)
    try:
        transcript = read_subtitles(file, file.name)
    except InputError:
        return
    assert transcript.cues and all(cue.text.strip() for cue in transcript.cues)


# --- Windows, by hand -------------------------------------------------------------------------------------------


def test_a_cue_longer_than_the_budget_is_cut_at_words_with_times_in_proportion(tokenizer):
    long = " ".join(f"word{i}" for i in range(300))
    cut = windows([Cue(10.0, 70.0, long)], budget=100, count_tokens=tokenizer.count, offsets=tokenizer.offsets)
    assert len(cut) > 1 and max(tokenizer.count([w.text for w in cut])) <= 100
    assert " ".join(w.text for w in cut) == long
    assert cut[0].start == 10.0 and cut[-1].end == pytest.approx(70.0)
    assert all(a.end == pytest.approx(b.start) and a.start < a.end for a, b in zip(cut, cut[1:], strict=False))


def test_windows_close_at_ninety_seconds_and_after_a_long_pause(tokenizer):
    every_ten = [Cue(10.0 * i, 10.0 * i + 9, f"sentence number {i}.") for i in range(20)]
    cut = windows(every_ten, budget=1000, count_tokens=tokenizer.count, offsets=tokenizer.offsets)
    assert [(w.start, w.end) for w in cut] == [(0.0, 89.0), (90.0, 179.0), (180.0, 199.0)]
    # a short window takes a long cue that starts within 90 s, but not what follows a pause of minutes
    pause = [Cue(0.0, 5.0, "hello"), Cue(20.0, 110.0, "a long cue"), Cue(400.0, 405.0, "after the break")]
    cut = windows(pause, budget=1000, count_tokens=tokenizer.count, offsets=tokenizer.offsets)
    assert [(w.start, w.end, w.text) for w in cut] == [(0.0, 110.0, "hello a long cue"), (400.0, 405.0, "after the break")]
    cut = windows(pause, budget=1000, count_tokens=tokenizer.count, offsets=tokenizer.offsets, min_seconds=0.0)
    assert [w.text for w in cut] == ["hello", "a long cue", "after the break"]


def test_windows_close_at_the_budget_even_when_short(tokenizer):
    cues = said("one two three", "four five six", "seven eight nine")
    cut = windows(cues, budget=6, count_tokens=tokenizer.count, offsets=tokenizer.offsets)
    assert [(w.start, w.end, w.text) for w in cut] == [(0.0, 2.0, "one two three four five six"),
                                                       (2.0, 3.0, "seven eight nine")]
    assert windows([], budget=6, count_tokens=tokenizer.count, offsets=tokenizer.offsets) == []


# --- Found in folders, forced by --format -----------------------------------------------------------------------


def test_a_folder_mixes_notes_and_transcripts(tmp_path):
    (tmp_path / "europython-2024" / "originals").mkdir(parents=True)
    (tmp_path / "notes.md").write_text("# Pytest patterns\n\nFixtures all the way down.\n", encoding="utf-8")
    (tmp_path / "europython-2024" / "Pytest-patterns.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "europython-2024" / "originals" / "Pytest-patterns.SRT").write_text(SRT, encoding="utf-8")
    (tmp_path / "europython-2024" / "Pytest patterns [tQ8R-rl1sLk].en.vtt").write_text(ROLLING, encoding="utf-8")
    (tmp_path / "europython-2024" / "broken.vtt").write_text("WEBVTT\n", encoding="utf-8")
    result = read_path(tmp_path)
    assert [note.title for note in result.notes] == ["Pytest patterns"]
    assert [(t.file, t.event, t.original) for t in result.transcripts] == [
        ("europython-2024/Pytest patterns [tQ8R-rl1sLk].en.vtt", "europython-2024", False),
        ("europython-2024/Pytest-patterns.srt", "europython-2024", False),
        ("europython-2024/originals/Pytest-patterns.SRT", "europython-2024", True),
    ]
    assert result.skipped == (Skipped(str(tmp_path / "europython-2024" / "broken.vtt"), "no cues found"),)
    assert result.files == 5


def test_format_transcript_reads_a_subtitle_file_named_otherwise(tmp_path):
    file = tmp_path / "captions.txt"
    file.write_text(SRT, encoding="utf-8")
    assert read_path(file).transcripts == ()  # a .txt file is notes by default
    (transcript,) = read_path(file, format=Format.TRANSCRIPT).transcripts
    assert (transcript.title, len(transcript.cues)) == ("captions.txt", 2)


@pytest.mark.parametrize("name", ["talk.srt", "talk.vtt", "talk.VTT"])
def test_detect_format_knows_subtitles(tmp_path, name):
    file = tmp_path / name
    file.write_text(SRT, encoding="utf-8")
    assert detect_format(file) is Format.TRANSCRIPT
