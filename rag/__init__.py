"""newsdesk-style question answering over a folder of news articles.

What a program needs, in one place::

    from rag import Filters, Pipeline, get_settings, sync

    settings = get_settings({"articles_dir": "data/articles", "index_dir": "index"})
    sync(settings)                       # build or update the index
    pipeline = Pipeline(settings)
    answer = pipeline.ask("Where did He Lifeng and Gina Raimondo meet?")
    pipeline.close()

The build side is ``articles → clean → chunk → embed → store`` (:func:`sync`); the
ask side ``question → retrieve → read → answer with citations`` (:class:`Pipeline`).
Importing the package first imports :mod:`rag.settings`, which puts every library
we load into offline mode. The heavier names (the pipeline, the indexer, the
catalog views) are imported when first used, so ``import rag`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# isort: off
from rag.settings import Settings, get_settings  # first: it sets the offline environment
from rag.indexing.articles import Article, Skip
from rag.errors import (
    ConfigError,
    FilterError,
    GoldMismatchError,
    IndexLockedError,
    InvalidQuestionError,
    ModelError,
    NotFoundError,
    RagError,
    SkippedInputError,
    StoreError,
    UploadError,
)

# isort: on

if TYPE_CHECKING:
    from rag.ask.conversation import Conversation
    from rag.ask.llama import NewsdeskRetriever
    from rag.ask.pipeline import Pipeline
    from rag.ask.results import Answer, Citation, Claim, Filters, Passage, ShortAnswer, Verdict
    from rag.catalog import get_article, index_status, list_articles
    from rag.evaluation.gold import GoldQuestion, load_gold
    from rag.indexing.indexer import IndexSummary, sync

__version__ = "0.1.0"

# Imported on first use (PEP 562): name -> module.
_LAZY = {
    "Answer": "rag.ask.results",
    "Citation": "rag.ask.results",
    "Claim": "rag.ask.results",
    "Conversation": "rag.ask.conversation",
    "Filters": "rag.ask.results",
    "GoldQuestion": "rag.evaluation.gold",
    "IndexSummary": "rag.indexing.indexer",
    "NewsdeskRetriever": "rag.ask.llama",  # imports llama-index: only when asked for
    "Passage": "rag.ask.results",
    "Pipeline": "rag.ask.pipeline",
    "ShortAnswer": "rag.ask.results",
    "Verdict": "rag.ask.results",
    "get_article": "rag.catalog",
    "index_status": "rag.catalog",
    "list_articles": "rag.catalog",
    "load_gold": "rag.evaluation.gold",
    "sync": "rag.indexing.indexer",
}

__all__ = [
    "Answer",
    "Article",
    "Citation",
    "Claim",
    "ConfigError",
    "Conversation",
    "FilterError",
    "Filters",
    "GoldMismatchError",
    "GoldQuestion",
    "IndexLockedError",
    "IndexSummary",
    "InvalidQuestionError",
    "ModelError",
    "NewsdeskRetriever",
    "NotFoundError",
    "Passage",
    "Pipeline",
    "RagError",
    "Settings",
    "ShortAnswer",
    "Skip",
    "SkippedInputError",
    "StoreError",
    "UploadError",
    "Verdict",
    "get_article",
    "get_settings",
    "index_status",
    "list_articles",
    "load_gold",
    "sync",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
