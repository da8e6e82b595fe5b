"""PES logos: checked with Pillow, shrunk to fit 400x400 and re-encoded so that no metadata survives.

An upload is read at most to LOGO_MAX_BYTES, opened only as PNG, JPEG or WebP, refused when its
dimensions promise a decompression bomb, and written as a fresh image (PNG for PNG uploads, WebP for
photos) under UPLOAD_DIR/logos/ with a random name.
"""
import io
import os
import secrets
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_SIDE = 400
# Far more than any logo needs; checked before the pixels are decoded.
MAX_PIXELS = 30_000_000
LOGO_FOLDER = "logos"


class LogoError(ValueError):
    """The upload cannot be used as a logo; the message says why, in the visitor's language."""


@dataclass(frozen=True)
class PreparedLogo:
    data: bytes
    extension: str  # "png" or "webp"


def _read_limited(stream, max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LogoError(_("Plik logo jest za duży (maksymalnie %(mb)s MB).",
                          mb=format_decimal(round(max_bytes / (1024 * 1024), 2))))
    if not data:
        raise LogoError(_("Przesłany plik jest pusty."))
    return data


def _open(data: bytes) -> Image.Image:
    not_image = LogoError(_("Ten plik nie jest obrazem PNG, JPEG ani WebP."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise LogoError(_("Obraz ma zbyt duże wymiary.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_image from None
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise LogoError(_("Obraz ma zbyt duże wymiary (%(w)d × %(h)d pikseli).", w=width, h=height))
    try:
        img.load()
    except (OSError, SyntaxError, ValueError):
        raise not_image from None
    return img


def prepare(stream, max_bytes: int) -> PreparedLogo:
    """Check an uploaded file and return the logo to store; raises LogoError with a plain message."""
    img = _open(_read_limited(stream, max_bytes))
    source_format = img.format
    img = ImageOps.exif_transpose(img)  # keep the picture upright once the orientation tag is gone
    transparent = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    img = img.convert("RGBA" if transparent else "RGB")
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image from the bare pixels carries no EXIF, GPS, ICC, XMP or text chunks.
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    out = io.BytesIO()
    if source_format == "PNG":
        clean.save(out, "PNG", optimize=True)
        return PreparedLogo(out.getvalue(), "png")
    clean.save(out, "WEBP", quality=85, method=4)
    return PreparedLogo(out.getvalue(), "webp")


def _folder() -> str:
    return os.path.join(current_app.config["UPLOAD_DIR"], LOGO_FOLDER)


def store(logo: PreparedLogo) -> str:
    """Write the logo under a random name; returns its path relative to UPLOAD_DIR."""
    os.makedirs(_folder(), exist_ok=True)
    name = f"{secrets.token_urlsafe(16)}.{logo.extension}"
    with open(os.path.join(_folder(), name), "xb") as fh:
        fh.write(logo.data)
    return f"{LOGO_FOLDER}/{name}"


@contextmanager
def stored_for_saving(logo: PreparedLogo | None):
    """Write a new logo for the change being saved, and remove it again if saving fails.

        with images.stored_for_saving(form.prepared_logo) as path:
            ...  # change and commit; delete the replaced file only after this block
    """
    path = store(logo) if logo else None
    try:
        yield path
    except BaseException:
        delete(path)
        raise


def delete(relative_path: str | None) -> None:
    """Remove a stored logo; only files directly in the logos folder are ever touched."""
    if not relative_path:
        return
    folder, _sep, name = relative_path.partition("/")
    if folder != LOGO_FOLDER or not name or "/" in name or "\\" in name or name.startswith("."):
        return
    try:
        os.remove(os.path.join(_folder(), name))
    except FileNotFoundError:
        pass
