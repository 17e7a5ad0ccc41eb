"""Write a small file all or nothing: a full disk or a read-only folder leaves the old file.

Every settings-like file FaceLens writes (settings.json, kiosk.json, admin_pin.json) goes
through :func:`write_atomic`: the new content goes to a temporary file in the same folder, is
flushed to disk, and only then replaces the old file in one rename.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import FaceLensError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
