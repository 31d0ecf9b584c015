"""Encoder speed and agreement: talksearch's batched embedder against plain `SentenceTransformer.encode`.

    .venv/bin/python -m benchmarks.embed_speed --index /tmp/ixfull [--sample 2048] [--rounds 2] \
        [--embedders encode,fp32,bf16,int8]

Samples real passages (title line + passage, as `index` embeds them) from an index, then times, in
alternating rounds so machine load hits each alike:
- `encode`: sentence-transformers' own `encode` (fp32, batch 64) — the issue's baseline;
- talksearch fp32 and bf16 (length-bucketed batches, padding rounded to PAD_STEP);
- `int8` (not used by `index`; measured as the fp32 alternative on CPUs without bf16): talksearch fp32 with every
  `Linear` of the model dynamically quantised to int8 (`torch.ao.quantization.quantize_dynamic`: int8 weights,
  activations quantised per tensor per batch).
Prints passages per second, the ratio to the baseline, and the lowest and mean cosine of each to the fp32 baseline.
On a CPU without native bf16, torch runs bf16 in slow fallback loops: leave `bf16` out of `--embedders` there.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np

import talksearch
from talksearch import embed
from talksearch.embed import SentenceTransformerEmbedder

EMBEDDERS = ("encode", "fp32", "bf16", "int8")


def int8(model):
    """A copy of `model` whose `Linear` layers are dynamically quantised to int8: run by talksearch's batching."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def int8_embedder() -> SentenceTransformerEmbedder:
    """talksearch's fp32 embedder over an int8 copy of the model (fp32 activations: quantised layers take no bf16).

    An embedder loads its model on first use with `embed.load_model`, and keeps it: for its first text that
    function returns the int8 copy of the shared model."""
    embedder = SentenceTransformerEmbedder(precision="fp32")
    load = embed.load_model
    embed.load_model = lambda directory: int8(load(directory))
    try:
        embedder.embed(["warm up"])
    finally:
        embed.load_model = load
    return embedder


def sample(index: str, size: int) -> list[str]:
    with talksearch.open(index) as kb:
        rows = kb.con.execute(
            "select d.title, p.text from passages p join (select id, title from talks union all "
            f"select id, title from notes) d on d.id = p.doc_id using sample {int(size)} rows (reservoir, 11)"
        ).fetchall()
    return [f"{title}\n{text}" for title, text in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--sample", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--embedders", default="encode,fp32,bf16", help=f"some of {','.join(EMBEDDERS)}")
    args = parser.parse_args()
    chosen = args.embedders.split(",")
    if unknown := set(chosen) - set(EMBEDDERS):
        parser.error(f"unknown embedders: {', '.join(sorted(unknown))}")
    texts = sample(args.index, args.sample)
    fp32, bf16 = SentenceTransformerEmbedder(precision="fp32"), SentenceTransformerEmbedder(precision="bf16")
    model = embed.load_model(str(fp32.directory))  # the model the fp32 and bf16 embedders run (loaded once)

    def encode(batch: list[str]) -> np.ndarray:
        return model.encode(batch, batch_size=64, normalize_embeddings=True, show_progress_bar=False)

    every = {"encode": ("encode fp32 (baseline)", lambda: encode), "fp32": ("talksearch fp32", lambda: fp32.embed),
             "bf16": ("talksearch bf16", lambda: bf16.embed),
             "int8": ("talksearch int8 (dynamic)", lambda: int8_embedder().embed)}  # made only when asked for
    runners = {label: make() for label, make in (every[name] for name in ["encode", *(c for c in chosen if c != "encode")])}
    for run in runners.values():
        run(texts[:64])  # warm up
    speed = {name: [] for name in runners}
    vectors = {}
    for _ in range(args.rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            vectors[name] = run(texts)
            speed[name].append(len(texts) / (time.perf_counter() - start))
    base = max(speed["encode fp32 (baseline)"])
    reference = vectors["encode fp32 (baseline)"]
    print(f"{len(texts)} passages, best of {args.rounds} rounds\n")
    print("| embedder | passages/s | x baseline | min cosine to baseline | mean cosine |\n|---|---|---|---|---|")
    for name in runners:
        cosine = (vectors[name] * reference).sum(axis=1)
        print(f"| {name} | {max(speed[name]):.1f} | {max(speed[name]) / base:.2f} | {cosine.min():.5f} | "
              f"{cosine.mean():.5f} |")


if __name__ == "__main__":
    main()
