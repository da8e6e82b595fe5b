"""Attachments of mark applications: PDF files and images, checked by their content, stored privately.

A file is read at most to MARK_ATTACHMENT_MAX_BYTES (5 MB unless configured). It is accepted as a PDF when
it starts with "%PDF-", pypdf reads it and its pages, it is not encrypted, and no object in it carries
active content: scripts (/JavaScript, /JS), launch actions, embedded files, additional actions (/AA) or an
opening action that runs a script; as an image when Pillow recognises PNG, JPEG or WebP of at most 16
million pixels and verifies its data. Accepted files are written under UPLOAD_DIR/marks/ with random names;
that folder is never served publicly, only through the authorised download route. pypdf and Pillow are
imported when a file is checked, not with this module (which the forms and views import).
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

from marketplace.core import images

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 5
FOLDER = "marks"
IMAGE_FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
PDF_HEADER = re.compile(rb"\A%PDF-[12]\.\d")
MAX_PIXELS = 16_000_000
# Keys that carry scripts, actions run without a click, or files inside the PDF; and action types refused.
PDF_ACTIVE_KEYS = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EF", "/AA"})
PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})
PDF_MAX_NODES = 500_000  # dictionaries and arrays looked at; a 5 MB file holds far fewer


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


def _read(upload, limit: int) -> bytes:
    # Not images.read_limited: the messages here name the file, as several files come in one form.
    data = upload.stream.read(limit + 1)
    name = clean_name(upload.filename)
    if len(data) > limit:
        raise UploadError(_("Plik „%(name)s” jest za duży (najwyżej %(mb)s MB).", name=name,
                            mb=format_decimal(round(limit / (1024 * 1024), 2))))
    if not data:
        raise UploadError(_("Plik „%(name)s” jest pusty.", name=name))
    return data


def _has_active_content(root) -> bool:
    """Walk every object reachable from the trailer (each indirect object once, streams' data unread)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    stack, seen, nodes = [root], set(), 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        if not isinstance(obj, (DictionaryObject, ArrayObject)):
            continue
        nodes += 1
        if nodes > PDF_MAX_NODES:
            raise ValueError("too many objects to check")
        if isinstance(obj, DictionaryObject):
            if PDF_ACTIVE_KEYS.intersection(obj.keys()):
                return True
            action = obj.get("/S")
            action = action.get_object() if isinstance(action, IndirectObject) else action
            if isinstance(action, NameObject) and action in PDF_ACTIVE_ACTIONS:
                return True
            stack.extend(obj.values())
        else:
            stack.extend(obj)
    return False


def _check_pdf(data: bytes, name: str) -> bool:
    """True for a readable, unencrypted PDF without active content; False when it is not a PDF at all;
    UploadError for a PDF that cannot be accepted."""
    if not PDF_HEADER.match(data[:16]):
        return False
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about repairs of slightly broken files
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UploadError(_("Plik „%(name)s” jest zaszyfrowany lub chroniony hasłem. Dołącz wersję bez "
                                    "zabezpieczeń.", name=name))
            if len(reader.pages) < 1:
                raise ValueError("no pages")
            active = _has_active_content(reader.trailer)
    except UploadError:
        raise
    except Exception:  # noqa: BLE001 (whatever the parser trips over, the file is refused, never half-read)
        raise UploadError(_("Plik „%(name)s” nie jest dokumentem PDF, który da się odczytać (jest uszkodzony).",
                            name=name)) from None
    if active:
        raise UploadError(_("Plik „%(name)s” zawiera skrypty, automatyczne akcje lub osadzone pliki. Dołącz "
                            "zwykły dokument PDF bez nich (np. wydrukowany ponownie do PDF).", name=name))
    return True


def _image_kind(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PNG, JPEG or WebP image that is not too large and whose data verify."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS)) as img:
                if img.size[0] * img.size[1] > MAX_PIXELS:
                    return None
                img.verify()
            with Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS)) as img:  # verify() spends it
                kind = img.format
    except (Image.DecompressionBombWarning, Image.DecompressionBombError, UnidentifiedImageError,
            OSError, SyntaxError, ValueError):
        return None
    return IMAGE_FORMATS.get(kind)


def clean_name(filename: str | None) -> str:
    """The file's own name without any folder, control characters or excess length, for display only."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-150:] or "plik"


def check(upload, limit: int | None = None) -> CheckedFile:
    """Read and check one uploaded file (at most `limit` bytes, the mark's limit by default); raises
    UploadError with a plain message. Inquiry attachments use the same checks with their own limit."""
    data = _read(upload, limit or max_bytes())
    name = clean_name(upload.filename)
    if _check_pdf(data, name):
        return CheckedFile(data, name, "application/pdf", "pdf")
    kind = _image_kind(data)
    if kind is None:
        raise UploadError(_("Plik „%(name)s” nie jest dokumentem PDF ani obrazem PNG, JPEG lub WebP.", name=name))
    return CheckedFile(data, name, kind[0], kind[1])


def folder(name: str = FOLDER) -> str:
    return images.folder_path(name)


def store(item: CheckedFile, under: str = FOLDER) -> str:
    """Write a checked file, as uploaded, under a random name; returns its path relative to UPLOAD_DIR.
    (images.store re-encodes pictures and writes thumbnails; attachments are kept byte for byte.)"""
    os.makedirs(folder(under), exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{item.extension}"
    with open(os.path.join(folder(under), name), "xb") as fh:
        fh.write(item.data)
    return f"{under}/{name}"


def absolute_path(relative: str | None, under: str = FOLDER) -> str | None:
    """Where a stored attachment lies, or None for a path outside its folder."""
    return images.own_file(relative, under)  # the same rule as for every uploaded image


def delete(paths, under: str = FOLDER) -> None:
    for relative in paths:
        images.delete(relative, under)


@contextmanager
def stored_for_saving(items, under: str = FOLDER):
    """Write the files of a change being saved, and remove them again if saving fails.

        with uploads.stored_for_saving(form.checked_files) as stored:
            ...  # stored: [(CheckedFile, path)]; change and commit

    Not images.stored_for_saving: that one stores prepared pictures with thumbnails and yields StoredImage
    rows, while an attachment is kept as uploaded and its checked file travels with its path.
    """
    stored = []
    try:
        for item in items:
            stored.append((item, store(item, under)))
        yield stored
    except BaseException:
        delete((path for _item, path in stored), under)
        raise
