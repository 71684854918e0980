"""The package's public API: what ``rag.__all__`` names is what a program imports, and
the README's "Use it from Python" example runs as written (real model, real Chroma)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import types

import pytest

import rag
from tests.conftest import ROOT, SAMPLE

README = ROOT / "README.md"


def test_all_is_sorted_unique_and_every_name_resolves():
    assert rag.__all__ == sorted(set(rag.__all__))
    for name in rag.__all__:
        assert getattr(rag, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from rag import *", namespace)
    assert set(rag.__all__) <= set(namespace)


def test_every_public_name_the_package_defines_is_in_all():
    helpers = {"TYPE_CHECKING", "Any", "annotations", "importlib"}
    public = {
        name
        for name in dir(rag)
        if not name.startswith("_")
        and name not in helpers
        and not isinstance(getattr(rag, name), types.ModuleType)
    }
    assert public == set(rag.__all__)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Pipe'"):
        rag.Pipe  # noqa: B018


def test_importing_the_package_leaves_the_heavy_modules_for_later():
    heavy = ("rag.ask.pipeline", "rag.indexing.indexer", "rag.ask.llama", "llama_index.core")
    code = f"import sys, rag; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.integration
def test_the_readme_example_runs(tmp_path):
    section = README.read_text(encoding="utf-8").split("### Use it from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    shutil.copytree(SAMPLE, tmp_path / "data" / "articles")
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "5 articles" in result.stdout
    assert "the Great Hall of the People" in result.stdout
    assert re.search(r"\[1\] .+: .+ \(characters \d+-\d+\)", result.stdout)
