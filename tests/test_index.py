"""The build side end to end: real bundled model, real embedded Chroma, the sample corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag.catalog import get_article, index_status, list_articles
from rag.errors import ConfigError, SkippedInputError, StoreError
from rag.indexing.indexer import sync
from rag.indexing.lexical import LexicalIndex
from rag.indexing.manifest import Manifest
from rag.indexing.store import ChunkStore
from rag.settings import Settings

pytestmark = pytest.mark.integration

NEW_ARTICLE = """Raimondo wraps up China trip

Commerce Secretary Gina Raimondo ended her visit in Shanghai on Wednesday, where she met American
business leaders. She said companies had told her China was becoming "uninvestable" because of raids
and fines, and she urged Beijing to give firms predictable rules.
"""


def chroma_state(settings: Settings) -> dict[str, tuple[str, dict]]:
    with ChunkStore(settings) as store:
        ids = sorted(store.all_ids())
        got = store.get(ids) if ids else {"ids": [], "documents": [], "metadatas": []}
    return {
        i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def test_sample_corpus_is_indexed_with_exact_spans(settings: Settings, embedder):
    summary = sync(settings, embedder=embedder)
    assert len(summary.added) == 5 and summary.skipped == []
    assert summary.articles == 5 and summary.chunks == summary.chunks_embedded > 5

    state = chroma_state(settings)
    assert len(state) == summary.chunks
    for article in list_articles(settings):
        text = get_article(settings, article["id"])["text"]
        for number in range(article["chunks"]):
            document, meta = state[f"{article['id']}:{number:04d}"]
            assert document == text[meta["char_start"] : meta["char_end"]]
            assert meta["title"] == article["title"] and meta["path"] == article["path"]
    assert ChunkStore(settings).collection.configuration["hnsw"]["space"] == "cosine"


def test_duplicate_cluster_of_the_sample(settings: Settings, embedder):
    sync(settings, embedder=embedder)
    by_file = {a["path"][:3]: a for a in list_articles(settings)}
    ap = by_file["004"]["cluster"]
    assert by_file["002"]["cluster"] == by_file["003"]["cluster"] == ap == by_file["004"]["id"]
    assert by_file["000"]["cluster"] == by_file["000"]["id"]
    assert by_file["001"]["cluster"] == by_file["001"]["id"]
    # Chunks carry the cluster id for the ask side; the copy with the unique Li Qiang
    # paragraph stays indexed.
    state = chroma_state(settings)
    spun = [d for d, m in state.values() if m["article_id"] == by_file["003"]["id"]]
    assert all(
        m["cluster"] == ap
        for _, m in state.values()
        if m["article_id"] in (by_file["002"]["id"], by_file["003"]["id"])
    )
    assert any("Li Qiang" in d for d in spun)


def test_search_finds_the_passage(settings: Settings, embedder):
    sync(settings, embedder=embedder)
    store = ChunkStore(settings)
    hits = store.query(embedder.embed(["Li Qiang hoped for concrete actions by Washington"])[0], 3)
    assert "Li Qiang" in hits[0][2]
    assert hits[0][3]["path"].startswith("003")


def test_incremental_add_change_rename_delete(settings: Settings, embedder, articles: Path):
    first = sync(settings, embedder=embedder)

    again = sync(settings, embedder=embedder)
    assert again.chunks_embedded == 0 and again.unchanged == 5 and not again.added

    (articles / "005_new.txt").write_text(NEW_ARTICLE)
    added = sync(settings, embedder=embedder)
    assert added.added == ["005_new.txt"]
    assert 0 < added.chunks_embedded <= 2
    # Where the time went, per step; a run with nothing new embeds nothing.
    steps = {"reading", "chunking", "model load", "embedding", "writing", "duplicates", "bm25"}
    assert steps <= set(added.stages) and all(s >= 0 for s in added.stages.values())
    assert "embedding" not in again.stages and "reading" in again.stages
    assert added.chunks == first.chunks + added.chunks_embedded

    (articles / "005_new.txt").write_text(NEW_ARTICLE.replace("Wednesday", "Thursday"))
    changed = sync(settings, embedder=embedder)
    assert changed.updated == ["005_new.txt"] and changed.added == [] and changed.removed == []
    assert changed.chunks_removed == changed.chunks_embedded
    assert "Thursday" in get_article(settings, "005_new.txt")["text"]

    os.rename(articles / "001_567c3a3b59d5760a.txt", articles / "renamed.txt")
    renamed = sync(settings, embedder=embedder)
    assert renamed.chunks_embedded == 0
    assert renamed.renamed == ["001_567c3a3b59d5760a.txt -> renamed.txt"]
    state = chroma_state(settings)
    assert get_article(settings, "renamed.txt")["path"] == "renamed.txt"
    # The chunks in Chroma carry the new path too, as a clean build's would.
    moved = get_article(settings, "renamed.txt")["id"]
    assert {m["path"] for _, m in state.values() if m["article_id"] == moved} == {"renamed.txt"}

    (articles / "005_new.txt").unlink()
    removed = sync(settings, embedder=embedder)
    assert removed.removed == ["005_new.txt"] and removed.chunks_embedded == 0
    state = chroma_state(settings)
    assert len(state) == first.chunks
    assert all(m["path"] != "005_new.txt" for _, m in state.values())


def test_bad_files_are_skipped_and_nothing_indexed_is_lost(
    settings: Settings, embedder, articles: Path
):
    sync(settings, embedder=embedder)
    before = chroma_state(settings)
    (articles / "empty.txt").write_bytes(b"")
    (articles / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (articles / "feed.jsonl").write_text(
        '{"title": "Ok", "body": "' + "Chips talk. " * 20 + '"}\n{oops\n'
    )
    summary = sync(settings, embedder=embedder)
    reasons = {s.path: s.reason for s in summary.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.txt"]
    assert "invalid JSON on line 2" in reasons["feed.jsonl#2"]
    assert summary.added == ["feed.jsonl#1"]
    after = chroma_state(settings)
    assert set(before) < set(after)

    (articles / "more.txt").write_text(NEW_ARTICLE)
    with pytest.raises(SkippedInputError, match="could not be read"):
        sync(settings, embedder=embedder, strict=True)
    assert chroma_state(settings) == after  # --strict changes nothing


def test_an_identical_copy_is_reported_every_run(settings: Settings, embedder, articles: Path):
    shutil.copy(articles / "000_714c03abbce0677d.txt", articles / "zz_copy.txt")
    for _ in range(2):
        summary = sync(settings, embedder=embedder)
        assert [str(s) for s in summary.skipped] == [
            "zz_copy.txt: same text as 000_714c03abbce0677d.txt"
        ]
        assert summary.articles == 5


def test_changing_vector_settings_uses_a_fresh_collection(settings: Settings, embedder):
    sync(settings, embedder=embedder)
    other = settings.model_copy(update={"chunk_tokens": 128})
    summary = sync(other, embedder=embedder)
    assert summary.collection != settings.collection_name
    assert summary.chunks > index_status(settings)["chunks"]
    assert index_status(settings)["chunks_in_chroma"] == index_status(settings)["chunks"]
    assert settings.collection_name in index_status(other)["other_collections"]


def test_rebuild_starts_from_scratch(settings: Settings, embedder):
    first = sync(settings, embedder=embedder)
    rebuilt = sync(settings, embedder=embedder, rebuild=True)
    assert len(rebuilt.added) == 5 and rebuilt.chunks_embedded == first.chunks
    assert len(chroma_state(settings)) == first.chunks


def test_a_running_pipeline_sees_a_rebuild_with_new_articles(
    settings: Settings, embedder, articles: Path
):
    """A rebuild moves the manifest generation on, so a long-running reader (the app's
    cached pipeline) reloads its catalog and the BM25 index instead of keeping the old ones."""
    from rag.ask.pipeline import Pipeline

    sync(settings, embedder=embedder)
    pipe = Pipeline(settings, embedder=embedder)
    try:
        assert "uninvestable" not in pipe.ask("Who called China uninvestable?").answer
        (articles / "005_raimondo.txt").write_text(NEW_ARTICLE)
        sync(settings, embedder=embedder, store=pipe.store, rebuild=True)
        answer = pipe.ask("Who called China uninvestable?")
        assert "uninvestable" in answer.answer
        assert any(p.path == "005_raimondo.txt" for p in answer.passages)
    finally:
        pipe.close()


def test_orphans_and_missing_chunks_are_repaired(settings: Settings, embedder):
    sync(settings, embedder=embedder)
    clean = chroma_state(settings)
    store = ChunkStore(settings)
    # An orphan (written, never committed) and an article with a chunk gone.
    some_id = next(iter(clean))
    store.upsert(
        ["deadbeefdeadbeef:0000"],
        embedder.embed(["orphan"]),
        ["orphan"],
        [{"article_id": "deadbeefdeadbeef"}],
    )
    store.delete([some_id])
    # Same count as before: only an explicit verify can notice.
    assert sync(settings, embedder=embedder).repaired_orphans == 0
    summary = sync(settings, embedder=embedder, verify=True)
    assert summary.repaired_orphans == 1 and summary.repaired_articles == 1
    assert chroma_state(settings).keys() == clean.keys()
    # A lone orphan changes the count, which every run checks.
    store.upsert(
        ["deadbeefdeadbeef:0000"],
        embedder.embed(["orphan"]),
        ["orphan"],
        [{"article_id": "deadbeefdeadbeef"}],
    )
    assert sync(settings, embedder=embedder).repaired_orphans == 1
    assert chroma_state(settings).keys() == clean.keys()


def test_missing_folder_is_a_clear_error(settings: Settings, embedder, tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        sync(settings, tmp_path / "nope", embedder=embedder)


def test_manifest_records_what_is_indexed(settings: Settings, embedder):
    sync(settings, embedder=embedder)
    manifest = Manifest(settings.index_dir / settings.collection_name)
    assert not manifest.dirty
    assert sum(manifest.chunk_counts().values()) == len(chroma_state(settings))
    manifest.close()
    shutil.rmtree(settings.articles_dir)
    with pytest.raises(ConfigError):
        sync(settings, embedder=embedder)
    assert index_status(settings)["articles"] == 5  # nothing lost


def test_bm25_build_removes_folders_a_killed_build_left(tmp_path: Path):
    texts = {"a:0000": "second build", "b:0000": "more words"}
    lexical = LexicalIndex(tmp_path / "collection")
    lexical.build(["a:0000"], lambda ids: [texts[i] for i in ids], 1)
    (tmp_path / "collection" / "bm25-left-by-a-killed-run").mkdir()
    lexical.build(["a:0000", "b:0000"], lambda ids: [texts[i] for i in ids], 2)
    assert len(list((tmp_path / "collection").glob("bm25-*"))) == 1
    assert lexical.built_generation() == 2
    assert [cid for cid, _ in lexical.search("second", 5)] == ["a:0000"]


def test_a_full_disk_during_the_bm25_build_is_a_clear_error(
    settings: Settings, embedder, monkeypatch: pytest.MonkeyPatch
):
    import errno

    import bm25s

    sync(settings, embedder=embedder)
    (settings.articles_dir / "005_new.txt").write_text(NEW_ARTICLE)
    save = bm25s.BM25.save

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bm25s.BM25, "save", full)
    with pytest.raises(StoreError, match=r"No space left on device.*disk is not full"):
        sync(settings, embedder=embedder)
    folder = settings.index_dir / settings.collection_name
    assert len(list(folder.glob("bm25-*"))) == 1  # the previous build, still pointed to
    assert not list(folder.glob("*.tmp"))

    monkeypatch.setattr(bm25s.BM25, "save", save)
    again = sync(settings, embedder=embedder)
    assert again.chunks_embedded == 0 and again.unchanged == 6
    lexical = LexicalIndex(folder)
    assert lexical.built_generation() == Manifest(folder).generation
    assert lexical.search("Wednesday", 3)


def test_a_reader_opened_before_a_rebuild_still_answers_after_it(settings: Settings, embedder):
    """Found by fuzzing the API: a rebuild drops the collection and creates a new one,
    and a pipeline opened before it (the API's, the app's, another process's) kept
    the old one's id and failed every question with "Collection … does not exist"."""
    from rag.ask.pipeline import Pipeline

    sync(settings, embedder=embedder)
    pipe = Pipeline(settings, embedder=embedder)
    try:
        question = "Which companies attended the Friday meeting?"
        assert "IBM" in pipe.ask(question).answer
        sync(settings, rebuild=True, embedder=embedder)
        assert "IBM" in pipe.ask(question).answer
    finally:
        pipe.close()


def test_a_link_to_a_file_outside_the_articles_folder_is_skipped(
    settings: Settings, embedder, articles: Path, tmp_path: Path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(NEW_ARTICLE)
    (articles / "leak.txt").symlink_to(outside / "secret.txt")
    (articles / "alias.txt").symlink_to(articles / "000_714c03abbce0677d.txt")
    summary = sync(settings, embedder=embedder)
    reasons = {s.path: s.reason for s in summary.skipped}
    assert "outside the articles folder" in reasons["leak.txt"]
    assert "same text as" in reasons["alias.txt"]  # a link inside the folder is read
    assert summary.articles == 5
    assert all(
        "Wednesday" not in get_article(settings, a["id"])["text"] for a in list_articles(settings)
    )


def test_readers_open_a_manifest_under_a_relative_index_folder(
    settings: Settings, embedder, monkeypatch: pytest.MonkeyPatch
):
    # The default RAG_INDEX_DIR is "index", relative to the working directory.
    sync(settings, embedder=embedder)
    monkeypatch.chdir(settings.index_dir.parent)
    relative = settings.model_copy(update={"index_dir": Path(settings.index_dir.name)})
    assert index_status(relative)["articles"] == 5
    assert len(list_articles(relative)) == 5


def test_clusters_updated_in_place_equal_a_clean_build(
    settings: Settings, embedder, articles: Path, tmp_path: Path
):
    """Adding and removing re-derives only the clusters it touches; every step must
    still equal a clean build: the canonical article leaving, coming back, a copy leaving."""
    from tests.index_state import assert_same_index, snapshot

    def clean_build(n: int) -> dict:
        clean = Settings(articles_dir=articles, index_dir=tmp_path / f"clean-{n}")
        sync(clean, embedder=embedder)
        return snapshot(clean)

    sync(settings, embedder=embedder)
    original = articles / "004_a013c1e59fc04a42.txt"
    text = original.read_text()
    steps = [
        lambda: original.unlink(),
        lambda: (articles / "back.txt").write_text(text),
        lambda: (articles / "002_c2ba7c1140b5ce6c.txt").unlink(),
    ]
    clusters = []
    for n, step in enumerate(steps):
        step()
        sync(settings, embedder=embedder)
        assert_same_index(snapshot(settings), clean_build(n))
        clusters.append({a["path"][:3]: a["cluster"] for a in list_articles(settings)})
    by_path = {a["path"]: a["id"] for a in list_articles(settings)}
    # The AP report is the canonical article again once it is back.
    assert clusters[1]["003"] == clusters[1]["bac"] == by_path["back.txt"]


def test_a_copy_is_not_a_rename_and_either_file_may_go(
    settings: Settings, embedder, articles: Path, tmp_path: Path
):
    """Issue 13 item 2: `cp X X-COPY; rag index` said "renamed 1", X could no longer be
    found, and after `rm X-COPY` the article pointed at the deleted file, even with
    --verify. The copy sorts first, as in the trial."""
    from tests.index_state import assert_same_index, snapshot

    original, copy = "000_714c03abbce0677d.txt", "000_714c03abbce0677d-COPY.txt"
    sync(settings, embedder=embedder)
    article_id = get_article(settings, original)["id"]

    def paths_in_chroma() -> set[str]:
        return {
            m["path"] for _, m in chroma_state(settings).values() if m["article_id"] == article_id
        }

    shutil.copy(articles / original, articles / copy)
    for _ in range(2):  # and again, from the file table
        summary = sync(settings, embedder=embedder)
        assert (summary.renamed, summary.added, summary.unchanged) == ([], [], 5)
        assert [str(s) for s in summary.skipped] == [f"{copy}: same text as {original}"]
        assert get_article(settings, original)["path"] == original
        shown = get_article(settings, copy)  # the copy is found, by its own name
        assert (shown["id"], shown["path"], shown["copies"]) == (article_id, original, [copy])
        assert paths_in_chroma() == {original}
    assert original in [a["path"] for a in list_articles(settings)]

    (articles / copy).unlink()
    summary = sync(settings, embedder=embedder, verify=True)
    assert (summary.renamed, summary.removed, summary.skipped) == ([], [], [])
    assert get_article(settings, original)["copies"] == []

    # The indexed file goes and the copy stays: the article is re-pointed to the copy.
    shutil.copy(articles / original, articles / copy)
    sync(settings, embedder=embedder)
    (articles / original).unlink()
    summary = sync(settings, embedder=embedder)
    assert summary.renamed == [f"{original} -> {copy}"] and summary.removed == []
    assert get_article(settings, copy)["path"] == copy
    assert paths_in_chroma() == {copy}

    # An index the old scan left pointing at a deleted copy heals on the next run.
    shutil.copy(articles / copy, articles / original)
    sync(settings, embedder=embedder)
    manifest = Manifest(settings.index_dir / settings.collection_name)
    with manifest.transaction():
        manifest.set_path(article_id, "deleted-copy.txt")
    manifest.close()
    (articles / copy).unlink()
    summary = sync(settings, embedder=embedder)
    assert summary.renamed == [f"deleted-copy.txt -> {original}"]
    assert get_article(settings, original)["path"] == original

    clean = settings.model_copy(update={"index_dir": tmp_path / "clean-index"})
    sync(clean, embedder=embedder)
    assert_same_index(snapshot(settings), snapshot(clean))
