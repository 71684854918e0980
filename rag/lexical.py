"""BM25 over the same chunks as Chroma (bm25s), persisted beside the manifest.

``rag index`` rebuilds it whenever the indexed chunks change; the build is
written to a fresh folder and switched in with one atomic rename of a pointer
file, so a reader never sees half an index. Each build records the manifest
generation it was made from, so a stale index is detected and rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import StoreError

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his i in is it its of on or our
    she that the their them they this to was were will with you your what which who whom
    when where why how do does did""".split()
)


def _stem(word: str) -> str:
    """A light plural/possessive folding: "talks"→"talk", "China's"→"china"."""
    word = re.sub(r"['’]s$", "", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class LexicalIndex:
    """A BM25 index whose documents are identified by chunk id."""

    POINTER = "bm25.current"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model = None
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self.generation: int | None = None

    # --- building --------------------------------------------------------------

    def build(self, ids: Sequence[str], texts: Sequence[str], generation: int) -> None:
        """Write a new BM25 index and switch to it; on a full disk or a read-only folder,
        a :class:`StoreError` and the previous build left in place."""
        import bm25s

        pointer = self.folder / self.POINTER
        tmp = self.folder / (self.POINTER + ".tmp")
        target: Path | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = Path(tempfile.mkdtemp(prefix="bm25-", dir=self.folder))
            model = bm25s.BM25()
            corpus = [tokens(t) or ["∅"] for t in texts]
            if corpus:
                model.index(corpus, show_progress=False)
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
        self._model = None

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

    def _load(self) -> bool:
        if self._model is not None:
            return True
        pointer = self.folder / self.POINTER
        if not pointer.exists():
            return False
        import bm25s

        target = self.folder / pointer.read_text().strip()
        meta = json.loads((target / "meta.json").read_text())
        self._ids = meta["ids"]
        self.generation = int(meta["generation"])
        self._position = {cid: i for i, cid in enumerate(self._ids)}
        if not self._ids:
            return False
        self._model = bm25s.BM25.load(str(target), show_progress=False)
        return True

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best ``k`` chunk ids for ``query`` and their BM25 scores, among ``allowed`` if given."""
        if not self._load() or k <= 0:
            return []
        words = [t for t in tokens(query) if t in self._model.vocab_dict]  # type: ignore[attr-defined]
        if not words:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self._ids), dtype=np.float32)
            for cid in allowed:
                position = self._position.get(cid)
                if position is not None:
                    mask[position] = 1.0
            if not mask.any():
                return []
        scores = self._model.get_scores(words)  # type: ignore[attr-defined]
        if mask is not None:
            scores = scores * mask
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]
