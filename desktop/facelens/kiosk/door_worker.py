"""The station's door worker: door actions run here, one after another, never where the
decision is made, so a slow door never delays recognising the next person.

`submit` answers at once (skipped, or pending); the outcome of each action is handed to
`on_done` on the worker's thread when the action ends, within its deadline
(``ActionConfig.timeout_s``).
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from .actions import ActionResult, DoorAction


@dataclass(frozen=True)
class DoorJob:
    """One granted decision's door action: who, what to send, and its audit row."""

    person: str
    payload: dict
    audit_seq: int | None = None


class DoorWorker:
    """A thread of its own that runs the door actions of one station in order."""

    def __init__(self, door: Callable[[], DoorAction],
                 on_done: Callable[[DoorJob, ActionResult], None]):
        self._door = door  # read at each action: the admin may change the settings meanwhile
        self._on_done = on_done
        self._jobs: queue.Queue[DoorJob | None] = queue.Queue()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, person: str, payload: dict, audit_seq: int | None = None) -> ActionResult:
        """Queue the door action for `person`; the skipped result, or a pending one."""
        door = self._door()
        skipped = door.admit(person)
        if skipped is not None:
            return skipped
        self._start()
        with self._idle:
            self._busy += 1
        self._jobs.put(DoorJob(person, dict(payload), audit_seq))
        return ActionResult(True, pending=True,
                            message=f"door action {door.config.kind} running")

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every submitted action has ended; False when `timeout_s` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout_s)

    def stop(self) -> None:
        """End the worker after the actions already queued."""
        if self._thread is not None:
            self._jobs.put(None)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="kiosk-door",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                result = self._door().run(job.person, job.payload)
                self._on_done(job, result)
            except Exception:  # a bug in the caller's handler: shown, and the worker goes on
                traceback.print_exc()
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()
