"""Helpers of the fault tests: a small tmpfs that can be filled up or made read-only.

Mounting needs root (these tests run as root, where chmod does not stop writes, so a real
read-only or full file system is the only honest test); without it the tests are skipped
with the reason.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextmanager
def small_tmpfs(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (skip with the reason when that is impossible)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        r = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs to test a full or read-only disk: {exc}")
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to test a full or read-only disk: {r.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def remount(folder: Path, mode: str) -> None:
    """Remount the tmpfs on `folder` ``ro`` or ``rw``."""
    r = _mount("-o", f"remount,{mode}", str(folder))
    if r.returncode != 0:
        pytest.skip(f"cannot remount {folder} {mode}: {r.stderr.strip()}")


def fill(folder: Path) -> Path:
    """Write a file in `folder` until the disk is full; that file's path."""
    filler = folder / "filler.bin"
    block = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    with open(filler, "ab", buffering=0) as f:  # the last partial block too
        try:
            while True:
                f.write(b"\0")
        except OSError:
            pass
    os.sync()
    return filler
