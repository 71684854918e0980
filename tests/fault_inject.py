"""Run the real ``rag`` CLI with a fault at an exact point of the index run.

    python tests/fault_inject.py POINT N ACTION -- index --json

POINT is where to count: ``upsert`` (chunks written to Chroma, their manifest rows
not yet committed), ``commit`` (a manifest transaction committed), ``delete``
(chunks deleted from Chroma), ``metadata`` (cluster ids pushed to Chroma) or
``lexical`` (the BM25 files saved, the pointer to them not yet switched). After the
N-th one, ACTION happens:

- ``kill``: the process sends itself SIGKILL — no cleanup, no ``finally``;
- ``pause``: it writes ``$RAG_FAULT_DIR/paused`` and waits (index lock held) until
  ``$RAG_FAULT_DIR/resume`` exists, so a test can act at that exact moment.

Test-only: the product has no fault hooks; this wraps its classes from outside.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def install(point: str, nth: int, action: str) -> None:
    from rag.indexing.lexical import LexicalIndex
    from rag.indexing.manifest import Manifest
    from rag.indexing.store import ChunkStore

    seen = 0

    def hit() -> None:
        nonlocal seen
        seen += 1
        if seen != nth:
            return
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        folder = Path(os.environ["RAG_FAULT_DIR"])
        (folder / "paused").write_text(str(os.getpid()))
        while not (folder / "resume").exists():
            time.sleep(0.05)

    def after(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            hit()
            return result

        return wrapped

    if point == "commit":
        original = Manifest.transaction

        @contextmanager
        def transaction(self: Manifest) -> Iterator[None]:
            with original(self):
                yield
            hit()

        Manifest.transaction = transaction  # type: ignore[method-assign]
    elif point == "lexical":
        import bm25s

        bm25s.BM25.save = after(bm25s.BM25.save)
        assert LexicalIndex.build  # the save happens inside LexicalIndex.build
    else:
        name = {"upsert": "upsert", "delete": "delete", "metadata": "update_metadata"}[point]
        setattr(ChunkStore, name, after(getattr(ChunkStore, name)))


if __name__ == "__main__":
    point, nth, action, dash, *rest = sys.argv[1:]
    assert dash == "--" and action in ("kill", "pause"), sys.argv
    install(point, int(nth), action)
    from rag.cli import main

    sys.exit(main(rest))
