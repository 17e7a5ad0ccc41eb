"""Reading odd and hostile image files: sizes refused before decoding, strips, depths, alpha,
and the tight-crop retry of still-photo detection kept to photos shaped like a crop."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from facelens.errors import ImageError
from facelens.images import LOAD_PIXELS, MAX_PIXELS, load_image, to_bgr8


def _jpeg_declaring(path, width: int, height: int, photo: np.ndarray) -> None:
    """A real JPEG of `photo` whose frame header is patched to declare width x height."""
    data = bytearray(cv2.imencode(".jpg", photo)[1].tobytes())
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_bomb(path, width: int, height: int) -> None:
    """A valid greyscale PNG of zeros, width x height: about 1 KB per megapixel on disk."""
    co = zlib.compressobj(9)
    rows = b"\0" * ((width + 1) * 64)
    body = b"".join(co.compress(rows) for _ in range(height // 64)) + co.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + _chunk(b"IDAT", body) + _chunk(b"IEND", b""))


@pytest.fixture
def amy(faces_dev) -> np.ndarray:
    return cv2.imread(str(faces_dev / "people" / "bbt_amy" / "1.png"))


@pytest.mark.parametrize("width,height", [(65535, 65535), (30000, 30000), (12000, 9000)])
def test_jpeg_declaring_a_huge_size_is_refused_with_its_size(tmp_path, amy, width, height):
    # Before: 65535x65535 raised a bare cv2.error; 30000x30000 took 35-59 s and gigabytes.
    path = tmp_path / "declares_huge.jpg"
    _jpeg_declaring(path, width, height, amy)
    with pytest.raises(ImageError) as err:
        load_image(path)
    text = str(err.value)
    assert str(path) in text and "scale" in text
    assert f"{MAX_PIXELS // 10**6} MP" in text
    if width * height < 178_956_970:  # below Pillow's own refusal the size is named
        assert f"{width}x{height}" in text
    else:
        assert f"{width * height / 1e6:.0f} MP" in text


def test_png_bomb_is_refused_before_it_is_decoded(tmp_path):
    path = tmp_path / "bomb.png"
    _png_bomb(path, 12032, 12032)  # 145 MP of zeros in ~150 KB
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ImageError, match="12032x12032 pixels"):
        load_image(path)


@pytest.mark.parametrize("ext", ["jpg", "png"])
def test_photo_just_within_the_limit_is_read_scaled_down(tmp_path, engine, amy, ext):
    padded = cv2.copyMakeBorder(amy, 75, 75, 75, 75, cv2.BORDER_REPLICATE)
    big = cv2.resize(padded, (10000, 8000), interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(str(tmp_path / f"big.{ext}"), big)
    img = load_image(tmp_path / f"big.{ext}")
    h, w = img.shape[:2]
    assert h * w <= LOAD_PIXELS and abs(w / h - 1.25) < 0.01
    assert len(engine.detect_photo(img)) == 1


@pytest.mark.parametrize("shape", [(1, 20000), (20000, 1), (1, 1), (3, 5000)])
def test_strips_are_read_and_hold_no_face(tmp_path, engine, shape):
    # Before: cv2.error "inv_scale_x > 0" in resize, which ended the whole CLI call.
    path = tmp_path / "strip.png"
    cv2.imwrite(str(path), np.full((*shape, 3), 128, np.uint8))
    img = load_image(path)
    assert img.shape == (*shape, 3)
    assert engine.detect_photo(img) == []
    assert engine.analyze_photo(img) == []


def test_alpha_is_composited_on_white_at_8_and_16_bits(tmp_path):
    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., :3] = (0, 100, 200)
    bgra[0, :, 3] = 0  # transparent row: white
    bgra[1, :, 3] = 255  # opaque row: the colour
    bgra[2:, :, 3] = 128  # half way
    for name, img in (("a8.png", bgra), ("a16.png", bgra.astype(np.uint16) * 257)):
        cv2.imwrite(str(tmp_path / name), img)
        out = load_image(tmp_path / name)
        assert out.dtype == np.uint8 and out.shape == (4, 4, 3)
        assert (out[0] == 255).all(), name
        assert (out[1] == (0, 100, 200)).all(), name
        assert np.abs(out[2].astype(int) - (127, 177, 227)).max() <= 1, name


def test_depths_and_channels_become_8_bit_bgr():
    assert (to_bgr8(np.full((2, 2), 65535, np.uint16)) == 255).all()
    assert (to_bgr8(np.full((2, 2, 3), 0.5, np.float32)) == 128).all()
    assert (to_bgr8(np.full((2, 2, 1), -5.0, np.float64)) == 0).all()  # not mirrored to 5
    assert (to_bgr8(np.full((2, 2, 2), (40, 255), np.uint8)) == 40).all()  # grey + alpha


def test_sixteen_bit_photo_keeps_its_face(tmp_path, engine, amy):
    padded = cv2.copyMakeBorder(amy, 75, 75, 75, 75, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    cv2.imwrite(str(tmp_path / "p16.png"), padded.astype(np.uint16) * 257)
    img = load_image(tmp_path / "p16.png")
    assert np.abs(img.astype(int) - padded).max() <= 1
    assert len(engine.detect_photo(img)) == 1


class _Recording:
    """The real detector, recording each call's image shape and minimum face size."""

    def __init__(self, detector):
        self.detector, self.calls = detector, []

    def detect(self, bgr, min_face=40):
        self.calls.append((bgr.shape[:2], min_face))
        return self.detector.detect(bgr, min_face)


@pytest.fixture
def recording(engine):
    real = engine.detector
    engine.detector = _Recording(real)
    yield engine.detector
    engine.detector = real


def test_large_photo_without_a_face_is_not_searched_again_for_small_faces(
        recording, engine, faces_dev):
    # Before: the retry padded a 4000x3000 photo to 3200x2800 and searched it for 12 px faces
    # (about 22 s); now the retry looks only for a face filling the photo.
    photo = cv2.resize(cv2.imread(str(faces_dev / "nofaces" / "giraffe.jpg")), (4000, 3000))
    assert engine.detect_photo(photo) == []
    (first, _), (padded, retry_min) = recording.calls
    assert first == (1200, 1600)
    assert padded == (2800, 3200) and retry_min >= 600


def test_strip_is_not_retried_as_a_tight_crop(recording, engine):
    assert engine.detect_photo(np.full((40, 4000, 3), 128, np.uint8)) == []
    assert len(recording.calls) == 1


def test_tight_crop_is_still_found_through_the_retry(recording, engine, faces_dev):
    # john_savage/11.jpg (150x150) is found only with a border added
    faces = engine.detect_photo(load_image(faces_dev / "people" / "john_savage" / "11.jpg"))
    assert len(faces) == 1 and len(recording.calls) == 2
    x1, y1, x2, y2 = faces[0].box
    assert -40 < x1 < x2 < 190 and -40 < y1 < y2 < 190  # back in the photo's coordinates


def test_enrol_from_files_gives_every_hostile_file_a_reason(tmp_path, engine, amy):
    # the GUI's photo preparation: before, the strip's cv2.error ended the whole batch
    cv2.imwrite(str(tmp_path / "strip.png"), np.full((1, 20000, 3), 99, np.uint8))
    _jpeg_declaring(tmp_path / "declares_huge.jpg", 30000, 30000, amy)
    (tmp_path / "text.jpg").write_text("not an image")
    good = cv2.copyMakeBorder(amy, 75, 75, 75, 75, cv2.BORDER_REPLICATE)
    cv2.imwrite(str(tmp_path / "good.png"), good)
    from facelens.live.photos import prepare_photos

    names = ["strip.png", "declares_huge.jpg", "text.jpg", "good.png"]
    results = prepare_photos(engine, [tmp_path / n for n in names])
    reasons = {r.path.name: r.reason for r in results}
    assert reasons["strip.png"] == "no face found"
    assert "900 MP" in reasons["declares_huge.jpg"]
    assert "not a readable image" in reasons["text.jpg"]
    assert reasons["good.png"] is None
