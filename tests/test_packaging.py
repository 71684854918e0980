"""What the code imports is what pyproject.toml declares (issue 13, item 19); the code
lints clean and type-checks, as part of the suite that CI runs (item 21)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

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


def test_every_data_file_of_the_library_and_the_app_goes_into_the_wheel():
    """A file of rag/ or ui/ that is not a package's module (the fitted models, the app's
    pages and icon) is left out of a wheel unless package-data names it."""
    named = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    for package in ("rag", "ui"):
        tracked = subprocess.run(
            ["git", "ls-files", package], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        for name in tracked:
            path = Path(name).relative_to(package)
            if path.suffix == ".py" and (ROOT / name).with_name("__init__.py").exists():
                continue
            assert any(path.match(glob) for glob in named.get(package, [])), name


def test_packages_only_the_benchmarks_use_are_an_extra():
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    bench = {_name(r) for r in PROJECT["optional-dependencies"]["bench"]}
    only_bench = {"llama-index-vector-stores-chroma", "llama-index-embeddings-huggingface"}
    assert only_bench <= bench and not only_bench & runtime
    # The lexical index sets bm25s's private attributes: an exact pin, not a range.
    assert "bm25s==" in " ".join(PROJECT["dependencies"])


# The checks that run with the suite, so `make test` and CI (`.ci/run`) run them: every
# folder of Python lints clean, and the library and the app type-check under the strict
# mypy of pyproject.toml (`make lint` runs the same two commands alone).
CHECKS = {
    "ruff": ["ruff", "check", "rag", "tests", "bench", "ui"],
    "mypy": ["mypy", "rag", "ui"],
}


@pytest.mark.parametrize("tool", sorted(CHECKS))
def test_the_code_lints_clean_and_type_checks(tool: str):
    result = subprocess.run(
        [sys.executable, "-m", *CHECKS[tool]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{' '.join(CHECKS[tool])}:\n{result.stdout}{result.stderr}"


def test_the_checks_tools_are_installed_by_the_set_up():
    """`make install` installs requirements.lock: the tools must be pinned there (and
    declared in the dev extra, for an installation by hand)."""
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    dev = {_name(r) for r in PROJECT["optional-dependencies"]["dev"]}
    for tool in CHECKS:
        assert any(line.startswith(f"{tool}==") for line in lock), tool
        assert tool in dev
    makefile = (ROOT / "Makefile").read_text()
    for command in CHECKS.values():
        assert f"$(BIN)/{' '.join(command)}" in makefile


def test_the_readme_architecture_names_every_module_and_only_modules_that_exist():
    """The README's Architecture section is the map of rag/ (issue 16): every module is
    in its table, and every rag/… path the documents name (the CHANGELOG tells history)
    is a file of the tree."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "rag").rglob("*.py")
        if path.name != "__init__.py" or path.parent == ROOT / "rag"
    }
    assert sorted(modules - set(re.findall(r"`(rag/[\w/]+\.py)`", section))) == []
    documents = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    named = {
        (document, name)
        for document in documents
        if document != "CHANGELOG.md"
        for name in re.findall(
            r"(?<![\w/.])(rag/[\w/]+\.(?:py|json))\b", (ROOT / document).read_text("utf-8")
        )
    }
    assert sorted(pair for pair in named if not (ROOT / pair[1]).is_file()) == []
