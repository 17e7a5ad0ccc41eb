"""The kiosk on the `standard` pack, which has no anti-spoofing model.

Without one the kiosk still checks blur, and liveness is the temporal cue alone: a living
stand-in is granted (and the decision says "temporal cue only"), a held print is refused.
"""

from __future__ import annotations

import pytest

from facelens.attendance import AttendanceStore
from facelens.kiosk.audit import AuditLog
from facelens.kiosk.config import KioskConfig
from facelens.kiosk.policy import Status
from facelens.kiosk.station import KioskStation
from kiosk_support import SAVAGE_LIVE, enrolled_gallery, held_print, living_stand_in


class Clock:
    t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def standard():
    from facelens.engine.recognizer import FaceEngine

    return FaceEngine.load("standard", "cpu")


@pytest.fixture(scope="module")
def gallery(standard, faces_dev, tmp_path_factory):
    return enrolled_gallery(standard, faces_dev, tmp_path_factory.mktemp("g") / "gallery.db")


def _station(engine, gallery, tmp_path) -> KioskStation:
    config = KioskConfig(min_sharpness=0, min_face_px=60, hold_s=2.0, action_kind="none")
    return KioskStation(engine, gallery, config, AuditLog(tmp_path / "audit.db"),
                        AttendanceStore(tmp_path / "att.db", window_s=300, busy_timeout_ms=100),
                        clock=Clock())


def _run(station, frames):
    views = []
    for f in frames:
        station.clock.t += 0.1
        views.append(station.process(f))
        if views[-1].status in (Status.GRANTED, Status.REFUSED):
            break
    return views


def test_without_antispoof_a_living_stand_in_is_granted_on_the_temporal_cue(
        standard, gallery, faces_dev, tmp_path):
    st = _station(standard, gallery, tmp_path)
    assert st.antispoof is None
    views = _run(st, living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))
    assert views[-1].status == Status.GRANTED, (views[-1], st.last_reading)
    d = st.last_outcome.decision
    assert d.name == "john_savage" and d.antispoof is None
    assert "temporal cue only" in d.reason and "no anti-spoofing model" in d.reason
    assert st.audit.recent()[0].reason == d.reason


def test_without_antispoof_a_held_print_is_refused(standard, gallery, faces_dev, tmp_path):
    st = _station(standard, gallery, tmp_path)
    views = _run(st, held_print(faces_dev, "john_savage", "2.jpg"))
    assert views[-1].status == Status.REFUSED
    d = st.last_outcome.decision
    assert d.name == "john_savage" and "temporal" in d.reason
