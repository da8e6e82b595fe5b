"""Uploaded images, for any feature: checked with Pillow, re-encoded without metadata, shrunk, stored.

An upload is read at most to the limit's byte count, opened only as PNG, JPEG or WebP, refused when its
dimensions promise a decompression bomb, turned upright, shrunk to fit a square of `max_side` pixels and
written as a fresh image made from the bare pixels (PNG for PNG uploads, WebP for the rest), so that no EXIF,
GPS, ICC, XMP or text chunk survives. An optional thumbnail is made the same way. Files go under
UPLOAD_DIR/<folder>/ with random names; only files directly in that folder are ever deleted.

    limits = ImageLimits(folder="offerings", max_bytes=5 * 2**20, max_side=1600, thumb_side=400)
    prepared = prepare(upload.stream, limits)        # raises ImageError with a message for the person
    with stored_for_saving([prepared], limits.folder) as [stored]:
        ...  # add rows and commit; the files are removed again if anything here fails

Pillow is imported when an image is opened, not with this module: pages that only show images never load it.
"""
from __future__ import annotations

import io
import os
import secrets
import shutil
import warnings
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _

if TYPE_CHECKING:
    from PIL import Image

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
# More than a phone's 12-megapixel photo needs, and small enough that decoding it takes tens of megabytes of
# memory, not hundreds; checked before the pixels are decoded.
MAX_PIXELS = 16_000_000


class ImageError(ValueError):
    """The upload cannot be used; the message says why, in the visitor's language."""


@dataclass(frozen=True)
class ImageLimits:
    folder: str  # a folder name directly under UPLOAD_DIR, e.g. "offerings"
    max_bytes: int
    max_side: int
    thumb_side: int | None = None
    # A lazy string with %(mb)s for files over max_bytes, when the feature wants its own words.
    too_big_message: object = None


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    extension: str  # "png" or "webp"
    width: int
    height: int
    thumb: bytes | None = None


@dataclass(frozen=True)
class StoredImage:
    path: str  # relative to UPLOAD_DIR, e.g. "offerings/abc.webp"
    thumb_path: str | None
    width: int
    height: int


def _megabytes(max_bytes: int) -> str:
    return format_decimal(round(max_bytes / (1024 * 1024), 2))


def read_limited(stream, limits: ImageLimits) -> bytes:
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        message = limits.too_big_message or _("Plik jest za duży (maksymalnie %(mb)s MB).")
        raise ImageError(str(message) % {"mb": _megabytes(limits.max_bytes)})
    if not data:
        raise ImageError(_("Przesłany plik jest pusty."))
    return data


def open_image(data: bytes) -> Image.Image:
    """Decode PNG, JPEG or WebP only, refusing decompression bombs before their pixels are read."""
    from PIL import Image, UnidentifiedImageError

    not_image = ImageError(_("Ten plik nie jest obrazem PNG, JPEG ani WebP."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(_("Obraz ma zbyt duże wymiary.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_image from None
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ImageError(_("Obraz ma zbyt duże wymiary (%(w)d × %(h)d pikseli).", w=width, h=height))
    try:
        img.load()
    except (OSError, SyntaxError, ValueError):
        raise not_image from None
    return img


def _encode(img: Image.Image, as_png: bool) -> bytes:
    # A new image from the bare pixels carries no EXIF, GPS, ICC, XMP or text chunks.
    from PIL import Image

    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    out = io.BytesIO()
    if as_png:
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def _fit(img: Image.Image, side: int) -> Image.Image:
    from PIL import Image

    copy = img.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


def prepare(stream, limits: ImageLimits) -> PreparedImage:
    """Check an uploaded file and return the image (and thumbnail) to store; raises ImageError."""
    from PIL import ImageOps

    img = open_image(read_limited(stream, limits))
    as_png = img.format == "PNG"
    img = ImageOps.exif_transpose(img)  # keep the picture upright once the orientation tag is gone
    transparent = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    img = img.convert("RGBA" if transparent else "RGB")
    main = _fit(img, limits.max_side)
    thumb = _encode(_fit(img, limits.thumb_side), as_png) if limits.thumb_side else None
    return PreparedImage(_encode(main, as_png), "png" if as_png else "webp", main.width, main.height, thumb)


def folder_path(folder: str) -> str:
    return os.path.join(current_app.config["UPLOAD_DIR"], folder)


def _write(folder: str, name: str, data: bytes) -> str:
    os.makedirs(folder_path(folder), exist_ok=True)
    with open(os.path.join(folder_path(folder), name), "xb") as fh:
        fh.write(data)
    return f"{folder}/{name}"


def store(image: PreparedImage, folder: str) -> StoredImage:
    """Write the image (and its thumbnail) under random names; paths are relative to UPLOAD_DIR."""
    base = secrets.token_urlsafe(16)
    path = _write(folder, f"{base}.{image.extension}", image.data)
    thumb_path = None
    if image.thumb is not None:
        try:
            thumb_path = _write(folder, f"{base}-thumb.{image.extension}", image.thumb)
        except BaseException:
            delete(path, folder)
            raise
    return StoredImage(path, thumb_path, image.width, image.height)


def copy(relative_path: str | None, folder: str) -> str | None:
    """A copy of a stored file under a new random name in the same folder (None if there is nothing to copy)."""
    source = own_file(relative_path, folder)
    if source is None or not os.path.exists(source):
        return None
    extension = os.path.splitext(source)[1]
    name = f"{secrets.token_urlsafe(16)}{extension}"
    shutil.copyfile(source, os.path.join(folder_path(folder), name))
    return f"{folder}/{name}"


@contextmanager
def stored_for_saving(images: Iterable[PreparedImage], folder: str):
    """Write images for the change being saved, and remove them all again if saving fails."""
    stored: list[StoredImage] = []
    try:
        for image in images:
            stored.append(store(image, folder))
        yield stored
    except BaseException:
        for item in stored:
            delete(item.path, folder)
            delete(item.thumb_path, folder)
        raise


def own_file(relative_path: str | None, folder: str) -> str | None:
    """The absolute path of a file directly in `folder`, or None for anything else."""
    if not relative_path:
        return None
    top, _sep, name = relative_path.partition("/")
    if top != folder or not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return os.path.join(folder_path(folder), name)


def delete(relative_path: str | None, folder: str) -> None:
    """Remove a stored file; only files directly in `folder` are ever touched."""
    path = own_file(relative_path, folder)
    if path is None:
        return
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
