"""Encoder precision: ranking quality of an index embedded in bf16 against the same index embedded in fp32.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 nice -n 10 .venv/bin/python -m benchmarks.precision --index /tmp/ixfull \
        [--precision fp32|bf16] [--copy DIR] [--eval-dir ../shared/eval] [--json out.json]

`talksearch index --precision auto` embeds passages in bf16 (torch autocast) where the CPU has native bf16 maths
(`embed.cpu_has_bf16`: AVX-512 BF16 or AMX), else in fp32. Query vectors come from the NumPy fp32 encoder either way.

1. Every passage is rebuilt from DuckDB in "row" order exactly as `index` embedded it (`passages.embed_passages`):
   the title cut to `passages.HEADER_TOKENS` word pieces (`passages.header`), a newline and the passage text; a
   document without text has one passage, ordinal 0, embedded alone. They are embedded with
   `SentenceTransformerEmbedder(precision=...)` in the other precision than the index's (or `--precision`), in
   `index`'s chunks (similar lengths together).
2. The copy, in `--copy` (default: a temporary directory, removed afterwards), is a generation written as
   `talksearch adapt` writes one (`store.Writer`): every file of `--index`'s live generation shared into it
   (`Generation.carry_over`: hard links where the file system allows), but `passages.faiss` and `documents.npy`,
   written anew by `Writer.write_vectors` and `write_document_vectors` (`passages.document_means`), and its manifest,
   which gets the new precision. Nothing else changes: the lexical index, facets and metadata are the original's.
3. Prints passages, embedding time, and the cosine between each passage's bf16 and fp32 vector.
4. Runs `eval.py`'s evaluation (every mode and related talks, `../shared/eval`) on both and prints nDCG@10 side by
   side; hybrid (the shipped mode) and dense must not lose more than `BOUND` in bf16 against fp32.

On a CPU without native bf16 maths (no AVX-512 BF16 / AMX) torch runs bf16 matrix products in scalar fallback loops:
here (AMD EPYC, AVX2) 5-7x slower than fp32, ~5 h for the corpus. There, by default (`--emulate`), autocast still
decides what runs in bf16, but each bf16 `linear` (~90% of the maths) is computed as fp32 maths on the same bf16
operands and rounded to bf16 once (`Fp32Linear`): bf16 x bf16 products are exact in fp32 and bf16 kernels sum them in
fp32 too, so this differs from a bf16 kernel only in summation order (single layers: bit-identical). Before the full
run, `VALIDATION_SAMPLE` passages are embedded both ways and the cosines printed, beside bf16 against fp32.

With `--copy DIR` the copy is kept; a later run given the same DIR reuses its vectors instead of re-embedding.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import talksearch.kb as kbmod
from talksearch import passages as talk_passages
from talksearch import store
from talksearch.embed import SentenceTransformerEmbedder, cpu_has_bf16
from talksearch.records import Document

from . import eval as evaluation

BOUND = 0.005  # largest nDCG@10 drop of bf16 against fp32 allowed for the checked modes
PRECISIONS = ("bf16", "fp32")
CHECKED = ("hybrid", "dense")
RELATED = "related"
VALIDATION_SAMPLE = 128  # passages embedded by torch's bf16 kernels and by `Fp32Linear`, to compare
COPIED_FROM = "copied_from"  # in the copy's manifest: the name of the generation it was copied from


class Passage(NamedTuple):
    """One row of the passages table."""

    doc_id: str
    kind: str
    ordinal: int
    text: str


def read_passages(generation: store.Generation) -> tuple[list[Document], list[Passage], list[str]]:
    """Documents (by position), passages (by row) and each passage's title, from the generation's DuckDB."""
    con = store.connect(generation)
    try:
        docs = con.execute("select id, kind from documents order by pos").fetchall()
        rows = con.execute(
            'select p."row", p.doc_id, p.kind, p.ordinal, p.text, d.title from passages p join '
            "(select id, 'talk' as kind, title from talks union all select id, 'note', title from notes) d "
            'on d.id = p.doc_id and d.kind = p.kind order by p."row"'
        ).fetchall()
        total = con.execute("select count(*) from passages").fetchone()[0]
    finally:
        con.close()
    if [r[0] for r in rows] != list(range(total)):
        raise SystemExit(f"{generation.database}: passage rows are not 0..{total - 1} with a titled document each")
    documents = [Document(doc_id, kind, "", "", "") for doc_id, kind in docs]
    passages = [Passage(doc_id, kind, ordinal, text) for _, doc_id, kind, ordinal, text, _ in rows]
    return documents, passages, [r[5] for r in rows]


def document_means(documents: list[Document], passages: list[Passage], vectors: np.ndarray) -> np.ndarray:
    """`index`'s document vectors (`passages.document_means`) of these passages."""
    position = {(d.id, d.kind): pos for pos, d in enumerate(documents)}
    owner = np.asarray([position[p.doc_id, p.kind] for p in passages], dtype=np.int64)
    return talk_passages.document_means(len(documents), owner, vectors)


def embedded_texts(passages: list[Passage], titles: list[str], embedder) -> list[tuple[str, str]]:
    """(header, text) per passage, as `passages.embed_passages` hands them to the encoder."""
    headers: dict[str, str] = {}
    out = []
    for passage, title in zip(passages, titles, strict=True):
        if passage.ordinal == 0:  # a document without text: title, speakers and event, no header
            out.append(("", passage.text))
        else:
            if title not in headers:
                headers[title] = talk_passages.header(title, embedder)
            out.append((headers[title], passage.text))
    return out


def embed_all(sources: list[tuple[str, str]], embedder) -> tuple[np.ndarray, float, float]:
    """Vectors in row order, embedded in `index`'s order and chunks; wall and CPU seconds."""
    embedder.embed(["warm up"])  # loads the model, not timed
    vectors = np.zeros((len(sources), embedder.dimension), dtype=np.float32)
    todo = sorted(range(len(sources)), key=lambda i: len(sources[i][0]) + len(sources[i][1]))
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(todo), talk_passages.EMBED_CHUNK):
        part = todo[start : start + talk_passages.EMBED_CHUNK]
        vectors[part] = embedder.embed([f"{h}\n{t}" if h else t for h, t in (sources[i] for i in part)])
        print(f"  embedded {start + len(part)}/{len(todo)} in {time.perf_counter() - wall:.0f} s", flush=True)
    return vectors, time.perf_counter() - wall, time.process_time() - cpu


class Fp32Linear(TorchDispatchMode):
    """Every bf16 `linear` computed in fp32 from the same bf16 operands, the result rounded to bf16 once."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten.linear.default and args[0].dtype == torch.bfloat16:
            self.calls += 1
            wide = (a.float() if isinstance(a, torch.Tensor) else a for a in args)
            return func(*wide, **(kwargs or {})).to(torch.bfloat16)
        return func(*args, **(kwargs or {}))


def check_emulation(sources: list[tuple[str, str]], embedder, reference: np.ndarray | None) -> dict:
    """A sample embedded by torch's bf16 kernels and under `Fp32Linear`: how close, beside bf16 against fp32."""
    sample = np.sort(np.random.default_rng(11).choice(len(sources), min(VALIDATION_SAMPLE, len(sources)), replace=False))
    texts = [f"{h}\n{t}" if h else t for h, t in (sources[i] for i in sample)]
    start = time.perf_counter()
    native = embedder.embed(texts)
    native_seconds = time.perf_counter() - start
    with Fp32Linear() as mode:
        start = time.perf_counter()
        emulated = embedder.embed(texts)
        emulated_seconds = time.perf_counter() - start
    if not mode.calls:
        raise SystemExit("Fp32Linear saw no bf16 linear: the emulation does not apply to this torch")
    out = {"passages": len(texts), "seconds_native": native_seconds, "seconds_emulated": emulated_seconds,
           "emulated_vs_native": _agreement(emulated, native)}
    if reference is not None:
        out["native_vs_fp32"] = _agreement(native, reference[sample])
        out["emulated_vs_fp32"] = _agreement(emulated, reference[sample])
    return out


def _agreement(a: np.ndarray, b: np.ndarray) -> dict:
    return {"min_cosine": float((a * b).sum(axis=1).min()), "max_abs": float(np.abs(a - b).max())}


def read_all(generation: store.Generation, count: int) -> np.ndarray:
    index = store.read_vectors(generation, expected=count)
    return index.reconstruct_n(0, index.ntotal)


def finished_copy(source: store.Generation, root: Path, precision: str) -> store.Generation | None:
    """The copy of `source` in `precision` that a run left under `root` (None: `root` holds no index yet)."""
    if not (root / store.CURRENT).is_file():
        return None
    existing = store.current(root)
    if existing.manifest.get(COPIED_FROM) == source.path.name and existing.manifest.get("precision") == precision:
        return existing
    raise SystemExit(f"{root}/ holds another index ({existing.path.name}, {existing.manifest.get('precision')}); "
                     "give an empty or new --copy directory")


def write_copy(source: store.Generation, root: Path, documents, passages, vectors: np.ndarray,
               precision: str) -> store.Generation:
    """A generation under `root`: `source`'s files but its vectors and document means, written as `index` writes
    them, and its manifest with `precision` (and the generation it was copied from). The swap is `adapt`'s."""
    root.mkdir(parents=True, exist_ok=True)
    with store.locked(root), store.Writer(root) as writer:
        source.carry_over(writer, replaced={store.VECTORS, store.DOCUMENT_VECTORS, store.MANIFEST})
        writer.write_vectors(vectors)
        writer.write_document_vectors(document_means(documents, passages, vectors))
        writer.commit({**source.manifest, "precision": precision, COPIED_FROM: source.path.name})
    return store.current(root)


def evaluate(root: Path, dev) -> dict:
    """`eval.py` on one index: per mode and for related talks, overall and per-query nDCG@10."""
    out = {}
    with kbmod.open(root) as kb:
        for mode in evaluation.MODES:
            result = evaluation.evaluate_mode(kb, dev, mode)
            out[mode] = {"ndcg": result["overall"][evaluation.NDCG], "per_query": result["per_query"][evaluation.NDCG],
                         "seconds": result["seconds"]}
        ids = set(kb.sql("select id from talks")["id"])
        if any(talk_id in ids for talk_id, _ in evaluation.related_seeds(dev).values()):  # none: a partial index
            related = evaluation.evaluate_related(kb, dev, ids.__contains__)
            out[RELATED] = {"ndcg": related["ndcg"], "per_query": related["per_seed"], "seconds": related["seconds"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path, help="index directory")
    parser.add_argument("--precision", choices=PRECISIONS, help="of the copy (default: the other one than the index's)")
    parser.add_argument("--copy", type=Path, help="where to write the re-embedded copy, kept (default: a temporary dir)")
    parser.add_argument("--emulate", action=argparse.BooleanOptionalAction,
                        help="bf16 linear layers as fp32 maths on bf16 operands (default: when the CPU lacks bf16)")
    parser.add_argument("--eval-dir", type=Path, default=evaluation.DEFAULT_EVAL_DIR)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    source = store.current(args.index)
    original = source.manifest.get("precision")
    if original not in PRECISIONS:
        raise SystemExit(f"{source.path}: the manifest gives no precision ({original!r}); re-index it first")
    target = args.precision or next(p for p in PRECISIONS if p != original)
    if target == original:
        raise SystemExit(f"{source.path} is already embedded in {original}: give --precision the other one")
    auto = SentenceTransformerEmbedder(precision="auto").precision
    print(f"CPU bf16 maths: {cpu_has_bf16()} -> --precision auto picks {auto}; "
          f"{source.path} is embedded in {original}, the copy in {target}")

    emulate = target == "bf16" and (not cpu_has_bf16() if args.emulate is None else args.emulate)
    check = None
    scratch = None if args.copy else Path(tempfile.mkdtemp(prefix=f"talksearch-{target}-"))
    root = args.copy or scratch
    try:
        copy = finished_copy(source, root, target)
        documents, passages, titles = read_passages(source)
        vectors = {original: read_all(source, len(passages))}
        if copy:
            vectors[target], wall, cpu = read_all(copy, len(passages)), float("nan"), float("nan")
            print(f"reusing the {target} vectors of {copy.path}")
            emulate = None  # as whoever wrote them chose
        else:
            embedder = SentenceTransformerEmbedder(precision=target, weights=source.weights)
            sources = embedded_texts(passages, titles, embedder)
            if emulate:
                embedder.embed(["warm up"])
                check = check_emulation(sources, embedder, vectors.get("fp32"))
                print("emulation check, {passages} passages: torch bf16 kernels {seconds_native:.0f} s, "
                      "Fp32Linear {seconds_emulated:.0f} s".format(**check))
                for name in ("emulated_vs_native", "native_vs_fp32", "emulated_vs_fp32"):
                    if name in check:
                        print(f"  {name.replace('_', ' ')}: min cosine {check[name]['min_cosine']:.6f}, "
                              f"max |difference| {check[name]['max_abs']:.5f}")
            how = " (bf16 linear layers by Fp32Linear)" if emulate else ""
            print(f"re-embedding {len(passages)} passages in {target}{how} into {root}", flush=True)
            with Fp32Linear() if emulate else contextlib.nullcontext():
                vectors[target], wall, cpu = embed_all(sources, embedder)
            copy = write_copy(source, root, documents, passages, vectors[target], target)
        # the original's document means, recomputed from its vectors, must be what it stores
        stored = {original: np.load(source.document_vectors), target: np.load(copy.document_vectors)}
        if not np.allclose(document_means(documents, passages, vectors[original]), stored[original], atol=1e-6):
            print("warning: the original's documents.npy differs from the means of its passage vectors")
        cosine = (vectors["bf16"] * vectors["fp32"]).sum(axis=1)
        doc_cosine = (stored["bf16"] * stored["fp32"]).sum(axis=1)
        print(f"\npassages {len(passages)}, documents {len(documents)}; {target} embedding {wall:.0f} s wall, "
              f"{cpu:.0f} s CPU ({len(passages) / wall:.1f} passages/s)")
        print(f"cosine bf16 vs fp32, passages: min {cosine.min():.5f}, p01 {np.percentile(cosine, 1):.5f}, "
              f"mean {cosine.mean():.6f}; document means: min {doc_cosine.min():.5f}, mean {doc_cosine.mean():.6f}\n")

        dev = evaluation.load(args.eval_dir)
        results = {original: evaluate(args.index, dev), target: evaluate(root, dev)}
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    rows, failed = [], False
    for mode in (*evaluation.MODES, RELATED):
        if mode not in results["bf16"]:
            continue
        low, high = results["bf16"][mode], results["fp32"][mode]
        diff = low["ndcg"] - high["ndcg"]
        changed = sum(abs(v - high["per_query"].get(q, 0.0)) > 1e-9 for q, v in low["per_query"].items())
        verdict = ""
        if mode in CHECKED:
            verdict = "PASS" if diff >= -BOUND else "FAIL"
            failed |= verdict == "FAIL"
        rows.append([mode, f"{low['ndcg']:.4f}", f"{high['ndcg']:.4f}", f"{diff:+.4f}",
                     f"{changed}/{len(low['per_query'])}", verdict])
    print(evaluation.table(["mode", "nDCG@10 bf16", "nDCG@10 fp32", "bf16 - fp32", "queries changed",
                            f"drop <= {BOUND}"], rows))
    print("\nqueries changed: queries (related: seed talks) whose nDCG@10 differs between the two")
    if args.json:
        args.json.write_text(json.dumps({
            "index": str(args.index), "original": original, "copy": target, "emulated": emulate,
            "emulation_check": check, "passages": len(passages),
            "seconds": wall, "cpu_seconds": cpu, "cosine": {"min": float(cosine.min()), "mean": float(cosine.mean())},
            "results": results, "bound": BOUND, "passed": not failed}, indent=2), encoding="utf-8")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
