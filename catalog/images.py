"""Offering photos: up to MAX_IMAGES per offering, each at most OFFERING_IMAGE_MAX_BYTES (5 MB by default),
shrunk to 1600 px with a 400 px thumbnail, stored without metadata under UPLOAD_DIR/offerings/.

The generic checks and file handling are in marketplace.core.images (new photos are written with its
`stored_for_saving(prepared, FOLDER)`); this module sets the limits, handles the files of OfferingImage rows
(copying them for a duplicate, removing them once a change commits) and finds the offering a stored file
belongs to, so that only photos of offerings a visitor may see are served to them.
"""
from contextlib import contextmanager

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from catalog.models import MAX_IMAGES, Offering, OfferingImage
from marketplace.core import images as core_images
from marketplace.core.images import ImageError, PreparedImage, StoredImage  # noqa: F401 (re-exported)
from marketplace.extensions import db

FOLDER = "offerings"
MAX_SIDE = 1600
THUMB_SIDE = 400
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Photos a person may add in one save: four of 5 MB stay under the request size limit (MAX_CONTENT_LENGTH).
UPLOAD_SLOTS = 4


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


def file_name(relative_path: str | None) -> str | None:
    """"offerings/abc.webp" -> "abc.webp": the name in a photo's address; None for a path outside the folder."""
    top, _sep, name = (relative_path or "").partition("/")
    if top != FOLDER or not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return name


def offerings_of_file(name: str) -> list[Offering]:
    """The offerings whose photo (or its thumbnail) is stored under this file name."""
    path = f"{FOLDER}/{name}"
    owners = select(OfferingImage.offering_id).where(or_(OfferingImage.path == path, OfferingImage.thumb_path == path))
    return list(db.session.scalars(select(Offering).where(Offering.id.in_(owners))))
