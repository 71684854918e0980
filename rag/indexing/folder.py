"""Which entries of the articles folder are read, and why the others are not.

The folder is untrusted input. Links may loop, dangle or lead out of it (the API
serves what is indexed: a link must not publish a file from elsewhere); an entry
may be a FIFO or a device, whose reading blocks or never ends; a subfolder may be
unreadable; a file may vanish while the folder is read. Each such entry becomes a
:class:`~rag.indexing.articles.Skip` with a one-line reason, and the walk goes on: it never
raises for what it finds in the folder.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from rag.indexing.articles import Skip

Entry = tuple[Path, str]  # a file to read, and its path relative to the folder

VANISHED = "the file disappeared while the folder was read (moved or deleted); run rag index again"


def os_problem(exc: OSError, what: str = "file") -> str:
    """One line for an error met while opening or reading an entry."""
    if isinstance(exc, FileNotFoundError):
        return VANISHED if what == "file" else f"the {what} disappeared while it was read"
    if exc.errno == errno.ELOOP:
        return "a symlink loop: the link leads back to itself; remove it"
    if isinstance(exc, PermissionError):
        return f"cannot read {what}: permission denied; make it readable (chmod) or remove it"
    return f"cannot read {what}: {exc.strerror or exc}"


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a named pipe (FIFO)", …); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def entry_problem(file: Path, root: Path | None) -> str | None:
    """Why ``file`` cannot be read as an article, or None when it is a regular file (or a
    link to one inside ``root``, the resolved folder; ``None``: a file named alone)."""
    try:
        info = file.lstat()
        if stat.S_ISLNK(info.st_mode):
            try:
                target = file.resolve(strict=True)
            except RuntimeError:  # Python 3.11 reports a loop this way, not as ELOOP
                return "a symlink loop: the link leads back to itself; remove it"
            except FileNotFoundError:
                return "a broken link: its target does not exist; remove it or restore the target"
            if root is not None and not target.is_relative_to(root):
                return "a link to a file outside the articles folder; copy the file in instead"
            info = target.stat()
    except OSError as exc:
        return os_problem(exc)
    kind = special_kind(info.st_mode)
    return f"{kind}, not a regular file; only regular files are read" if kind else None


def walk(root: Path) -> Iterator[Entry | Skip]:
    """The files under ``root`` to read, in a stable order, and a Skip for every entry that
    cannot be: hidden files and folders are left out silently. ``root`` may be one file."""
    if not root.is_dir():
        problem = entry_problem(root, None)
        yield Skip(root.name, problem) if problem else (root, root.name)
        return
    real_root = root.resolve()
    unreadable: list[Skip] = []

    def relative(path: Path) -> str:
        return path.relative_to(root).as_posix()

    def folder_error(exc: OSError) -> None:
        where = relative(Path(exc.filename)) if exc.filename else "."
        unreadable.append(Skip(f"{where}/", os_problem(exc, "folder")))

    for dirpath, dirnames, filenames in os.walk(root, onerror=folder_error):
        yield from unreadable
        unreadable.clear()
        here = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            if name.startswith("."):
                continue
            if (here / name).is_symlink():
                # os.walk does not follow them: say so rather than leave the files out unseen.
                yield Skip(
                    f"{relative(here / name)}/",
                    "a link to a folder is not followed; move or copy the folder in instead",
                )
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            file = here / name
            problem = entry_problem(file, real_root)
            yield Skip(relative(file), problem) if problem else (file, relative(file))
    yield from unreadable
