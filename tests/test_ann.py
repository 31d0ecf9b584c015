"""ann: an exact index below EXACT_LIMIT rows, an approximate one above it, close to exact search."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from talksearch import ann

ROWS = 20_000
DIMENSION = 128  # not MiniLM's 384: the index choice does not depend on it, and training is 3x faster


def normalised(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """Rows and queries like sentence embeddings: most variance in a few dozen directions, some noise."""
    rng = np.random.default_rng(11)
    basis = rng.standard_normal((32, DIMENSION)).astype(np.float32)
    points = rng.standard_normal((ROWS + 100, 32)).astype(np.float32) @ basis
    points += rng.standard_normal(points.shape).astype(np.float32) * 2
    points = normalised(points)
    return points[:ROWS], points[ROWS:]


def exact_top(base: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ base.T
    ids = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, ids, axis=1), ids


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / exact.shape[1] for f, e in zip(found, exact, strict=True)]))


@pytest.fixture(scope="module")
def approximate(data):
    base, _ = data
    saved = ann.EXACT_LIMIT
    ann.EXACT_LIMIT = 1_000  # the approximate path on a small, fast collection
    try:
        return ann.build(base)
    finally:
        ann.EXACT_LIMIT = saved


def test_below_the_limit_the_index_is_exact(data):
    base, queries = data
    assert len(base) < ann.EXACT_LIMIT
    index = ann.build(base)
    assert isinstance(index, faiss.IndexFlatIP)
    scores, ids = ann.search(index, queries, 10)
    exact_scores, exact_ids = exact_top(base, queries, 10)
    assert (ids == exact_ids).all()
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)


def test_above_the_limit_the_index_is_approximate_and_finds_the_exact_top_10(data, approximate):
    base, queries = data
    assert isinstance(approximate, faiss.IndexIVFFlat) and approximate.nlist == int(4 * np.sqrt(ROWS))
    _, ids = ann.search(approximate, queries, 10)
    assert recall(ids, exact_top(base, queries, 10)[1]) >= 0.95


def test_the_search_setting_is_written_with_the_index_and_used(data, approximate):
    base, queries = data
    copy = faiss.deserialize_index(faiss.serialize_index(approximate))
    assert copy.nprobe == ann.NPROBE
    assert (ann.search(copy, queries, 10)[1] == ann.search(approximate, queries, 10)[1]).all()


def test_fewer_rows_than_k_are_padded_and_an_empty_index_answers_nothing(data):
    base, queries = data
    scores, ids = ann.search(ann.build(base[:3]), queries[:2], 5)
    assert ids.shape == (2, 5) and (ids[:, 3:] == -1).all() and set(ids[0, :3]) == {0, 1, 2}
    scores, ids = ann.search(ann.build(base[:0]), queries[:2], 5)
    assert ids.shape == (2, 5) and (ids == -1).all()


def test_an_index_past_the_exact_limit_is_ivf_and_still_answers_and_refreshes(tmp_path, embedder, monkeypatch):
    """The whole pipeline on an approximate index: query, snippets, and a refresh that reuses its vectors."""
    import faiss

    from talksearch import kb, store

    from .conftest import DATA, build_index

    monkeypatch.setattr(ann, "EXACT_LIMIT", 10)  # the demo's 21 passages take the IVF path
    root = tmp_path / "index"
    build_index(root, [DATA], embedder)
    generation = store.current(root)
    assert faiss.try_extract_index_ivf(faiss.read_index(str(generation.vectors))) is not None
    with kb.open(root, embedder=embedder) as base:
        hits = base.query("celery retries", k=3)
    assert hits[0].title == "2. Talk: Daniel Hepper" and "Retries" in hits[0].snippet
    again = build_index(root, [], embedder)
    assert again.embedded == 0 and again.passages == 21
