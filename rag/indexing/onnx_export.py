"""The embedding model exported to ONNX once, cached, and run by onnxruntime.

Exporting needs torch, transformers and the ``onnx`` package and takes a few
seconds; running the export needs only onnxruntime and tokenizers, which load in
a fraction of the time torch does and answer a short question 2–3× faster on
this project's machine (README, "Embedding runtime"). The vectors are the torch
model's own (cosine ≥ 0.99999), so an index built with one runtime is read with
the other.

The export is written under a temporary name and renamed into place, then
``done.json`` records it. A folder without that record, or whose model file is
not the size it records — an export killed part way, a damaged file — is
exported again, and the leftovers of exports whose process is gone are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError

# Bumped when the exported graph or its inputs change: older exports are not reused.
EXPORT_FORMAT = 1
# A partial export this old belongs to no live run.
STALE_SECONDS = 600
DONE = "done.json"
MODEL = "model.onnx"
# Texts per onnxruntime run, in length order. One measured fastest for a question and
# its 8 answer sentences (64 ms against 83–95 ms for 4–8 at a time) and as fast as 8
# for whole chunks inside `rag index` (11.4 against 11.8 chunks/s, within the noise;
# README, "Embedding runtime").
ROWS_PER_RUN = 1


class ExportUnavailable(ModelError):
    """This model cannot run on onnxruntime here (a missing package, an unsupported layout)."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Layout:
    """What a sentence-transformers folder says about its model: where the transformer
    and its tokenizer live, its input limit, and its pooling. Raises
    :class:`ExportUnavailable` for a folder that is not transformer + pooling or has
    no ``tokenizer.json``."""

    def __init__(self, folder: Path) -> None:
        modules = _read_json(folder / "modules.json") or [
            {"path": "", "type": "sentence_transformers.models.Transformer"}
        ]
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        if kinds[:1] != ["Transformer"] or any(
            k not in {"Transformer", "Pooling", "Normalize"} for k in kinds
        ):
            raise ExportUnavailable(f"modules {kinds} are not transformer + pooling")
        self.transformer = folder / str(modules[0].get("path", ""))
        pools = [m for m, k in zip(modules, kinds, strict=True) if k == "Pooling"]
        pooling = _read_json(folder / str(pools[0]["path"]) / "config.json") if pools else None
        pooling = pooling or {"pooling_mode_mean_tokens": True}
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
        # None: a pooling the onnxruntime path does not reproduce.
        self.pooling = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(
            modes[0] if len(modes) == 1 else ""
        )
        self.modes = modes
        config = _read_json(self.transformer / "sentence_bert_config.json") or _read_json(
            folder / "sentence_bert_config.json"
        )
        self.max_tokens = int((config or {}).get("max_seq_length") or 512)
        self.tokenizer = self.transformer / "tokenizer.json"
        if not self.tokenizer.is_file():
            raise ExportUnavailable(f"no tokenizer.json in {self.transformer}")

    def key(self) -> str:
        """Names the export: the folder's files (path, size, modification time) and the
        export format — a changed model is exported again, an unchanged one never."""
        files = sorted(
            (str(p), p.stat().st_size, p.stat().st_mtime_ns)
            for p in self.transformer.rglob("*")
            if p.is_file()
        )
        payload = json.dumps({"files": files, "format": EXPORT_FORMAT})
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def is_exported(layout: Layout, cache: Path) -> bool:
    """Whether ``cache`` holds a complete export of the model (none is needed, nor torch)."""
    folder = cache / "onnx" / layout.key()
    model = folder / MODEL
    done = _read_json(folder / DONE)
    return isinstance(done, dict) and model.is_file() and done.get("bytes") == model.stat().st_size


def cached_export(layout: Layout, cache: Path) -> Path:
    """The model's ONNX file under ``cache``, exported first if there is no complete one."""
    folder = cache / "onnx" / layout.key()
    model = folder / MODEL
    if is_exported(layout, cache):
        return model
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportUnavailable(f"cannot write the model cache {folder}: {exc}") from exc
    for left in folder.glob("*.partial"):
        if _abandoned(left):
            left.unlink(missing_ok=True)
    partial = folder / f"{MODEL}.{os.getpid()}.partial"
    began = time.perf_counter()
    try:
        inputs = _export(layout, partial)
        os.replace(partial, model)
    finally:
        partial.unlink(missing_ok=True)
    record = {
        "format": EXPORT_FORMAT,
        "bytes": model.stat().st_size,
        "inputs": inputs,
        "source": str(layout.transformer),
        "seconds": round(time.perf_counter() - began, 1),
    }
    partial_done = folder / f"{DONE}.{os.getpid()}.partial"
    partial_done.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(partial_done, folder / DONE)
    return model


def _abandoned(partial: Path) -> bool:
    """Whether a ``NAME.PID.partial`` file belongs to no running export: its process is
    gone, or it is older than :data:`STALE_SECONDS` (a pid reused since)."""
    try:
        pid = int(partial.name.rsplit(".", 2)[-2])
        if time.time() - partial.stat().st_mtime > STALE_SECONDS:
            return True
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (ValueError, OSError):
        return False
    return False


def _export(layout: Layout, target: Path) -> list[str]:
    """Writes the transformer's graph (token ids in, last hidden state out) to ``target``."""
    import importlib.util

    if importlib.util.find_spec("onnx") is None:
        raise ExportUnavailable("the onnx package is not installed (pip install onnx)")
    import inspect
    import warnings

    import torch
    from transformers import AutoModel

    from rag.indexing.embed import quiet_transformers

    quiet_transformers()

    model = AutoModel.from_pretrained(str(layout.transformer), local_files_only=True).eval()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, tensors, strict=True))).last_hidden_state  # type: ignore[no-any-return]

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden(),
                example,
                str(target),
                input_names=names,
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many types for a graph it cannot trace
        raise ExportUnavailable(f"cannot export {layout.transformer} to ONNX: {exc}") from exc
    return names


class OnnxEncoder:
    """Unit vectors from the exported model: tokenise, run, pool, normalise — what the
    sentence-transformers modules do, in that order. Safe to call from several threads."""

    runtime = "onnxruntime"
    precision = "fp32"

    def __init__(self, folder: Path, cache: Path, threads: int) -> None:
        layout = Layout(folder)
        if layout.pooling is None:
            raise ExportUnavailable(f"pooling {layout.modes} is not mean or cls")
        path = cached_export(layout, cache)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ExportUnavailable(f"onnxruntime is not installed: {exc}") from exc
        self.pooling = layout.pooling
        self.tokenizer = Tokenizer.from_file(str(layout.tokenizer))
        self.tokenizer.enable_truncation(layout.max_tokens)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a corrupt file: drop the record so the next run re-exports
            (path.parent / DONE).unlink(missing_ok=True)
            raise ExportUnavailable(f"cannot load {path}: {exc}") from exc
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int, progress: bool = False) -> np.ndarray:
        """Unit vectors for ``texts``. ``batch_size`` is torch's: onnxruntime runs
        :data:`ROWS_PER_RUN` texts of similar length at a time."""
        encodings = self.tokenizer.encode_batch(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        starts: Iterable[int] = range(0, len(order), ROWS_PER_RUN)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Embedding", unit="batch")
        for start in starts:
            rows = order[start : start + ROWS_PER_RUN]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : len(encodings[i].ids)] = encodings[i].ids
                mask[r, : len(encodings[i].ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: feed[k] for k in self.inputs})[0]
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
