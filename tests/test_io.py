"""redactor.io: safe loading (orientation, modes, bad files, bombs) and metadata-free writing.

Every image is generated here. Metadata checks read the outputs back with exiftool, which is a
test dependency (Debian: libimage-exiftool-perl): without it these tests fail, never skip,
because "the output carries no metadata" is a promise to the people in the photos.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin

from redactor import io as rio
from redactor.errors import ImageError, ImageTooLargeError, UnreadableImageError
from redactor.io import OUTPUT_SUFFIX, Source, encode, load, write_atomic

MARK = "MARKq7"  # planted in every metadata field of the inputs; must not survive
ExifTool = Callable[[Path], dict[str, Any]]
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# ---------------------------------------------------------------- helpers


def _pattern(h: int = 48, w: int = 64) -> np.ndarray:
    """Asymmetric blocky RGB test image (8-px blocks survive JPEG well)."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx // 8) * 255 // max(1, (w - 1) // 8), (yy // 8) * 255 // max(1, (h - 1) // 8),
                    ((xx // 8 + yy // 8) % 2) * 200], axis=2).astype(np.uint8)
    rgb[:8, :16] = (255, 255, 0)  # a marker that distinguishes every flip and rotation
    return rgb


def _save(im: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _exif() -> Image.Exif:
    ex = Image.Exif()
    ex[0x010F] = MARK + "make"
    ex[0x0110] = MARK + "model"
    ex[0x010E] = MARK + "description"
    gps = ex.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (22.0, 18.0, 0.0), "E", (114.0, 10.0, 0.0)
    ex.get_ifd(0x8769)[0x927C] = (MARK + "makernote").encode()
    return ex


@pytest.fixture(scope="session")
def exiftool() -> ExifTool:
    exe = shutil.which("exiftool")
    if exe is None:
        pytest.fail("exiftool is needed to verify metadata stripping: apt-get install libimage-exiftool-perl")

    def read(path: Path) -> dict[str, Any]:
        cmd = [exe, "-j", "-a", "-G0:1", str(path)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        tags: dict[str, Any] = json.loads(out.stdout)[0]
        return tags

    return read


def _exiftool_write(path: Path, *args: str) -> None:
    exe = shutil.which("exiftool")
    assert exe is not None, "exiftool is required: apt-get install libimage-exiftool-perl"
    subprocess.run([exe, "-overwrite_original", *args, str(path)], check=True, capture_output=True)


_FORBIDDEN_G0 = ("EXIF", "XMP", "IPTC", "MakerNotes", "Photoshop")
_FORBIDDEN_TAGS = ("Comment", "UserComment", "ThumbnailImage", "PreviewImage", "Author", "Description")
#: TIFF keeps its image structure in IFD0; anything else there (Make, Artist...) is metadata.
_TIFF_STRUCTURE = {"SubfileType", "ImageWidth", "ImageHeight", "BitsPerSample", "Compression",
                   "PhotometricInterpretation", "StripOffsets", "SamplesPerPixel", "RowsPerStrip",
                   "StripByteCounts", "PlanarConfiguration", "ExtraSamples", "Predictor", "SampleFormat"}


def _assert_clean(tags: dict[str, Any], *, tiff: bool = False) -> None:
    leaks = []
    for key, value in tags.items():
        parts = key.split(":")
        g0, tag = parts[0], parts[-1]
        if MARK in json.dumps(value):
            leaks.append(key)
        elif tiff and key.startswith("EXIF:IFD0:"):
            if tag not in _TIFF_STRUCTURE:
                leaks.append(key)
        elif g0 in _FORBIDDEN_G0 or "GPS" in key or tag in _FORBIDDEN_TAGS:
            leaks.append(key)
    assert not leaks, f"metadata survived: {leaks}"


def _has_icc(tags: dict[str, Any]) -> bool:
    return any(k.startswith("ICC_Profile:") for k in tags)


def _roundtrip(src: Path, tmp_path: Path) -> tuple[Path, rio.Loaded]:
    loaded = load(src)
    out = tmp_path / ("out" + OUTPUT_SUFFIX[loaded.source.format])
    write_atomic(out, encode(loaded.rgb, loaded.alpha, loaded.source))
    return out, loaded


# ---------------------------------------------------------------- metadata stripping


def test_jpeg_metadata_stripped_icc_kept(tmp_path: Path, exiftool: ExifTool) -> None:
    src = tmp_path / "in.jpg"
    src.write_bytes(_save(Image.fromarray(_pattern()), "JPEG", exif=_exif(), icc_profile=SRGB,
                          comment=(MARK + "comment").encode()))
    thumb = tmp_path / "thumb.jpg"
    thumb.write_bytes(_save(Image.fromarray(_pattern(12, 16)), "JPEG"))
    _exiftool_write(
        src, f"-XMP-dc:Creator={MARK}xmp", f"-IPTC:By-line={MARK}iptc", f"-ThumbnailImage<={thumb}"
    )
    before = exiftool(src)
    for key in ("EXIF:GPS:GPSLatitude", "EXIF:IFD1:ThumbnailImage", "XMP:XMP-dc:Creator", "IPTC:By-line",
                "File:Comment", "EXIF:ExifIFD:MakerNoteUnknownText"):
        assert key in before, f"test input lacks {key}: the check below would prove nothing"

    out, loaded = _roundtrip(src, tmp_path)
    after = exiftool(out)
    _assert_clean(after)
    assert _has_icc(after) and loaded.source.icc_profile == SRGB
    assert MARK.encode() not in out.read_bytes()
    reread = Image.open(out)
    assert reread.format == "JPEG" and "progressive" not in reread.info
    assert JpegImagePlugin.get_sampling(reread) == 2  # 4:2:0


def test_png_text_chunks_and_exif_stripped(tmp_path: Path, exiftool: ExifTool) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", MARK + "tEXt")
    info.add_text("Comment", MARK + "zTXt", zip=True)
    info.add_itxt("Description", MARK + "iTXt", lang="zh-Hant", tkey="說明")
    src = tmp_path / "in.png"
    src.write_bytes(_save(Image.fromarray(_pattern()), "PNG", pnginfo=info, exif=_exif(), icc_profile=SRGB))
    _exiftool_write(src, f"-XMP-dc:Creator={MARK}xmp")
    before = exiftool(src)
    assert "EXIF:GPS:GPSLatitude" in before and "XMP:XMP-dc:Creator" in before
    assert sum(MARK in json.dumps(v) for v in before.values()) >= 6

    out, loaded = _roundtrip(src, tmp_path)
    after = exiftool(out)
    _assert_clean(after)
    assert _has_icc(after)
    assert MARK.encode() not in out.read_bytes()
    np.testing.assert_array_equal(np.array(Image.open(out).convert("RGB")), _pattern())  # lossless


def test_webp_metadata_stripped(tmp_path: Path, exiftool: ExifTool) -> None:
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="{MARK}xmp"/>'
           "</rdf:RDF></x:xmpmeta>")
    src = tmp_path / "in.webp"
    src.write_bytes(_save(Image.fromarray(_pattern()), "WEBP", exif=_exif(), xmp=xmp, icc_profile=SRGB))
    before = exiftool(src)
    assert "EXIF:GPS:GPSLatitude" in before and any(k.startswith("XMP:") for k in before)

    out, loaded = _roundtrip(src, tmp_path)
    assert out.suffix == ".webp" and Image.open(out).format == "WEBP"
    after = exiftool(out)
    _assert_clean(after)
    assert _has_icc(after)
    assert MARK.encode() not in out.read_bytes()


def test_tiff_descriptive_tags_stripped(tmp_path: Path, exiftool: ExifTool) -> None:
    src = tmp_path / "in.tif"
    src.write_bytes(_save(Image.fromarray(_pattern()), "TIFF", tiffinfo=_exif(), icc_profile=SRGB))
    assert "EXIF:IFD0:Make" in exiftool(src)
    out, _ = _roundtrip(src, tmp_path)
    assert out.suffix == ".tif"
    after = exiftool(out)
    _assert_clean(after, tiff=True)
    assert _has_icc(after)
    np.testing.assert_array_equal(np.array(Image.open(out)), _pattern())


def test_heic_metadata_thumbnails_stripped(tmp_path: Path, exiftool: ExifTool) -> None:
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="{MARK}xmp"/>'
           "</rdf:RDF></x:xmpmeta>").encode()
    ex = _exif()
    ex[0x0112] = 6
    src = tmp_path / "in.heic"
    Image.fromarray(_pattern()).save(
        src, format="HEIF", exif=ex.tobytes(), xmp=xmp, quality=95, thumbnails=[16]
    )
    heif_in = pillow_heif.open_heif(src)
    assert heif_in.info["thumbnails"] and heif_in.info["xmp"] and heif_in.info["exif"]

    out, loaded = _roundtrip(src, tmp_path)
    assert loaded.source.format == "HEIF" and loaded.source.orientation == 6
    assert loaded.rgb.shape == (64, 48, 3)  # rotated once by pillow-heif, not twice
    upright = np.rot90(_pattern(), -1)
    assert np.abs(loaded.rgb.astype(int) - upright).mean() < 12
    assert out.suffix == ".heic"
    after = exiftool(out)
    _assert_clean(after)
    assert "QuickTime:Rotation" not in after
    heif_out = pillow_heif.open_heif(out)
    assert len(heif_out) == 1
    assert heif_out.info["thumbnails"] == [] and heif_out.info["depth_images"] == []
    assert heif_out.info["aux"] == {} and not heif_out.info.get("exif") and not heif_out.info.get("xmp")
    assert MARK.encode() not in out.read_bytes()


# ---------------------------------------------------------------- orientation

# Display transform for each EXIF orientation, written from the EXIF spec's row/column
# description (not from the code under test); the inverse makes the stored pixels.
_DISPLAY: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: np.fliplr, 3: lambda a: np.rot90(a, 2), 4: np.flipud,
    5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a.transpose(1, 0, 2), 2), 8: lambda a: np.rot90(a, 1),
}
_STORE: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    **_DISPLAY, 6: lambda a: np.rot90(a, 1), 8: lambda a: np.rot90(a, -1),
}


@pytest.mark.parametrize("orientation", range(2, 9))
def test_orientation_applied_exactly_png(orientation: int) -> None:
    upright = _pattern(24, 40)
    stored = np.ascontiguousarray(_STORE[orientation](upright))
    np.testing.assert_array_equal(_DISPLAY[orientation](stored), upright)  # the test's own tables agree
    ex = Image.Exif()
    ex[0x0112] = orientation
    loaded = load(_save(Image.fromarray(stored), "PNG", exif=ex))
    np.testing.assert_array_equal(loaded.rgb, upright)
    assert loaded.source.orientation == orientation
    assert (loaded.source.width, loaded.source.height) == (40, 24)


@pytest.mark.parametrize("orientation", range(2, 9))
def test_orientation_applied_jpeg(orientation: int) -> None:
    upright = _pattern(48, 64)
    ex = Image.Exif()
    ex[0x0112] = orientation
    stored = Image.fromarray(np.ascontiguousarray(_STORE[orientation](upright)))
    loaded = load(_save(stored, "JPEG", quality=95, subsampling=0, exif=ex))
    assert loaded.rgb.shape == upright.shape
    assert np.abs(loaded.rgb.astype(int) - upright).mean() < 3  # a wrong transform scores ~90
    assert loaded.source.orientation == orientation


def test_corrupt_exif_still_loads() -> None:
    garbage = b"Exif\x00\x00" + b"\xff\x13garbage-not-a-tiff-header" * 3
    loaded = load(_save(Image.fromarray(_pattern()), "JPEG", exif=garbage))
    assert loaded.source.orientation == 1 and loaded.rgb.shape == (48, 64, 3)


def test_truncated_exif_orientation_still_read() -> None:
    # IFD claims 5 entries, holds one (Orientation=6): the readable tag is honoured.
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow: "Corrupt EXIF data"
        loaded = load(_save(Image.fromarray(_pattern()), "JPEG", exif=exif))
    assert loaded.source.orientation == 6 and loaded.rgb.shape == (64, 48, 3)


# ---------------------------------------------------------------- pixel modes


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # pure red in CMYK
    loaded = load(_save(cmyk, "JPEG", quality=95))
    assert loaded.source.format == "JPEG" and loaded.rgb.shape == (8, 16, 3)
    assert np.abs(loaded.rgb.astype(int) - (255, 0, 0)).max() < 8


def test_non_rgb_icc_profile_is_not_passed_on() -> None:
    fake_cmyk_icc = bytes(16) + b"CMYK" + bytes(108)  # unparseable, but declares CMYK
    loaded = load(_save(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", icc_profile=fake_cmyk_icc))
    assert loaded.source.icc_profile is None
    assert loaded.rgb.min() > 240  # no ink = white


def test_16bit_grey_png_scaled_not_clipped() -> None:
    wide = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    loaded = load(_save(Image.fromarray(wide), "PNG"))
    expected = (wide >> 8).astype(np.uint8)
    for c in range(3):
        np.testing.assert_array_equal(loaded.rgb[:, :, c], expected)
    assert loaded.alpha is None


def test_grey_and_1bit_png() -> None:
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (4, 1))
    loaded = load(_save(Image.fromarray(grey, "L"), "PNG"))
    np.testing.assert_array_equal(loaded.rgb, np.repeat(grey[:, :, None], 3, axis=2))
    bits = Image.fromarray(np.eye(8, dtype=bool))
    np.testing.assert_array_equal(load(_save(bits, "PNG")).rgb[:, :, 1], np.eye(8, dtype=np.uint8) * 255)


def test_palette_png_with_transparency() -> None:
    pal = Image.new("P", (6, 4), 1)
    pal.putpalette([0, 0, 0, 200, 10, 30] + [0] * 762)
    pal.putpixel((0, 0), 0)
    loaded = load(_save(pal, "PNG", transparency=0))
    assert loaded.alpha is not None
    assert loaded.alpha[0, 0] == 0 and (loaded.alpha.ravel()[1:] == 255).all()
    assert tuple(loaded.rgb[2, 3]) == (200, 10, 30)


def test_rgba_png_alpha_kept_through_encode() -> None:
    rgba = np.dstack([_pattern(), np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    loaded = load(_save(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert loaded.alpha is not None
    np.testing.assert_array_equal(loaded.alpha, rgba[:, :, 3])
    back = Image.open(io.BytesIO(encode(loaded.rgb, loaded.alpha, loaded.source)))
    assert back.mode == "RGBA"
    np.testing.assert_array_equal(np.array(back), rgba)


# ---------------------------------------------------------------- bad inputs


def _png_header_only(width: int, height: int) -> bytes:
    """A ~60-byte PNG whose header claims width x height (the pixel data is 1 byte)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(100_000, 100_000))  # 30 GB of RGB if decoded
    def decoded(self: Image.Image) -> None:  # refused from the header: never decoded
        raise AssertionError(f"{bomb} was decoded")

    monkeypatch.setattr(Image.Image, "load", decoded)
    with pytest.raises(ImageTooLargeError) as err:
        load(bomb)
    msg = str(err.value)
    assert str(bomb) in msg and "100000x100000" in msg and "120,000,000" in msg and "--max-pixels" in msg


def test_max_pixels_is_the_limit_not_pillows_global(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _save(Image.fromarray(_pattern()), "PNG")  # 3072 pixels
    with pytest.raises(ImageTooLargeError, match="3,000"):
        load(data, max_pixels=3000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow alone would refuse (> 2 x 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no DecompressionBombWarning either
        assert load(data).rgb.shape == (48, 64, 3)
    assert Image.MAX_IMAGE_PIXELS == 100  # restored


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableImageError, match=r"empty\.jpg.*empty \(0 bytes\)"):
        load(empty)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_refused(tmp_path: Path, fmt: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = _save(Image.fromarray(noise), fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UnreadableImageError) as err:
        load(path)
    assert str(path) in str(err.value) and "truncated" in str(err.value)


def test_text_named_jpg(tmp_path: Path) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image at all\n")
    with pytest.raises(UnreadableImageError, match=r"notes\.jpg: not a recognised image.*convert"):
        load(fake)


def test_valid_png_with_jpg_extension_loads(tmp_path: Path) -> None:
    path = tmp_path / "actually_png.jpg"
    path.write_bytes(_save(Image.fromarray(_pattern()), "PNG"))
    loaded = load(path)
    assert loaded.source.format == "PNG" and OUTPUT_SUFFIX[loaded.source.format] == ".png"
    np.testing.assert_array_equal(loaded.rgb, _pattern())


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableImageError, match="no such file"):
        load(tmp_path / "nope.jpg")
    with pytest.raises(UnreadableImageError, match="is a directory"):
        load(tmp_path)


def test_unreadable_permissions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(_save(Image.fromarray(_pattern()), "PNG"))
    path.chmod(0)
    if os.geteuid() == 0:
        # root reads mode-000 files, so make the read fail the way it does for other users.
        def denied(self: Path) -> bytes:
            raise PermissionError(13, "Permission denied", str(self))
        monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(UnreadableImageError, match=r"locked\.png: permission denied"):
        load(path)


@pytest.mark.parametrize("fmt", ["TIFF", "GIF", "WEBP", "PNG"])
def test_multi_frame_refused(fmt: str) -> None:
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (0, 120, 240)]
    data = _save(frames[0], fmt, save_all=True, append_images=frames[1:])
    with pytest.raises(UnreadableImageError, match="has 3 frames.*split the frames") as err:
        load(data)
    assert f"magick in.{fmt.lower()} " in str(err.value)  # the example names this format, not GIF


def test_mpo_reads_primary_image_as_jpeg() -> None:
    first, second = Image.fromarray(_pattern()), Image.new("RGB", (64, 48), (0, 0, 255))
    data = _save(first, "MPO", save_all=True, append_images=[second], quality=95, subsampling=0)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    loaded = load(data)
    assert loaded.source.format == "JPEG"
    assert np.abs(loaded.rgb.astype(int) - _pattern()).mean() < 3


def test_errors_are_image_errors() -> None:
    with pytest.raises(ImageError):
        load(b"\x00" * 10)


# ---------------------------------------------------------------- arrays and PIL images


def test_array_input_is_copied_not_viewed() -> None:
    rgba = np.dstack([_pattern(), np.full((48, 64), 7, np.uint8)])
    view = rgba[:, ::-1]  # non-contiguous
    before = view.copy()
    loaded = load(view)
    loaded.rgb[:] = 0
    np.testing.assert_array_equal(view, before)
    assert not np.shares_memory(loaded.rgb, rgba) and loaded.rgb.flags.c_contiguous
    assert loaded.alpha is not None and not np.shares_memory(loaded.alpha, rgba) and loaded.alpha[0, 0] == 7
    assert loaded.source == Source("<array>", "PNG", 64, 48, None, None, 1)


def test_rgb_array_is_copied() -> None:
    rgb = _pattern()
    loaded = load(rgb)
    assert not np.shares_memory(loaded.rgb, rgb)
    np.testing.assert_array_equal(loaded.rgb, rgb)
    grey = load(rgb[:, :, 0])
    np.testing.assert_array_equal(grey.rgb[:, :, 2], rgb[:, :, 0])


@pytest.mark.parametrize("bad, hint", [
    (np.zeros((4, 4, 3), np.float32), "floats in 0..1"),
    (np.zeros((4, 4, 3), np.uint16), "a >> 8"),  # 16-bit pixels: no hint about floats
    (np.zeros((4, 4, 3), np.int32), "np.clip(a, 0, 255)"),
])
def test_array_wrong_dtype(bad: np.ndarray, hint: str) -> None:
    with pytest.raises(UnreadableImageError, match="expected uint8") as err:
        load(bad)
    assert hint in str(err.value)


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 5, 3), (5, 0), (3, 0, 4)])
def test_empty_array_is_refused_naming_its_shape(shape) -> None:
    with pytest.raises(UnreadableImageError, match="holds no pixels") as err:
        load(np.zeros(shape, np.uint8))
    assert f"shape {shape}" in str(err.value)


def test_array_wrong_shape() -> None:
    with pytest.raises(UnreadableImageError, match="shape"):
        load(np.zeros((4, 4, 2), np.uint8))


def test_pil_image_input() -> None:
    im = Image.new("LA", (5, 3), (90, 128))
    loaded = load(im)
    assert loaded.source.name == "<PIL image>" and loaded.source.format == "PNG"
    assert loaded.source.sha256 is None
    assert (loaded.rgb == 90).all() and loaded.alpha is not None and (loaded.alpha == 128).all()
    assert im.mode == "LA" and im.size == (5, 3)


def test_sha256_is_of_the_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    data = _save(Image.fromarray(_pattern()), "PNG")
    path.write_bytes(data)
    assert load(path).source.sha256 == hashlib.sha256(data).hexdigest() == load(data).source.sha256
    assert load(data).source.name == "<bytes>"


# ---------------------------------------------------------------- encode formats


@pytest.mark.parametrize(("fmt", "expected"), [
    ("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WEBP"), ("TIFF", "TIFF"),
    ("BMP", "BMP"), ("GIF", "PNG"), ("HEIF", "HEIF"),
])
def test_output_format_and_suffix(fmt: str, expected: str) -> None:
    loaded = load(_save(Image.fromarray(_pattern()), fmt))
    assert loaded.source.format == fmt
    out = Image.open(io.BytesIO(encode(loaded.rgb, loaded.alpha, loaded.source)))
    assert out.format == expected
    assert Image.registered_extensions()[OUTPUT_SUFFIX[fmt]] == expected


def test_array_encodes_as_png_and_rejects_bad_input() -> None:
    loaded = load(_pattern())
    assert Image.open(io.BytesIO(encode(loaded.rgb, None, loaded.source))).format == "PNG"
    with pytest.raises(ValueError, match="uint8"):
        encode(loaded.rgb.astype(np.float32), None, loaded.source)
    jpeg_source = load(_save(Image.fromarray(_pattern()), "JPEG")).source
    with pytest.raises(ValueError, match="alpha"):
        encode(loaded.rgb, np.zeros((48, 64), np.uint8), jpeg_source)


# ---------------------------------------------------------------- write_atomic


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_write_atomic_creates_parents_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.jpg"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert _leftovers(target.parent) == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_atomic_failure_keeps_old_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    seen: list[str] = []

    def broken_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        name = Path(src).name
        seen.append(name)
        assert Path(src).exists() and name.startswith(".out.png.") and name.endswith(".tmp")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new")
    assert seen, "os.replace was never reached"
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_a_16bit_input_says_so_and_loads_scaled_to_8_bits(tmp_path: Path, suffix: str, channels: int) -> None:
    """Pillow opens a 16-bit RGB(A) PNG or TIFF as 8-bit RGB without a word: Source.bits keeps
    what the file stored, so the report can say the output has fewer bits than the input."""
    import cv2

    rng = np.random.default_rng(channels)
    wide = rng.integers(0, 65536, (12, 20, channels) if channels > 1 else (12, 20), dtype=np.uint16)
    path = tmp_path / f"deep{suffix}"
    assert cv2.imwrite(str(path), wide)
    loaded = load(path)
    assert loaded.source.bits == 16
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape == (12, 20, 3)
    top = (wide >> 8).astype(np.int16)  # what the 8-bit pixels hold: the top 8 bits (±1 where rounded)
    grey = top if channels == 1 else top[:, :, 2]  # cv2 stores BGR: R is its channel 2
    assert np.abs(loaded.rgb[:, :, 0].astype(np.int16) - grey).max() <= 1
    narrow = tmp_path / f"narrow{suffix}"
    assert cv2.imwrite(str(narrow), (wide >> 8).astype(np.uint8))
    assert load(narrow).source.bits == 8


def test_in_memory_inputs_are_8_bits() -> None:
    assert load(np.zeros((4, 4, 3), np.uint8)).source.bits == 8
    assert load(Image.new("RGB", (4, 4))).source.bits == 8
