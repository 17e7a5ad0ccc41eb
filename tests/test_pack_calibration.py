"""Each pack's threshold is measured by `facelens calibrate --store` and says on what."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from facelens.evaluation import calibrate_pack, calibrated_threshold
from facelens.modelpack.pack import recognition_packs, source_manifest


@pytest.mark.parametrize(("max_impostor", "threshold"),
                         [(0.4456, 0.5), (0.3336, 0.4), (0.35, 0.4), (0.0, 0.05)])
def test_threshold_rule(max_impostor, threshold):
    assert calibrated_threshold(max_impostor) == pytest.approx(threshold)


@pytest.mark.parametrize("name", recognition_packs())
def test_every_pack_carries_its_calibration(name):
    calib = source_manifest(name)["calibration"]
    assert calib["threshold"] == calibrated_threshold(calib["max_impostor"])
    assert "faces-dev" in calib["set"] and calib["impostor_pairs"] > 1000
    assert 0 <= calib["far"] <= calib["far_upper95"] < 0.01
    assert calib["command"].startswith("facelens calibrate ")


@pytest.mark.parametrize("name", ["lite", "standard"])
def test_stored_calibration_is_what_the_dev_set_gives(name, faces_dev):
    from facelens.engine.recognizer import FaceEngine

    engine = FaceEngine.load(name, "cpu")
    measured = calibrate_pack(engine, faces_dev / "people", "../shared/faces-dev/people")
    stored = source_manifest(name)["calibration"]
    for key in ("threshold", "genuine_pairs", "impostor_pairs", "far", "frr"):
        assert measured[key] == pytest.approx(stored[key], abs=1e-3), key
    assert engine.default_threshold == stored["threshold"]


def test_calibrate_names_an_unknown_pack(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "facelens", "calibrate", str(tmp_path),
                           "--pack", "nosuch", "--home", str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    out = proc.stdout + proc.stderr
    assert "model pack 'nosuch': unknown pack" in out and "lite" in out and "standard" in out
    json.dumps(out)
