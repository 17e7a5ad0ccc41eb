"""What a station knows about its central gallery: the server, its replica and its outbox.

`describe` reads the station's files read-only (the replica, the sync state, the logs) and,
when asked, the server's counts (no passphrase needed: it counts rows, it opens none), for
``facelens gallery status`` and the window's status tooltip. Passwords never appear.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

REPLICA_FILE = "central-replica.db"  # as sync.REPLICA_FILE, STATE_FILE and the log names
STATE_FILE = "central-sync.db"
LOGS = (("attendance.db", "entries"), ("kiosk_audit.db", "decisions"))


def server_label(url: str) -> str:
    """``user@host:port/database`` of a postgresql:// URL, never its password."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or query.get("host") or "localhost"
    port = parts.port or query.get("port")
    user = parts.username or query.get("user")
    db = unquote(parts.path.lstrip("/")) or query.get("dbname") or user or ""
    return f"{user + '@' if user else ''}{host}{':' + str(port) if port else ''}/{db}"


def _read(path: Path, sql: str, params: tuple = ()) -> list[tuple] | None:
    """`sql` on the SQLite file `path` opened read-only; None when it or the table is missing."""
    if not path.exists():
        return None
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    finally:
        conn.close()


def sync_state(home: Path) -> tuple[dict[str, int], dict[str, str]]:
    """(delivered marks by log, state values) of `home`'s sync state; empty before a sync."""
    path = Path(home) / STATE_FILE
    marks = dict(_read(path, "SELECT log, seq FROM delivered") or [])
    state = dict(_read(path, "SELECT key, value FROM state") or [])
    return marks, state


def queued_rows(home: Path, mark: Callable[[str], int]) -> int:
    """Rows of `home`'s attendance and audit logs past their delivered `mark`."""
    count = 0
    for log, table in LOGS:
        rows = _read(Path(home) / log, f"SELECT count(*) FROM {table} WHERE seq > ?",
                     (mark(log),))
        count += rows[0][0] if rows else 0
    return count


def replica_counts(home: Path, model_id: str, dim: int) -> tuple[int, int] | None:
    """(people, templates of this model) in `home`'s replica; None when there is none yet."""
    path = Path(home) / REPLICA_FILE
    people = _read(path, "SELECT count(*) FROM people")
    templates = _read(path, "SELECT count(*) FROM templates WHERE model_id = ? AND dim = ?",
                      (model_id, int(dim)))
    if people is None or templates is None:
        return None
    return int(people[0][0]), int(templates[0][0])


def replica_number(home: Path) -> int | None:
    """The server change number `home`'s replica was last brought up to."""
    row = _read(Path(home) / REPLICA_FILE, "SELECT value FROM meta WHERE key = 'central_change'")
    return int(row[0][0]) if row else None


def server_counts(url: str, model_id: str, dim: int, timeout_s: int = 3) -> dict:
    """The server's people, templates (this model, all), encryption and change number."""
    from . import sealing
    from .pg.store import connect

    with connect(url, timeout_s) as c:
        row = c.execute(
            "SELECT (SELECT count(*) FROM people), "
            "(SELECT count(*) FROM templates WHERE model_id = %s AND dim = %s), "
            "(SELECT count(*) FROM templates), "
            "EXISTS (SELECT 1 FROM meta WHERE key = %s), "
            "(SELECT coalesce(max(seq), 0) FROM changes)",
            (model_id, int(dim), sealing.META_KEY)).fetchone()
    people, templates, every, encrypted, change = row
    return {"people": int(people), "templates": int(templates),
            "other_model_templates": int(every) - int(templates), "encrypted": bool(encrypted),
            "change": int(change)}


def describe(url: str, home: Path, model_id: str, dim: int, *, ask_server: bool = True,
             connected: bool | None = None, offline_since: datetime | None = None) -> dict:
    """The central gallery as this station sees it: server (label, reachable, counts),
    replica (counts, change number, when last synced and how long ago), rows queued."""
    from ..errors import GalleryError

    marks, state = sync_state(home)
    info: dict = {"server": server_label(url), "model_id": model_id,
                  "queued": queued_rows(home, lambda log: marks.get(log, 0))}
    if ask_server:
        try:
            info.update(server_counts(url, model_id, dim), reachable=True)
        except GalleryError as exc:
            info.update(reachable=False, error=str(exc))
    elif connected is not None:
        info["reachable"] = connected
    if offline_since is not None:
        info["offline_since"] = offline_since.isoformat(timespec="seconds")
    counts = replica_counts(home, model_id, dim)
    synced = state.get("synced_at")
    info["replica"] = {
        "path": str(Path(home) / REPLICA_FILE), "exists": counts is not None,
        "people": counts[0] if counts else 0, "templates": counts[1] if counts else 0,
        "change": replica_number(home) if counts is not None else None,
        "synced_at": synced,
        "age_s": (round((datetime.now().astimezone() - datetime.fromisoformat(synced))
                        .total_seconds(), 1) if synced else None)}
    return info


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def describe_text(info: dict) -> str:
    """`describe`'s dict as a few lines a person reads."""
    lines = []
    head = f"central gallery {info['server']}"
    if info.get("reachable") is False:
        since = info.get("offline_since")
        lines.append(f"{head}: unreachable" + (f" since {since[11:16]}" if since else "")
                     + (f" ({info['error']})" if info.get("error") else ""))
    elif "people" in info:
        extra = (f", {info['other_model_templates']} by other models"
                 if info["other_model_templates"] else "")
        lines.append(f"{head}: reachable, {_n(info['people'], 'person', 'people')}, "
                     f"{_n(info['templates'], 'template', 'templates')} "
                     f"({info['model_id']}{extra}), "
                     f"{'encrypted' if info['encrypted'] else 'not encrypted'}, "
                     f"change {info['change']}")
    else:
        lines.append(f"{head}: connected")
    r = info["replica"]
    if not r["exists"]:
        lines.append(f"replica {r['path']}: none yet (made at the first sync)")
    else:
        when = (f"synced {r['synced_at'][:19].replace('T', ' ')} ({_ago(r['age_s'])})"
                if r["synced_at"] else "never synced")
        fresh = ""
        if "change" in info and r["change"] is not None:
            fresh = (", up to date" if r["change"] == info["change"]
                     else f", behind the server (change {r['change']} of {info['change']})")
        lines.append(f"replica {r['path']}: {_n(r['people'], 'person', 'people')}, "
                     f"{_n(r['templates'], 'template', 'templates')}, {when}{fresh}")
    lines.append(f"outbox: {_n(info['queued'], 'row', 'rows')} queued "
                 "(attendance and audit rows not yet on the server)")
    return "\n".join(lines)
