"""Checking that bytes are a real photo, and reading what it says (Pillow).

The file is decoded, not just sniffed: a JPEG/PNG/WebP header on anything
else, or a truncated image, fails here. The pixel count is checked from the
header before decoding, so a decompression bomb is refused without being
expanded. No Flask, no database.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_PX = 320
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME, DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x0132, 0x9003, 0x9011


class ImageRejected(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ImageInfo:
    content_type: str
    width: int
    height: int
    exif_lat: float | None
    exif_lon: float | None
    exif_taken_at: str | None
    thumbnail: bytes


def inspect(path: Path | IO[bytes], max_pixels: int, thumbnail: bool = True) -> ImageInfo:
    """Decode ``path`` (a file name or a readable binary file); raises :class:`ImageRejected` unless it is a usable photo.

    With ``thumbnail=False`` the thumbnail is left to :func:`make_thumbnail` (a job) and ``ImageInfo.thumbnail`` is empty.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in FORMATS:
                    raise ImageRejected(f"{image.format or 'This'} is not an accepted format (JPEG, PNG, WebP).",
                                        "not_an_image")
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRejected(f"The image has {width}×{height} pixels; at most {max_pixels} are accepted.",
                                        "too_many_pixels")
                exif = image.getexif()
                content_type = FORMATS[image.format]
                image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))  # JPEG: decode scaled down
                image.load()  # the whole stream: a corrupt or cut-off file fails here
                small = _thumbnail(image) if thumbnail else b""
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("The image has too many pixels.", "too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"The bytes are not a readable JPEG, PNG or WebP image ({exc.__class__.__name__}).",
                            "not_an_image") from None
    lat, lon = gps_point(exif)
    return ImageInfo(content_type, width, height, lat, lon, taken_at(exif), small)


def make_thumbnail(source: IO[bytes]) -> bytes:
    """The JPEG thumbnail of a photo already checked by :func:`inspect`."""
    with Image.open(source) as image:
        image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))
        image.load()
        return _thumbnail(image)


def _thumbnail(image: Image.Image) -> bytes:
    small = ImageOps.exif_transpose(image) or image
    small = small.convert("RGB")
    small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _degrees(value: Any) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return d + m / 60 + s / 3600


def gps_point(exif: Image.Exif) -> tuple[float | None, float | None]:
    """Decimal degrees from the EXIF GPS block, or (None, None)."""
    try:
        gps = exif.get_ifd(GPS_IFD)
    except Exception:  # a malformed GPS block is just no GPS
        return None, None
    lat, lon = _degrees(gps.get(2)), _degrees(gps.get(4))
    if lat is None or lon is None:
        return None, None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return round(lat, 7), round(lon, 7)


def taken_at(exif: Image.Exif) -> str | None:
    """The capture time as ISO 8601 (with the offset when the camera wrote one)."""
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:
        sub = {}
    raw = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not isinstance(raw, str) or len(raw) < 19:
        return None
    value = raw[:10].replace(":", "-") + "T" + raw[11:19]
    offset = sub.get(OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str) and len(offset) == 6:
        value += offset
    return value[:40]
