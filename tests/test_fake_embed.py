"""The fast tier's fake embedder behaves as the tests over it assume."""

from __future__ import annotations

import numpy as np
import pytest

from rag.indexing.embed import Embedder
from rag.settings import Settings
from tests.fake_embed import COMMON, DIMENSION, HashEncoder, vector

pytestmark = pytest.mark.fast


def test_vectors_are_unit_deterministic_and_near_for_shared_words():
    texts = ["IBM and Pfizer attended the meeting.", "Who attended the meeting?", "Tour de France"]
    first = HashEncoder().encode(texts, batch_size=2)
    assert first.shape == (3, DIMENSION) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(first, HashEncoder().encode(texts, batch_size=1))
    # blake2b, not hash(): the same slots in every process (a stem and its trigrams).
    assert np.flatnonzero(vector("pfizer")[1:]).tolist() == [17, 117, 231, 269, 315, 356, 357]
    related, unrelated = first[0] @ first[1], first[0] @ first[2]
    assert related > 0.5 > COMMON + 0.05 > unrelated >= COMMON - 0.05
    # inflections meet: "attended" / "attend", "hoped" / "hope"
    assert vector("they attended") @ vector("attend") > 0.8
    assert vector("he hoped") @ vector("hope") > COMMON + 0.1
    assert np.allclose(vector(""), vector("the of and"))  # no words: one fixed vector


def test_every_embedder_loads_the_fake_in_the_fast_tier():
    """conftest: a fast test's Embedder never loads the real model, wherever it is built."""
    model = Embedder(Settings(embed_model="/no/such/model"))
    assert model.describe() == "fake fp32"
    assert np.array_equal(model.embed(["Li Qiang"])[0], vector("Li Qiang"))
