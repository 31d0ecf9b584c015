"""Domain adaptation of the encoder on the collection's own talks: does ranking gain? (measured, not shipped)

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/adapt.py --index /tmp/ixfull \
        --pyvideo /tmp/pyvideo/pyvideo-data [--epochs 1] [--out /tmp/adapted]

1. Pairs: each pyvideo talk's title and its description (whitespace collapsed), for talks with at least
   MIN_DESCRIPTION characters of description; one pair per folded title (a talk given at several events would
   otherwise be its own in-batch negative). No development query or judgment is read.
2. Training: all-MiniLM-L6-v2 from the verified package weights, fine-tuned with in-batch negatives
   (MultipleNegativesRankingLoss written out, both ways: each title against the batch's descriptions and each
   description against its titles, cosine x SCALE, cross-entropy), BATCH pairs a step, AdamW at LR with a linear
   warm-up over the first tenth of the steps and a linear decay after it, MAX_TRAIN_TOKENS word pieces a text,
   a fixed seed. The weights are saved to --out, and a later run given the same --out reuses them.
3. Every passage of the index is embedded again with the adapted weights exactly as `index` embeds them
   (`precision.py`'s helpers: the title header, `index`'s chunks, the index's precision); a document's vector
   is the mean of its passages'.
4. `eval.py`'s evaluation, in one run, of the index as built and of the same index with the adapted vectors
   swapped in memory (queries then embedded by the adapted weights in fp32): every ranking mode, and related
   talks at the shipped blend weight and at others (1.0 = the whole-text cosine alone).

Last, the paired difference (adapted - as built) over queries, +- 2 standard errors: related seeds are averaged per
query first, since a query's seeds share their judgments. One training seed, one run: the figures say whether the
idea is worth building, not what a user's collection will gain. The training time depends on what else runs on the
machine.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import precision
from ablations import _paired, _related_by
from eval import DEFAULT_EVAL_DIR, KINDS, NDCG, evaluate_mode, evaluate_related, load

import talksearch.kb as kbmod
from talksearch import store
from talksearch.embed import SentenceTransformerEmbedder, model_dir, verify_weights
from talksearch.normalize import fold
from talksearch.search import MODES, RELATED_DENSE_WEIGHT

MIN_DESCRIPTION = 200  # characters: shorter descriptions say too little to pair with a title
BATCH, LR, SCALE, MAX_TRAIN_TOKENS, WARMUP = 32, 2e-5, 20.0, 128, 0.1
RELATED_WEIGHTS = (RELATED_DENSE_WEIGHT, 0.85, 1.0)
TRAINED = "adapted.json"  # beside the weights: how they were trained, so that reused weights are labelled right


def title_pairs(pyvideo: Path) -> list[tuple[str, str]]:
    """(title, description) of every talk with a description, one per folded title, in file order."""
    pairs, seen = [], set()
    for file in sorted(pyvideo.glob("*/videos/*.json")):
        video = json.loads(file.read_text(encoding="utf-8"))
        title = (video.get("title") or "").strip()
        description = " ".join((video.get("description") or "").split())
        key = fold(title)
        if len(description) >= MIN_DESCRIPTION and key and key not in seen:
            seen.add(key)
            pairs.append((title, description))
    return pairs


def train(pairs: list[tuple[str, str]], epochs: float, out: Path, seed: int = 0) -> dict:
    """Fine-tunes the verified weights on `pairs` and saves them to `out`, with how (TRAINED), which it returns."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(seed)
    shuffle = random.Random(seed)
    verify_weights(model_dir())
    model = SentenceTransformer(str(model_dir()), device="cpu")
    model.max_seq_length = MAX_TRAIN_TOKENS
    steps = int(len(pairs) * epochs) // BATCH
    if steps < 2:
        raise SystemExit(f"{len(pairs)} pairs x {epochs} epoch(s) make {steps} step(s) of {BATCH}: too few to train")
    warm = max(1, int(steps * WARMUP))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: (step + 1) / warm if step < warm else max(0.0, (steps - step) / (steps - warm)))
    order: list[int] = []
    while len(order) < steps * BATCH:
        order += shuffle.sample(range(len(pairs)), len(pairs))
    model.train()
    started = time.perf_counter()
    for step in range(steps):
        batch = [pairs[i] for i in order[step * BATCH : (step + 1) * BATCH]]
        titles, descriptions = (
            torch.nn.functional.normalize(model(model.preprocess(list(texts)))["sentence_embedding"], dim=-1)
            for texts in zip(*batch, strict=True))
        similarity = titles @ descriptions.T * SCALE
        labels = torch.arange(len(batch))
        loss = (torch.nn.functional.cross_entropy(similarity, labels)
                + torch.nn.functional.cross_entropy(similarity.T, labels)) / 2
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 50 == 0:
            print(f"  step {step}/{steps}, loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s", flush=True)
    model.save(str(out))
    trained = {"epochs": epochs, "seed": seed, "pairs": len(pairs), "steps": steps,
               "seconds": round(time.perf_counter() - started)}
    (out / TRAINED).write_text(json.dumps(trained))
    return trained


class AdaptedEmbedder(SentenceTransformerEmbedder):
    """The index-time encoder over weights of our own making (no published hash to check them against)."""

    def __init__(self, directory: Path, precision: str) -> None:
        self.directory, self.check, self.precision = directory, None, precision


def scores(kb, dev) -> dict:
    """Every mode's nDCG@10 (hybrid per kind too), and related talks' at RELATED_WEIGHTS."""
    searcher = kb.searcher
    out = {mode: evaluate_mode(kb, dev, mode) for mode in MODES}
    documents = np.asarray(searcher.document_vectors)
    for weight in RELATED_WEIGHTS:
        searcher.related = _related_by(searcher, lambda pos: documents @ documents[pos], weight)
        result = evaluate_related(kb, dev, searcher.talk_ids.__contains__)
        out[f"related {weight}"], out[f"per seed {weight}"] = result["ndcg"], result["per_seed"]
    searcher.__dict__.pop("related")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--pyvideo", required=True, type=Path, help="the unpacked pyvideo corpus")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/adapted"), help="where the adapted weights go")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args()

    if (args.out / TRAINED).is_file():
        trained = json.loads((args.out / TRAINED).read_text())
        print(f"reusing {args.out}: {trained}", flush=True)
    else:
        pairs = title_pairs(args.pyvideo)
        print(f"{len(pairs)} (title, description) pairs", flush=True)
        trained = train(pairs, args.epochs, args.out)
        print(f"trained: {trained}", flush=True)

    dev = load(args.eval_dir)
    generation = store.current(args.index)
    documents, passages, titles = precision.read_passages(generation)  # before kb.open locks DuckDB's settings
    with kbmod.open(args.index) as kb:
        searcher = kb.searcher
        rows = {"as built": scores(kb, dev)}

        encoder = AdaptedEmbedder(args.out, generation.manifest.get("precision", "fp32"))  # as the index was
        vectors, wall, _ = precision.embed_all(precision.embedded_texts(passages, titles, encoder), encoder)
        print(f"re-embedded {len(passages)} passages in {wall:.0f} s ({encoder.precision})", flush=True)
        searcher.__dict__.update(_stored=vectors, embedder=AdaptedEmbedder(args.out, "fp32"),
                                 document_vectors=precision.document_means(documents, passages, vectors))
        rows[f"adapted, {trained['epochs']} epoch(s)"] = scores(kb, dev)

    related = [f"related {w}" for w in RELATED_WEIGHTS]
    print("\n| vectors | " + " | ".join(MODES) + " | " + " | ".join(f"hybrid {k}" for k in KINDS) + " | "
          + " | ".join(related) + " |")
    print("|---" * (1 + len(MODES) + len(KINDS) + len(related)) + "|")
    for name, row in rows.items():
        cells = [f"{row[m]['overall'][NDCG]:.3f}" for m in MODES] + [f"{row['hybrid']['per_kind'][k]:.3f}" for k in KINDS]
        print(f"| {name} | " + " | ".join(cells + [f"{row[r]:.4f}" for r in related]) + " |")
    built, adapted = rows.values()
    print("\nadapted - as built, mean over queries +- 2 SE (a query's seeds averaged first): "
          f"hybrid {_paired(adapted['hybrid']['per_query'][NDCG], built['hybrid']['per_query'][NDCG])}, "
          + ", ".join(f"related {w} {_paired(adapted[f'per seed {w}'], built[f'per seed {w}'], lambda k: k.split()[0])}"
                      for w in RELATED_WEIGHTS))


if __name__ == "__main__":
    main()
