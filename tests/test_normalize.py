"""Folding for matching, on real names and titles of the pyvideo corpus."""

from __future__ import annotations

import pytest

from talksearch.normalize import fold, key, slugify


@pytest.mark.parametrize(("written", "folded"), [
    # Latin letters Unicode does not decompose: transliterated, as a reader types them
    ("Łukasz Langa", "lukasz langa"),
    ("Kacper Łukawski", "kacper lukawski"),
    ("Johannes Gårdsted Valbjørn", "johannes gardsted valbjorn"),
    ("Sigurd Ljødal", "sigurd ljodal"),
    ("Gönül Aycı", "gonul ayci"),
    ("Nikola Đipanov", "nikola dipanov"),
    ("Çağıl Ulusahin", "cagil ulusahin"),
    ("Straße", "strasse"),
    ("Æsir œuvre Þór", "aesir oeuvre thor"),
    ("Marian Špilka", "marian spilka"),  # accents, as before
    # other scripts stay themselves (accents stripped): pinyin would make homophones one word
    ("Takahiro Ikeuchi / 池内 孝啓", "takahiro ikeuchi 池内 孝啓"),
    ("Noflag(심의팅)", "noflag 심의팅"),
    ("Tim (文昌) Hsu", "tim 文昌 hsu"),
    ("Андрей Светлов", "андреи светлов"),
])
def test_fold_transliterates_latin_letters_and_keeps_other_scripts(written, folded):
    assert fold(written) == folded


def test_ids_and_facet_keys_fold_alike():
    assert slugify("Łódź: Python w Łodzi") == "lodz-python-w-lodzi"
    assert key("Łukasz Langa") == key("Lukasz Langa") == "lukasz langa"
    assert slugify("数据分析") == "数据分析"  # a CJK heading keeps its id


def test_a_latin_symbol_that_is_not_a_letter_is_kept():
    assert fold("ʔ ✝ x") == "ʔ x"  # ʔ (glottal stop) is a letter anyascii writes as "'": kept; ✝ is punctuation


def test_an_index_folded_the_old_way_is_refreshed_to_the_new_keys_reusing_its_vectors(tmp_path, standin):
    import json

    import duckdb

    from talksearch import Filters, kb, store

    from .conftest import build_index

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pyrepl.md").write_text("# Live coding music\n\nŁukasz Langa showed PyRepl at EuroPython in Prague.\n")
    root = tmp_path / "ix"
    build_index(root, [notes], standin)
    fresh = kb.open(root, embedder=standin)
    expected = fresh.sql("select facet, key, term from mentions order by all").values.tolist()
    fresh.close()
    assert ["entity", "lukasz langa", "Łukasz Langa"] in expected
    # what format 7 stored: ł kept in keys; its manifest's format
    generation = store.current(root)
    with duckdb.connect(str(generation.path / store.DATABASE)) as con:
        con.execute("update extracted set key = replace(key, 'lukasz', 'łukasz')")
        con.execute("update mentions set key = replace(key, 'lukasz', 'łukasz')")
    manifest = json.loads((generation.path / store.MANIFEST).read_text())
    files = {**manifest["files"], store.DATABASE: (generation.path / store.DATABASE).stat().st_size}
    (generation.path / store.MANIFEST).write_text(json.dumps({**manifest, "format": 7, "files": files}))
    refreshed = build_index(root, [], standin)
    assert refreshed.embedded == 0
    with kb.open(root, embedder=standin) as again:
        assert again.sql("select facet, key, term from mentions order by all").values.tolist() == expected
        assert [h.id for h in again.query("music", filters=Filters(mentions="Lukasz Langa"))] == [
            "note:pyrepl.md#live-coding-music"]
