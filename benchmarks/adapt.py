"""`talksearch adapt` measured: the index as built against a copy of it adapted by the shipped command, in one run.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.adapt --index /tmp/ixfull \
        [--epochs 0.5] [--seed 0] [--copy /tmp/ixadapted]

1. The live generation of --index is copied to --copy (default: a temporary directory, removed after) and
   `talksearch.adapt.run` adapts the copy exactly as `talksearch adapt` does: (title, abstract) pairs from the
   index's own talks, training from the published weights, every passage re-embedded at the index's precision,
   a new generation swapped in. No development query or judgment is read. A --copy that already holds an adapted
   index with the same --epochs and --seed is reused (its training time is then the one it recorded).
2. `eval.py`'s evaluation of both indexes, each opened as a user opens it (queries embedded by the NumPy encoder
   over that index's weights): every ranking mode, and related talks at the shipped blend weight and at others
   (1.0 = the whole-text cosine alone).

Last, the paired difference (adapted - as built) over queries, +- 2 standard errors: related seeds are averaged per
query first, since a query's seeds share their judgments. One training seed, one run: the figures say what the
command gains on this corpus, not what a user's collection will gain. Training time depends on what else runs on
the machine.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import talksearch.kb as kbmod
from talksearch import adapt, embed, store
from talksearch.search import RELATED_DENSE_WEIGHT

from .common import paired
from .eval import DEFAULT_EVAL_DIR, KINDS, MODES, NDCG, evaluate_mode, evaluate_related, load, seed_query
from .variants import for_related, related_by, swapped

RELATED_WEIGHTS = (RELATED_DENSE_WEIGHT, 0.85, 1.0)


def scores(root: Path, dev) -> dict:
    """Every mode's nDCG@10 (hybrid per kind too), and related talks' at RELATED_WEIGHTS."""
    with kbmod.open(root) as kb:
        searcher = kb.searcher
        out = {mode: evaluate_mode(kb, dev, mode) for mode in MODES}
        documents = np.asarray(searcher.document_vectors)
        for weight in RELATED_WEIGHTS:
            with swapped(searcher, rankers=for_related(related_by(lambda pos: documents @ documents[pos], weight))):
                result = evaluate_related(kb, dev, searcher.talk_ids.__contains__)
            out[f"related {weight}"], out[f"per seed {weight}"] = result["ndcg"], result["per_seed"]
    return out


def _same_passages(source: store.Generation, kept: store.Generation) -> bool:
    """Whether two generations hold the same passages, in the same order (an adapted copy of `source` does)."""
    def digest(generation: store.Generation) -> str:
        return embed.sha256_file(generation.path / f"{store.PASSAGE_TEXTS}.bin")

    return digest(source) == digest(kept)


def adapted_copy(index: Path, copy: Path, epochs: float, seed: int) -> dict:
    """`copy` holding `index`'s live generation adapted by `adapt.run`; returns how it was trained (and timed)."""
    source = store.current(index)
    if (copy / store.CURRENT).is_file():
        kept = store.current(copy)
        trained = kept.manifest.get("adapted") or {}
        if (trained.get("epochs"), trained.get("seed")) == (epochs, seed) and _same_passages(source, kept):
            print(f"reusing {copy}: {trained}", flush=True)
            return trained
        raise SystemExit(f"{copy}/ holds another index, or another training of this one; "
                         "give an empty or new --copy directory")
    copy.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source.path, copy / source.path.name)
    (copy / store.CURRENT).write_text(source.path.name + "\n")
    last = {"stage": None, "at": time.perf_counter()}

    def progress(stage: str, done: int, total: int) -> None:
        if stage != last["stage"] or time.perf_counter() - last["at"] > 60:
            last.update(stage=stage, at=time.perf_counter())
            print(f"  {stage} {done}/{total}", flush=True)

    summary = adapt.run(copy, epochs=epochs, seed=seed, progress=progress)
    print(f"adapted: {summary.pairs} pairs, {summary.steps} steps, "
          + ", ".join(f"{stage} {sec:.0f} s" for stage, sec in summary.stages.items()), flush=True)
    return {**store.current(copy).manifest["adapted"], "seconds": {k: round(v) for k, v in summary.stages.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--epochs", type=float, default=adapt.EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--copy", type=Path, help="where the adapted copy goes, kept (default: a temporary dir)")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args()

    dev = load(args.eval_dir)
    scratch = None if args.copy else Path(tempfile.mkdtemp(prefix="talksearch-adapted-"))
    try:
        trained = adapted_copy(args.index, args.copy or scratch, args.epochs, args.seed)
        rows = {"as built": scores(args.index, dev),
                f"adapted, {trained['epochs']:g} epoch(s), {trained['steps']} steps": scores(args.copy or scratch, dev)}
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    related = [f"related {w}" for w in RELATED_WEIGHTS]
    print("\n| vectors | " + " | ".join(MODES) + " | " + " | ".join(f"hybrid {k}" for k in KINDS) + " | "
          + " | ".join(related) + " |")
    print("|---" * (1 + len(MODES) + len(KINDS) + len(related)) + "|")
    for name, row in rows.items():
        cells = [f"{row[m]['overall'][NDCG]:.3f}" for m in MODES] + [f"{row['hybrid']['per_kind'][k]:.3f}" for k in KINDS]
        print(f"| {name} | " + " | ".join(cells + [f"{row[r]:.4f}" for r in related]) + " |")
    built, adapted = rows.values()
    print("\nadapted - as built, mean over queries +- 2 SE (a query's seeds averaged first): "
          f"hybrid {paired(adapted['hybrid']['per_query'][NDCG], built['hybrid']['per_query'][NDCG])}, "
          + ", ".join(f"related {w} {paired(adapted[f'per seed {w}'], built[f'per seed {w}'], seed_query)}"
                      for w in RELATED_WEIGHTS))


if __name__ == "__main__":
    main()
