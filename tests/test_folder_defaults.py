"""A folder's `_source.toml`: defaults for the files below it, overridden by what a file
says itself, reported when broken, and read again into the index when changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.catalog import get_article, list_articles
from rag.indexing.articles import Article
from rag.indexing.folder_defaults import Defaults, FolderDefaults
from rag.indexing.indexer import sync
from rag.indexing.loaders import iter_article_files
from rag.indexing.manifest import Manifest
from rag.settings import Settings

STORY = "The central bank held its main rate at 5.25 percent on {day}, its third pause in a row.\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_defaults_merge_down_the_tree_and_a_deeper_folder_wins(tmp_path: Path):
    write(tmp_path / "_source.toml", 'outlet = "Reuters"\npublished = 2023-11-20\n')
    write(tmp_path / "opinion" / "_source.toml", 'outlet = "Reuters Breakingviews"\n')
    write(tmp_path / "opinion" / "x" / "a.txt", "text")
    folders = FolderDefaults(tmp_path)
    assert folders.for_file("a.txt") == Defaults("Reuters", "2023-11-20")
    assert folders.for_file("opinion/x/a.txt") == Defaults("Reuters Breakingviews", "2023-11-20")
    assert folders.problems == []
    assert Defaults().fingerprint == "" != folders.for_file("a.txt").fingerprint
    # Not an article: a folder walk for articles leaves it out.
    assert [rel for _, rel in iter_article_files(tmp_path)] == ["opinion/x/a.txt"]


def test_a_file_that_says_otherwise_keeps_its_own():
    given = Defaults("Reuters", "2023-11-20")
    bare = Article(text="Some words of a story here.", title="T", path="a.txt")
    filled = given.apply(bare)
    assert (filled.source, filled.published_at) == ("Reuters", "2023-11-20")
    assert filled.id != bare.id  # the id covers the source and the date
    own = Article(
        text="Some words.", title="T", path="b.txt", source="AP", published_at="2023-10-01"
    )
    assert given.apply(own) is own
    unreadable = Article(
        text="Some words.", title="T", path="c.txt", extra={"published_raw": "last Tuesday"}
    )
    assert given.apply(unreadable).published_at is None


@pytest.mark.parametrize(
    ("toml", "reason"),
    [
        ('outlet = "Reuters', "invalid TOML (Unterminated string"),
        (
            'outlet = "Reuters"\ntags = ["fed"]\n',
            "unknown key tags; the keys are outlet, published",
        ),
        ("outlet = 3\n", 'outlet must be a name in quotes: outlet = "Reuters"'),
        ('published = "soon"\n', "published 'soon' is not a date"),
        (b"outlet = '\xff'", "not UTF-8 text"),
    ],
)
def test_a_broken_defaults_file_is_reported_and_not_applied(
    tmp_path: Path, toml: str | bytes, reason: str
):
    write(tmp_path / "_source.toml", 'outlet = "Reuters"\n')
    path = tmp_path / "fed" / "_source.toml"
    path.parent.mkdir()
    path.write_bytes(toml if isinstance(toml, bytes) else toml.encode())
    folders = FolderDefaults(tmp_path)
    assert folders.for_file("fed/a.txt") == Defaults("Reuters")  # the folder above's still hold
    (skip,) = folders.problems
    assert skip.path == "fed/_source.toml"
    assert skip.reason.startswith("folder defaults not applied: ")
    assert reason in skip.reason and "the files in fed/ are indexed without them" in skip.reason


def test_an_index_from_before_folder_defaults_gains_the_column_in_place(tmp_path: Path):
    folder = tmp_path / "index"
    Manifest(folder).close()
    with sqlite3.connect(folder / Manifest.FILE) as db:  # the files table as it was
        db.execute("DROP TABLE files")
        db.execute(
            "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, article_ids TEXT NOT NULL)"
        )
        db.execute("INSERT INTO files VALUES ('a.txt', 10, 20, '[\"abc\"]')")
    db.close()
    reader = Manifest(folder, read_only=True)
    assert reader.files() == {"a.txt": (10, 20, ["abc"], "")}
    reader.close()
    writer = Manifest(folder)
    assert writer.files() == {"a.txt": (10, 20, ["abc"], "")}
    writer.replace_files({"a.txt": (10, 20, ["abc"], "f00d")})
    assert writer.files()["a.txt"][3] == "f00d"
    writer.close()


@pytest.mark.integration
def test_folder_defaults_in_the_index(tmp_path: Path, embedder):
    articles = tmp_path / "articles"
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    write(articles / "reuters" / "_source.toml", 'outlet = "Reuters"\npublished = 2023-11-20\n')
    write(articles / "reuters" / "fed.txt", STORY.format(day="Wednesday"))
    write(
        articles / "reuters" / "ecb.md",
        "---\nsource: AP\ndate: 2023-10-26\n---\n" + STORY.format(day="Thursday"),
    )
    write(articles / "reuters" / "views" / "_source.toml", 'outlet = "Reuters Breakingviews"\n')
    write(articles / "reuters" / "views" / "boe.txt", STORY.format(day="Monday"))
    write(articles / "wires" / "_source.toml", 'outlet = "AFP\n')
    write(articles / "wires" / "boj.txt", STORY.format(day="Tuesday"))

    first = sync(settings, embedder=embedder)
    assert sorted(first.added) == [
        "reuters/ecb.md",
        "reuters/fed.txt",
        "reuters/views/boe.txt",
        "wires/boj.txt",
    ]
    (skip,) = first.skipped
    assert skip.path == "wires/_source.toml" and "invalid TOML" in skip.reason

    def meta() -> dict[str, tuple[str | None, str | None]]:
        return {a["path"]: (a["source"], a["published_at"]) for a in list_articles(settings)}

    assert meta() == {
        "reuters/fed.txt": ("Reuters", "2023-11-20"),
        "reuters/ecb.md": ("AP", "2023-10-26"),  # its own front matter wins
        "reuters/views/boe.txt": ("Reuters Breakingviews", "2023-11-20"),
        "wires/boj.txt": (None, None),
    }
    assert "_source.toml" not in {a["path"].rsplit("/", 1)[-1] for a in list_articles(settings)}

    # Nothing changed: nothing is read into the index again; the broken file is reported again.
    again = sync(settings, embedder=embedder)
    assert again.unchanged == 4 and again.chunks_embedded == 0
    assert [s.path for s in again.skipped] == ["wires/_source.toml"]

    # A changed default reaches the files it applies to, and only those.
    write(articles / "reuters" / "_source.toml", 'outlet = "Reuters"\npublished = 2023-11-21\n')
    write(articles / "wires" / "_source.toml", 'outlet = "AFP"\n')
    changed = sync(settings, embedder=embedder)
    assert sorted(changed.updated) == ["reuters/fed.txt", "reuters/views/boe.txt", "wires/boj.txt"]
    assert changed.added == changed.removed == changed.skipped == []
    assert meta() == {
        "reuters/fed.txt": ("Reuters", "2023-11-21"),
        "reuters/ecb.md": ("AP", "2023-10-26"),
        "reuters/views/boe.txt": ("Reuters Breakingviews", "2023-11-21"),
        "wires/boj.txt": ("AFP", None),
    }
    assert get_article(settings, "wires/boj.txt")["text"] == STORY.format(day="Tuesday").strip()

    # Removing it takes its defaults away again.
    (articles / "wires" / "_source.toml").unlink()
    removed = sync(settings, embedder=embedder)
    assert removed.updated == ["wires/boj.txt"]
    assert meta()["wires/boj.txt"] == (None, None)
