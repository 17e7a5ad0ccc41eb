"""This data folder's station id: who wrote an attendance or audit row on a shared server."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

STATION_FILE = "station.json"


def station_id(home: Path) -> str:
    """The id kept in `home`/station.json, created (random, stable) on first use."""
    path = Path(home) / STATION_FILE
    try:
        sid = json.loads(path.read_text(encoding="utf-8"))["id"]
        if isinstance(sid, str) and sid:
            return sid
    except (OSError, ValueError, KeyError, TypeError):
        pass
    sid = uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"id": sid}), encoding="utf-8")
    os.replace(tmp, path)
    return sid
