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

from ..atomic_write import write_atomic, write_error
from ..config_schema import ConfigError, from_dict, read_json, setting
from ..errors import FaceLensError

FILE_NAME = "admin_pin.json"
LOCK_NAME = "admin_pin.lock"
MIN_LENGTH, MAX_LENGTH = 4, 12
PIN_RULE = f"{MIN_LENGTH} to {MAX_LENGTH} ASCII digits (0-9), as a keypad types them"
BUSY_WAIT_S = 1.0  # what a try refused while another is being checked is told to wait
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SCRYPT_MAXMEM = 32 * 2**20  # hashlib.scrypt's own default limit
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


class PinFileError(PinError, ConfigError):
    """``admin_pin.json`` is damaged or holds values it cannot (one line per problem)."""


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class PinFile:
    """What ``admin_pin.json`` holds; the types and ranges are its validation (see
    :mod:`facelens.config_schema`). scrypt's cost is capped (n <= 2**16, r <= 16, p <= 4,
    memory <= 32 MiB), so a crafted file cannot make a check exhaust memory or run for
    minutes."""

    salt: str = setting(pattern=r"([0-9a-fA-F]{2}){8,64}", pattern_says="is not 8 to 64 bytes "
                                                                       "of hex")
    hash: str = setting(pattern=r"[0-9a-fA-F]{64}", pattern_says="is not 32 bytes of hex")
    n: int = setting(min=2, max=2**16, rule=(_power_of_two, "a power of two"))
    r: int = setting(min=1, max=16)
    p: int = setting(min=1, max=4)
    failures: int = setting(min=0, max=10**9)
    next_try: float = setting(min=0.0, max=1e11)  # seconds since 1970

    def __post_init__(self) -> None:
        memory = 128 * self.n * self.r
        if memory > SCRYPT_MAXMEM:
            raise PinFileError(f"n, r: scrypt would need {memory >> 20} MiB, more than "
                               f"{SCRYPT_MAXMEM >> 20} MiB; {_fix_hint()}")


def _fix_hint() -> str:
    return f"move {FILE_NAME} away and set a new PIN with `facelens kiosk set-pin`"


def validate_pin_state(state: object, path: Path) -> dict:
    """`state` (parsed ``admin_pin.json``) if :class:`PinFile` allows every field, else
    PinFileError listing each problem."""
    from_dict(PinFile, state, path, PinFileError, todo=_fix_hint())
    return state


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

    def check_file(self) -> None:
        """PinFileError (one line per problem) when the PIN file exists but is damaged."""
        if self.is_set():
            self._read()

    def _read(self) -> dict:
        try:
            raw = read_json(self.path, PinFileError)
        except FileNotFoundError:
            raise PinError("no admin PIN is set: run `facelens kiosk set-pin`") from None
        return validate_pin_state(raw, self.path)

    def _write(self, state: dict) -> None:
        write_atomic(self.path, json.dumps(state), mode=0o600)

    @contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """Hold ``admin_pin.lock`` (True), or False at once when another try holds it.

        The lock is taken on a fresh open file, so it excludes other threads of this process
        as well as other processes; the OS drops it if the process dies.
        """
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # read-only or full: tries cannot be counted, so none is taken
            raise write_error(self.lock_path, exc) from exc
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
