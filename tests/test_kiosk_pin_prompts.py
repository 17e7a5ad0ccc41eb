"""How the kiosk commands ask for PINs: without a terminal (a pipe, /dev/null) and at one (a pty).

Each test runs the real ``python -m facelens`` in a child process, so standard input really is
a pipe, /dev/null or a pseudo-terminal, as it is for a user.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facelens.kiosk.config import KioskConfig
from facelens.kiosk.pin import AdminPin

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(ROOT / "desktop"), *filter(None, [os.environ.get("PYTHONPATH")])])}


def facelens(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI with `stdin` piped in (None: /dev/null, no terminal at all)."""
    return subprocess.run([sys.executable, "-m", "facelens", "--home", str(home), *args],
                          input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
                          capture_output=True, text=True, env=ENV, timeout=60)


def failures(home: Path) -> int:
    return json.loads((home / "admin_pin.json").read_text())["failures"]


def test_config_without_terminal_or_pin_says_a_pin_is_required(tmp_path):
    AdminPin(tmp_path).set("2468")
    proc = facelens(tmp_path, "kiosk", "config", "--policy", "verify")
    assert proc.returncode == 2
    assert "admin PIN: a PIN is required; give it with --pin" in proc.stderr, proc.stderr
    assert "wrong PIN" not in proc.stderr
    assert failures(tmp_path) == 0  # not counted as a wrong try: no delay for the next one
    assert KioskConfig.load(tmp_path).policy == "identify"  # nothing was changed
    proc = facelens(tmp_path, "kiosk", "config", "--policy", "verify", "--pin", "2468",
                    "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["policy"] == "verify"


def test_set_pin_without_terminal_needs_the_old_pin_and_counts_nothing(tmp_path):
    AdminPin(tmp_path).set("2468")
    proc = facelens(tmp_path, "kiosk", "set-pin", "--new-pin", "1357")
    assert proc.returncode == 2 and "current admin PIN: a PIN is required" in proc.stderr
    assert failures(tmp_path) == 0 and AdminPin(tmp_path).check("2468").ok


def test_set_pin_from_a_pipe_reads_the_pin_twice(tmp_path):
    proc = facelens(tmp_path, "kiosk", "set-pin")
    assert proc.returncode == 2 and "new admin PIN: a PIN is required" in proc.stderr
    proc = facelens(tmp_path, "kiosk", "set-pin", stdin="2468\n1357\n")
    assert proc.returncode == 2, proc.stderr
    assert "the two entries differ; nothing was changed" in proc.stderr
    assert not (tmp_path / "admin_pin.json").exists()
    proc = facelens(tmp_path, "kiosk", "set-pin", stdin="2468\n")  # no second line
    assert proc.returncode == 2 and "differ" in proc.stderr
    assert facelens(tmp_path, "kiosk", "set-pin", stdin="2468\n2468\n").returncode == 0
    assert AdminPin(tmp_path).check("2468").ok


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while wanted not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {wanted!r} on the terminal; it showed {bytes(seen)!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            chunk = b""
        if not chunk:
            raise AssertionError(f"the command ended before {wanted!r}: {bytes(seen)!r}")
        seen += chunk


def _set_pin_at_terminal(home: Path, first: str, second: str) -> tuple[int, str]:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, as in a terminal window
        os.execve(sys.executable, [sys.executable, "-m", "facelens", "--home", str(home),
                                   "kiosk", "set-pin"], ENV)
    seen = bytearray()
    try:
        _read_until(fd, b"New admin PIN", seen)
        os.write(fd, first.encode() + b"\n")
        _read_until(fd, b"Repeat the new admin PIN", seen)
        os.write(fd, second.encode() + b"\n")
        end = time.monotonic() + 30
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_set_pin_at_a_terminal_asks_twice_and_says_when_they_differ(tmp_path):
    code, shown = _set_pin_at_terminal(tmp_path, "2468", "2486")
    assert code == 2 and "the two entries differ" in shown, shown
    assert "2468" not in shown  # typed PINs are not echoed
    assert not (tmp_path / "admin_pin.json").exists()
    code, shown = _set_pin_at_terminal(tmp_path, "2468", "2468")
    assert code == 0 and "admin PIN set" in shown, shown
    assert AdminPin(tmp_path).check("2468").ok
