"""`talksearch adapt`: the encoder trained on the collection's own talks, the index re-embedded with it and swapped
in whole; queries, refreshes and rebuilds that follow use (or drop) those weights, checked by their hash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from talksearch import adapt, build, kb, store
from talksearch.embed import WEIGHTS_FILE, WEIGHTS_SHA256, SentenceTransformerEmbedder, Weights, sha256_file
from talksearch.errors import ModelError
from talksearch.minilm import NumpyEmbedder
from talksearch.passages import document_means, header

from .conftest import DATA, build_index, copy_index
from .test_cli import invoke

EVENT = "europython-2023"  # 141 real talks, 148 (title, abstract) pairs with the demo data: 2 training steps


@pytest.fixture(scope="module")
def adapted(tmp_path_factory, pyvideo_subset, embedder) -> tuple[Path, store.Generation]:
    """One real event and the demo data, indexed in fp32 (the same figures on every CPU), then adapted once:
    (root, the generation before adapting)."""
    root = tmp_path_factory.mktemp("adapt") / "index"
    build_index(root, [pyvideo_subset / EVENT, DATA], SentenceTransformerEmbedder(precision="fp32"))
    before = store.current(root)
    pairs = len(adapt.title_pairs(before))
    summary = adapt.run(root, epochs=(2 * adapt.BATCH + 0.5) / pairs)  # 2 steps
    assert (summary.pairs, summary.steps, summary.passages) == (pairs, 2, before.manifest["counts"]["passages"])
    return root, before


def copy_of(adapted, tmp_path) -> Path:
    shutil.copytree(adapted[0], tmp_path / "index")
    return tmp_path / "index"


def test_adapt_writes_a_new_generation_with_its_weights_and_their_hash(adapted):
    root, before = adapted
    after = store.current(root)
    weights = after.path / store.ENCODER / WEIGHTS_FILE
    assert after.path != before.path and before.path.is_dir()  # the old one kept for readers still on it
    assert "adapted" not in json.loads((before.path / store.MANIFEST).read_text())
    assert after.manifest["weights_sha256"] == sha256_file(weights) != WEIGHTS_SHA256
    assert after.manifest["adapted"]["steps"] == 2 and after.manifest["adapted"]["base_sha256"] == WEIGHTS_SHA256
    assert after.weights.directory == after.path / store.ENCODER
    # everything but the vectors is the live generation's very files: hard links, not a second copy on disk
    shared = [p.relative_to(before.path) for p in before.path.rglob("*") if p.is_file()]
    assert {"meta.duckdb", "passages.bin", "documents.json", "lexical/params.index.json"} <= {str(p) for p in shared}
    for name in shared:
        if name.parts[0] not in adapt.REPLACED:
            assert (after.path / name).samefile(before.path / name), name
    assert not (after.path / store.VECTORS).samefile(before.path / store.VECTORS)
    assert not list(root.glob(".tmp-*"))


def test_passages_are_re_embedded_with_the_adapted_weights_as_index_embeds_them(adapted):
    root, before = adapted
    after = store.current(root)
    count = after.manifest["counts"]["passages"]
    new = store.read_vectors(after, expected=count).reconstruct_n(0, count)
    old = store.read_vectors(before, expected=count).reconstruct_n(0, count)
    texts, owner = after.records(store.PASSAGE_TEXTS), after.array(store.PASSAGE_DOCS)
    con = store.connect(after)
    chunks = con.execute("select p.\"row\", t.title from passages p join talks t on t.id = p.doc_id "
                         "where p.ordinal > 0 order by p.\"row\" limit 8").fetchall()
    con.close()
    encoder = SentenceTransformerEmbedder(precision=after.manifest["precision"], weights=after.weights)
    rows = [row for row, _ in chunks]  # chunks: embedded with their title in front
    expected = encoder.embed([f"{header(title, encoder)}\n{texts[row]}" for row, title in chunks])
    assert np.allclose(new[rows], expected, atol=1e-5)
    assert (new * old).sum(axis=1).max() < 0.9999  # every one moved: not the published encoder's vectors
    means = np.load(after.document_vectors)
    assert np.allclose(means[owner[rows[0]]], document_means(len(means), owner, new)[owner[rows[0]]], atol=1e-6)


def test_queries_are_embedded_with_the_adapted_weights(adapted):
    root, _ = adapted
    with kb.open(root) as base:
        query_encoder = base.searcher.embedder
        assert isinstance(query_encoder, NumpyEmbedder)
        assert query_encoder.check.sha256 == base.manifest["weights_sha256"]
        torch_encoder = SentenceTransformerEmbedder(precision="fp32", weights=base.generation.weights)
        text = ["contravariance and the Liskov substitution principle in generic types"]
        assert float(query_encoder.embed(text)[0] @ torch_encoder.embed(text)[0]) > 0.999
        hits = base.query(text[0], k=3)
    assert hits[0].id == "europython-2023/learning-the-ropes-understanding-python-generics-david-seddon"
    how = f"({base.manifest['precision']}, adapted: 2 steps on {base.manifest['adapted']['pairs']} talks)"
    assert how in invoke("stats", "--index-dir", root).output


def test_queries_on_an_adapted_index_do_not_hash_its_weights_again(adapted, monkeypatch):
    root, _ = adapted

    def hashing(path):
        raise AssertionError(f"hashed {path} again")

    monkeypatch.setattr("talksearch.embed.sha256_file", hashing)
    with kb.open(root) as base:
        assert base.query("generics", k=1)


def test_the_published_encoder_is_refused_for_an_adapted_index(adapted, embedder):
    root, _ = adapted
    with kb.open(root, embedder=embedder) as base, pytest.raises(ModelError, match="embedded by the weights "
                                                                                   "`talksearch adapt` trained for it"):
        base.query("generics")


def test_damaged_adapted_weights_are_refused_in_one_line(adapted, tmp_path):
    root = copy_of(adapted, tmp_path)
    weights = store.current(root).path / store.ENCODER / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    result = invoke("query", "generics", "--index-dir", root)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {weights}: SHA-256 ")
    assert lines[0].endswith("is not that of the weights `talksearch adapt` trained for this index "
                             f"({store.current(root).manifest['weights_sha256'][:12]}…); refusing to load them. Run "
                             "`talksearch adapt` again, or `talksearch index --rebuild` to return to the published "
                             "weights")


def test_a_refresh_embeds_new_passages_with_the_adapted_weights_and_keeps_them(adapted, tmp_path, embedder):
    root = copy_of(adapted, tmp_path)
    before = store.current(root)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "celery.md").write_text("# Celery at scale\n\nRetries with exponential backoff, and idempotent tasks so "
                                     "a retry is safe.\n")
    with pytest.raises(ModelError, match="not the adapted weights this index was embedded with"):
        build_index(root, [notes], embedder)  # the published encoder, told to embed into an adapted index
    assert store.current(root).path == before.path
    summary = build.run(root, [notes], embedder_factory=lambda weights: SentenceTransformerEmbedder(
        precision=before.manifest["precision"], weights=weights))
    assert summary.embedded > 0
    after = store.current(root)
    assert after.manifest["adapted"] == before.manifest["adapted"]
    assert after.manifest["weights_sha256"] == before.manifest["weights_sha256"]
    assert sha256_file(after.path / store.ENCODER / WEIGHTS_FILE) == before.manifest["weights_sha256"]
    with kb.open(root) as base:
        con = base.con
        row, text = con.execute("select p.\"row\", p.text from passages p join notes n on n.id = p.doc_id "
                                "where n.title = 'Celery at scale' and p.ordinal = 1").fetchone()
        vector = base.searcher.vectors.reconstruct(row)
        encoder = SentenceTransformerEmbedder(precision=before.manifest["precision"], weights=after.weights)
        assert float(vector @ encoder.embed([f"Celery at scale\n{text}"])[0]) > 0.9999
        assert float(vector @ embedder.embed([f"Celery at scale\n{text}"])[0]) < 0.9999


def test_rebuild_returns_to_the_published_weights(adapted, tmp_path, standin):
    root = copy_of(adapted, tmp_path)
    # the stand-in carries the published weights' check, which the manifest records; its vectors are not read here
    build.run(root, [], rebuild=True, embedder_factory=lambda weights: standin if weights == Weights() else None)
    after = store.current(root)
    assert "adapted" not in after.manifest and after.manifest["weights_sha256"] == WEIGHTS_SHA256
    assert not (after.path / store.ENCODER).exists()
    with kb.open(root) as base:
        assert base.searcher.embedder.check.sha256 == WEIGHTS_SHA256


def test_too_few_talks_to_train_on_is_a_usage_error_and_the_index_is_unchanged(tmp_path, standin_demo_index):
    root = copy_index(standin_demo_index, tmp_path / "demo")  # refused before any training: its vectors are not read
    live = (root / store.CURRENT).read_text()
    result = invoke("adapt", "--index-dir", root)
    assert result.exit_code == 2
    pairs = len(adapt.title_pairs(store.current(root)))
    assert result.output == (
        f"error: {pairs} talks with a title and an abstract of 200+ characters make 0 training step(s) of 32 at "
        "--epochs 0.5: too few to adapt the encoder (it needs 2 or more); the index is unchanged\n")
    for option, value, message in (
            ("--epochs", "0", "--epochs must be more than 0 and at most 20, not 0"),
            ("--epochs", "inf", "--epochs must be more than 0 and at most 20, not inf"),
            ("--epochs", "nan", "--epochs must be more than 0 and at most 20, not nan"),
            ("--seed", "-1", "--seed must be from 0 to 4294967295, not -1")):
        result = invoke("adapt", "--index-dir", root, option, value)
        assert (result.exit_code, result.output) == (2, f"error: {message}\n")
    assert (root / store.CURRENT).read_text() == live and not list(root.glob(".tmp-*"))


def test_adapt_without_an_index_says_so_and_makes_no_directory(tmp_path):
    result = invoke("adapt", "--index-dir", tmp_path / "typo")
    assert (result.exit_code, result.output) == (2, f"error: no index at {tmp_path / 'typo'}/: build one with "
                                                    "`talksearch index PATH` (e.g. `talksearch index data/`)\n")
    assert not (tmp_path / "typo").exists()


def test_training_batches_never_hold_a_pair_twice():
    for pairs, steps in ((100, 9), (64, 5), (33, 4)):
        batches = adapt.batches(pairs, steps, seed=0)
        assert len(batches) == steps and all(len(set(b)) == len(b) == adapt.BATCH for b in batches)


def test_an_interrupted_adapt_leaves_the_index_as_it_was(adapted, tmp_path, monkeypatch):
    root = copy_of(adapted, tmp_path)
    live = (root / store.CURRENT).read_text()

    def interrupted(pairs, epochs, out, **options):
        out.mkdir()
        (out / WEIGHTS_FILE).write_bytes(b"half written")
        raise KeyboardInterrupt

    monkeypatch.setattr(adapt, "train", interrupted)
    result = invoke("adapt", "--index-dir", root, "--epochs", "1")
    assert (result.exit_code, result.output) == (130, "interrupted\n")
    assert (root / store.CURRENT).read_text() == live and not list(root.glob(".tmp-*"))
    with kb.open(root) as base:
        assert base.query("generics", k=1)
