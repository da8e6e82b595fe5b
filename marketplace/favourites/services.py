"""Saving and forgetting favourites. Functions flush but never commit; the view commits once."""
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.favourites.models import Favourite
from marketplace.pes.models import Pes

LIMIT = 200  # enough for any real shortlist, and it keeps the list page one page long


class FavouriteError(Exception):
    """A request that the rules refuse; str() is the message to show."""


def _target_filter(pes_id: int | None, offering_id: int | None):
    if pes_id is not None:
        return Favourite.pes_id == pes_id
    return Favourite.offering_id == offering_id


def is_saved(user, pes: Pes | None = None, offering: Offering | None = None) -> bool:
    """Whether the signed-in person saved this PES or offering (False for guests)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    where = _target_filter(pes.id if pes else None, offering.id if offering else None)
    return db.session.scalar(select(Favourite.id).where(Favourite.user_id == user.id, where)) is not None


def count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Favourite).where(Favourite.user_id == user_id))


def add(user, pes: Pes | None = None, offering: Offering | None = None) -> bool:
    """Save a public PES or offering; False when it was saved already (also by a request a moment ago)."""
    if is_saved(user, pes, offering):
        return False
    if count(user.id) >= LIMIT:
        raise FavouriteError(_("Możesz mieć najwyżej %(limit)d ulubionych. Usuń z listy to, czego już nie "
                               "potrzebujesz, i spróbuj ponownie.", limit=LIMIT))
    try:
        with db.session.begin_nested():
            db.session.add(Favourite(user_id=user.id, pes_id=pes.id if pes else None,
                                     offering_id=offering.id if offering else None))
    except IntegrityError:  # the same button pressed twice at once: the other request saved it
        return False
    return True


def remove(user, pes_id: int | None = None, offering_id: int | None = None) -> bool:
    """Forget a saved PES or offering, public or not any more; False when it was not saved."""
    result = db.session.execute(delete(Favourite).where(
        Favourite.user_id == user.id, _target_filter(pes_id, offering_id)))
    return bool(result.rowcount)


def for_user(user_id: int) -> list[Favourite]:
    """The person's favourites, newest first, with what the list page shows loaded alongside."""
    return db.session.scalars(
        select(Favourite).where(Favourite.user_id == user_id)
        .options(selectinload(Favourite.pes),
                 selectinload(Favourite.offering).selectinload(Offering.pes))
        .order_by(Favourite.created_at.desc(), Favourite.id.desc())).all()


def askable_pes(favourites: list[Favourite]) -> list[Pes]:
    """The public PES an inquiry may go to: those saved and those whose saved offerings are public,
    each once, in the order of the list."""
    found: dict[int, Pes] = {}
    for fav in favourites:
        pes = fav.pes if fav.pes_id is not None else (fav.offering.pes if fav.is_available else None)
        if pes is not None and pes.is_public:
            found.setdefault(pes.id, pes)
    return list(found.values())
