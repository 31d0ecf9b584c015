"""A deterministic stand-in for the encoder, for tests of storage mechanics (STYLE.md §6).

It implements the protocol `build.run` and `kb.open` use, as `EmbedDemo` in simonw/llm's tests does, instead of
patching the real encoder: `name`, `dimension`, `precision`, `tokenizer` (the real word-piece tokenizer, so passages
are packed exactly as the real encoder's build packs them), `check` (the real published weights' hash check, so the
manifest records them) and `embed`.

A text's vector is its words hashed into 384 signed buckets (feature hashing), L2-normalised: equal texts give equal
vectors, texts that share words are closer than texts that do not, and nothing loads torch. It knows nothing of
meaning: ranking claims keep the real model (the `embedder` fixture).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

from talksearch.embed import DIMENSION, MODEL_NAME, Tokenizer, WeightsCheck, model_dir, verify_weights

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def _buckets(word: str) -> tuple[tuple[int, float], ...]:
    """Two (bucket, sign) pairs per word: collisions between two words rarely cancel out."""
    digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return tuple((int.from_bytes(digest[i : i + 3], "little") % DIMENSION, 1.0 if digest[i + 3] & 1 else -1.0)
                 for i in (0, 4))


class StandInEmbedder:
    """The real tokenizer and weights check; hashed bag-of-words vectors instead of the model's."""

    name = MODEL_NAME
    dimension = DIMENSION
    precision = "fp32"  # what the manifest records; the vectors are float32

    def __init__(self, check: WeightsCheck | None = None) -> None:
        directory = model_dir()
        self.tokenizer = Tokenizer(directory)
        self.check = check or verify_weights(directory)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.casefold()) or [text]  # no word at all: the text itself is the one feature
            for word in words:
                for bucket, sign in _buckets(word):
                    out[row, bucket] += sign
            if not out[row].any():  # every feature cancelled out: one fixed bucket, never a zero vector
                out[row, _buckets(text)[0][0]] = 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out
