"""The live pipeline with the real engine and gallery on synthetic videos of real photos."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from facelens.cli import main as facelens_main
from facelens.gallery import Gallery
from facelens.live.photos import prepare_photos, rejection_summary
from facelens.live.pipeline import LivePipeline
from facelens.live.recognise import LiveConfig, Recogniser
from facelens.live.scene import NOT_RECOGNISED, RECOGNISED, TOO_BLURRY, TOO_SMALL
from facelens.live.sources import Frame, SourceSpec
from facelens.live.synth import Actor, render, write_video


@pytest.fixture(scope="module")
def gallery(engine, faces_dev, tmp_path_factory):
    g = Gallery.open(tmp_path_factory.mktemp("g") / "gallery.db", engine.model_id, engine.dim)
    for name, folder in [("Raj", "bbt_raj"), ("Amy", "bbt_amy")]:
        results = prepare_photos(engine, sorted((faces_dev / "people" / folder).iterdir())[1:4])
        g.enrol(name, np.stack([r.embedding for r in results if r.ok]))
    yield g
    g.close()


def photo(faces_dev, folder):
    return Actor.from_file(sorted((faces_dev / "people" / folder).iterdir())[0]).image


def run_frames(recogniser, frames):
    scene = None
    for i, image in enumerate(frames):
        scene = recogniser.process(Frame(i, time.monotonic(), image))
    return scene


def test_states_recognised_blurry_small(engine, gallery, faces_dev):
    raj = photo(faces_dev, "bbt_raj")
    frame = next(render([Actor(raj, "Raj")], 0.1, face_px=140))[0]
    scene = run_frames(Recogniser(engine, lambda: gallery, LiveConfig(0.5)), [frame] * 3)
    (face,) = scene.faces
    assert face.state == RECOGNISED and face.name == "Raj" and face.label.startswith("Raj 0.")
    blurred = cv2.GaussianBlur(frame, (0, 0), 5)  # out of focus: found, but not judged
    scene = run_frames(Recogniser(engine, lambda: gallery, LiveConfig(0.5)), [blurred] * 3)
    (face,) = scene.faces
    assert face.state == TOO_BLURRY and face.label == "Too blurry" and face.name is None
    small = next(render([Actor(raj, "small")], 0.1, face_px=90))[0]
    scene = run_frames(Recogniser(engine, lambda: gallery, LiveConfig(0.5, min_face=80)),
                       [small] * 2)
    assert [f.state for f in scene.faces] == [TOO_SMALL]


def test_capture_for_enrolment(engine, gallery, faces_dev):
    amy = photo(faces_dev, "bbt_amy")
    frame = next(render([Actor(amy, "Amy")], 0.1, face_px=150))[0]
    recogniser = Recogniser(engine, lambda: gallery, LiveConfig(0.5))
    got = []
    recogniser.request_capture(None, got.append)
    run_frames(recogniser, [frame])
    assert got and got[0].ok, got
    assert got[0].embedding.shape == (engine.dim,) and got[0].thumbnail.shape == (112, 112, 3)
    assert gallery.verify("Amy", got[0].embedding, 0.5).matched


def test_pipeline_on_a_video_file(engine, gallery, faces_dev, tmp_path):
    actors = [Actor(photo(faces_dev, "bbt_raj"), "Raj"), Actor(photo(faces_dev, "bbt_amy"), "Amy"),
              Actor(photo(faces_dev, "bbt_penny"), "stranger", enter=0.5)]
    video = write_video(tmp_path / "v.avi", actors, seconds=4, face_px=140)
    scenes, events = [], []
    pipe = LivePipeline(engine, lambda: gallery, LiveConfig(engine.default_threshold),
                        scenes.append, events.append)
    pipe.start(SourceSpec("file", str(video.path)))
    assert pipe.wait(60)
    assert [e.kind for e in events] == ["opened", "ended", "stopped"]
    ids = [s.frame_id for s in scenes]
    assert ids == sorted(set(ids)) and len(ids) > video.frames // 3
    assert pipe.reader.frames_read == video.frames
    last = scenes[-1]
    labels = sorted(f.name or f.state for f in last.faces)
    assert labels == ["Amy", "Raj", NOT_RECOGNISED]
    assert last.stats.frames_in >= last.stats.frames_processed > 0
    assert all(s.image is not None and s.image.shape == (480, 640, 3) for s in scenes[-3:])


def test_photo_rejections(engine, faces_dev, tmp_path):
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    paths = [sorted((faces_dev / "people" / "bbt_raj").iterdir())[0],
             faces_dev / "nofaces" / "white.png", bad]
    results = prepare_photos(engine, paths)
    assert [r.ok for r in results] == [True, False, False]
    text = rejection_summary(results)
    assert "1 of 3 photos used" in text and "white.png: no face found" in text
    assert "empty.png: empty file" in text


def test_bench_json(capsys):
    assert facelens_main(["bench", "--faces", "1", "--seconds", "2", "--motion", "door",
                          "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (run,) = out["runs"]
    assert run["faces"] == 1
    common = {"fps_in", "fps_labelled", "dropped", "latency_p50_ms", "latency_p95_ms",
              "cpu_percent", "cpu_ms_per_frame", "peak_rss_mb", "face_frames", "iou_mean",
              "iou_ge_05", "named_right", "strangers_named", "frames_all_right",
              "correct_fraction", "boxes_on_nothing"}
    assert set(run["naive"]) == common
    assert set(run["pipeline"]) == common | {"detections_per_s", "detection_age_p95_ms"}
    for loop in ("pipeline", "naive"):
        assert run[loop]["fps_in"] > 0 and run[loop]["peak_rss_mb"] > 0


def test_image_folder_slideshow_labels_each_picture(engine, gallery, faces_dev, tmp_path):
    folder = tmp_path / "slides"
    folder.mkdir()
    for i, (who, label) in enumerate([("bbt_amy", "Amy"), ("bbt_raj", "Raj"),
                                       ("bbt_penny", "stranger")]):
        frame = next(render([Actor(photo(faces_dev, who), label)], 0.1, face_px=150))[0]
        cv2.imwrite(str(folder / f"{i}.png"), frame)
    scenes, events = [], []
    pipe = LivePipeline(engine, lambda: gallery, LiveConfig(engine.default_threshold),
                        scenes.append, events.append, slideshow_interval=0.3)
    pipe.start(SourceSpec("folder", str(folder)))
    assert pipe.wait(60)
    assert [[f.name or f.state for f in s.faces] for s in scenes] == \
        [["Amy"], ["Raj"], [NOT_RECOGNISED]]
    assert events[-2].kind == "ended"
