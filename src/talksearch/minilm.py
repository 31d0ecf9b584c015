"""all-MiniLM-L6-v2's forward pass in NumPy, for the query path: no torch, no sentence-transformers.

The same verified `model.safetensors` that sentence-transformers loads at index
time is read here with `safetensors.numpy`, and the same `tokenizer.json` runs
through the `tokenizers` package. The maths is BERT's (6 layers, 12 heads, GELU,
post-layer-norm) followed by mean pooling and L2 normalisation, as the model's
sentence-transformers modules say; a test checks the vectors against
sentence-transformers' (cosine >= 0.999). Importing this costs numpy only.

A query's matrices are small (a few tokens by 384): OpenBLAS's second thread only adds waiting (measured:
a 1536x384 by 384x12 product took 0.28 ms on one thread, 12 ms on two while the other core was busy), so
the forward pass runs on one BLAS thread (threadpoolctl), whatever the rest of the process uses.
"""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path

import numpy as np

from .embed import DIMENSION, MAX_TOKENS, MODEL_NAME, WEIGHTS_FILE, Tokenizer, Weights, verify_weights

LAYERS = 6
HEADS = 12
EPS = 1e-12  # layer_norm_eps of the model's config.json
# NumPy scalars are not "weak": np.sqrt(2.0) * float32 array is float64, and a float64 activation turns every later
# weight product into a float64 one (measured: 22 ms per query instead of 11). Constants stay float32.
_SQRT_HALF = np.float32(np.sqrt(0.5))
_ATTENTION_SCALE = np.float32(1 / np.sqrt(DIMENSION // HEADS))  # 1 / sqrt(a head's width)


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): exact-GELU quality without SciPy."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file as read-only arrays over one memory map (nothing is copied).

    The format: 8 bytes of little-endian header length, a JSON header naming each tensor's dtype,
    shape and byte range, then the raw data.
    """
    import json

    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(raw[:8].view("<u8")[0])
    header = json.loads(bytes(raw[8 : 8 + size]))
    data = raw[8 + size :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = data[start:end].view(dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors


@cache
def blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class NumpyEmbedder:
    """Embeds short texts (queries) with the verified weights, in float32 NumPy."""

    name = MODEL_NAME
    dimension = DIMENSION
    precision = None  # float32 NumPy; an index it embedded records no precision, as before the protocol named it

    def __init__(self, *, weights: Weights = Weights()) -> None:
        self.weights = weights
        self.directory = weights.resolve()
        self.check = verify_weights(self.directory, known=weights.known, sha256=weights.sha256)

    @cached_property
    def tokenizer(self) -> Tokenizer:
        """The word pieces that size passages (the `Embedder` protocol); queries use `_tokenizer`, which truncates."""
        return Tokenizer(self.directory)

    @cached_property
    def _weights(self) -> dict[str, np.ndarray]:
        return read_safetensors(self.directory / WEIGHTS_FILE)

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        return tok

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        with blas().limit(limits=1, user_api="blas"):
            hidden = self._forward(ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._weights
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = DIMENSION // HEADS
        attention_bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)

        def dense(name: str, value: np.ndarray) -> np.ndarray:
            weight = w[f"{name}.weight"]  # (out, in), row-major as stored: weight @ x.T reads it in order
            out = (weight @ value.reshape(-1, weight.shape[1]).T).T + w[f"{name}.bias"]
            return out.reshape(batch, length, weight.shape[0])

        for i in range(LAYERS):
            p = f"encoder.layer.{i}"

            def split(value: np.ndarray) -> np.ndarray:
                return value.reshape(batch, length, HEADS, head).transpose(0, 2, 1, 3)

            q = split(dense(f"{p}.attention.self.query", x))
            k = split(dense(f"{p}.attention.self.key", x))
            v = split(dense(f"{p}.attention.self.value", x))
            scores = q @ k.transpose(0, 1, 3, 2) * _ATTENTION_SCALE + attention_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
            x = _layer_norm(dense(f"{p}.attention.output.dense", context) + x,
                            w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"])
            inner = _gelu(dense(f"{p}.intermediate.dense", x))
            x = _layer_norm(dense(f"{p}.output.dense", inner) + x,
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"])
        return x
