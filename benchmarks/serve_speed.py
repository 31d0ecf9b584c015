"""`talksearch serve` speed: start (command to first 200), search pages through HTTP warm, page weight.

    .venv/bin/python -m benchmarks.serve_speed --index /tmp/ixfull [--starts 5] [--warm 200]

- Start: `talksearch serve --port 0` in a new process, timed from the command to the first 200 of `/` (polled every
  10 ms), `--starts` times; median and worst. Then the first search page that process serves (the index loads in
  the background from the start, so this is the wait of someone who types at once).
- Warm: one server, `--warm` search pages `/?q=<talk title>` (titles drawn with a fixed seed, as in
  `query_speed.py`) fetched over HTTP one after another on a kept-alive connection, after one untimed search:
  p50 and p99 milliseconds, and the same for `/talk/<id>` of each query's first result (its related talks
  included) and for `/api/query`.
- Weight: the search page's bytes (HTML, as sent) plus its CSS and JavaScript, the largest and the median over the
  warm queries.

Targets (issue #33): start <= 2 s, search page p50 <= 50 ms, p99 <= 150 ms, page < 100 KB.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def start(index: str) -> tuple[subprocess.Popen, str, float]:
    """A server on a free port: the process, its URL, and seconds from the command to the first 200 of `/`."""
    began = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "talksearch"), "serve", "--index-dir", index, "--port", "0"],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    found = re.search(r"(http://\S+/)", line)
    if not found:
        raise SystemExit(f"talksearch serve did not start: {line}{proc.stderr.read()}")
    url = found.group(1)
    while True:
        try:
            if httpx.get(url, timeout=10).status_code == 200:
                return proc, url, time.perf_counter() - began
        except httpx.TransportError:
            time.sleep(0.01)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]


def starts(index: str, count: int) -> dict[str, float]:
    seconds, first_search = [], []
    for i in range(count):
        proc, url, took = start(index)
        try:
            seconds.append(took)
            began = time.perf_counter()
            httpx.get(url, params={"q": f"celery retries {i}"}, timeout=60).raise_for_status()
            first_search.append(time.perf_counter() - began)
        finally:
            stop(proc)
    return {"start_median_s": statistics.median(seconds), "start_max_s": max(seconds),
            "first_search_median_s": statistics.median(first_search)}


def warm(index: str, count: int) -> dict[str, float]:
    import talksearch

    with talksearch.open(index) as kb:
        _, rows = kb.sql_rows("select title from talks order by id", limit=1_000_000)
    queries = random.Random(7).sample([title for (title,) in rows], min(count, len(rows)))
    proc, url, _ = start(index)
    times: dict[str, list[float]] = {"search": [], "talk": [], "api": []}
    sizes: list[int] = []
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.get("/", params={"q": "warm up"}).raise_for_status()
            assets = sum(len(client.get(path).content) for path in ("/static/style.css", "/static/app.js"))
            for text in queries:
                began = time.perf_counter()
                page = client.get("/", params={"q": text})
                times["search"].append((time.perf_counter() - began) * 1000)
                page.raise_for_status()
                sizes.append(len(page.content) + assets)
                first = re.search(r'<a class="title" href="([^"]+)">', page.text)
                began = time.perf_counter()
                client.get(first.group(1)).raise_for_status()
                times["talk"].append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                client.get("/api/query", params={"q": text}).raise_for_status()
                times["api"].append((time.perf_counter() - began) * 1000)
    finally:
        stop(proc)
    out: dict[str, float] = {"queries": len(queries), "page_max_kb": max(sizes) / 1024,
                             "page_median_kb": statistics.median(sizes) / 1024, "assets_kb": assets / 1024}
    for name, values in times.items():
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = percentiles(values)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--warm", type=int, default=200)
    args = parser.parse_args()
    began = starts(args.index, args.starts)
    print(f"| start ({args.starts} runs) | median s | worst s |\n|---|---|---|")
    print(f"| command to first 200 of / | {began['start_median_s']:.2f} | {began['start_max_s']:.2f} |")
    print(f"| then the first search page | {began['first_search_median_s']:.2f} | |")
    result = warm(args.index, args.warm)
    print(f"\nwarm, {result['queries']} talk titles over HTTP, ms | p50 | p99\n|---|---|---|")
    for name, label in (("search", "search page /?q="), ("talk", "its first result's page /talk/..."),
                        ("api", "/api/query")):
        print(f"| {label} | {result[f'{name}_p50_ms']:.1f} | {result[f'{name}_p99_ms']:.1f} |")
    print(f"\nsearch page weight (HTML + {result['assets_kb']:.1f} KB of CSS and JavaScript): "
          f"median {result['page_median_kb']:.1f} KB, largest {result['page_max_kb']:.1f} KB")


if __name__ == "__main__":
    main()
