"""What the code imports is what pyproject.toml declares (issue 13, item 19)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imports(folder: str) -> set[str]:
    """Dotted names of every absolute import under ``folder``."""
    found: set[str] = set()
    for file in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def _distribution(module: str) -> str | None:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in {"rag", "ui", "tests", "bench"}:
        return None
    if top == "llama_index":  # a namespace shared by many distributions
        parts = module.split(".")[1:3]
        return "llama-index-" + ("core" if parts[0] == "core" else "-".join(parts)).replace(
            "_", "-"
        )
    (dist, *_) = packages_distributions()[top]
    return dist.lower().replace("_", "-")


def test_every_third_party_import_of_the_library_and_the_app_is_declared():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    used = {_distribution(m) for m in _imports("rag") | _imports("ui")} - {None}
    assert sorted(used - declared) == []


def test_packages_only_the_benchmarks_use_are_an_extra():
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    bench = {_name(r) for r in PROJECT["optional-dependencies"]["bench"]}
    only_bench = {"llama-index-vector-stores-chroma", "llama-index-embeddings-huggingface"}
    assert only_bench <= bench and not only_bench & runtime
    # The lexical index sets bm25s's private attributes: an exact pin, not a range.
    assert "bm25s==" in " ".join(PROJECT["dependencies"])
