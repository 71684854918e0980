"""A deterministic stand-in for the embedding model: the fast tier's embedder.

Like simonw/llm's ``EmbedDemo``, it needs no model and downloads nothing: a text's
vector is its bag of word stems, each stem hashed (blake2b, so the same in every
process) to a signed position in a fixed-dimension vector, and the vector normalised.
Texts that share words are near, texts that share none are orthogonal up to hash
collisions: retrieval, filters, fusion, the answer engines and their citations run as
with the real model, only the ranking of paraphrases differs. Tests that are about the
real model's judgement (which sentence answers a reworded question, when to abstain)
keep the real one (``tests/conftest.py``'s ``embedder`` fixture).

The product has no switch for it: it plugs in where tests already plug embedders in,
as ``Pipeline(embedder=...)`` / ``sync(embedder=...)``, or, for the shells that build
their own (``rag.cli.main``, ``rag.api.create_app``), through :func:`use_fake_model`,
which makes every :class:`rag.indexing.embed.Embedder` load this encoder instead of the model.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np
import pytest

from rag.indexing.embed import Embedder, Encoder
from rag.settings import Settings

DIMENSION = 384  # the bundled model's, so that an index looks the same shape
COMMON = 0.15  # the cosine of two texts that share no feature
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    """a an and are as at be but by for from had has have he her his i in is it its of on
    or our she so that the their them then there they this to was were will with you your
    what which who whom when where why how do does did not no""".split()
)


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A light folding of inflections, so that "attended" meets "attend"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1 << 16)
def _slot(stem: str) -> tuple[int, float]:
    digest = hashlib.blake2b(stem.encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "little")
    return number % DIMENSION, 1.0 if number >> 63 else -1.0


def _features(text: str) -> Counter[str]:
    """Each word's stem (weight 1) and its letter trigrams (weight 1 together): "hoped"
    and "hope" share "hop" and "ope" where their stems differ."""
    features: Counter[str] = Counter()
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        features[_stem(word)] += 1.0
        padded = f"<{word}>"
        trigrams = [padded[i : i + 3] for i in range(len(padded) - 2)]
        for trigram in trigrams:
            features["#" + trigram] += 1.0 / len(trigrams)
    return features


def vector(text: str) -> np.ndarray:
    """The unit vector of ``text``. A share of every vector is one common direction, so
    that texts with no feature in common score about :data:`COMMON`, near what the real
    model gives unrelated news sentences, rather than 0."""
    out = np.zeros(DIMENSION, dtype=np.float64)
    for feature, weight in _features(text).items():
        at, sign = _slot(feature)
        out[at] += sign * weight
    norm = float(np.linalg.norm(out))
    if norm:
        out *= math.sqrt(1 - COMMON) / norm
    out[0] += math.sqrt(COMMON) if norm else 1.0
    return (out / np.linalg.norm(out)).astype(np.float32)


class HashEncoder:
    """An :class:`rag.indexing.embed.Encoder`: hashed bags of stems."""

    runtime = "fake"
    precision = "fp32"
    dimension = DIMENSION

    def encode(self, texts: list[str], batch_size: int, progress: bool = False) -> np.ndarray:
        return np.stack([vector(t) for t in texts]).astype(np.float32)


class FakeEmbedder(Embedder):
    """An :class:`~rag.indexing.embed.Embedder` over :class:`HashEncoder`; loads in no time."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings or Settings())

    def _load(self) -> Encoder:
        return HashEncoder()


def use_fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every :class:`~rag.indexing.embed.Embedder` loads :class:`HashEncoder` until the test ends,
    however deep in the CLI or the API it is built."""
    monkeypatch.setattr(Embedder, "_load", lambda self: HashEncoder())
