"""Known-item moments in transcripts: is the talk found, and its moment with it? (`shared/eval/moments.tsv`)

    .venv/bin/python -m benchmarks.moments --index /tmp/ix-transcripts [--modes hybrid,rrf] [--json out.json]

The index must hold the pyvideo corpus and the development transcripts (`shared/corpora/
pyvideo-transcripts-dev.tar.gz`, unpacked). Each query of moments.tsv runs once per ranking mode, with no filter
(as a person would ask it), fetching `K` hits. As the set's README says:

- the talk's rank is that of the first hit that is any recording of it (groups.tsv: a talk given at several events
  counts by any of its recordings); talk first, in the top 5 and top 10, and MRR@10 over all queries;
- "moment" is whether the first hit is the talk and its moment overlaps the span widened by `SLACK` seconds on
  each side.

The set's reference system got 0.775 first, 0.975 top 5, 1.000 top 10, MRR@10 0.844, moment 0.700.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import talksearch
from talksearch.records import Mode

from .common import SHARED
from .eval import load

K = 10
SLACK = 30.0  # seconds a moment may miss the span by, on either side
REFERENCE = {"first": 0.775, "top5": 0.975, "top10": 1.0, "mrr10": 0.844, "moment": 0.700}


@dataclass(frozen=True)
class Moment:
    """One row of moments.tsv."""

    qid: str
    query: str
    talk: str
    start: float
    end: float
    style: str
    in_abstract: bool


@dataclass(frozen=True)
class Outcome:
    qid: str
    rank: int | None  # 1-based, None: not in the top K
    moment: bool  # the first hit is the talk, with its moment on the span (+- SLACK)
    found: tuple[float, float] | None  # the first hit's moment, when it is the talk


def read_moments(path: Path) -> list[Moment]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Moment(q, text, talk, float(start), float(end), style, flag == "yes")
            for q, text, talk, start, end, style, flag in rows]


def ask(kb: talksearch.KnowledgeBase, moment: Moment, group, mode: str) -> Outcome:
    hits = kb.query(moment.query, k=K, mode=mode)
    wanted = group(moment.talk)
    rank = next((n for n, hit in enumerate(hits, start=1) if group(hit.id) == wanted), None)
    first = hits[0].moment if rank == 1 else None
    on_span = bool(first and first.start <= moment.end + SLACK and first.end >= moment.start - SLACK)
    return Outcome(moment.qid, rank, on_span, (first.start, first.end) if first else None)


def summarise(outcomes: list[Outcome]) -> dict[str, float]:
    n = len(outcomes) or 1
    return {
        "first": sum(o.rank == 1 for o in outcomes) / n,
        "top5": sum(o.rank is not None and o.rank <= 5 for o in outcomes) / n,
        "top10": sum(o.rank is not None for o in outcomes) / n,
        "mrr10": sum(1 / o.rank for o in outcomes if o.rank) / n,
        "moment": sum(o.moment for o in outcomes) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--modes", default=Mode.HYBRID.value)
    parser.add_argument("--eval-dir", type=Path, default=SHARED / "eval")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--misses", action="store_true", help="List the queries whose talk or moment was missed.")
    args = parser.parse_args()
    dev = load(args.eval_dir)
    moments = read_moments(args.eval_dir / "moments.tsv")
    results: dict[str, dict] = {}
    with talksearch.open(args.index) as kb:
        for mode in args.modes.split(","):
            outcomes = [ask(kb, m, dev.group, mode) for m in moments]
            by_style: dict[str, list[Outcome]] = defaultdict(list)
            for m, o in zip(moments, outcomes, strict=True):
                by_style[m.style].append(o)
            results[mode] = {"all": summarise(outcomes), **{s: summarise(o) for s, o in sorted(by_style.items())},
                             "outcomes": [asdict(o) for o in outcomes]}
            if args.misses:
                for m, o in zip(moments, outcomes, strict=True):
                    if o.rank != 1 or not o.moment:
                        print(f"{m.qid} rank {o.rank} moment {o.found} want {m.start:.0f}-{m.end:.0f}: {m.query}")
    columns = list(REFERENCE)
    print(f"| system ({len(moments)} queries) | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    print("| reference (eval README) | " + " | ".join(f"{REFERENCE[c]:.3f}" for c in columns) + " |")
    for mode, result in results.items():
        print(f"| talksearch {mode} | " + " | ".join(f"{result['all'][c]:.3f}" for c in columns) + " |")
        for style in sorted(k for k in result if k not in ("all", "outcomes")):
            print(f"| &nbsp; {style} ({sum(1 for m in moments if m.style == style)}) | "
                  + " | ".join(f"{result[style][c]:.3f}" for c in columns) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
