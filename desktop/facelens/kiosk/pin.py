"""The admin PIN: stored as a salted scrypt hash, with a growing delay after wrong tries.

The failure count and the time before the next try are kept in the same file, so
restarting the kiosk does not reset the delay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..atomic_write import write_atomic
from ..config_schema import ConfigError, from_dict, read_json, setting
from ..errors import FaceLensError

FILE_NAME = "admin_pin.json"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SCRYPT_MAXMEM = 32 * 2**20  # hashlib.scrypt's own default limit
FREE_TRIES = 2  # wrong tries before any delay
MAX_DELAY_S = 300.0


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


def delay_after(failures: int) -> float:
    """Seconds to wait after `failures` wrong tries in a row: 0, 0, 1, 2, 4 ... 300."""
    if failures < FREE_TRIES:
        return 0.0
    return min(MAX_DELAY_S, 2.0 ** (failures - FREE_TRIES))


class AdminPin:
    """Check and change the admin PIN kept in ``admin_pin.json`` in the data folder."""

    def __init__(self, home: str | Path, clock=time.time):
        self.path = Path(home) / FILE_NAME
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

    def set(self, pin: str) -> None:
        """Store a new PIN (4 to 12 digits)."""
        if not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise PinError("the admin PIN must be 4 to 12 digits")
        salt = secrets.token_bytes(16)
        self._write({"salt": salt.hex(), **SCRYPT, "hash": _hash(pin, salt, **SCRYPT).hex(),
                     "failures": 0, "next_try": 0.0})

    def check(self, pin: str) -> PinCheck:
        """Check a PIN; refuse without checking while the delay after wrong tries runs."""
        state = self._read()
        now = self._clock()
        wait = state["next_try"] - now
        if wait > 0:
            return PinCheck(False, wait, f"too many wrong tries: wait {wait:.0f} s")
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
