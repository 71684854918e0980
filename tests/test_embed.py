"""How the embedding model runs: onnxruntime from a cached export, or torch in float32
or bfloat16 — the same vectors whichever runs, chosen by the hardware, reported, and an
export killed part way is redone by the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.indexing import embed, onnx_export
from rag.indexing.embed import Embedder, runtime_plan
from rag.indexing.onnx_export import DONE, MODEL, Layout
from rag.settings import Settings
from tests.conftest import SAMPLE, run_rag

TEXTS = [
    "Where did He Lifeng and Gina Raimondo meet?",
    "Representatives from major US companies, including IBM, Microsoft and Pfizer, "
    "attended the meeting on Friday.",
    # A whole article: longer than the model's 256 word pieces, so it is cut the same way.
    (SAMPLE / "004_a013c1e59fc04a42.txt").read_text(encoding="utf-8"),
]


def _flags(monkeypatch: pytest.MonkeyPatch, *flags: str) -> None:
    monkeypatch.setattr(embed, "cpu_flags", lambda: frozenset({"avx2", *flags}))


def test_auto_picks_bf16_torch_on_matrix_units_and_onnxruntime_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
):
    _flags(monkeypatch, "avx512_bf16", "amx_bf16")
    assert runtime_plan(Settings()) == ("torch", "bf16")
    assert runtime_plan(Settings(embed_precision="fp32")) == ("onnx", "fp32")
    _flags(monkeypatch)
    assert runtime_plan(Settings()) == ("onnx", "fp32")
    assert runtime_plan(Settings(embed_runtime="torch")) == ("torch", "fp32")
    assert runtime_plan(Settings(embed_device="cuda")) == ("torch", "fp32")
    with pytest.raises(ModelError, match="RAG_EMBED_RUNTIME=torch"):
        runtime_plan(Settings(embed_runtime="onnx", embed_precision="bf16"))
    with pytest.raises(ModelError, match="RAG_EMBED_DEVICE=cuda"):
        runtime_plan(Settings(embed_runtime="onnx", embed_device="cuda"))


def test_every_runtime_gives_the_same_vectors(embedder: Embedder, tmp_path: Path):
    """The index does not record the runtime, so an index built with one must read
    right with another: onnxruntime matches torch float32 to rounding, and bf16 is
    within what retrieval can notice."""
    assert embedder.describe() == "onnxruntime fp32"
    onnx = embedder.embed(TEXTS)
    torch32 = Embedder(Settings(embed_runtime="torch", embed_precision="fp32"))
    bf16 = Embedder(Settings(embed_runtime="torch", embed_precision="bf16"))
    assert (torch32.describe(), bf16.describe()) == ("torch fp32", "torch bf16")
    for other, floor in ((torch32, 0.99999), (bf16, 0.999)):
        vectors = other.embed(TEXTS)
        assert vectors.shape == onnx.shape and vectors.dtype == np.float32
        cosines = (vectors * onnx).sum(axis=1)
        assert cosines.min() >= floor, (other.describe(), cosines)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1, atol=1e-5)
    # Order is kept whatever the lengths: one text alone gets the vector it gets among others.
    assert np.allclose(embedder.embed(TEXTS[1:2])[0], onnx[1], atol=1e-6)


def test_texts_run_together_get_the_vectors_they_get_alone(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
):
    """Several texts per run are padded to the longest; the padding changes nothing."""
    alone = embedder.embed(TEXTS)
    monkeypatch.setattr(onnx_export, "ROWS_PER_RUN", 3)
    assert np.allclose(embedder.embed(TEXTS), alone, atol=1e-5)


def test_the_export_is_reused_and_a_damaged_one_is_redone(tmp_path: Path, embedder: Embedder):
    settings = Settings(cache_dir=tmp_path / "cache")
    first = Embedder(settings)
    expected = first.embed(TEXTS[:2])
    [folder] = (tmp_path / "cache" / "onnx").iterdir()
    record = json.loads((folder / DONE).read_text())
    assert record["bytes"] == (folder / MODEL).stat().st_size > 1_000_000
    built = (folder / MODEL).stat().st_mtime_ns
    assert np.allclose(Embedder(settings).embed(TEXTS[:2]), expected, atol=1e-6)
    assert (folder / MODEL).stat().st_mtime_ns == built  # reused, not exported again
    with open(folder / MODEL, "r+b") as f:  # cut short, as a full disk would leave it
        f.truncate(1000)
    assert np.allclose(Embedder(settings).embed(TEXTS[:2]), expected, atol=1e-6)
    assert (folder / MODEL).stat().st_size == record["bytes"]


KILL_DURING_EXPORT = """
import sys, time
from pathlib import Path
import rag.indexing.onnx_export as ox
real = ox._export
def slow(layout, target):
    inputs = real(layout, target)
    print("written", flush=True)
    time.sleep(60)  # killed here: the file is whole but never renamed or recorded
    return inputs
ox._export = slow
from rag.indexing.embed import Embedder
from rag.settings import Settings
Embedder(Settings(cache_dir=Path(sys.argv[1]))).load()
"""


def test_kill_9_during_the_export_then_the_next_run_recovers(tmp_path: Path, embedder: Embedder):
    cache = tmp_path / "cache"
    with subprocess.Popen(
        [sys.executable, "-c", KILL_DURING_EXPORT, str(cache)],
        stdout=subprocess.PIPE,
        text=True,
    ) as killed:
        assert killed.stdout is not None and killed.stdout.readline().strip() == "written"
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    [folder] = (cache / "onnx").iterdir()
    assert [p.name for p in folder.iterdir()] == [f"{MODEL}.{killed.pid}.partial"]

    settings = Settings(cache_dir=cache)
    vectors = Embedder(settings).embed(TEXTS[:2])
    assert np.allclose(vectors, embedder.embed(TEXTS[:2]), atol=1e-6)
    assert sorted(p.name for p in folder.iterdir()) == [DONE, MODEL]


def test_a_model_onnxruntime_cannot_reproduce_runs_on_torch(tmp_path: Path):
    """A folder whose pooling the export does not reproduce (max pooling here) still
    embeds, on torch, when the runtime is auto; asked for onnx, it says why not."""
    model = tmp_path / "model"
    source = embed.model_path(Settings())
    model.mkdir()
    for item in source.iterdir():
        target = model / item.name
        if item.is_dir():
            target.mkdir()
            for sub in item.iterdir():
                (target / sub.name).write_bytes(sub.read_bytes())
        else:
            target.symlink_to(item)
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    pooling |= {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert Layout(model).pooling is None
    auto = Embedder(Settings(embed_model=str(model), cache_dir=tmp_path / "cache"))
    assert auto.describe() == "torch fp32" and auto.embed(TEXTS[:1]).shape == (1, 384)
    with pytest.raises(ModelError, match="pooling"):
        Embedder(Settings(embed_model=str(model), embed_runtime="onnx")).load()


def test_status_and_the_index_summary_say_how_the_model_ran(settings: Settings):
    env = {"RAG_ARTICLES_DIR": str(settings.articles_dir), "RAG_INDEX_DIR": str(settings.index_dir)}
    built = run_rag("index", env=env)
    assert built.returncode == 0, built.stderr
    assert "embedded on onnxruntime fp32" in built.stdout
    status = run_rag("status", "--json", env=env)
    assert json.loads(status.stdout)["embedding"] == "onnxruntime fp32"
    forced = run_rag("status", "--json", env=env | {"RAG_EMBED_RUNTIME": "torch"})
    assert json.loads(forced.stdout)["embedding"] in {"torch fp32", "torch bf16"}


ASK_WITHOUT_TORCH = """
import sys
from rag.ask.pipeline import Pipeline
from rag.settings import Settings
pipe = Pipeline(Settings())
answer = pipe.ask("Which companies attended the Friday meeting?")
print(answer.short_answers[0].text if answer.short_answers else answer.answer[:60])
print(sorted(m for m in ("torch", "sentence_transformers") if m in sys.modules))
"""


def test_a_question_on_onnxruntime_never_imports_torch(settings: Settings):
    """Importing torch was 2.4 s of a cold question (spaCy's thinc imports it when it
    is installed); on onnxruntime a question needs none of it."""
    env = {"RAG_ARTICLES_DIR": str(settings.articles_dir), "RAG_INDEX_DIR": str(settings.index_dir)}
    assert run_rag("index", env=env).returncode == 0
    began = time.perf_counter()
    asked = subprocess.run(
        [sys.executable, "-c", ASK_WITHOUT_TORCH],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | env,
        timeout=300,
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.splitlines() == ["IBM", "[]"]
    print(f"cold question in a new process: {time.perf_counter() - began:.1f} s")
