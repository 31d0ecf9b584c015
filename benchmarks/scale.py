"""Scale: exact vs approximate FAISS indexes on up to a million passage vectors (issue #11, part 5).

    .venv/bin/python -m benchmarks.scale --index /tmp/ixfull3 [--n 1000000] [--noise 0.5] [--rounds 2]
    .venv/bin/python -m benchmarks.scale --index /tmp/ixfull3 --n 200000                   # quick, ~7 min
    .venv/bin/python -m benchmarks.scale --index /tmp/ixfull3 --kinds exact,ivf-flat,ivf-sq8  # no HNSW build

- Vectors: every real passage vector of the index (`--index` root; CURRENT names the generation), less
  180 held out as queries, then noisy replicas of them up to `--n` rows: source + Gaussian noise of
  norm `--noise`, renormalised. A replica's cosine to its source is then ~1/sqrt(1 + noise^2): 0.96 at
  0.3, 0.89 at 0.5, 0.82 at 0.7, against 0.76 for a real passage's nearest real neighbour (printed).
  At 0.3 each passage becomes a tight cluster of near-ties; at 0.7 half the variance is isotropic noise
  (the hardest case for a graph or a clustering); 0.5 is between. Run another `--noise` to check.
- Queries: the 20 development-set queries (`../shared/eval/queries.tsv`, embedded with the NumPy
  encoder) and the 180 held-out real passages (neither they nor replicas of them are in the index).
- Indexes: exact `IndexFlatIP` (the baseline); `ann.build` (IVF-Flat, nlist = 4 sqrt(n), k-means on a
  sample); HNSW (`IndexHNSWFlat`, M=32, efConstruction 40); IVF-SQ8, 8-bit codes over ann.build's
  clustering and assignment (its build time is the encoding only: add IVF-Flat's for one from scratch).
  Each is built by a new process that loads the vectors, so its peak RSS (VmHWM) minus its RSS after
  loading them is what the build adds; builds use every core (FAISS's OpenMP default, 2 here). Then
  written to disk (size reported) and opened as `store.read_vectors` does (mmap, read only); "query
  RSS" is what the open index holds after all the timed queries (its own memory + mapped pages).
- Recall@10 against exact search, counting a returned row as right if its exact score ties the 10th
  best (the corpus holds duplicate passages). Warm latency: one query at a time, as a user sends them,
  with one OpenMP thread (the sweep shows why: a lone exact query on 2 threads waits for a busy core),
  `--rounds` rounds interleaving every index and setting; p50/p99 and the ratio to the exact p50 of
  the same rounds. k=2000 is `search.rankers.DENSE_DEPTH`, what the dense ranker (`rankers.best_passage`)
  asks an approximate index for: its recall@2000 and p50 are reported too (HNSW searched with efSearch >= k, as
  ann.search would need).
- Sweep: exact single-query latency at 25k, 100k, 250k, 500k and 1M rows, by FAISS (`IndexFlatIP`, on
  1 and 2 OpenMP threads) and by the path the dense ranker takes for a flat index (a NumPy product over
  every row, then the best per document; "search.py" in the tables, where it was); a line through the origin
  gives the rows where 10 and 15 ms are reached, which sets ann.EXACT_LIMIT. p50 and fastest: the machine is
  shared, the fastest run is the closest to an idle one.

Targets (issue "Speed and scale"): at 1M rows recall@10 >= 0.98 and warm p50 <= 30 ms, memory reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import SHARED, child_command, child_env, rss_mb

QUERIES = SHARED / "eval" / "queries.tsv"
HELD_OUT = 180  # real passages kept out of the index, as queries
SEED = 11
TARGET_RECALL = 0.98
DENSE_DEPTH = 2000  # search.rankers.DENSE_DEPTH: passages the dense ranker fetches from an approximate index
SWEEP = (25_000, 100_000, 250_000, 500_000, 1_000_000)
SWEEP_QUERIES = 50  # per round and size: a full scan of 1M rows costs ~0.1-0.4 s
EXACT_TIMED = 50  # queries per round timed on the exact index, and for every index at k=DENSE_DEPTH
KINDS = ("exact", "ivf-flat", "hnsw", "ivf-sq8")  # ivf-sq8 reuses ivf-flat's clustering
SETTINGS = {"ivf-flat": (16, 32, 64, 128, 256), "hnsw": (64, 128, 256, 512), "ivf-sq8": (32, 64, 128, 256, 512)}


def mapped_mb(path: str) -> float:
    """Resident MB of this process's memory maps of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            if not line[0].isupper() or line.split()[0][-1] != ":":  # a mapping's header line
                inside = line.rstrip().endswith(path)
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total / 1024


def real_vectors(index_root: Path) -> np.ndarray:
    import faiss

    generation = index_root / (index_root / "CURRENT").read_text().strip()
    index = faiss.read_index(str(generation / "passages.faiss"))
    return index.reconstruct_n(0, index.ntotal)


def make_data(real: np.ndarray, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(base rows, query rows): real passages first, then noisy replicas; held-out passages + real queries."""
    from talksearch.minilm import NumpyEmbedder

    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(real))
    held, kept = real[order[:HELD_OUT]], real[order[HELD_OUT:]]
    base = np.empty((n, real.shape[1]), dtype=np.float32)
    base[: min(n, len(kept))] = kept[:n]
    for start in range(len(kept), n, 100_000):
        stop = min(n, start + 100_000)
        rows = kept[np.arange(start, stop) % len(kept)]
        rows = rows + rng.standard_normal(rows.shape, dtype=np.float32) * np.float32(noise / np.sqrt(rows.shape[1]))
        base[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    texts = [line.split("\t")[1] for line in QUERIES.read_text().splitlines() if line.strip()]
    queries = np.vstack([NumpyEmbedder().embed(texts), held]).astype(np.float32)
    return base, queries


def build_child(kind: str, data: str, out: str) -> None:
    """Runs in its own process: load the rows, build one index, write it; JSON on stdout."""
    import faiss

    from talksearch import ann

    base = np.load(data)
    loaded = rss_mb()
    start = time.perf_counter()
    n, d = base.shape
    if kind == "exact":
        index = faiss.IndexFlatIP(d)
        index.add(base)
    elif kind == "ivf-flat":
        ann.EXACT_LIMIT = 0  # the approximate path even for a small --n
        index = ann.build(base)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
        index.add(base)
    else:  # ivf-sq8: IVF-Flat's clustering and list of every row, 8-bit codes instead of floats
        clustered = faiss.read_index(str(Path(out).with_name("ivf-flat.faiss")))
        quantizer = faiss.IndexFlatIP(d)
        quantizer.add(clustered.quantizer.reconstruct_n(0, clustered.nlist))
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, clustered.nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.train(base[np.random.default_rng(SEED).choice(n, min(n, 100_000), replace=False)])  # codec only
        assign = np.empty(n, dtype=np.int64)
        for cell in range(clustered.nlist):
            size = clustered.invlists.list_size(cell)
            if size:
                assign[faiss.rev_swig_ptr(clustered.invlists.get_ids(cell), size)] = cell
        del clustered
        index.add_core(n, faiss.swig_ptr(base), None, faiss.swig_ptr(assign))
    seconds = time.perf_counter() - start
    faiss.write_index(index, out)
    print(json.dumps({"build_s": seconds, "loaded_mb": loaded, "peak_mb": rss_mb(field="VmHWM")}))


def build(kind: str, data: str, out: str) -> dict:
    # the child's own VmHWM: wait4's ru_maxrss would start from this (large) process's RSS at fork
    proc = subprocess.run(child_command("benchmarks.scale", "--child", kind, "--data", data, "--out", out),
                          capture_output=True, text=True, env=child_env())
    if proc.returncode != 0:
        raise SystemExit(f"building {kind} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["file_mb"] = os.path.getsize(out) / 2**20
    return result


def params_for(kind: str, setting: int | None, k: int):
    import faiss

    if kind == "hnsw":
        return faiss.SearchParametersHNSW(efSearch=max(setting, k))
    if kind.startswith("ivf"):
        return faiss.SearchParametersIVF(nprobe=setting)
    return None


def recall(base: np.ndarray, queries: np.ndarray, ids: np.ndarray, floor: np.ndarray) -> float:
    """Share of the k exact best rows found; a row whose exact score ties the k-th best counts."""
    k = ids.shape[1]
    hits = 0
    for q, row, least in zip(queries, ids, floor, strict=True):
        found = row[row >= 0]
        hits += min(k, int(np.count_nonzero(base[found] @ q >= least - 1e-6)))
    return hits / (k * len(queries))


def percentile(times: list[float], p: float) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(len(times) * p))]


def timed_queries(index, queries: np.ndarray, k: int, params) -> list[float]:
    """Milliseconds of each query, sent one at a time."""
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q[None], k, params=params)
        times.append((time.perf_counter() - start) * 1000)
    return times


def exact_sweep(base: np.ndarray, queries: np.ndarray, rounds: int) -> list[dict]:
    """Single-query p50 of a full scan at growing sizes: FAISS, and the dense ranker's NumPy path."""
    import faiss

    sizes = sorted({s for s in SWEEP if s < len(base)} | {len(base)})
    owner = (np.arange(len(base)) * 0.76).astype(np.int64)  # ~1.3 passages per document, as in the corpus
    samples: dict[tuple[str, int], list[float]] = {}
    picked = queries[:SWEEP_QUERIES]
    for _ in range(rounds):
        for size in sizes:
            rows, docs = base[:size], owner[:size]
            for q in picked:
                for threads in (1, 2):
                    faiss.omp_set_num_threads(threads)
                    start = time.perf_counter()
                    faiss.knn(q[None], rows, 10, metric=faiss.METRIC_INNER_PRODUCT)
                    samples.setdefault((f"faiss{threads}", size), []).append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                best = np.full(int(docs[-1]) + 1, -np.inf, dtype=np.float32)
                np.maximum.at(best, docs, rows @ q)
                np.argpartition(-best, 10)[:10]
                samples.setdefault(("numpy", size), []).append((time.perf_counter() - start) * 1000)
    faiss.omp_set_num_threads(1)
    return [{"n": size, **{f"{key}_p50": statistics.median(samples[key, size]) for key in ("faiss1", "faiss2", "numpy")},
             **{f"{key}_min": min(samples[key, size]) for key in ("faiss1", "numpy")}} for size in sizes]


def crossing(sweep: list[dict], key: str, ms: float) -> float:
    """Rows at which `ms` is reached, by a least-squares line through the origin (a scan costs rows x c)."""
    rows = [r for r in sweep if r["n"] >= 100_000] or sweep
    per_row = sum(r["n"] * r[key] for r in rows) / sum(r["n"] ** 2 for r in rows)
    return ms / per_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an index root (holding CURRENT) with real passage vectors")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--noise", type=float, default=0.5, help="norm of the noise added to a replica")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"indexes to build, of {','.join(KINDS)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return build_child(args.child, args.data, args.out)
    kinds = [kind for kind in KINDS if kind in args.kinds.split(",")]
    if args.index is None or "exact" not in kinds or ("ivf-sq8" in kinds and "ivf-flat" not in kinds):
        parser.error("--index is required; --kinds needs exact (the baseline), and ivf-flat for ivf-sq8")
    import faiss

    from talksearch import ann

    started = time.perf_counter()
    real = real_vectors(args.index)
    sample = real[np.random.default_rng(SEED).choice(len(real), 500, replace=False)]
    nearest = np.sort(sample @ real.T, axis=1)[:, -2]  # [-1] is the passage itself
    base, queries = make_data(real, args.n, args.noise)
    print(f"{len(real)} real passage vectors from {args.index}; median cosine to nearest real neighbour "
          f"{np.median(nearest):.2f}; noise {args.noise} -> replica-to-source cosine "
          f"{1 / np.sqrt(1 + args.noise ** 2):.2f}; {len(base):,} rows, {len(queries)} queries; "
          f"FAISS {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads for builds\n")

    exact_scores, _ = faiss.knn(queries, base, DENSE_DEPTH, metric=faiss.METRIC_INNER_PRODUCT)
    floors = {10: exact_scores[:, 9], DENSE_DEPTH: exact_scores[:, -1]}

    with tempfile.TemporaryDirectory(prefix="talksearch-scale-") as tmp:
        data = os.path.join(tmp, "base.npy")
        np.save(data, base)
        built, opened = {}, {}
        for kind in kinds:
            path = os.path.join(tmp, f"{kind}.faiss")
            built[kind] = build(kind, data, path)
            before = rss_mb()
            start = time.perf_counter()
            opened[kind] = faiss.read_index(path, faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            built[kind].update(open_s=time.perf_counter() - start, open_mb=rss_mb() - before - mapped_mb(path))
            print(f"built {kind}: {built[kind]['build_s']:.0f} s", file=sys.stderr, flush=True)

        # recall of every setting (one batch search), then single-query latency, rounds interleaving them all
        configs = [("exact", None)] + [(kind, s) for kind in kinds[1:] for s in SETTINGS[kind]]
        recalls = {}
        for kind, setting in configs:
            for k in (10, DENSE_DEPTH):
                _, ids = opened[kind].search(queries, k, params=params_for(kind, setting, k))
                recalls[kind, setting, k] = recall(base, queries, ids, floors[k])
        times: dict[tuple, list[float]] = {}
        faiss.omp_set_num_threads(1)  # one query, one core
        for kind, setting in configs:  # warm up: pages of mmapped files, caches
            timed_queries(opened[kind], queries[:20], 10, params_for(kind, setting, 10))
        for _ in range(args.rounds):
            for kind, setting in configs:
                for k in (10, DENSE_DEPTH):
                    picked = queries if kind != "exact" and k == 10 else queries[:EXACT_TIMED]  # a full scan: ~0.2 s
                    times.setdefault((kind, setting, k), []).extend(
                        timed_queries(opened[kind], picked, k, params_for(kind, setting, k)))
        for kind in opened:  # memory a query process holds for the index: its own + the file's resident pages
            built[kind]["search_mb"] = built[kind]["open_mb"] + mapped_mb(os.path.join(tmp, f"{kind}.faiss"))
        resident = rss_mb()
        del opened
        sweep = exact_sweep(base, queries, args.rounds)

    def p50(kind, setting, k=10):
        return statistics.median(times[kind, setting, k])

    def first_passing(kind):
        return next((s for s in SETTINGS[kind] if recalls[kind, s, 10] >= TARGET_RECALL), SETTINGS[kind][-1])

    chosen = {kind: ann.NPROBE if kind == "ivf-flat" and ann.NPROBE in SETTINGS[kind] else first_passing(kind)
              for kind in kinds[1:]}
    label = {"exact": "exact IndexFlatIP", "ivf-flat": "ann.build: IVF-Flat nprobe", "hnsw": "HNSW32 efSearch",
             "ivf-sq8": "IVF-SQ8 nprobe"}
    print(f"| {args.n:,} rows | build s | build peak RSS MB (+ over input) | file MB | open s | query RSS MB | "
          f"recall@10 | p50 ms | p99 ms | p50 x exact | k={DENSE_DEPTH}: recall | p50 ms | x exact |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, setting in [("exact", None), *chosen.items()]:
        b, t = built[kind], times[kind, setting, 10]
        name = label[kind] + (f" {setting}" if setting else "")
        print(f"| {name} | {b['build_s']:.1f} | {b['peak_mb']:.0f} (+{b['peak_mb'] - b['loaded_mb']:.0f}) | "
              f"{b['file_mb']:.0f} | {b['open_s']:.2f} | {b['search_mb']:.0f} | {recalls[kind, setting, 10]:.3f} | "
              f"{p50(kind, setting):.2f} | {percentile(t, 0.99):.2f} | {p50(kind, setting) / p50('exact', None):.3f} | "
              f"{recalls[kind, setting, DENSE_DEPTH]:.3f} | {p50(kind, setting, DENSE_DEPTH):.2f} | "
              f"{p50(kind, setting, DENSE_DEPTH) / p50('exact', None, DENSE_DEPTH):.3f} |")
    print(f"\nevery setting ({len(queries)} queries x {args.rounds} rounds at k=10, {EXACT_TIMED} at k={DENSE_DEPTH}; "
          f"in the table above: ann.NPROBE for IVF-Flat, else the first with recall@10 >= {TARGET_RECALL})\n\n"
          f"| index | setting | recall@10 | p50 ms | p99 ms | p50 x exact | k={DENSE_DEPTH}: recall | p50 ms |\n"
          "|---|---|---|---|---|---|---|---|")
    for kind, setting in configs[1:]:
        t = times[kind, setting, 10]
        print(f"| {label[kind]} | {setting}{' (above)' if chosen[kind] == setting else ''} | "
              f"{recalls[kind, setting, 10]:.3f} | {p50(kind, setting):.2f} | {percentile(t, 0.99):.2f} | "
              f"{p50(kind, setting) / p50('exact', None):.3f} | {recalls[kind, setting, DENSE_DEPTH]:.3f} | "
              f"{p50(kind, setting, DENSE_DEPTH):.2f} |")
    print(f"\nexact single-query latency by size ({SWEEP_QUERIES} queries x {args.rounds} rounds)\n\n"
          "| rows | FAISS IndexFlatIP, 1 thread: p50 ms | fastest | 2 threads: p50 | "
          "search.py flat path (NumPy product + best per document): p50 | fastest |\n|---|---|---|---|---|---|")
    for row in sweep:
        print(f"| {row['n']:,} | {row['faiss1_p50']:.1f} | {row['faiss1_min']:.1f} | {row['faiss2_p50']:.1f} | "
              f"{row['numpy_p50']:.1f} | {row['numpy_min']:.1f} |")
    if len(sweep) > 1:
        print()
        for key, name in (("faiss1_p50", "FAISS 1 thread, p50"), ("faiss1_min", "FAISS 1 thread, fastest"),
                          ("faiss2_p50", "FAISS 2 threads, p50"), ("numpy_p50", "search.py path, p50"),
                          ("numpy_min", "search.py path, fastest")):
            print(f"- {name}: 10 ms at ~{crossing(sweep, key, 10):,.0f} rows, "
                  f"15 ms at ~{crossing(sweep, key, 15):,.0f} rows")
    print(f"\nprocess RSS with every index open and queried: {resident:.0f} MB "
          f"(the {len(base):,} input rows themselves: {base.nbytes / 2**20:.0f} MB); "
          f"wall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
