"""A third source kind plugs into the recipe layout (as the URL downloader does).

The test registers a fetcher that hands back a zip it made of the built `lite` ONNX files,
with a recipe whose files are used as published (``"build": "copy"``) and pinned by sha256.
"""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from facelens.engine.recognizer import FaceEngine
from facelens.errors import ModelPackError
from facelens.modelpack import pack as pack_mod
from facelens.modelpack import sources
from facelens.modelpack.pack import build_pack, source_manifest


@pytest.fixture
def zipped_pack(engine, tmp_path, monkeypatch):
    lite = source_manifest("lite")
    archive = tmp_path / "served" / "lite-onnx.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for spec in lite["models"].values():
            zf.write(engine.pack.dir / spec["onnx"], f"onnx/{spec['onnx']}")
    models = {role: {"member": f"onnx/{spec['onnx']}", "member_sha256": spec["sha256"],
                     "build": "copy", "onnx": spec["onnx"], "sha256": spec["sha256"]}
              for role, spec in lite["models"].items()}
    recipe = {**lite, "name": "zipped", "models": models,
              "source": {"kind": "testzip", "url": str(archive), "licence": "as lite",
                         "commercial_use": False}}
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "zipped.json").write_text(json.dumps(recipe))
    monkeypatch.setattr(pack_mod, "MANIFESTS", manifests)

    def fetch(src, cache, progress):
        cache.mkdir(parents=True, exist_ok=True)
        return shutil.copy(src["url"], cache / "lite-onnx.zip")

    monkeypatch.setitem(sources.SOURCES, "testzip", fetch)
    return tmp_path / "models"


def test_a_registered_source_kind_builds_a_working_pack(zipped_pack, engine, t1_photo):
    pack = build_pack("zipped", home=zipped_pack)
    other = FaceEngine(pack, "cpu")
    faces = other.analyze_photo(t1_photo)
    ref = engine.analyze_photo(t1_photo)
    assert len(faces) == len(ref) == 6
    assert np.allclose(np.stack([f.embedding for f in faces]),
                       np.stack([f.embedding for f in ref]), atol=1e-5)


def test_an_unknown_source_kind_is_named(zipped_pack, monkeypatch):
    monkeypatch.delitem(sources.SOURCES, "testzip")
    with pytest.raises(ModelPackError, match="source kind 'testzip' is unknown"):
        build_pack("zipped", home=zipped_pack)
