"""Query speed: cold `talksearch query`/`related` processes against a floor, and warm API latency.

    .venv/bin/python -m benchmarks.query_speed --index /tmp/ixfull [--runs 9] [--warm 200]

- Cold: each run starts a new process (`talksearch query "<text>"`, index on disk, OS cache warm after
  a first untimed run). The floor, timed in the same loop, is `python -c "import numpy, faiss, duckdb"`:
  the least any query process must pay. Reported: median wall seconds, the ratio to the floor's median,
  and the peak RSS of the query processes (from wait4).
- Warm: one `talksearch.open()` and `--warm` queries through `kb.query` (titles of talks drawn with a fixed
  seed, so anyone gets the same list): p50 and p99 milliseconds; beside each query, the NumPy encoder alone on
  the same text, and the encoder's weight products alone (its memory-bound floor: `weight_products`).

Targets (issue "Speed and scale"): cold median <= 0.8 s and <= 2.5x floor, peak RSS <= 400 MB;
warm p50 <= 20 ms, p99 <= 60 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from talksearch import embed, minilm

from .common import run_timed

BIN = Path(sys.executable).parent
QUERIES = ["celery retries", "making pandas faster", "how do I test async code", "type hints for decorators",
           "deploying django on kubernetes", "structural pattern matching", "maintainer burnout"]


def cold(index: str, runs: int) -> dict[str, dict]:
    talksearch = str(BIN / "talksearch")
    floor_cmd = [sys.executable, "-c", "import numpy, faiss, duckdb"]
    related_ref = subprocess.run([talksearch, "query", QUERIES[0], "-k", "1", "--json", "--index-dir", index],
                                 capture_output=True, text=True, check=True).stdout
    seed = related_ref.split('"id": "', 1)[1].split('"', 1)[0]
    commands = {
        "floor": lambda i: floor_cmd,
        "query": lambda i: [talksearch, "query", QUERIES[i % len(QUERIES)], "--index-dir", index],
        "related": lambda i: [talksearch, "related", seed, "--index-dir", index],
    }
    for make in commands.values():  # warm the OS cache; not timed
        run_timed(make(0), output=False)
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for i in range(runs):  # interleaved, so load on the machine hits every command alike
        for name, make in commands.items():
            samples[name].append(run_timed(make(i), output=False)[:2])
    floor = statistics.median(s for s, _ in samples["floor"])
    return {name: {"median_s": statistics.median(s for s, _ in runs_), "ratio": statistics.median(s for s, _ in runs_) / floor,
                   "peak_rss_mb": max(m for _, m in runs_)} for name, runs_ in samples.items()}


def warm(index: str, count: int) -> dict[str, float]:
    """p50/p99 of `kb.query`; beside it, per query, the NumPy encoder alone and its weight products alone."""
    import talksearch

    with talksearch.open(index) as kb:
        titles = [row[0] for row in kb.con.execute("select title from talks order by id").fetchall()]
        queries = random.Random(7).sample(titles, min(count, len(titles)))
        kb.query("warm up", k=10)
        embedder = kb.searcher.embedder
        products = weight_products(embedder)
        times: dict[str, list[float]] = {"query": [], "encoder": [], "products": []}
        runs = {"query": lambda text: kb.query(text, k=10), "encoder": lambda text: embedder.embed([text]),
                "products": lambda text: products()}
        for text in queries:
            for name, run in runs.items():
                start = time.perf_counter()
                run(text)
                times[name].append((time.perf_counter() - start) * 1000)
    out: dict[str, float] = {"queries": len(queries)}
    for name, values in times.items():
        values.sort()
        out[f"{name}_p50_ms"] = values[len(values) // 2]
        out[f"{name}_p99_ms"] = values[min(len(values) - 1, int(len(values) * 0.99))]
    return out


def weight_products(embedder, rows: int = 16):
    """The NumPy encoder's 36 weight products (6 layers x Q, K, V, output, FFN in and out) on `rows` tokens and
    nothing else, on one BLAS thread as the encoder runs them: each weight (42 MB in all) is read once per query,
    so this is the encoder's floor on this CPU."""
    import numpy as np

    tensors = minilm.read_safetensors(embedder.directory / embed.WEIGHTS_FILE)  # the encoder's weights, mapped
    weights = [w for name, w in tensors.items() if name.startswith("encoder.") and w.ndim == 2]
    inputs = {width: np.ones((rows, width), dtype=np.float32) for width in {w.shape[1] for w in weights}}

    def run() -> None:
        with minilm.blas().limit(limits=1, user_api="blas"):
            for weight in weights:
                weight @ inputs[weight.shape[1]].T

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--warm", type=int, default=200)
    args = parser.parse_args()
    print(f"| cold ({args.runs} runs) | median s | x floor | peak RSS MB |\n|---|---|---|---|")
    for name, row in cold(args.index, args.runs).items():
        print(f"| {name} | {row['median_s']:.3f} | {row['ratio']:.2f} | {row['peak_rss_mb']} |")
    result = warm(args.index, args.warm)
    print(f"\nwarm, {result['queries']} talk titles, ms | p50 | p99\n|---|---|---|")
    for name, label in (("query", "kb.query"), ("encoder", "· NumPy encoder alone"),
                        ("products", "· its 36 weight products alone (16 tokens)")):
        print(f"| {label} | {result[f'{name}_p50_ms']:.1f} | {result[f'{name}_p99_ms']:.1f} |")


if __name__ == "__main__":
    main()
