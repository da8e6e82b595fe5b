"""Attachments of mark applications: PDF files and images, checked by their content, stored privately.

A file is read at most to MARK_ATTACHMENT_MAX_BYTES (5 MB unless configured). It is accepted as a PDF when it starts with "%PDF-1.x" or "%PDF-2.x",
holds at least one object and ends with "%%EOF"; as an image when Pillow opens it as PNG, JPEG or WebP and
its pixels decode. Accepted files are written under UPLOAD_DIR/marks/ with random names; that folder is
never served publicly, only through the authorised download route.
"""
import io
import os
import re
import secrets
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 5
FOLDER = "marks"
IMAGE_FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
PDF_HEADER = re.compile(rb"\A%PDF-[12]\.\d")
MAX_PIXELS = 50_000_000


class UploadError(ValueError):
    """The file cannot be attached; the message says why."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    original_name: str
    content_type: str
    extension: str

    @property
    def size(self) -> int:
        return len(self.data)


def max_bytes() -> int:
    return int(current_app.config.get("MARK_ATTACHMENT_MAX_BYTES") or MAX_BYTES)


def _read(upload) -> bytes:
    limit = max_bytes()
    data = upload.stream.read(limit + 1)
    name = clean_name(upload.filename)
    if len(data) > limit:
        raise UploadError(_("Plik „%(name)s” jest za duży (najwyżej %(mb)s MB).", name=name,
                            mb=format_decimal(round(limit / (1024 * 1024), 2))))
    if not data:
        raise UploadError(_("Plik „%(name)s” jest pusty.", name=name))
    return data


def _is_pdf(data: bytes) -> bool:
    if not PDF_HEADER.match(data[:16]):
        return False
    return b" obj" in data and b"%%EOF" in data[-2048:]


def _image_kind(data: bytes) -> tuple[str, str] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS))
            if img.size[0] * img.size[1] > MAX_PIXELS:
                return None
            img.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError, UnidentifiedImageError,
            OSError, SyntaxError, ValueError):
        return None
    return IMAGE_FORMATS[img.format]


def clean_name(filename: str | None) -> str:
    """The file's own name without any folder, control characters or excess length, for display only."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-150:] or "plik"


def check(upload) -> CheckedFile:
    """Read and check one uploaded file; raises UploadError with a plain message."""
    data = _read(upload)
    name = clean_name(upload.filename)
    if _is_pdf(data):
        return CheckedFile(data, name, "application/pdf", "pdf")
    kind = _image_kind(data)
    if kind is None:
        raise UploadError(_("Plik „%(name)s” nie jest dokumentem PDF ani obrazem PNG, JPEG lub WebP.", name=name))
    return CheckedFile(data, name, kind[0], kind[1])


def folder() -> str:
    return os.path.join(current_app.config["UPLOAD_DIR"], FOLDER)


def store(item: CheckedFile) -> str:
    """Write a checked file under a random name; returns its path relative to UPLOAD_DIR."""
    os.makedirs(folder(), exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{item.extension}"
    with open(os.path.join(folder(), name), "xb") as fh:
        fh.write(item.data)
    return f"{FOLDER}/{name}"


def absolute_path(relative: str) -> str | None:
    """Where a stored attachment lies, or None for a path outside the marks folder."""
    top, _sep, name = (relative or "").partition("/")
    if top != FOLDER or not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return os.path.join(folder(), name)


def delete(paths) -> None:
    for relative in paths:
        path = absolute_path(relative)
        if path:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass


@contextmanager
def stored_for_saving(items):
    """Write the files of a change being saved, and remove them again if saving fails.

        with uploads.stored_for_saving(form.checked_files) as stored:
            ...  # stored: [(CheckedFile, path)]; change and commit
    """
    stored = []
    try:
        for item in items:
            stored.append((item, store(item)))
        yield stored
    except BaseException:
        delete(path for _item, path in stored)
        raise
