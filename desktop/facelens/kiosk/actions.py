"""Door actions on a granted decision: run a command, POST JSON, or write a serial line.

Each person has a cooldown so standing at the door does not trigger the action again and
again. A failure comes back as an :class:`ActionResult` with ``ok=False`` and a message that
the kiosk logs and shows: never silent.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("none", "command", "http", "serial")


@dataclass(frozen=True)
class ActionConfig:
    """``kind`` is one of :data:`KINDS`; ``target`` is the command, URL or device path."""

    kind: str = "none"
    target: str = ""
    cooldown_s: float = 10.0
    timeout_s: float = 3.0


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    skipped: bool = False  # in cooldown, or no action configured
    message: str = ""


@dataclass
class DoorAction:
    """Fire the configured action for a granted person, at most once per cooldown."""

    config: ActionConfig
    clock: object = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.config.kind not in KINDS:
            raise ValueError(f"door action kind must be one of {KINDS}, not {self.config.kind!r}")

    def fire(self, person: str, payload: dict | None = None) -> ActionResult:
        """Run the action for `person` unless it ran for them less than a cooldown ago."""
        if self.config.kind == "none":
            return ActionResult(True, skipped=True, message="no door action configured")
        now = self.clock()
        last = self._last.get(person)
        if last is not None and now - last < self.config.cooldown_s:
            return ActionResult(True, skipped=True, message="in cooldown")
        body = {"event": "granted", "person": person,
                "time": datetime.now().astimezone().isoformat(timespec="seconds"),
                **(payload or {})}
        try:
            message = getattr(self, f"_{self.config.kind}")(body)
        except Exception as exc:  # every failure is reported to the caller, never swallowed
            return ActionResult(False, message=f"door action {self.config.kind} failed: {exc}")
        self._last[person] = now
        return ActionResult(True, message=message)

    def _command(self, body: dict) -> str:
        args = shlex.split(self.config.target)
        env = {"FACELENS_PERSON": body["person"], "FACELENS_EVENT": json.dumps(body)}
        proc = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=self.config.timeout_s)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip()[-200:]
            raise RuntimeError(f"exit status {proc.returncode}: {tail}")
        return f"command ran: {args[0]}"

    def _http(self, body: dict) -> str:
        req = urllib.request.Request(
            self.config.target, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "FaceLens-kiosk"})
        with urllib.request.urlopen(req, timeout=self.config.timeout_s) as resp:
            return f"HTTP {resp.status}"

    def _serial(self, body: dict) -> str:
        # The device's speed and framing are set outside FaceLens (e.g. `stty -F DEV 9600`).
        line = f"OPEN {body['person']}\n".encode()
        with open(self.config.target, "wb", buffering=0) as dev:
            dev.write(line)
        return f"wrote {line.strip().decode()!r} to {self.config.target}"
