"""Which FAISS index for how many passage vectors: exact below EXACT_LIMIT rows, IVF-Flat above it.

Vectors are L2-normalised float32, so inner product is cosine. Measured by `benchmarks/scale.py`
(real passage vectors replicated with noise; one query at a time; 2 cores shared with other jobs):

- Exact `IndexFlatIP` scans every row: p50 3.4-3.8 ms at 25k rows, 43-49 ms at 100k, 153-155 ms
  at 1M. An idle machine's (fastest) scans reach 15 ms at ~95k-126k rows, loaded medians already at
  33k-76k: EXACT_LIMIT = 100k keeps today's corpus (28k passages) exact with room to spare.
- 1,000,000 rows, against exact search: IVF-Flat (nlist 4000, nprobe 128) recall@10 0.994-0.998,
  p50 13-14 ms (0.09x exact), 1.48 GB like the exact index, opened by mmap in 0.02 s; build 7-11 min
  here, mostly k-means. HNSW32 (efConstruction 40) needed efSearch 512 for recall@10 0.988 (0.955 at
  256), p50 1.5 ms, but 1.72 GB, a similar build time and 3-5 s to read its graph before every
  cold query; IVF-SQ8 (0.38 GB) reached only 0.982 at nprobe 128.

`nprobe` is set at build time and written into the index file by `faiss.write_index`;
`search` passes the stored value explicitly. Asked for 2000 rows (search.DENSE_DEPTH), nprobe 128
finds 96% of the exact top 2000 at 1M rows (nprobe 256: 98%, p50 24 ms), 89-92% at 200k.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import faiss
    import numpy as np

EXACT_LIMIT = 100_000  # rows; an exact scan passes 10-15 ms for one query about here
CELLS_PER_SQRT = 4  # nlist = 4 sqrt(rows): ~250 rows per cell at 1M
TRAIN_PER_CELL = 39  # k-means sample: 39 rows per cell (FAISS warns below this), 10 iterations
NPROBE = 128  # cells scanned per query: recall@10 >= 0.99 at 200k (noise 0.3-0.7) and 1M rows; 64 gave 0.983-0.992
SEED = 11  # the training sample, so a rebuild of the same rows gives the same index


def build(vectors: np.ndarray) -> faiss.Index:
    """An index over `vectors` (rows normalised): exact under EXACT_LIMIT rows, else IVF-Flat."""
    import faiss
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    rows, dimension = vectors.shape
    if rows < EXACT_LIMIT:
        index = faiss.IndexFlatIP(dimension)
    else:
        cells = int(CELLS_PER_SQRT * np.sqrt(rows))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, cells, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10
        index.cp.seed = SEED
        sample = np.random.default_rng(SEED).choice(rows, min(rows, TRAIN_PER_CELL * cells), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = min(NPROBE, cells)  # written with the index
    index.add(vectors)
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the k best rows per query, best first; ids are -1 where fewer than k exist."""
    import faiss
    import numpy as np

    queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, index.d)
    if k <= 0 or index.ntotal == 0:
        shape = (len(queries), max(k, 0))
        return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
    ivf = faiss.try_extract_index_ivf(index)
    params = faiss.SearchParametersIVF(nprobe=ivf.nprobe) if ivf is not None else None
    return index.search(queries, k, params=params)
