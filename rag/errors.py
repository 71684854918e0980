"""The project's exceptions. Callers catch at the level they need::

    RagError                  anything the CLI reports as one line and exit code 1
    ├── ConfigError           a setting is invalid or points nowhere
    │   ├── ConflictError     a feed of that name or address is on the list already
    │   ├── ExposedError      a non-loopback address without a credential (exit code 2)
    │   └── GoldMismatchError a gold set none of whose evidence articles is in the index
    │                         (exit code 2)
    ├── ModelError            the embedding model or spaCy pipeline cannot be loaded
    ├── StoreError            Chroma is unreachable, read-only or full
    ├── IndexLockedError      another process is updating the index
    ├── NotFoundError         an article id or file that does not exist
    ├── InvalidQuestionError  an empty, oversized or non-English question
    │   └── FilterError       filters no article passes: an unknown outlet, a reversed
    │                         or empty date range (exit code 2)
    ├── SkippedInputError     --strict and some articles could not be read
    ├── UploadError           an uploaded file refused: name, type, size, count or clash
    └── FetchError            a link or feed not fetched: its scheme, a private address,
                              robots.txt, a timeout, its status, type or size, redirects

Problems with single articles are not exceptions: they become skip reasons in
the index summary, and the rest of the folder is indexed.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: the message says what went wrong and how to fix it."""

    exit_code = 1  # what the CLI exits with


class ConfigError(RagError):
    pass


class ConflictError(ConfigError):
    """What was asked to be added is there already (the API answers 409)."""


class ExposedError(ConfigError):
    """`rag serve` / `rag ui` asked to listen beyond loopback with no credential set."""

    exit_code = 2


class GoldMismatchError(ConfigError):
    """A gold set asked of an index that holds none of its evidence articles: every
    score would be zero, so the run is refused before a question is asked."""

    exit_code = 2


class ModelError(RagError):
    pass


class StoreError(RagError):
    pass


class IndexLockedError(RagError):
    def __init__(self, pid: int | None, lock_path: str) -> None:
        who = f"PID {pid}" if pid else "another process"
        super().__init__(
            f"index is being updated by {who} (lock {lock_path}); "
            "wait for it to finish or re-run with --wait"
        )
        self.pid = pid


class NotFoundError(RagError):
    pass


class InvalidQuestionError(RagError):
    pass


class FilterError(InvalidQuestionError):
    """The question's filters leave no article to answer from; the message says which
    filter and what the index holds instead (the API answers 422)."""

    exit_code = 2


class SkippedInputError(RagError):
    pass


class UploadError(RagError):
    """``status`` is the HTTP status the API answers with (400, 409, 413, 415 or 507)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FetchError(RagError):
    """A URL that was not fetched or not read; the message says why, in one line. A pull
    or ``rag add`` reports it for that URL and goes on with the rest. ``status`` is the
    HTTP status the server answered with, when that was the problem."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
