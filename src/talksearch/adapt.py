"""`adapt`: fine-tune the encoder on the collection's own talks, then re-embed the index with it.

all-MiniLM-L6-v2 was trained on general web pairs; a collection of talks has its own vocabulary (library names,
PEPs, conference jargon). Each talk's title and its abstract are a pair of texts about the same thing, so the
encoder can learn from them what belongs together here, with no labels and nothing from outside the index.

Training always starts from the published, hash-checked weights (adapting twice does not compound): pairs are
the talks' (title, abstract) with at least MIN_DESCRIPTION characters of abstract, one per folded title (a talk
given at several events would otherwise be its own in-batch negative); in-batch negatives both ways (each title
against the batch's abstracts and each abstract against its titles, cosine x SCALE, cross-entropy), BATCH pairs a
step, AdamW at LR with a linear warm-up over the first WARMUP of the steps and a linear decay after it,
MAX_TRAIN_TOKENS word pieces a text, a fixed seed.

The adapted weights go into a new generation beside every passage re-embedded with them exactly as `index`
embeds (`passages.embed_passages`, the index's precision); their SHA-256 goes into its manifest, which queries and
later `index` runs check before loading them (related talks read the stored vectors only). Everything else is
the live generation's files, hard-linked (`Generation.carry_over`); the swap is `index`'s (store.Writer): a failed or
interrupted run leaves the index as it was.

Measured on the whole pyvideo corpus with the development set (benchmarks/adapt.py; figures in the README):
related talks gain, query ranking does not.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

from . import store
from .embed import (
    MAX_TOKENS,
    MODEL_NAME,
    WEIGHTS_FILE,
    WEIGHTS_SHA256,
    SentenceTransformerEmbedder,
    Weights,
    model_dir,
    sha256_file,
)
from .errors import UsageError
from .normalize import fold
from .passages import document_means, embed_passages, header
from .records import Progress

MIN_DESCRIPTION = 200  # characters: shorter abstracts say too little to pair with a title
BATCH, LR, SCALE, MAX_TRAIN_TOKENS, WARMUP = 32, 2e-5, 20.0, 128, 0.1
EPOCHS = 0.5  # measured: nearly all of one epoch's gain for related talks, in half the time (README)
MAX_EPOCHS = 20
REPLACED = {store.VECTORS, store.DOCUMENT_VECTORS, store.MANIFEST, store.ENCODER}  # what `adapt` writes anew


@dataclass(frozen=True)
class Summary:
    """What an `adapt` run did."""

    pairs: int
    steps: int
    epochs: float
    seed: int
    passages: int
    sha256: str
    stages: dict[str, float]  # seconds: training, embedding, writing

    @property
    def seconds(self) -> float:
        return sum(self.stages.values())


def title_pairs(generation: store.Generation) -> list[tuple[str, str]]:
    """(title, abstract) of every talk with an abstract of MIN_DESCRIPTION characters or more, one per folded
    title, in id order; whitespace collapsed."""
    pairs, seen = [], set()
    for title, text in store.read_talk_texts(generation):
        title, text = (title or "").strip(), " ".join((text or "").split())
        key = fold(title)
        if len(text) >= MIN_DESCRIPTION and key and key not in seen:
            seen.add(key)
            pairs.append((title, text))
    return pairs


def steps_for(pairs: int, epochs: float) -> int:
    return int(pairs * epochs) // BATCH


def batches(pairs: int, steps: int, seed: int) -> list[list[int]]:
    """`steps` batches of BATCH pair numbers: each epoch a new permutation, cut into whole batches (the rest of it
    dropped), so that no batch holds a pair twice."""
    shuffle = random.Random(seed)
    out: list[list[int]] = []
    while len(out) < steps:
        order = shuffle.sample(range(pairs), pairs)
        out += [order[i : i + BATCH] for i in range(0, pairs - BATCH + 1, BATCH)]
    return out[:steps]


def train(pairs: list[tuple[str, str]], epochs: float, out: Path, *, seed: int = 0,
          progress: Progress | None = None) -> dict:
    """Fine-tunes the published weights on `pairs` and saves them to `out`; returns how (for the manifest)."""
    import torch

    from .embed import sentence_transformer, verify_weights

    progress = progress or (lambda stage, done, total: None)
    steps = steps_for(len(pairs), epochs)
    torch.manual_seed(seed)
    verify_weights(model_dir())
    model = sentence_transformer(str(model_dir()))
    model.max_seq_length = MAX_TRAIN_TOKENS
    warm = max(1, int(steps * WARMUP))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: (step + 1) / warm if step < warm else max(0.0, (steps - step) / (steps - warm)))
    model.train()
    started = time.perf_counter()
    for step, numbers in enumerate(batches(len(pairs), steps, seed)):
        progress("training", step, steps)
        batch = [pairs[i] for i in numbers]
        titles, abstracts = (
            torch.nn.functional.normalize(model(model.preprocess(list(texts)))["sentence_embedding"], dim=-1)
            for texts in zip(*batch, strict=True))
        similarity = titles @ abstracts.T * SCALE
        labels = torch.arange(len(batch))
        loss = (torch.nn.functional.cross_entropy(similarity, labels)
                + torch.nn.functional.cross_entropy(similarity.T, labels)) / 2
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    progress("training", steps, steps)
    model.max_seq_length = MAX_TOKENS  # what the saved config says: the window `index` and queries use
    model.save(str(out))
    return {"base": MODEL_NAME, "base_sha256": WEIGHTS_SHA256, "pairs": len(pairs), "epochs": epochs,
            "steps": steps, "seed": seed, "batch": BATCH, "lr": LR, "seconds": round(time.perf_counter() - started)}


def run(root: str | os.PathLike | None, *, epochs: float = EPOCHS, seed: int = 0, progress: Progress | None = None) -> Summary:
    """Adapt the encoder to the index at `root` (None: $TALKSEARCH_INDEX, else ./indexes) and swap in the index
    re-embedded with it."""
    import numpy as np

    root = store.resolve_root(root)
    progress = progress or (lambda stage, done, total: None)
    if not (math.isfinite(epochs) and 0 < epochs <= MAX_EPOCHS):
        raise UsageError(f"--epochs must be more than 0 and at most {MAX_EPOCHS}, not {epochs:g}")
    if not 0 <= seed < 2**32:
        raise UsageError(f"--seed must be from 0 to {2**32 - 1}, not {seed}")
    stages: dict[str, float] = {}
    store.current(root)  # no index: say so before the lock makes a directory for it
    with store.locked(root):
        generation = store.current(root)
        pairs = title_pairs(generation)
        steps = steps_for(len(pairs), epochs)
        if steps < 2:
            raise UsageError(
                f"{len(pairs)} talks with a title and an abstract of {MIN_DESCRIPTION}+ characters make {steps} "
                f"training step(s) of {BATCH} at --epochs {epochs:g}: too few to adapt the encoder (it needs 2 or "
                f"more); the index is unchanged")
        with store.Writer(root) as writer:
            started = time.perf_counter()
            trained = train(pairs, epochs, writer.encoder, seed=seed, progress=progress)
            stages["training"] = time.perf_counter() - started

            started = time.perf_counter()
            precision = generation.manifest.get("precision")
            sha256 = sha256_file(writer.encoder / WEIGHTS_FILE)
            embedder = SentenceTransformerEmbedder(
                precision=precision if precision in ("fp32", "bf16") else "auto",
                weights=Weights(writer.encoder, sha256, None, trained))
            passages, titles = store.read_passages(generation)
            owner = passages.owner
            headers = [header(title, embedder) for title in titles]
            vectors = np.zeros((len(owner), embedder.dimension), dtype=np.float32)
            embed_passages(vectors, np.arange(len(owner)), generation.records(store.PASSAGE_TEXTS), passages,
                           headers, embedder, progress)
            stages["embedding"] = time.perf_counter() - started

            started = time.perf_counter()
            progress("writing", 0, 1)
            generation.carry_over(writer, replaced=REPLACED)
            writer.write_vectors(vectors)
            writer.write_document_vectors(document_means(len(titles), owner, vectors))
            writer.commit({**generation.manifest, "weights_sha256": sha256, "weights_check": embedder.check.__dict__,
                           "precision": embedder.precision, "adapted": trained})
            progress("writing", 1, 1)
            stages["writing"] = time.perf_counter() - started
    return Summary(len(pairs), steps, epochs, seed, len(owner), sha256, stages)
