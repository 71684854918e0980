"""Hostile articles folders (issue 13 item 1): links that loop, dangle or lead to a device,
FIFOs, unreadable subfolders and files that vanish mid-run are skipped with a one-line
reason, and everything else is indexed — by the library, `rag index` and `POST /index`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import rag.indexing.indexer
import rag.indexing.scan
from rag.api import create_app
from rag.catalog import list_articles
from rag.cli import main
from rag.indexing.folder import VANISHED, walk
from rag.indexing.indexer import sync
from rag.indexing.loaders import read_file
from rag.settings import Settings
from tests import fake_answers as fake
from tests.conftest import ROOT
from tests.fake_embed import FakeEmbedder

STORY = (
    "Port strike ends after talks\n\nDock workers in Rotterdam returned to work on Monday after "
    "unions and employers agreed on a new wage deal, ending a strike that had lasted nine days.\n"
)
LOOP = "a symlink loop: the link leads back to itself; remove it"


def hostile(folder: Path) -> Path:
    """``folder`` with one good article and every kind of entry that cannot be read."""
    folder.mkdir()
    (folder / "story.txt").write_text(STORY)
    (folder / "loop-a").symlink_to("loop-b")
    (folder / "loop-b").symlink_to("loop-a")
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "gone.txt").symlink_to("nowhere.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "elsewhere").symlink_to("/tmp", target_is_directory=True)
    return folder


EXPECTED = {
    "loop-a": LOOP,
    "loop-b": LOOP,
    "self.txt": LOOP,
    "zero.txt": "a link to a file outside the articles folder; copy the file in instead",
    "gone.txt": "a broken link: its target does not exist; remove it or restore the target",
    "pipe.txt": "a named pipe (FIFO), not a regular file; only regular files are read",
    "elsewhere/": "a link to a folder is not followed; move or copy the folder in instead",
}


def test_the_walk_gives_a_reason_for_every_entry_it_cannot_read(tmp_path: Path):
    entries = list(walk(hostile(tmp_path / "articles")))
    files = [e for e in entries if isinstance(e, tuple)]
    assert [rel for _, rel in files] == ["story.txt"]
    assert {s.path: s.reason for s in entries if not isinstance(s, tuple)} == EXPECTED


def test_reading_a_fifo_or_a_device_neither_blocks_nor_runs_forever(tmp_path: Path):
    """A FIFO or device put in a file's place after the scan is refused on the open file."""
    os.mkfifo(tmp_path / "pipe.txt")
    results = []
    reader = threading.Thread(
        target=lambda: results.append(read_file(tmp_path / "pipe.txt", "pipe.txt", 10**6)),
        daemon=True,
    )
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert [str(s) for s in results[0].skipped] == [f"pipe.txt: {EXPECTED['pipe.txt']}"]

    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    device = read_file(tmp_path / "zero.txt", "zero.txt", 10**6)
    assert [s.reason for s in device.skipped] == [
        "a device file, not a regular file; only regular files are read"
    ]
    gone = read_file(tmp_path / "gone.txt", "gone.txt", 10**6)
    assert [s.reason for s in gone.skipped] == [VANISHED]


def unprivileged(command: list[str]) -> list[str]:
    """``command`` under folder permissions: root bypasses them unless it drops the
    capabilities that override them (as in test_faults)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): permissions cannot bite")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *command]


def test_an_unreadable_subfolder_is_a_skip_and_its_siblings_are_read(tmp_path: Path):
    folder = tmp_path / "articles"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "inside.txt").write_text(STORY)
    (folder / "open").mkdir()
    (folder / "open" / "story.txt").write_text(STORY)
    (folder / "locked").chmod(0o000)
    script = (
        "import sys; from pathlib import Path; from rag.indexing.folder import walk\n"
        "for e in walk(Path(sys.argv[1])): print(e[1] if isinstance(e, tuple) else f'skip {e}')"
    )
    try:
        result = subprocess.run(
            unprivileged([sys.executable, "-c", script, str(folder)]),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        (folder / "locked").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "skip locked/: cannot read folder: permission denied; make it readable (chmod) or "
        "remove it",
        "open/story.txt",
    ]


@pytest.mark.fast
def test_sync_skips_hostile_entries_and_indexes_the_rest(
    tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch
):
    embedder = fake_embedder
    folder = hostile(tmp_path / "articles")
    settings = Settings(articles_dir=folder, index_dir=tmp_path / "index")

    # A file listed by the walk and gone before it is read.
    def vanishing(root: Path):
        yield from walk(root)
        yield root / "vanished.txt", "vanished.txt"

    monkeypatch.setattr(rag.indexing.scan, "walk", vanishing)
    summary = sync(settings, embedder=embedder)
    assert summary.added == ["story.txt"]
    assert {s.path: s.reason for s in summary.skipped} == EXPECTED | {"vanished.txt": VANISHED}
    assert [a["path"] for a in list_articles(settings)] == ["story.txt"]


@pytest.mark.fast
def test_rag_index_and_post_index_skip_a_symlink_loop(
    tmp_path: Path, fake_embedder: FakeEmbedder, monkeypatch, capsys
):
    """The trial's reproduction: `rag index` printed a raw RuntimeError and exited 1,
    `POST /index` answered a bare 500, and nothing was indexed."""
    folder = hostile(tmp_path / "articles")
    index = tmp_path / "index"
    embedder = fake_embedder
    monkeypatch.setattr(rag.indexing.indexer, "Embedder", lambda settings: embedder)
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    assert main(["index", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "added 1," in out and f"skipped loop-a: {LOOP}" in out

    (folder / "more.txt").write_text(STORY.replace("Rotterdam", "Antwerp"))
    settings = Settings(articles_dir=folder, index_dir=index)
    pipeline = fake.FakePipeline(lambda q: fake.answer(), settings)
    pipeline.embedder = embedder  # type: ignore[attr-defined]
    response = TestClient(create_app(settings, pipeline)).post("/index")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == ["more.txt"]
    assert {"path": "loop-b", "reason": LOOP} in body["skipped"]
