"""The admin PIN: stored as a salted scrypt hash, with a growing delay after wrong tries.

The failure count and the time before the next try are kept in the same file, so
restarting the kiosk does not reset the delay. Every try takes an exclusive lock on
``admin_pin.lock`` beside it for the whole read-check-count-write, so tries made at once (by
several processes, or threads of the kiosk window) are counted one by one: a try that comes
while another is being checked is refused without being checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import FaceLensError

FILE_NAME = "admin_pin.json"
LOCK_NAME = "admin_pin.lock"
MIN_LENGTH, MAX_LENGTH = 4, 12
PIN_RULE = f"{MIN_LENGTH} to {MAX_LENGTH} ASCII digits (0-9), as a keypad types them"
BUSY_WAIT_S = 1.0  # what a try refused while another is being checked is told to wait
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
FREE_TRIES = 2  # wrong tries before any delay
MAX_DELAY_S = 300.0


try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True


class PinError(FaceLensError):
    """The PIN cannot be set (too short, not digits) or no PIN is set."""


@dataclass(frozen=True)
class PinCheck:
    """The answer to a try: ``ok``, or the seconds to wait before the next try."""

    ok: bool
    wait_s: float = 0.0
    message: str = ""


def _hash(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


VALID_PIN = re.compile(rf"[0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}")


def check_rule(pin: object) -> str:
    """`pin` when it follows PIN_RULE; PinError saying what is wrong otherwise."""
    if not isinstance(pin, str) or not VALID_PIN.fullmatch(pin):
        odd = "" if not isinstance(pin, str) else "".join(
            sorted({ch for ch in pin if ch not in "0123456789"}))
        why = (f"it contains {odd!r}" if odd else
               f"it has {len(pin)} digits" if isinstance(pin, str) else "it is not text")
        raise PinError(f"admin PIN: {why}; use {PIN_RULE}")
    return pin


def delay_after(failures: int) -> float:
    """Seconds to wait after `failures` wrong tries in a row: 0, 0, 1, 2, 4 ... 300."""
    if failures < FREE_TRIES:
        return 0.0
    return min(MAX_DELAY_S, 2.0 ** (failures - FREE_TRIES))


class AdminPin:
    """Check and change the admin PIN kept in ``admin_pin.json`` in the data folder."""

    def __init__(self, home: str | Path, clock=time.time):
        self.path = Path(home) / FILE_NAME
        self.lock_path = Path(home) / LOCK_NAME
        self._clock = clock

    def is_set(self) -> bool:
        return self.path.exists()

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PinError("no admin PIN is set: run `facelens kiosk set-pin`") from None
        except (OSError, ValueError) as exc:
            raise PinError(f"admin PIN file {self.path} is unreadable: {exc}") from exc

    def _write(self, state: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    @contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """Hold ``admin_pin.lock`` (True), or False at once when another try holds it.

        The lock is taken on a fresh open file, so it excludes other threads of this process
        as well as other processes; the OS drops it if the process dies.
        """
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise PinError(f"admin PIN: cannot open its lock file {self.lock_path} ({exc}); "
                           "check that the data folder can be written") from exc
        try:
            yield _try_lock(fd)
        finally:
            os.close(fd)  # closing releases the lock

    def set(self, pin: str) -> None:
        """Store a new PIN (see PIN_RULE); PinError when it breaks the rule or a try runs."""
        check_rule(pin)
        salt = secrets.token_bytes(16)
        state = {"salt": salt.hex(), **SCRYPT, "hash": _hash(pin, salt, **SCRYPT).hex(),
                 "failures": 0, "next_try": 0.0}
        with self._exclusive() as held:
            if not held:
                raise PinError("admin PIN: a PIN try is being checked right now; "
                               "set the PIN again in a moment")
            self._write(state)

    def check(self, pin: str) -> PinCheck:
        """Check a PIN; refuse without checking while the delay after wrong tries runs,
        or while another try is being checked (``wait_s``: the seconds left to wait)."""
        if not self.is_set():
            self._read()  # PinError: no admin PIN is set
        with self._exclusive() as held:
            if not held:
                state = self._read()
                wait = max(float(state["next_try"]) - self._clock(), BUSY_WAIT_S)
                return PinCheck(False, wait, "another PIN try is being checked: "
                                             f"wait {wait:.0f} s")
            return self._check_locked(pin)

    def _check_locked(self, pin: str) -> PinCheck:
        state = self._read()
        now = self._clock()
        wait = state["next_try"] - now
        if wait > 0:
            return PinCheck(False, wait, f"too many wrong tries: wait {wait:.0f} s")
        if not isinstance(pin, str) or not VALID_PIN.fullmatch(pin):
            good = False  # no keypad types it: wrong, and counted like any wrong PIN
        else:
            salt = bytes.fromhex(state["salt"])
            good = hmac.compare_digest(_hash(pin, salt, state["n"], state["r"], state["p"]),
                                       bytes.fromhex(state["hash"]))
        if good:
            state.update(failures=0, next_try=0.0)
            self._write(state)
            return PinCheck(True)
        state["failures"] += 1
        delay = delay_after(state["failures"])
        state["next_try"] = now + delay
        self._write(state)
        msg = "wrong PIN" + (f": wait {delay:.0f} s" if delay else "")
        return PinCheck(False, delay, msg)
