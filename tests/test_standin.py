"""The stand-in encoder keeps the promises storage tests rely on: the protocol, fixed vectors, shared words closer."""

from __future__ import annotations

import numpy as np

from talksearch.embed import DIMENSION, MODEL_NAME, WEIGHTS_SHA256, SentenceTransformerEmbedder

from .standin import StandInEmbedder

TEXTS = ["Celery retries with exponential backoff", "celery retries", "UUID v7 keys in Postgres", "", "🎉 ‼"]


def test_the_stand_in_has_the_encoders_name_tokenizer_and_published_weights_check(standin):
    assert (standin.name, standin.dimension, standin.precision) == (MODEL_NAME, DIMENSION, "fp32")
    assert standin.check.sha256 == WEIGHTS_SHA256
    real = SentenceTransformerEmbedder().tokenizer  # no model loaded: the tokenizer only
    assert standin.tokenizer.count(TEXTS) == real.count(TEXTS) and standin.tokenizer.offsets(TEXTS[0]) == \
        real.offsets(TEXTS[0])  # passages are packed by the same word pieces


def test_its_vectors_are_unit_float32_rows_fixed_per_text_and_closer_for_shared_words(standin):
    vectors = standin.embed(TEXTS)
    assert (vectors.dtype, vectors.shape) == (np.float32, (len(TEXTS), DIMENSION))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert (StandInEmbedder(check=standin.check).embed(TEXTS[::-1]) == vectors[::-1]).all()  # any instance, any batch
    assert vectors[0] @ vectors[1] > 0.5 > abs(vectors[0] @ vectors[2])
    assert standin.embed([]).shape == (0, DIMENSION)
