"""Uploaded article files: checked, then written into the articles folder.

One set of rules for every way in (the HTTP API's ``POST /articles`` and the
Streamlit library page): plain file names only (no folders, no traversal, no
hidden files), supported types only, each file under ``RAG_MAX_FILE_MB``, at
most ``RAG_MAX_UPLOAD_FILES`` at once, and an existing file is replaced only
when asked. Every file is checked before any is written, so a refused batch
changes nothing.

    saved = save(settings, [("report.txt", data)])        # → ["report.txt"]
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from pathlib import Path

from rag.errors import UploadError
from rag.indexing.loaders import SUPPORTED_SUFFIXES
from rag.settings import Settings

_SAFE_NAME = re.compile(r"^[\w][\w .()-]{0,150}$")


def check_count(settings: Settings, count: int) -> None:
    if count > settings.max_upload_files:
        raise UploadError(
            f"{count} files in one request; the limit is {settings.max_upload_files} "
            "(RAG_MAX_UPLOAD_FILES)",
            413,
        )


def check_type(name: str) -> None:
    """Refuse a file whose type is not read (by its name's suffix), with the types that are;
    the app checks a dropped file with this as soon as it lands, the API on upload."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(
            f"{name}: unsupported type {suffix or '(none)'}; "
            f"use {', '.join(sorted(SUPPORTED_SUFFIXES))}",
            415,
        )


def target(settings: Settings, raw_name: str | None, *, overwrite: bool = False) -> Path:
    """Where an upload called ``raw_name`` goes in the articles folder, or an UploadError."""
    name = (raw_name or "").strip()
    if (
        not name
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or not _SAFE_NAME.match(name)
    ):
        raise UploadError(
            f"file name {raw_name!r} is not allowed: use a plain name such as article.txt "
            "(letters, digits, spaces, . _ - ( ); no folders)",
            400,
        )
    check_type(name)
    folder = settings.articles_dir.resolve()
    path = folder / name
    if path.resolve().parent != folder:
        raise UploadError(f"file name {raw_name!r} is not allowed", 400)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise UploadError(
            f"{name} already exists in the articles folder; ask to replace it "
            "(overwrite=true in the API)",
            409,
        )
    return path


def check_size(settings: Settings, name: str, size: int) -> None:
    if size > settings.max_file_bytes:
        raise UploadError(
            f"{name} is over the {settings.max_file_mb} MB limit (RAG_MAX_FILE_MB)", 413
        )


def write(planned: Sequence[tuple[Path, bytes]]) -> list[str]:
    """Write checked uploads; each lands whole (temporary file, then rename), or not at
    all: a full disk or a read-only folder is an UploadError (507) naming what was saved."""
    saved: list[str] = []
    for path, data in planned:
        tmp = path.with_name(f".{path.name}.upload")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            done = f" ({', '.join(saved)} saved)" if saved else " (nothing saved)"
            raise UploadError(
                f"cannot save {path.name} in {path.parent}: {exc.strerror or exc}{done}; "
                "check that the articles folder is writable and the disk is not full",
                507,
            ) from exc
        saved.append(path.name)
    return saved


def save(
    settings: Settings, files: Sequence[tuple[str | None, bytes]], *, overwrite: bool = False
) -> list[str]:
    """Check every ``(name, content)`` pair, then write them all; the saved names."""
    check_count(settings, len(files))
    planned = []
    names: set[str] = set()
    for raw_name, data in files:
        path = target(settings, raw_name, overwrite=overwrite)
        if path.name in names:
            raise UploadError(f"{path.name} is in the upload twice; send it once", 400)
        names.add(path.name)
        check_size(settings, path.name, len(data))
        planned.append((path, data))
    return write(planned)
