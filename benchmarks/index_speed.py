"""Index speed: a full `talksearch index` run, then a refresh with nothing changed, each in a new process.

    .venv/bin/python benchmarks/index_speed.py /tmp/pyvideo/pyvideo-data data/ [--index-dir DIR]

- Full run: every PATH indexed into an empty index directory (a temporary one unless `--index-dir`), as
  `talksearch index PATH...` does it. Reported: wall seconds, peak RSS (the largest of the process and its
  worker processes), and the seconds of each stage `index` prints (`reading`, `linking`, `splitting`,
  `entities`, `embedding`, `facets`, `writing`, ...), as shares of the wall time. `splitting` and `entities`
  run interleaved in the same worker processes; `index` divides their wall time by the workers' CPU seconds
  in each (`senter` against `ner` and the extractor). Entity and keyphrase extraction is `entities` +
  `facets`, on its own line; everything else that is not the encoder is the line after it.
- Refresh: `talksearch index` again on the same sources, nothing changed: wall seconds and the ratio to the
  full run.

Targets (issue "Speed and scale"): full run <= 7 minutes wall and under 3 GB peak RSS; everything but the
encoder and entity extraction <= 15% of it; entity and keyphrase extraction <= 3 minutes; refresh <= 5% of the
full run.
Run it on an idle machine: the encoder's threads slow down many times over when another job holds a core.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TALKSEARCH = str(Path(sys.executable).parent / "talksearch")
_STAGE = re.compile(r"(\w+) ([\d.]+) s")


def timed(argv: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB, the largest of the process and its children) and stdout of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err.strip()}")
    # reaped by communicate(): the high-water mark of it and its workers is in RUSAGE_CHILDREN
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, out


def stages(out: str) -> dict[str, float]:
    line = next((line for line in out.splitlines() if line.startswith("time: ")), "")
    return {name: float(value) for name, value in _STAGE.findall(line)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--index-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="talksearch-index-speed-") as scratch:
        root = args.index_dir or Path(scratch) / "index"
        if (root / "CURRENT").exists():
            raise SystemExit(f"{root}: holds an index already; give an empty --index-dir")
        full, rss, out = timed([TALKSEARCH, "index", *args.paths, "--index-dir", str(root)])
        print(out.strip().splitlines()[0])
        spent = stages(out)
        refresh, _, again = timed([TALKSEARCH, "index", "--index-dir", str(root)])
    print(f"\n| run | wall s | share |\n|---|---|---|\n| full | {full:.1f} | 100% |")
    for name, seconds in spent.items():
        print(f"| · {name} | {seconds:.1f} | {seconds / full:.1%} |")
    extraction = spent.get("entities", 0.0) + spent.get("facets", 0.0)
    other = full - spent.get("embedding", 0.0) - extraction
    print(f"| entity and keyphrase extraction (`entities` + `facets`; goal <= 180 s) | {extraction:.1f} | "
          f"{extraction / full:.1%} |")
    print(f"| not the encoder nor extraction (start-up, reading, splitting, writing; goal <= 15%) | {other:.1f} | "
          f"{other / full:.1%} |")
    print(f"| refresh, nothing changed | {refresh:.1f} | {refresh / full:.1%} of the full run |")
    print(f"\npeak RSS {rss} MB; refresh: {again.strip().splitlines()[0]}")


if __name__ == "__main__":
    main()
