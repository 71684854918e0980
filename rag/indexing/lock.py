"""One writer at a time: an exclusive ``flock`` on ``<index_dir>/.lock``.

The kernel drops the lock when the holder dies, even by ``kill -9``, so a
crashed run never leaves the index locked.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from rag.errors import IndexLockedError, StoreError


class IndexLock:
    def __init__(self, index_dir: Path, *, wait: bool = False) -> None:
        self.path = index_dir / ".lock"
        self.wait = wait
        self._fd: int | None = None

    def holder(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def __enter__(self) -> IndexLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot create the index lock {self.path}: {exc.strerror}; "
                "check that the index folder is writable (RAG_INDEX_DIR)"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self.wait:
                os.close(fd)
                raise IndexLockedError(self.holder(), str(self.path)) from None
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
