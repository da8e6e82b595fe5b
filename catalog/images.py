"""Offering photos: up to MAX_IMAGES per offering, each at most OFFERING_IMAGE_MAX_BYTES (5 MB by default),
shrunk to 1600 px with a 400 px thumbnail, stored without metadata under UPLOAD_DIR/offerings/.

The generic checks and file handling are in marketplace.core.images; this module only sets the limits and
handles the files of OfferingImage rows (copying them for a duplicate, removing them once a change commits).
"""
from contextlib import contextmanager

from flask import current_app
from flask_babel import lazy_gettext as _l

from catalog.models import MAX_IMAGES, OfferingImage
from marketplace.core import images as core_images
from marketplace.core.images import ImageError, PreparedImage, StoredImage  # noqa: F401 (re-exported)

FOLDER = "offerings"
MAX_SIDE = 1600
THUMB_SIDE = 400
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Photos a person may add in one save: together they stay under the request size limit.
UPLOAD_SLOTS = 2


def limits() -> core_images.ImageLimits:
    return core_images.ImageLimits(
        folder=FOLDER, max_bytes=current_app.config.get("OFFERING_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES),
        max_side=MAX_SIDE, thumb_side=THUMB_SIDE,
        too_big_message=_l("Zdjęcie jest za duże (maksymalnie %(mb)s MB)."))


def max_megabytes() -> float:
    return round(limits().max_bytes / (1024 * 1024), 2)


def prepare(stream) -> PreparedImage:
    """Check one uploaded photo; raises ImageError with a message for the person."""
    return core_images.prepare(stream, limits())


@contextmanager
def stored_for_saving(prepared: list[PreparedImage]):
    """Write new photos for the change being saved; they are removed again if saving fails."""
    with core_images.stored_for_saving(prepared, FOLDER) as stored:
        yield stored


@contextmanager
def copied_for_saving(images: list[OfferingImage]):
    """Copies of an offering's photo files for its duplicate, as pairs (StoredImage, alt text); the copies
    are removed again if saving fails. A photo whose file is gone is left out."""
    copies: list[tuple[StoredImage, str]] = []
    try:
        for image in images:
            path = core_images.copy(image.path, FOLDER)
            if path is not None:
                thumb = core_images.copy(image.thumb_path, FOLDER) if image.thumb_path != image.path else path
                copies.append((StoredImage(path, thumb, image.width, image.height), image.alt))
        yield copies
    except BaseException:
        delete_files([item for item, _alt in copies])
        raise


def delete_files(images) -> None:
    """Remove the files of photos (OfferingImage rows or StoredImage), once the change that dropped them commits."""
    for image in images:
        core_images.delete(image.path, FOLDER)
        core_images.delete(image.thumb_path, FOLDER)


def too_many(existing: int, new: int) -> bool:
    return existing + new > MAX_IMAGES
