"""Index speed: a full `talksearch index` run, then refreshes (nothing changed; one note added), each in a new process.

    .venv/bin/python -m benchmarks.index_speed /tmp/pyvideo/pyvideo-data data/ [--index-dir DIR]
    .venv/bin/python -m benchmarks.index_speed --refresh /tmp/ixfull

- Full run: every PATH indexed into an empty index directory (a temporary one unless `--index-dir`), as
  `talksearch index PATH...` does it. Reported: wall seconds, peak RSS (the largest of the process and its
  worker processes), and the seconds of each stage `index` prints (`reading`, `linking`, `splitting`,
  `entities`, `embedding`, `facets`, `writing`, ...), as shares of the wall time. `splitting` and `entities`
  run interleaved in the same worker processes; `index` divides their wall time by the workers' CPU seconds
  in each (`senter` against `ner` and the extractor). Entity and keyphrase extraction is `entities` +
  `facets`, on its own line; everything else that is not the encoder is the line after it.
- Refreshes: `talksearch index` again on the same sources, nothing changed; then a one-note folder added
  (the whole generation is rewritten around it): wall seconds, the ratio to the full run, and each one's own
  peak RSS. The baseline for the second, in the same run: the same note added to a copy of the index without the
  gazetteer digest in its manifest, so that every document's tools are matched again instead of copied (what every
  refresh did before the ninth session), and the ratio of the two. `--refresh DIR` skips the full run and
  measures the refreshes on a copy of the index in DIR (it re-reads DIR's sources, which must still be where they
  were indexed from).

Targets (issue "Speed and scale"): full run <= 7 minutes wall and under 3 GB peak RSS; everything but the
encoder and entity extraction <= 15% of it; entity and keyphrase extraction <= 3 minutes; refresh <= 5% of the
full run.
Run it on an idle machine: the encoder's threads slow down many times over when another job holds a core.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .common import run_timed

TALKSEARCH = str(Path(sys.executable).parent / "talksearch")
_STAGE = re.compile(r"(\w+) ([\d.]+) s")


def stages(out: str) -> dict[str, float]:
    line = next((line for line in out.splitlines() if line.startswith("time: ")), "")
    return {name: float(value) for name, value in _STAGE.findall(line)}


NOTE = "# Celery at scale\n\n- retries with exponential backoff\n- [ ] try acks_late\n"


def refreshes(root: Path, scratch: Path) -> list[tuple[str, float, int, str]]:
    """A refresh with nothing changed, then one with a new note, then the same note added to a copy of the index
    whose manifest has no gazetteer digest (every document's tools matched again, as before the ninth session):
    (what, wall s, peak RSS MB, stdout) each."""
    undigested = scratch / "undigested"
    shutil.copytree(root, undigested, symlinks=True)
    manifest = undigested / (undigested / "CURRENT").read_text().strip() / "manifest.json"
    fields = json.loads(manifest.read_text())
    digested = fields.pop("gazetteer", None) is not None
    manifest.write_text(json.dumps(fields, indent=2, sort_keys=True))
    runs = [("refresh, nothing changed", *run_timed([TALKSEARCH, "index", "--index-dir", str(root)]))]
    notes = scratch / "notes"
    notes.mkdir()
    (notes / "celery.md").write_text(NOTE)
    add = [TALKSEARCH, "index", str(notes), "--index-dir"]
    runs.append(("refresh, one note added" + ("" if digested else " (an index without a gazetteer digest)"),
                 *run_timed([*add, str(root)])))
    if digested:
        runs.append(("the same, tools of every document matched again (no gazetteer digest)",
                     *run_timed([*add, str(undigested)])))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--refresh", type=Path, metavar="DIR",
                        help="no full run: measure the refreshes on a copy of the index in DIR")
    args = parser.parse_args()
    if bool(args.paths) == bool(args.refresh):
        parser.error("give the sources to index, or --refresh DIR")
    with tempfile.TemporaryDirectory(prefix="talksearch-index-speed-") as scratch:
        root = args.index_dir or Path(scratch) / "index"
        if (root / "CURRENT").exists():
            raise SystemExit(f"{root}: holds an index already; give an empty --index-dir")
        if args.refresh:
            shutil.copytree(args.refresh, root, symlinks=True, dirs_exist_ok=True)
            full, rss, spent = None, None, {}
        else:
            full, rss, out = run_timed([TALKSEARCH, "index", *args.paths, "--index-dir", str(root)])
            print(out.strip().splitlines()[0])
            spent = stages(out)
        runs = refreshes(root, Path(scratch))
    print("\n| run | wall s | share | peak RSS MB |\n|---|---|---|---|")
    if full is not None:
        print(f"| full | {full:.1f} | 100% | {rss} |")
        for name, seconds in spent.items():
            print(f"| · {name} | {seconds:.1f} | {seconds / full:.1%} | |")
        extraction = spent.get("entities", 0.0) + spent.get("facets", 0.0)
        other = full - spent.get("embedding", 0.0) - extraction
        print(f"| entity and keyphrase extraction (`entities` + `facets`; goal <= 180 s) | {extraction:.1f} | "
              f"{extraction / full:.1%} | |")
        print(f"| not the encoder nor extraction (start-up, reading, splitting, writing; goal <= 15%) | {other:.1f} | "
              f"{other / full:.1%} | |")
    for what, seconds, peak, _ in runs:
        share = f"{seconds / full:.1%} of the full run" if full is not None else ""
        print(f"| {what} | {seconds:.1f} | {share} | {peak} |")
    if len(runs) == 3:
        print(f"\none note added, tools copied / matched again: {runs[1][1] / runs[2][1]:.2f}x the wall time; "
              f"facets {stages(runs[1][3]).get('facets', 0):.1f} s against {stages(runs[2][3]).get('facets', 0):.1f} s")
    for what, _, _, out in runs:
        print(f"\n{what}: " + "\n".join(out.strip().splitlines()[:2]))


if __name__ == "__main__":
    main()
