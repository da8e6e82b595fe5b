"""PES logos: the shared image pipeline (marketplace.core.images) with the logo's own limits.

A logo is shrunk to fit 400x400 and re-encoded from bare pixels (no metadata survives), stored under
UPLOAD_DIR/logos/ with a random name; PNG stays PNG, photos become WebP.
"""
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l

from marketplace.core import images as core_images
from marketplace.core.images import ImageError as LogoError  # noqa: F401 (the forms catch it by this name)
from marketplace.core.images import PreparedImage

LOGO_FOLDER = "logos"
MAX_SIDE = 400


def _limits(max_bytes: int) -> core_images.ImageLimits:
    return core_images.ImageLimits(folder=LOGO_FOLDER, max_bytes=max_bytes, max_side=MAX_SIDE,
                                   too_big_message=_l("Plik logo jest za duży (maksymalnie %(mb)s MB)."))


def prepare(stream, max_bytes: int) -> PreparedImage:
    """Check an uploaded file and return the logo to store; raises LogoError with a plain message."""
    return core_images.prepare(stream, _limits(max_bytes))


@contextmanager
def stored_for_saving(logo: PreparedImage | None):
    """Write a new logo for the change being saved (yields its path, or None), removed again if saving fails."""
    with core_images.stored_for_saving([logo] if logo else [], LOGO_FOLDER) as stored:
        yield stored[0].path if stored else None


def delete(relative_path: str | None) -> None:
    """Remove a stored logo; only files directly in the logos folder are ever touched."""
    core_images.delete(relative_path, LOGO_FOLDER)
