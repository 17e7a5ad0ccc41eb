"""One station for test_central_sync: logs attendance and audit rows while syncing.

    python central_station_worker.py URL HOME LABEL ROWS [PROBE.npy NAME]

Logs ROWS attendance entries (persons "LABEL-0", "LABEL-1", ...) and as many audit rows,
syncing after each; then syncs until the outbox is empty. With PROBE and NAME it also reports
when its replica first recognises the probe embedding as NAME. Prints one JSON line per event.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from facelens.attendance import AttendanceStore
from facelens.gallery.sync import ReplicatedGallery
from facelens.kiosk.audit import AuditLog, AuditRow


def say(**obj) -> None:
    print(json.dumps(obj), flush=True)


def main(url: str, home: str, label: str, rows: int, probe: str | None = None,
         name: str | None = None) -> int:
    home_path = Path(home)
    query = np.load(probe) if probe else None
    g = ReplicatedGallery.open(url, home_path, "lite/mobilefacenet-192", 192)
    log = AttendanceStore(home_path / "attendance.db", window_s=0)
    audit = AuditLog(home_path / "kiosk_audit.db")
    offline, most_queued, recognised = False, 0, False
    start = time.monotonic()

    def step() -> None:
        nonlocal offline, most_queued, recognised
        online = g.sync()
        if online == offline:  # changed
            offline = not online
            say(event="offline" if offline else "online", status=g.status())
        if offline:
            most_queued = max(most_queued, g.outbox.queued())
        if query is not None and not recognised and g.identify(query, 0.5)[0].name == name:
            recognised = True
            say(event="recognised", name=name, after_s=round(time.monotonic() - start, 2),
                at=time.time())

    for i in range(rows):
        log.log(f"{label}-{i}", 0.9, source=label)
        audit.append(AuditRow(policy="open", granted=True, reason=f"{label}-{i}"))
        step()
        time.sleep(0.02)
    end = time.monotonic() + 90
    while (g.outbox.queued() or (query is not None and not recognised)) and \
            time.monotonic() < end:
        step()
        time.sleep(0.2)
    say(event="done", logged=rows, queued=g.outbox.queued(), most_queued_offline=most_queued,
        recognised=recognised)
    log.close()
    audit.close()
    g.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:]))
