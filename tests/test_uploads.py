"""Upload checks shared by the HTTP API and the Streamlit library page."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import UploadError
from rag.indexing import uploads
from rag.settings import Settings


@pytest.fixture
def folder_settings(tmp_path: Path) -> Settings:
    (tmp_path / "articles").mkdir()
    return Settings(articles_dir=tmp_path / "articles", max_file_mb=0.001, max_upload_files=3)


def test_saves_plain_names_of_supported_types(folder_settings: Settings):
    saved = uploads.save(folder_settings, [("a.txt", b"one"), ("B (2).md", b"two")])
    assert saved == ["a.txt", "B (2).md"]
    assert (folder_settings.articles_dir / "B (2).md").read_bytes() == b"two"
    assert not list(folder_settings.articles_dir.glob(".*"))


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("../../etc/passwd.txt", 400),
        ("/etc/passwd.txt", 400),
        ("..", 400),
        (".hidden.txt", 400),
        ("sub/dir.txt", 400),
        ("sub\\dir.txt", 400),
        ("", 400),
        (None, 400),
        ("notes.exe", 415),
        ("noextension", 415),
    ],
)
def test_refused_names(folder_settings: Settings, name, status):
    with pytest.raises(UploadError) as error:
        uploads.save(folder_settings, [("ok.txt", b"fine"), (name, b"text")])
    assert error.value.status == status
    assert list(folder_settings.articles_dir.iterdir()) == []  # nothing written, not even ok.txt


def test_size_count_and_clash_limits(folder_settings: Settings):
    with pytest.raises(UploadError, match="RAG_MAX_FILE_MB") as error:
        uploads.save(folder_settings, [("big.txt", b"x" * 2000)])
    assert error.value.status == 413
    with pytest.raises(UploadError, match="RAG_MAX_UPLOAD_FILES"):
        uploads.save(folder_settings, [(f"{n}.txt", b"x") for n in range(4)])
    with pytest.raises(UploadError, match="twice"):
        uploads.save(folder_settings, [("a.txt", b"x"), ("a.txt", b"y")])

    uploads.save(folder_settings, [("a.txt", b"first")])
    with pytest.raises(UploadError, match="already exists") as error:
        uploads.save(folder_settings, [("a.txt", b"second")])
    assert error.value.status == 409
    uploads.save(folder_settings, [("a.txt", b"second")], overwrite=True)
    assert (folder_settings.articles_dir / "a.txt").read_bytes() == b"second"


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    folder_settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    import errno

    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if "second" in self.name:
            real(self, data[:1])  # a partial temporary file, as a full disk leaves it
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(UploadError, match=r"No space left on device \(first.txt saved\)") as error:
        uploads.save(folder_settings, [("first.txt", b"one"), ("second.txt", b"two")])
    assert error.value.status == 507
    assert sorted(p.name for p in folder_settings.articles_dir.iterdir()) == ["first.txt"]
