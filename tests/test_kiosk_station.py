"""The kiosk end to end with the real networks and real photos.

A living face cannot be filmed here: a sequence of a person's *different* photos stands in
for one (see facelens.kiosk.sequences). The dev photos are 150-pixel chips (or small faces
in larger photos), too soft for the FaceAntiSpoofing authors' sharpness pre-check (more than
1000 Laplacian responses > 50 on the 256x256 crop), so these tests set ``min_sharpness=0``;
the pre-check itself is tested in test_kiosk_liveness.py.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from facelens.attendance import AttendanceStore
from facelens.kiosk.actions import ActionConfig, DoorAction
from facelens.kiosk.audit import AuditLog
from facelens.kiosk.config import KioskConfig
from facelens.kiosk.policy import Status
from facelens.kiosk.station import KioskStation
from kiosk_support import (
    SALLEY_LIVE,
    SAVAGE_LIVE,
    SIMM_LIVE,
    enrolled_gallery,
    held_print,
    living_stand_in,
)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Door(BaseHTTPRequestHandler):
    posts: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        n = int(self.headers["Content-Length"])
        type(self).posts.append(json.loads(self.rfile.read(n)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gallery(engine, faces_dev, tmp_path_factory):
    return enrolled_gallery(engine, faces_dev, tmp_path_factory.mktemp("g") / "gallery.db")


@pytest.fixture
def door_url():
    Door.posts, Door.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), Door)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/open"
    server.shutdown()
    server.server_close()


def make_station(engine, gallery, tmp_path, url="", **cfg) -> KioskStation:
    config = KioskConfig(min_sharpness=0, min_face_px=60, hold_s=2.0,
                         action_kind="http" if url else "none", action_target=url,
                         action_cooldown_s=30, **cfg)
    audit = AuditLog(tmp_path / "audit.db")
    attendance = AttendanceStore(tmp_path / "attendance.db", window_s=300, busy_timeout_ms=100)
    return KioskStation(engine, gallery, config, audit, attendance, clock=Clock())


def run(station: KioskStation, frames) -> list:
    """Feed frames 100 ms apart; return the views; stop at the first decision."""
    views = []
    for f in frames:
        station.clock.t += 0.1
        views.append(station.process(f))
        if views[-1].status in (Status.GRANTED, Status.REFUSED):
            break
    return views


def wait_out(station: KioskStation) -> None:
    station.clock.t += station.config.hold_s + 0.1


def test_identify_grants_enrolled_once_per_cooldown(engine, gallery, faces_dev, tmp_path,
                                                    door_url):
    st = make_station(engine, gallery, tmp_path, door_url)
    views = run(st, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))
    assert views[0].status in (Status.HOLD_STILL, Status.LOOK)
    assert views[-1].status == Status.GRANTED, (views[-1], st.last_reading)
    assert views[-1].text == "Welcome, john_savage" and views[-1].colour == "green"
    assert st.wait_door()  # the door worker runs the action
    out = st.last_outcome
    assert out.action.ok and out.decision.temporal > st.config.temporal_threshold
    assert out.decision.antispoof < 0.2
    assert len(Door.posts) == 1
    post = Door.posts[0]
    assert post["event"] == "granted" and post["person"] == "john_savage"
    assert post["policy"] == "identify" and post["audit_seq"] == out.audit_seq
    assert post["similarity"] >= st.threshold

    wait_out(st)
    again = run(st, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, seed=1))
    assert again[-1].status == Status.GRANTED and st.wait_door()
    assert st.last_outcome.action.skipped and len(Door.posts) == 1  # cooldown: no 2nd POST

    rows = st.audit.recent()
    assert [r.granted for r in rows] == [True, True]
    assert rows[0].matched == "john_savage" and rows[0].temporal is not None
    assert rows[0].thumbnail is None  # off by default
    assert rows[1].action.startswith("ok: HTTP 200") and "cooldown" in rows[0].action
    assert [s.person for s in st.attendance.summary()] == ["john_savage"]


def test_held_print_is_refused_by_the_temporal_cue(engine, gallery, faces_dev, tmp_path,
                                                   door_url):
    st = make_station(engine, gallery, tmp_path)
    assert run(st, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))[-1].status == \
        Status.GRANTED
    wait_out(st)  # right after a granted person, the print must not inherit their frames
    st.door = DoorAction(ActionConfig("http", door_url))  # door on from here
    # savage 2.jpg is a photo the anti-spoofing network itself scores live
    views = run(st, held_print(faces_dev, "john_savage", "2.jpg"))
    assert views[-1].status == Status.REFUSED and views[-1].text == "Not recognised"
    d = st.last_outcome.decision
    assert d.name == "john_savage" and d.antispoof < 0.2  # recognised, network fooled...
    assert d.temporal < st.config.temporal_threshold and "temporal" in d.reason  # ...not this
    assert Door.posts == [] and len(st.attendance.entries()) == 1  # the granted one only
    assert st.audit.recent()[0].reason == d.reason


def test_impostor_is_not_recognised(engine, gallery, faces_dev, tmp_path, door_url):
    st = make_station(engine, gallery, tmp_path, door_url)
    views = run(st, living_stand_in(faces_dev, "john_salley", SALLEY_LIVE + ["1.jpg", "9.jpg"]))
    assert views[-1].status == Status.REFUSED and views[-1].colour == "red"
    assert st.last_outcome.decision.name is None and Door.posts == []
    assert st.attendance.unknown_counts() and st.attendance.entries() == []
    assert st.audit.recent()[0].reason == "not recognised"


def test_verify_claims_typed_or_badge(engine, gallery, faces_dev, tmp_path, door_url):
    st = make_station(engine, gallery, tmp_path, door_url, policy="verify",
                      badges={"0004711": "john_simm"})
    frames = living_stand_in(faces_dev, "john_simm", SIMM_LIVE)
    assert st.process(frames[0]).text == "Scan your badge or type your ID"
    assert st.claim("0004711\n") == "john_simm"  # a keyboard-wedge badge reader's line
    views = run(st, frames)
    assert views[-1].text == "Welcome, john_simm", st.last_reading
    assert st.wait_door()
    wait_out(st)
    st.claim("john_savage")  # typed: the wrong identity for this face
    views = run(st, living_stand_in(faces_dev, "john_simm", SIMM_LIVE, seed=2))
    assert views[-1].status == Status.REFUSED
    assert "claimed identity" in st.last_outcome.decision.reason
    wait_out(st)
    st.claim("nobody enrolled")
    assert run(st, frames)[-1].status == Status.REFUSED
    rows = st.audit.recent()
    assert [(r.claimed, r.granted) for r in rows] == [
        ("nobody enrolled", False), ("john_savage", False), ("john_simm", True)]
    assert len(Door.posts) == 1


def test_faults_refuse_and_show(engine, gallery, faces_dev, tmp_path, door_url):
    st = make_station(engine, gallery, tmp_path, door_url)
    lock = sqlite3.connect(tmp_path / "attendance.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another program holds the attendance database
    views = run(st, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))
    lock.execute("ROLLBACK")
    assert views[-1].status == Status.REFUSED and "locked" in views[-1].detail
    assert "locked" in st.fault and Door.posts == []
    assert st.audit.recent()[0].reason.startswith("fault:")

    wait_out(st)
    Door.status = 500  # the door controller fails: granted, and the failure is shown
    views = run(st, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, seed=3))
    assert views[-1].status == Status.GRANTED and st.wait_door()
    assert "500" in st.view.detail and "500" in st.fault  # shown once the door worker is back
    assert "FAILED" in st.audit.recent()[0].action

    view = st.camera_lost("camera 0 lost after 5 reconnect tries")
    assert view.status == Status.OUT_OF_ORDER and view.text == "Out of order"
