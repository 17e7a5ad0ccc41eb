"""Qt-free live parts without models: tracker, score smoothing, sources, synthetic videos."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from facelens.live.smoothing import ScoreSmoother, half_gaussian, smooth_last
from facelens.live.sources import FrameReader, SourceError, SourceSpec, parse_source
from facelens.live.synth import Actor, write_video
from facelens.live.tracker import IouTracker, iou_matrix


def test_iou_matrix_basic():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert np.allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0]])


def test_tracker_keeps_ids_while_faces_move():
    tracker = IouTracker(max_misses=2)
    boxes = np.array([[0, 0, 100, 100], [300, 0, 400, 100]], np.float32)
    first = [t.track_id for t in tracker.update(boxes, [None, None])]
    for step in range(1, 10):
        moved = boxes + np.array([step * 5, 0, step * 5, 0], np.float32)
        ids = [t.track_id for t in tracker.update(moved[::-1], [None, None])]
        assert ids == first[::-1]
    for _ in range(3):
        tracker.update(np.zeros((0, 4)), [])
    assert tracker.tracks == []
    new = tracker.update(boxes[:1], [None])
    assert new[0].track_id not in first


def test_kernel_weights_newest_most():
    k = half_gaussian(5)
    assert abs(k.sum() - 1) < 1e-6 and all(np.diff(k) < 0)
    assert smooth_last(np.array([0.0, 0.0, 1.0], np.float32), k) > 1 / 3  # newest counts most
    assert smooth_last(np.array([1.0, 0.0, 0.0], np.float32), k) < 1 / 3
    assert smooth_last(np.array([], np.float32), k) == 0.0


def test_smoother_hysteresis_stops_flicker():
    sm = ScoreSmoother(window=5, hysteresis=0.05)
    for _ in range(4):
        sm.add("amy", 0.6)
    assert sm.decide(0.4)[0] == "amy"
    sm.add("amy", 0.2)  # one bad frame
    assert sm.decide(0.4)[0] == "amy"
    for _ in range(4):
        sm.add("amy", 0.6)
    sm.add("raj", 0.45)  # one frame where another name wins narrowly
    assert sm.decide(0.4)[0] == "amy"
    for _ in range(5):
        sm.add(None, 0.1)
    assert sm.decide(0.4)[0] is None


def test_smoother_stranger_never_named():
    sm = ScoreSmoother()
    for s in (0.2, 0.25, 0.15, 0.3):
        sm.add("amy", s)
        name, score = sm.decide(0.4)
        assert name is None and score < 0.4


def test_smoother_restart_judges_the_newest_answer_alone():
    sm = ScoreSmoother()
    sm.add("amy", 0.3)
    sm.add("amy", 0.35)
    assert sm.decide(0.5)[0] is None
    sm.restart("amy", 0.6)  # a larger pool of the same track's crops supersedes the earlier
    assert len(sm) == 1 and sm.decide(0.5) == ("amy", pytest.approx(0.6))


def test_parse_source(tmp_path):
    assert parse_source("0") == SourceSpec("camera", 0)
    assert parse_source("rtsp://cam/stream").kind == "url"
    assert parse_source("http://host/video.mjpg").kind == "url"
    assert parse_source(str(tmp_path)).kind == "folder"
    (tmp_path / "v.avi").write_bytes(b"x")
    assert parse_source(str(tmp_path / "v.avi")).kind == "file"
    with pytest.raises(SourceError):
        parse_source(str(tmp_path / "missing.avi"))


def _plain_video(path, n=20, fps=20.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(n):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()


def test_file_reader_paces_keeps_newest_and_reports_end(tmp_path):
    _plain_video(tmp_path / "v.avi")
    events = []
    reader = FrameReader(SourceSpec("file", str(tmp_path / "v.avi")), events.append).start()
    t0 = time.monotonic()
    assert reader.finished.wait(5)
    assert time.monotonic() - t0 > 0.8  # 20 frames at 20 fps: paced, not as fast as it decodes
    assert reader.frames_read == 20
    assert reader.latest(-1, 0.1).frame_id == 19  # only the newest is kept
    assert [e.kind for e in events] == ["opened", "ended"]


def test_reader_reports_failure_and_reconnects(tmp_path):
    events = []
    reader = FrameReader(SourceSpec("file", str(tmp_path / "nope.avi")), events.append).start()
    assert reader.finished.wait(5)
    assert events[0].kind == "failed" and "cannot open" in events[0].message

    class Flaky:
        """Opens twice, delivers two frames each time, then cannot be opened any more."""

        live, fps, size, calls = True, 0.0, (8, 8), 0

        def __init__(self, *_):
            Flaky.calls += 1
            if Flaky.calls > 2:
                raise SourceError("gone")
            self.n = 0

        def read(self):
            self.n += 1
            time.sleep(0.005)
            return np.zeros((8, 8, 3), np.uint8) if self.n < 3 else None

        def close(self):
            pass

    events = []
    reader = FrameReader(SourceSpec("url", "rtsp://x"), events.append, reconnect_tries=2,
                         reconnect_delay=0.01, opener=Flaky).start()
    assert reader.finished.wait(5)
    kinds = [e.kind for e in events]
    assert kinds == ["opened", "reconnecting", "reconnected", "reconnecting", "reconnecting",
                     "failed"]
    assert reader.frames_read == 4
    reader.stop()


def test_folder_slideshow(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((20, 30, 3), 50 * i, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    reader = FrameReader(SourceSpec("folder", str(tmp_path)), slideshow_interval=0.05).start()
    assert reader.finished.wait(5)
    assert reader.frames_read == 3 and reader.size == (30, 20)


def test_synth_video_boxes(tmp_path):
    faces = [np.full((150, 150, 3), 200, np.uint8), np.full((150, 150, 3), 30, np.uint8)]
    actors = [Actor(faces[0], "a"), Actor(faces[1], "b", enter=0.5)]
    video = write_video(tmp_path / "s.avi", actors, seconds=1.0, fps=10, face_px=100)
    assert video.frames == 10
    assert [lab for lab, _ in video.boxes[0]] == ["a"]
    assert [lab for lab, _ in video.boxes[9]] == ["a", "b"]
    cap = cv2.VideoCapture(str(video.path))
    ok, frame = cap.read()
    assert ok and frame.shape == (480, 640, 3)
    x1, y1, x2, y2 = video.boxes[0][0][1]
    assert frame[y1 + 50, x1 + 50].mean() > 180
