"""Crash test: a process logging attendance is SIGKILLed at random moments 50 times.

The child prints each entry's sequence number only after its commit returned; afterwards
the database must pass ``PRAGMA integrity_check`` and hold every sequence reported.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = r"""
import sys
from facelens.attendance.store import AttendanceStore
st = AttendanceStore(sys.argv[1], window_s=0)
print("ready", flush=True)
i = 0
while True:
    e = st.log(f"person{i % 7}", 0.5 + (i % 40) / 100, source="crash-test")
    print(e.seq, flush=True)
    i += 1
"""

KILLS = 50


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL needs a POSIX system")
def test_sigkill_50_times_loses_nothing_committed(tmp_path: Path):
    db = tmp_path / "attendance.db"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "desktop"))
    rng = random.Random(5)
    reported: set[int] = set()
    started = time.monotonic()
    for _ in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE,
                                 env=env, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.08))  # kill at a random moment of the write loop
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        assert child.returncode == -signal.SIGKILL
        lines = out.split("\n")[:-1]  # the last piece may be a half-written line
        reported.update(int(x) for x in lines if x.strip())
    elapsed = time.monotonic() - started

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in conn.execute("SELECT seq FROM entries")}
    assert reported, "the children committed nothing before being killed"
    missing = reported - stored
    assert not missing, f"{len(missing)} committed entries lost, e.g. {sorted(missing)[:5]}"
    print(f"{KILLS} kills in {elapsed:.1f}s: {len(reported)} entries reported, "
          f"{len(stored)} stored, none lost")
