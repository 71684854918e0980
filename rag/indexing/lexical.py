"""BM25 over the same chunks as Chroma (bm25s), persisted beside the manifest.

``rag index`` rebuilds it whenever the indexed chunks change; the build is
written to a fresh folder and switched in with one atomic rename of a pointer
file, so a reader never sees half an index. Each build records the manifest
generation it was made from, so a stale index is detected and rebuilt, and
keeps its chunks' tokens, so the next build tokenizes only the new chunks.
Readers reload when the pointer moves.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.indexing.chunk import article_of
from rag.text.words import tokens


class LexicalIndex:
    """A BM25 index whose documents are identified by chunk id."""

    POINTER = "bm25.current"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    # --- building --------------------------------------------------------------

    def build(
        self, ids: Sequence[str], texts: Callable[[list[str]], list[str]], generation: int
    ) -> int:
        """Index the chunks ``ids``; ``texts(some_ids)`` returns the text of chunks not yet
        tokenized. Returns how many chunks were tokenized.

        Each build keeps its chunks' tokens (``tokens.npz``), so the next build
        tokenizes only new chunks and computes the BM25 weights with a few array
        operations: adding ten articles to 100,000 chunks costs seconds, not a
        re-read of the corpus. On a full disk or a read-only folder, a
        :class:`StoreError` and the previous build left in place.
        """
        import bm25s

        vocab, previous = self._previous_tokens()
        new = [cid for cid in ids if cid not in previous]
        fresh = dict(zip(new, texts(new), strict=True)) if new else {}
        codes: list[np.ndarray] = []
        for cid in ids:
            if cid in previous:
                codes.append(previous[cid])
            else:
                words = tokens(fresh[cid]) or ["∅"]
                codes.append(
                    np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), np.int32)
                )
        lengths = np.fromiter((len(c) for c in codes), np.int64, count=len(codes))
        flat = np.concatenate(codes) if codes else np.zeros(0, np.int32)
        pointer = self.folder / self.POINTER
        tmp = self.folder / (self.POINTER + ".tmp")
        target: Path | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = Path(tempfile.mkdtemp(prefix="bm25-", dir=self.folder))
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            np.savez(target / "tokens.npz", flat=flat, offsets=offsets)
            vocab_json = json.dumps(list(vocab), ensure_ascii=False)
            (target / "tokens-vocab.json").write_text(vocab_json)
            if codes:
                model = bm25s.BM25()
                model.scores = _bm25_matrix(flat, lengths, len(vocab), model.k1, model.b)
                model.vocab_dict = vocab
                model.nonoccurrence_array = None
                model.save(str(target), show_progress=False)
            meta = json.dumps({"ids": list(ids), "generation": generation})
            (target / "meta.json").write_text(meta)
            tmp.write_text(target.name)
            os.replace(tmp, pointer)
        except OSError as exc:
            if target is not None:
                shutil.rmtree(target, ignore_errors=True)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StoreError(
                f"cannot write the BM25 index in {self.folder}: {exc.strerror or exc}; "
                "check that the index folder is writable and the disk is not full, "
                "then run `rag index` again"
            ) from exc
        # The previous build, and any a killed run left before switching the pointer.
        for stale in self.folder.glob("bm25-*"):
            if stale.name != target.name:
                shutil.rmtree(stale, ignore_errors=True)
        return len(new)

    def _previous_tokens(self) -> tuple[dict[str, int], dict[str, np.ndarray]]:
        """The vocabulary and each chunk's token codes from the current build, if it kept them."""
        pointer = self.folder / self.POINTER
        try:
            folder = self.folder / pointer.read_text().strip()
            ids = json.loads((folder / "meta.json").read_text())["ids"]
            vocab = json.loads((folder / "tokens-vocab.json").read_text())
            with np.load(folder / "tokens.npz") as arrays:
                flat, offsets = arrays["flat"], arrays["offsets"]
        except (OSError, ValueError, KeyError):
            return {}, {}
        if len(offsets) != len(ids) + 1:
            return {}, {}
        codes = {cid: flat[offsets[i] : offsets[i + 1]] for i, cid in enumerate(ids)}
        return {w: i for i, w in enumerate(vocab)}, codes

    def built_generation(self) -> int | None:
        pointer = self.folder / self.POINTER
        if not pointer.exists():
            return None
        try:
            meta = json.loads((self.folder / pointer.read_text().strip() / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        return int(meta["generation"])

    # --- searching -------------------------------------------------------------

    @property
    def generation(self) -> int | None:
        """The manifest generation of the loaded index (None before the first search)."""
        return self._loaded.generation if self._loaded else None

    def _current(self) -> _Loaded | None:
        """The index the pointer names, loaded once; reloaded only when a build moves it.

        Readers in other threads keep the copy they hold while one thread loads
        the new one, so a search never mixes two builds.
        """
        pointer = self.folder / self.POINTER
        try:
            target = pointer.read_text().strip()
        except OSError:
            return None
        loaded = self._loaded
        if loaded is not None and loaded.target == target:
            return loaded
        if not self._lock.acquire(blocking=loaded is None):
            return loaded
        try:
            if self._loaded is None or self._loaded.target != target:
                self._loaded = _Loaded.read(self.folder / target)
            return self._loaded
        except (OSError, ValueError, KeyError):
            # A build replaced the folder while we read it: keep what we had.
            return self._loaded
        finally:
            self._lock.release()

    def search(
        self, query: str, k: int, articles: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best ``k`` chunk ids for ``query`` and their BM25 scores, among the chunks of
        ``articles`` if given."""
        index = self._current()
        if index is None or index.model is None or k <= 0:
            return []
        words = [t for t in tokens(query) if t in index.model.vocab]
        if not words:
            return []
        scores = index.model.scores(words)
        if articles is not None:
            codes = [index.article_codes[a] for a in articles if a in index.article_codes]
            mask = np.isin(index.chunk_articles, np.asarray(codes, dtype=np.int64))
            if not mask.any():
                return []
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(index.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _bm25_matrix(
    flat: np.ndarray, lengths: np.ndarray, n_vocab: int, k1: float, b: float
) -> dict[str, Any]:
    """bm25s's Lucene-variant score matrix (term-major CSC), computed with array operations.

    The same weights ``bm25s.BM25().index(...)`` computes with a Python loop per
    document: idf = ln(1 + (N − df + ½)/(df + ½)), and per (document, term)
    tf / (k1·(1 − b + b·dl/avgdl) + tf) · idf.
    """
    n_docs = len(lengths)
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique(flat.astype(np.int64) * n_docs + docs, return_counts=True)
    terms, docs = np.divmod(pairs, n_docs)  # sorted by term, then document: CSC order
    df = np.bincount(terms, minlength=n_vocab)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    dl = lengths[docs] / lengths.mean()
    scores = idf[terms] * tf / (k1 * (1 - b + b * dl) + tf)
    return {
        "data": scores.astype(np.float32),
        "indices": docs.astype(np.int32),
        "indptr": np.concatenate([[0], np.cumsum(df)]).astype(np.int32),
        "num_docs": n_docs,
    }


@dataclass(frozen=True)
class _Weights:
    """A build's BM25 weights as bm25s saves them (``model.save``: the term-major CSC
    arrays and the vocabulary), scored as ``bm25s.BM25.get_scores`` scores them, in the
    same float32 order, without importing bm25s: it imports scipy, a fifth of a second
    of a cold question that only an index build needs."""

    vocab: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    num_docs: int

    @classmethod
    def read(cls, folder: Path) -> _Weights:
        params = json.loads((folder / "params.index.json").read_text())
        return cls(
            json.loads((folder / "vocab.index.json").read_text()),
            np.load(folder / "data.csc.index.npy"),
            np.load(folder / "indices.csc.index.npy"),
            np.load(folder / "indptr.csc.index.npy"),
            int(params["num_docs"]),
        )

    def scores(self, words: list[str]) -> np.ndarray:
        """Each document's BM25 score for ``words`` (all in the vocabulary)."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for term in (self.vocab[w] for w in words):
            start, end = self.indptr[term], self.indptr[term + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores


@dataclass(frozen=True)
class _Loaded:
    """One loaded build: its BM25 weights, its chunk ids and each chunk's article."""

    target: str
    generation: int
    ids: list[str]
    chunk_articles: np.ndarray  # article code of each chunk, for filters
    article_codes: dict[str, int]
    model: _Weights | None

    @classmethod
    def read(cls, folder: Path) -> _Loaded:
        meta = json.loads((folder / "meta.json").read_text())
        ids: list[str] = meta["ids"]
        article_codes: dict[str, int] = {}
        chunk_articles = np.fromiter(
            (article_codes.setdefault(article_of(cid), len(article_codes)) for cid in ids),
            dtype=np.int64,
            count=len(ids),
        )
        model = _Weights.read(folder) if ids else None
        return cls(folder.name, int(meta["generation"]), ids, chunk_articles, article_codes, model)
