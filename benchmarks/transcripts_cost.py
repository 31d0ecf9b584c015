"""What transcripts cost to index: the corpus with and without them, and them added to an indexed corpus, in one run.

    .venv/bin/python -m benchmarks.transcripts_cost /tmp/pyvideo/pyvideo-data data/ --transcripts /tmp/tr/pyvideo-transcripts

Each run is a new `talksearch index` process into an empty index directory (temporary), timed with its peak RSS
(the largest of the process and its workers) and the stages `index` prints:

1. the sources alone (the baseline: what the corpus costs today);
2. the sources and `--transcripts` in one run;
3. `--transcripts` added to a copy of 1's index (only their windows embedded).

Reported: wall seconds, the ratio of 2 and 3 to 1 (timing on this machine is noisy; the ratio is what compares),
the passages each embedded, and peak RSS. Targets (issue #31): 2 within 10 minutes (the corpus alone took 6.5 when
the issue was written: 1.54x), 3 within 4 minutes (0.62x), peak memory within 3 GB. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .common import run_timed
from .index_speed import stages

TALKSEARCH = str(Path(sys.executable).parent / "talksearch")
_EMBEDDED = re.compile(r"\((\d+) embedded\)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--transcripts", required=True)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="talksearch-transcripts-cost-") as scratch:
        plain, heard, added = (Path(scratch) / name for name in ("plain", "heard", "added"))
        for what, sources, root in (("corpus alone", args.paths, plain),
                                    ("corpus and transcripts", [*args.paths, args.transcripts], heard)):
            runs.append((what, *run_timed([TALKSEARCH, "index", *sources, "--index-dir", str(root)])))
        shutil.copytree(plain, added, symlinks=True)
        runs.append(("transcripts added to the corpus's index",
                     *run_timed([TALKSEARCH, "index", args.transcripts, "--index-dir", str(added)])))
    base = runs[0][1]
    print("| run | wall s | ratio to the corpus alone | embedded | peak RSS MB |\n|---|---|---|---|---|")
    for what, seconds, peak, out in runs:
        embedded = _EMBEDDED.search(out)
        print(f"| {what} | {seconds:.1f} | {seconds / base:.2f}x | {embedded.group(1) if embedded else '?'} | {peak} |")
    for what, _, _, out in runs:
        print(f"\n{what}: " + " · ".join(f"{name} {sec:.1f} s" for name, sec in stages(out).items()))
        print(out.strip().splitlines()[0])


if __name__ == "__main__":
    main()
