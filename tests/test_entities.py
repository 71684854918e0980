"""Named entities at index time: real spaCy pipeline, real model, real embedded Chroma."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.catalog import Catalog, get_article, list_articles
from rag.cli import main
from rag.indexing.indexer import sync
from rag.indexing.manifest import Manifest
from rag.settings import Settings
from rag.text import nlp
from tests.index_state import assert_same_index, manifest_path, snapshot
from tests.test_index import NEW_ARTICLE

pytestmark = pytest.mark.integration


def by_file(settings: Settings) -> dict[str, dict]:
    return {a["path"][:3]: get_article(settings, a["id"]) for a in list_articles(settings)}


def test_sample_corpus_entities_are_exact_spans_of_the_text(settings: Settings, embedder):
    summary = sync(settings, embedder=embedder)
    assert summary.articles_tagged == 5 and summary.articles_backfilled == 0
    assert {"spacy load", "entities"} <= set(summary.stages)
    assert "entities tagged in 5 articles" in "\n".join(summary.lines())

    articles = by_file(settings)
    for article in articles.values():
        assert article["entities"], article["path"]
        for e in article["entities"]:
            assert article["text"][e["start"] : e["end"]] == e["text"]
            assert e["norm"] == nlp.normalise(e["text"])

    ap = articles["004"]
    people = {e["text"] for e in ap["entities"] if e["label"] == "PERSON"}
    assert {"He Lifeng", "Gina Raimondo"} <= people
    hall = ap["text"].index("the Great Hall of the People")
    hall_end = hall + len("the Great Hall of the People")
    assert any(
        e["label"] == "FAC" and e["start"] <= hall and e["end"] >= hall_end for e in ap["entities"]
    )


def test_catalog_gives_the_entities_of_a_passage_span(settings: Settings, embedder):
    sync(settings, embedder=embedder)
    catalog = Catalog(settings)
    try:
        manifest = Manifest(settings.index_dir / settings.collection_name, read_only=True)
        for article_id, article in catalog.articles.items():
            everything = manifest.entities(article_id)
            for number in range(article.chunks):
                passage = catalog.passage(f"{article_id}:{number:04d}", 1.0)
                inside = catalog.entities(passage.article_id, passage.char_start, passage.char_end)
                assert inside == [
                    e
                    for e in everything
                    if e.start >= passage.char_start and e.end <= passage.char_end
                ]
                for e in inside:  # article offsets: they index the passage after a shift
                    assert passage.text[e.start - passage.char_start : e.end - passage.char_start]
                    assert e.text == catalog.texts[article_id][e.start : e.end]
        manifest.close()
        assert catalog.entities("0" * 16, 0, 10**6) == []
        # One indexed query per passage: SQLite uses the article index for it.
        plan = sqlite3.connect(manifest_path(settings)).execute(
            'EXPLAIN QUERY PLAN SELECT start, "end", label, text, norm FROM entities '
            'WHERE article_id = ? AND start >= ? AND start < ? AND "end" <= ? '
            'ORDER BY start, "end"',
            ("x", 0, 10, 10),
        )
        assert "USING INDEX entities_article" in " ".join(str(row) for row in plan)
    finally:
        catalog.close()


def test_entities_follow_added_and_removed_articles_and_equal_a_clean_build(
    settings: Settings, embedder, articles: Path, tmp_path: Path
):
    sync(settings, embedder=embedder)
    (articles / "005_new.txt").write_text(NEW_ARTICLE)
    added = sync(settings, embedder=embedder)
    assert added.articles_tagged == 1 and added.articles_backfilled == 0
    new = get_article(settings, "005_new.txt")
    assert {"Gina Raimondo", "Shanghai"} <= {e["text"] for e in new["entities"]}

    clean = Settings(articles_dir=articles, index_dir=tmp_path / "clean-added")
    sync(clean, embedder=embedder)
    assert_same_index(snapshot(settings), snapshot(clean))

    (articles / "005_new.txt").unlink()
    (articles / "001_567c3a3b59d5760a.txt").unlink()
    removed = sync(settings, embedder=embedder)
    assert removed.articles_tagged == 0 and "spacy load" not in removed.stages
    with sqlite3.connect(manifest_path(settings)) as db:
        ids = {r[0] for r in db.execute("SELECT article_id FROM entities")}
    assert new["id"] not in ids and len(ids) == 4

    clean = Settings(articles_dir=articles, index_dir=tmp_path / "clean-removed")
    sync(clean, embedder=embedder)
    assert_same_index(snapshot(settings), snapshot(clean))


def test_an_index_from_before_entities_is_backfilled_without_embedding(
    settings: Settings, embedder, tmp_path: Path
):
    settings = settings.model_copy(update={"index_batch_chunks": 4})  # several backfill batches
    sync(settings, embedder=embedder)
    clean = snapshot(settings)
    with sqlite3.connect(manifest_path(settings)) as db:  # what an older rag left
        db.execute("DROP TABLE entities")
        db.execute("DROP TABLE tagged")
        db.execute("DELETE FROM meta WHERE key = 'entities_pipeline'")
    assert get_article(settings, "004_a013c1e59fc04a42.txt")["entities"] == []

    summary = sync(settings, embedder=embedder)
    assert summary.chunks_embedded == 0
    assert summary.articles_tagged == summary.articles_backfilled == 5
    assert "entities tagged in 5 articles (5 already indexed" in "\n".join(summary.lines())
    got = snapshot(settings)
    assert_same_index(got, clean)
    assert got["generation"] == clean["generation"]  # no BM25 rebuild for entities

    again = sync(settings, embedder=embedder)
    assert again.articles_tagged == 0 and "spacy load" not in again.stages


def test_another_spacy_pipeline_retags_every_article_without_embedding(
    settings: Settings, embedder
):
    sync(settings, embedder=embedder)
    # The same pipeline under another name (spaCy loads a pipeline folder too).
    folder = Path(nlp.load(settings.spacy_model).path)
    other = settings.model_copy(update={"spacy_model": str(folder)})
    summary = sync(other, embedder=embedder)
    assert summary.chunks_embedded == 0 and summary.articles_backfilled == 5
    with sqlite3.connect(manifest_path(settings)) as db:
        pipelines = {r[0] for r in db.execute("SELECT pipeline FROM tagged")}
    assert len(pipelines) == 1 and next(iter(pipelines)).startswith(str(folder))
    assert get_article(settings, "004_a013c1e59fc04a42.txt")["entities"]


def test_a_bad_spacy_model_is_one_clear_line_and_changes_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_SPACY_MODEL", "no_such_pipeline")
    assert main(["index"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("error: cannot load the spaCy pipeline 'no_such_pipeline'")
    assert "RAG_SPACY_MODEL" in err
    assert list_articles(settings) == []  # failed before embedding anything


def test_articles_show_prints_entities(settings: Settings, embedder, capsys):
    import json

    sync(settings, embedder=embedder)
    argv = ["articles", "show", "004_a013c1e59fc04a42.txt"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
        env.setenv("RAG_INDEX_DIR", str(settings.index_dir))
        assert main([*argv, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert {"start", "end", "label", "text", "norm"} == set(shown["entities"][0])
        assert main(argv) == 0
        plain = capsys.readouterr().out
    assert "entities:" in plain and "PERSON" in plain


def test_long_texts_are_tagged_in_pieces_with_whole_text_offsets():
    pipeline = nlp.load(Settings().spacy_model)
    sentence = "Gina Raimondo met He Lifeng in Beijing on Monday. "
    text = sentence * 40
    pieces = nlp.pieces(text, limit=300)
    assert "".join(p for _, p in pieces) == text and all(len(p) <= 300 for _, p in pieces)
    assert [o for o, _ in pieces] == [
        sum(len(p) for _, p in pieces[:i]) for i in range(len(pieces))
    ]
    whole = list(nlp.entities_many(pipeline, ["", text, "Paris."], piece_chars=300))
    assert whole[0] == [] and [e.text for e in whole[2]] == ["Paris"]
    assert [e.text for e in whole[1]].count("Gina Raimondo") == 40
    assert all(text[e.start : e.end] == e.text for e in whole[1])
