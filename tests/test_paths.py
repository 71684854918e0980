"""Messages say where they looked, and the CLI finds gold sets as the app does, from
any working directory (conftest puts every test in its own empty folder)."""

from __future__ import annotations

from pathlib import Path

from rag.cli import main
from rag.evaluation import runs

SEEDS = runs.PROJECT_GOLD / "seeds.jsonl"


def test_an_empty_index_names_where_it_looked(tmp_path: Path, capsys):
    status = main(["ask", "What did Li Qiang hope for?"])
    error = capsys.readouterr().err
    assert status == 1
    assert f"the index at {tmp_path / 'index'} is empty" in error
    assert str(tmp_path / "data" / "articles") in error and "RAG_INDEX_DIR" in error


def test_the_cli_and_the_app_find_the_same_gold_sets_from_any_folder(tmp_path: Path):
    # What `rag eval` used to default to, and a bare name, from a folder without eval/.
    assert runs.gold_path("eval/gold/seeds.jsonl").resolve() == SEEDS
    assert runs.gold_path("seeds.jsonl").resolve() == SEEDS
    assert SEEDS in [p.resolve() for p in runs.gold_sets()]  # the app's list
    # A folder's own eval/gold comes first, for both.
    own = tmp_path / "eval" / "gold" / "seeds.jsonl"
    own.parent.mkdir(parents=True)
    own.write_text(SEEDS.read_text())
    assert runs.gold_path("seeds.jsonl").resolve() == own
    assert runs.gold_sets()[0].resolve() == own


def test_an_unknown_gold_set_names_every_place_looked(tmp_path: Path, capsys):
    status = main(["eval", "--gold", "nope.jsonl", "--out", str(tmp_path / "runs")])
    error = capsys.readouterr().err
    assert status == 1
    assert "no gold set 'nope.jsonl'" in error
    assert str(tmp_path / "nope.jsonl") in error
    assert str(runs.PROJECT_GOLD / "nope.jsonl") in error
    assert not (tmp_path / "runs").exists()
