"""newsdesk-style question answering over a folder of news articles.

The build side: ``articles → clean → chunk → embed → store`` (``rag.indexer.sync``).
Importing the package first imports :mod:`rag.settings`, which puts every
library we load into offline mode.
"""

from rag.settings import Settings, get_settings  # noqa: I001  (must load first: offline env)
from rag.articles import Article, Skip
from rag.errors import (
    ConfigError,
    IndexLockedError,
    ModelError,
    NotFoundError,
    RagError,
    SkippedInputError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "Article",
    "ConfigError",
    "IndexLockedError",
    "ModelError",
    "NotFoundError",
    "RagError",
    "Settings",
    "Skip",
    "SkippedInputError",
    "StoreError",
    "get_settings",
]
