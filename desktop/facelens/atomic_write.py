"""Write a small file all or nothing: a full disk or a read-only folder leaves the old file.

Every settings-like file FaceLens writes (settings.json, kiosk.json, admin_pin.json) goes
through :func:`write_atomic`: the new content goes to a temporary file in the same folder, is
flushed to disk, and only then replaces the old file in one rename.
"""

from __future__ import annotations

import errno
import itertools
import os
from pathlib import Path

from .errors import FaceLensError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
_counter = itertools.count()


class WriteError(FaceLensError):
    """A file could not be written; the old one (if any) is unchanged."""


class DiskFullError(WriteError):
    """No space left on the device (or quota exceeded)."""


class ReadOnlyError(WriteError):
    """The folder or medium cannot be written."""


def write_error(path: Path, exc: OSError) -> WriteError:
    """The user-facing error for an OSError met while writing `path`."""
    if exc.errno in DISK_FULL:
        return DiskFullError(f"{path}: disk full: nothing was changed; free some space on "
                             "that disk and try again")
    if exc.errno in READ_ONLY:
        return ReadOnlyError(f"{path}: the data folder is read-only ({exc.strerror}): nothing "
                             "was changed; use a writable data folder (--home) or make this "
                             "one writable")
    return WriteError(f"{path}: cannot be written ({exc.strerror or exc}): nothing was changed")


def write_atomic(path: str | os.PathLike, data: str | bytes, mode: int | None = None) -> None:
    """Replace `path` with `data` (text is UTF-8), or raise WriteError leaving it as it was.

    `mode` (e.g. ``0o600``) is set on the new file before it takes the old one's place.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        fd, tmp = temp_beside(path, ".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise write_error(path, exc) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def temp_beside(path: Path, suffix: str) -> tuple[int, str]:
    """A new, empty file next to `path` (same folder, so a rename replaces `path` in one
    step): its open descriptor and name. (Not `tempfile`: importing it costs start-up time.)"""
    while True:
        name = path.with_name(f".{path.name}.{os.getpid()}.{next(_counter)}{suffix}")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(name)
        except FileExistsError:
            continue


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
