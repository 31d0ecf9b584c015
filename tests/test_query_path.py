"""The query path: torch-free encoder equal to sentence-transformers, bm25s scores read without bm25s."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from talksearch import lexical, store
from talksearch.minilm import NumpyEmbedder


@pytest.fixture(scope="module")
def numpy_embedder():
    return NumpyEmbedder()


def test_numpy_vectors_match_sentence_transformers(numpy_embedder, embedder, demo):
    texts = [row[0] for row in demo.con.execute("select text from passages order by row").fetchall()]
    texts += ["celery retries", "uuid v7", "Špilka", "漢字 и кириллица 🎉", "word " * 400]  # the last is truncated
    ours = numpy_embedder.embed(texts)
    # the index was embedded under bf16 autocast where the CPU has it; compare with fp32 here
    reference = type(embedder)(precision="fp32").embed(texts)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.999, texts[int(cosine.argmin())]


def test_numpy_forward_stays_float32(numpy_embedder):
    # a float64 NumPy scalar in the maths silently promoted every later weight product to float64 (2x slower)
    ids = np.array([[101, 2393, 17711, 102]])
    hidden = numpy_embedder._forward(ids, np.ones(ids.shape, dtype=np.float32))
    assert hidden.dtype == np.float32


def test_lexical_scores_equal_bm25s(demo_index):
    import bm25s

    directory = store.current(demo_index).lexical
    ours = store.read_lexical(directory)
    theirs = bm25s.BM25.load(str(directory))
    for query in ["celery retries", "uuid v7 monotonic", "API security", "Špilka", "the of and"]:
        terms = [t for t in lexical.tokenize(query, ours.stopwords) if t in theirs.vocab_dict]
        expected = theirs.get_scores(terms) if terms else np.zeros(ours.num_docs)
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-6)


def test_lexical_index_equals_bm25s_own_build(subset_index):
    # our CSC builder (one stable column sort, less memory) must give bm25s's own arrays, on real talks
    import bm25s

    generation = store.current(subset_index)
    ours = store.read_lexical(generation.lexical)
    con = store.connect(generation)
    texts = [row[0] for row in con.execute("select title || ' ' || coalesce(text, '') from talks order by id").fetchall()]
    con.close()
    corpus = [lexical.tokenize(text, ours.stopwords) or [""] for text in texts]
    built = {}
    for name, csc in (("own", None), ("ours", lexical.csc_by_column)):
        model = bm25s.BM25()
        if csc:
            model._np_csc = csc
        model.index(corpus, show_progress=False)
        built[name] = model.scores
    assert len(texts) > 100 and built["own"]["data"].size > 10_000
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(built["ours"][part], built["own"][part], err_msg=part)


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["query", "celery retries"], []),  # stored fields and vectors only: no DuckDB either
        (["related", "europython-2024/zero-trust-apis-with-python"], []),
        (["query", "celery retries", "--event", "europython"], ["duckdb"]),  # filters are SQL
    ],
)
def test_cli_query_path_imports_no_torch_and_duckdb_only_for_filters(demo_index, args, loaded):
    code = (
        "import sys; from typer.testing import CliRunner; from talksearch.cli import app; "
        f"r = CliRunner().invoke(app, {args + ['--index-dir', str(demo_index)]!r}); "
        "assert r.exit_code == 0 and r.output.strip(), r.output; "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'bm25s', 'numba', 'spacy', 'scipy', "
        "'duckdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == str(loaded)


def test_query_vector_from_the_cli_path_ranks_like_the_index(demo_index, numpy_embedder):
    import talksearch

    with talksearch.open(demo_index, embedder=numpy_embedder) as kb:
        assert kb.query("celery retries", k=1)[0].id.endswith("#2-talk-daniel-hepper")


def test_stored_fields_read_back_what_duckdb_holds(demo):
    """Results read their fields by row (`store.Records`); each row is the document DuckDB has at that position."""
    searcher = demo.searcher
    rows = demo.con.execute("select d.pos, d.id, d.kind, p.texts from documents d join (select doc_id, "
                            "list(text order by \"row\") as texts from passages group by doc_id) p on p.doc_id = d.id "
                            "order by d.pos").fetchall()
    assert searcher.size == len(rows) > 0
    for pos, doc_id, kind, texts in rows:
        fields = searcher.fields(pos)
        assert (fields["id"], fields["kind"]) == (doc_id, kind)
        assert [searcher.passage_text(int(r)) for r in searcher.passage_rows(pos)] == texts


def test_records_round_trip_any_text(tmp_path):
    texts = ["", "plain", "Špilka 漢字 🎉", "line\nbreak\x00nul", ""]
    store.Records.write(tmp_path / "r", texts)
    records = store.Records.open(tmp_path / "r")
    assert [records[i] for i in range(len(records))] == texts
    store.Records.write(tmp_path / "empty", [])
    assert len(store.Records.open(tmp_path / "empty")) == 0
