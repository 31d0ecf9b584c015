"""Ranking-quality evaluation of talksearch on the development set in `shared/eval`.

    .venv/bin/python -m benchmarks.eval --index /tmp/ixfull [--modes hybrid,dense,lexical] [--json out.json]

Method (as in `shared/eval/README.md`, "Method"):

- Every query of `queries.tsv` runs against the index once per ranking mode, talks only
  (`Filters(kind="talk")`), fetching `DEPTH` hits so that ten distinct talks remain after grouping.
- Recordings of one talk count once. Each talk id maps to its group from `groups.tsv` (not talksearch's own
  grouping): a group's grade in the qrels is the highest grade of its recordings; in a ranking only the first
  recording of a group is kept, later ones are dropped, and the top `K` groups are scored.
- nDCG@10, MRR@10 and Recall@10 (grade >= 1 relevant) come from `ranx`. Its `ndcg` uses linear gains,
  DCG = sum(grade_i / log2(i + 1)), i.e. trec_eval's ndcg_cut (`ndcg_burges` would be 2^grade - 1).
  Most queries have far more than 10 relevant talks, so plain recall@10 is small (at most 0.35 on the set);
  the summary shows capped recall R_cap@10 = ranx hits@10 / min(10, relevant), which is what the set's
  reference table reports as Recall@10. Plain recall@10 is in the --json output.
- judged@10: the share of the top 10 groups (as scored) that qrels.tsv lists for the query, any grade it lists (a
  place the ranking leaves empty counts as unjudged): how much of what the scores rest on was judged. The set's
  qrels.tsv lists relevant talks only (grades 1 and 2; the pooled talks judged irrelevant are not published), so
  this is a lower bound of the judged share, and equals R_cap@10 where a query has 10 or more relevant talks: a
  drop still says the ranking moved onto talks the set never graded relevant, which a re-judging may find.
- Related talks: for each query with at least 3 talks of grade 2, each of those talks is a seed; its relevant
  neighbours are the query's other judged talks with their grades, the seed's own group left out. The top 10
  of `kb.related(seed)` (mapped to groups the same way) is scored with nDCG@10 and judged@10 (the query's judged
  talks, the seed's own group left out), averaged over seeds. Seeds missing from the index are skipped.

Unjudged talks count as 0, so rankers unlike the pooled ones are under-rated a little: a lower judged@10 says
by how much a ranker strays from what was judged.

The other benchmarks score with this module's functions (`from .eval import ...`); it imports no other module of
`benchmarks`, so that tests/test_eval_metrics.py can load it from its file.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from numba.core.errors import NumbaTypeSafetyWarning
from ranx import Qrels, Run, evaluate

import talksearch.kb as kbmod
from talksearch.records import Mode
from talksearch.search import Filters

MODES = tuple(mode.value for mode in Mode)

K = 10
DEPTH = 2 * K  # hits fetched per query; more than K so grouping by groups.tsv still leaves K talks
NDCG, RECALL, MRR, HITS, R_CAP = f"ndcg@{K}", f"recall@{K}", f"mrr@{K}", f"hits@{K}", f"r_cap@{K}"
JUDGED = f"judged@{K}"  # share of the top K the set has judged, any grade
# summary columns, like the set's reference table, and judged@K beside nDCG@K
SHOWN = {NDCG: f"nDCG@{K}", JUDGED: f"judged@{K}", R_CAP: f"R_cap@{K}", MRR: f"MRR@{K}"}
KINDS = ("concept", "exact", "keyword", "question")
MIN_SEED_TALKS = 3  # a query yields related-talk seeds when it has at least this many grade-2 talks
DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"

Judgments = dict[str, dict[str, int]]  # query (or seed) id -> group id -> grade


@dataclass(frozen=True)
class DevSet:
    queries: dict[str, tuple[str, str]]  # qid -> (text, kind)
    judged: dict[str, dict[str, int]]  # qid -> talk id -> grade, as listed in qrels.tsv
    groups: dict[str, str]  # talk id -> group id, only talks recorded more than once

    def group(self, talk_id: str) -> str:
        return self.groups.get(talk_id, talk_id)

    def grouped(self, grades: dict[str, int], leave_out: str | None = None) -> dict[str, int]:
        """Grades per group (the highest of its recordings), without group `leave_out`."""
        out: dict[str, int] = {}
        for talk_id, grade in grades.items():
            group = self.group(talk_id)
            if group != leave_out and grade > 0:
                out[group] = max(grade, out.get(group, 0))
        return out

    def qrels(self) -> Judgments:
        return {qid: self.grouped(self.judged.get(qid, {})) for qid in self.queries}

    def judged_groups(self, grades: dict[str, int], leave_out: str | None = None) -> set[str]:
        """The groups of every judged talk, any grade (0 included), without group `leave_out`."""
        return {self.group(talk_id) for talk_id in grades} - {leave_out}

    def top(self, talk_ids: Iterable[str], k: int = K) -> list[str]:
        """The first `k` distinct groups of a ranking: later recordings of a group are dropped."""
        seen: list[str] = []
        for group in map(self.group, talk_ids):
            if group not in seen:
                seen.append(group)
                if len(seen) == k:
                    break
        return seen


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load(eval_dir: Path) -> DevSet:
    queries = {qid: (text, kind) for qid, text, kind in _rows(eval_dir / "queries.tsv")}
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    for qid, talk_id, grade in _rows(eval_dir / "qrels.tsv"):
        judged[qid][talk_id] = int(grade)
    groups = {talk_id: group for talk_id, group in _rows(eval_dir / "groups.tsv")}
    return DevSet(queries, dict(judged), groups)


def score(qrels: Judgments, rankings: dict[str, list[str]], metrics: Iterable[str]) -> dict[str, dict[str, float]]:
    """Per-query scores (metric -> id -> value) of ranked group lists, computed by ranx."""
    qrels = {q: rel for q, rel in qrels.items() if rel}  # nothing relevant: not scorable
    run = Run({q: {g: 1.0 / rank for rank, g in enumerate(ranking, 1)} for q, ranking in rankings.items() if ranking})
    with warnings.catch_warnings():  # ranx's id arrays: "unsafe cast from uint64 to int64", harmless
        warnings.simplefilter("ignore", NumbaTypeSafetyWarning)
        evaluate(Qrels(qrels), run, list(metrics), make_comparable=True)
    return {m: {q: float(v) for q, v in per_query.items()} for m, per_query in run.scores.items()}


def judged_share(judged: set[str], ranking: list[str], k: int = K) -> float:
    """judged@k: the share of the first `k` places of a ranking of groups that are `judged`; a place the ranking
    leaves empty counts as unjudged."""
    return sum(1 for group in ranking[:k] if group in judged) / k


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def evaluate_mode(kb: kbmod.KnowledgeBase, dev: DevSet, mode: str) -> dict:
    kb.query("warm up", k=1, filters=Filters(kind="talk"), mode=mode)  # loads models and indexes, not timed
    start = time.perf_counter()
    rankings = {
        qid: dev.top(hit.id for hit in kb.query(text, k=DEPTH, filters=Filters(kind="talk"), mode=mode))
        for qid, (text, _) in dev.queries.items()
    }
    seconds = time.perf_counter() - start
    qrels = dev.qrels()
    per_query = score(qrels, rankings, (NDCG, RECALL, MRR, HITS))
    per_query[R_CAP] = {q: hits / min(K, len(qrels[q])) for q, hits in per_query.pop(HITS).items()}
    per_query[JUDGED] = {q: judged_share(dev.judged_groups(dev.judged.get(q, {})), rankings[q]) for q in per_query[NDCG]}
    overall = {m: mean(values.values()) for m, values in per_query.items()}
    per_kind = {kind: mean(v for q, v in per_query[NDCG].items() if dev.queries[q][1] == kind) for kind in KINDS}
    return {"overall": overall, "per_kind": per_kind, "per_query": per_query, "seconds": seconds}


def related_seeds(dev: DevSet) -> dict[str, tuple[str, dict[str, int]]]:
    """Seed key -> (seed talk id, relevant neighbour groups with grades)."""
    seeds = {}
    for qid, grades in dev.judged.items():
        best = sorted(t for t, g in grades.items() if g == 2)
        if len(best) >= MIN_SEED_TALKS:
            for talk_id in best:
                seeds[f"{qid} {talk_id}"] = (talk_id, dev.grouped(grades, leave_out=dev.group(talk_id)))
    return seeds


def seed_query(key: str) -> str:
    """The query a related seed comes from (its key is "qid talk_id"): a query's seeds share its judgments."""
    return key.split()[0]


def evaluate_related(kb: kbmod.KnowledgeBase, dev: DevSet, known: Callable[[str], bool]) -> dict:
    seeds = {key: seed for key, seed in related_seeds(dev).items() if known(seed[0])}
    start = time.perf_counter()
    rankings = {key: dev.top(hit.id for hit in kb.related(talk_id, k=DEPTH)) for key, (talk_id, _) in seeds.items()}
    seconds = time.perf_counter() - start
    per_seed = score({key: rel for key, (_, rel) in seeds.items()}, rankings, [NDCG])[NDCG]
    judged = {key: judged_share(dev.judged_groups(dev.judged[seed_query(key)], leave_out=dev.group(seeds[key][0])),
                                rankings[key]) for key in per_seed}
    return {"ndcg": mean(per_seed.values()), "judged": mean(judged.values()), "seeds": len(per_seed),
            "skipped": len(related_seeds(dev)) - len(seeds), "seconds": seconds, "per_seed": per_seed,
            "per_seed_judged": judged}


def table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def report(dev: DevSet, results: dict[str, dict], related: dict) -> str:
    f = "{:.3f}".format
    best_recall = mean(min(1.0, K / len(rel)) for rel in dev.qrels().values() if rel)
    summary = table(
        ["ranker", *SHOWN.values(), *KINDS, "seconds"],
        ([mode, *(f(r["overall"][m]) for m in SHOWN), *(f(r["per_kind"][k]) for k in KINDS), f"{r['seconds']:.1f}"]
         for mode, r in results.items()),
    )
    per_query = table(
        ["qid", "kind", "query", *results],
        ([qid, kind, text[:45], *(f(r["per_query"][NDCG].get(qid, 0.0)) for r in results.values())]
         for qid, (text, kind) in dev.queries.items()),
    )
    return (
        f"## Queries ({len(dev.queries)}, talks only; per-kind columns are nDCG@{K}; seconds = all queries)\n\n"
        f"{summary}\n\nR_cap@{K} = relevant talks in the top {K} / min({K}, relevant talks), the reference table's "
        f"Recall@{K}; plain recall@{K} (in --json) is at most {f(best_recall)} on this set.\n\n"
        f"## Related talks\n\nnDCG@{K} {f(related['ndcg'])}, judged@{K} {f(related['judged'])} over {related['seeds']} seeds "
        f"({related['skipped']} not in the index), {related['seconds']:.1f} s\n\n"
        f"## Per query nDCG@{K}\n\n{per_query}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path, help="index directory")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR, help="queries.tsv, qrels.tsv, groups.tsv")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated ranking modes")
    parser.add_argument("--json", type=Path, help="also write every score to this file")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode(s) {', '.join(unknown)}: use {', '.join(MODES)}")

    dev = load(args.eval_dir)
    started = time.perf_counter()
    with kbmod.open(args.index) as kb:
        results = {mode: evaluate_mode(kb, dev, mode) for mode in modes}
        ids = set(kb.sql("select id from talks")["id"])
        related = evaluate_related(kb, dev, ids.__contains__)
    print(report(dev, results, related))
    print(f"total {time.perf_counter() - started:.1f} s (index {args.index})")
    if args.json:
        out = {"index": str(args.index), "k": K, "modes": results, "related": related}
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
