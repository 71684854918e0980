import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.settings import Settings, get_settings
from tests.conftest import ROOT


def test_defaults_and_environment(monkeypatch):
    assert get_settings().index_dir == Path("index")
    monkeypatch.setenv("RAG_INDEX_DIR", "/tmp/x")
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "128")
    settings = get_settings()
    assert settings.index_dir == Path("/tmp/x")
    assert settings.chunk_tokens == 128


def test_toml_file_and_priority(tmp_path, monkeypatch):
    (tmp_path / "rag.toml").write_text("chunk_tokens = 200\nembed_batch_size = 8\n")
    assert get_settings().chunk_tokens == 200
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "300")
    assert get_settings().chunk_tokens == 300
    other = tmp_path / "other.toml"
    other.write_text("chunk_overlap = 7\n")
    monkeypatch.setenv("RAG_CONFIG", str(other))
    assert get_settings().chunk_overlap == 7


def test_unknown_and_invalid_settings_are_rejected(tmp_path):
    (tmp_path / "rag.toml").write_text("chunk_tokenz = 200\n")
    with pytest.raises(ValidationError):
        get_settings()
    with pytest.raises(ValidationError):
        Settings(chunk_tokens=0)


def test_vector_hash_covers_exactly_what_changes_vectors():
    base = Settings()
    assert Settings(embed_batch_size=4).vector_hash() == base.vector_hash()
    assert Settings(index_dir=Path("/elsewhere")).vector_hash() == base.vector_hash()
    for change in ({"chunk_tokens": 128}, {"chunk_overlap": 0}, {"embed_model": "/models/x"}):
        assert Settings(**change).vector_hash() != base.vector_hash()
    assert base.collection_name == f"articles-{base.vector_hash()}"


def test_offline_environment_is_set():
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
    assert Path(os.environ["TIKTOKEN_CACHE_DIR"]).is_dir()


def test_readme_configuration_table_matches_settings():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `RAG_([A-Z0-9_]+)`", table, re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert documented == fields


def test_only_the_settings_module_reads_the_environment():
    offenders = [
        path.name
        for path in (ROOT / "rag").rglob("*.py")
        if path.name != "settings.py" and re.search(r"os\.environ|os\.getenv", path.read_text())
    ]
    assert offenders == []


def test_a_setting_set_to_nothing_keeps_its_default(monkeypatch):
    monkeypatch.setenv("RAG_EMBED_THREADS", "")
    monkeypatch.setenv("RAG_TOP_K", "")
    settings = get_settings()
    assert settings.embed_threads == 0 and settings.top_k == 5


def test_settings_that_bound_each_other_are_checked_together(tmp_path, monkeypatch, capsys):
    """Issue 13 item 20: an overlap as large as the chunk was a raw ValueError from the
    chunker, after the model had loaded; it is an invalid setting (exit 2) naming both."""
    with pytest.raises(ValidationError, match=r"RAG_CHUNK_OVERLAP \(64\) must be smaller"):
        Settings(chunk_tokens=64, chunk_overlap=64)
    with pytest.raises(ValidationError, match="RAG_LLM_MAX_TOKENS"):
        Settings(llm_max_tokens=1024, llm_context_window=1024)
    assert Settings(chunk_tokens=64, chunk_overlap=63).chunk_overlap == 63

    from rag.cli import main

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.txt").write_text("A headline\n\nOne two three four five six seven eight.\n")
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "64")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "64")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    assert main(["index", str(articles)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("error: invalid setting: RAG_CHUNK_OVERLAP (64) must be smaller")
    assert "RAG_CHUNK_TOKENS (64)" in err
    assert not (tmp_path / "index").exists()  # nothing was written
