"""What PES members do with their offerings (create, edit, publish, unpublish, archive, duplicate), the
public catalogue's queries, and visitors' reports.

Functions take plain data, flush but never commit, and raise OfferingError with a message for the person
(and the form field it belongs to). Image files are written and removed by the views around these calls
(catalog.images), so that a failed save leaves no file behind.
"""
import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from catalog import price_history
from catalog.models import MAX_IMAGES, CpvCode, Offering, OfferingImage, OfferingReport
from catalog.public_forms import REPORT_REASONS
from marketplace import audit, clock
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.moderation.notify import notify_staff
from marketplace.pes import services as pes_services
from marketplace.pes.models import Pes

KIND_LABELS = {"product": _l("produkt"), "service": _l("usługa")}
STATUS_LABELS = {"draft": _l("szkic"), "published": _l("opublikowana"), "archived": _l("w archiwum")}
AUDITED = ("status", "published_at")
# Columns the editor sets one to one.
FIELDS = ("kind", "title", "description", "category", "subcategory", "price_net", "vat_rate", "unit",
          "min_order", "lead_time", "tags", "stock", "withdrawal_exception")


class OfferingError(Exception):
    """A change the rules refuse; str() is the message, `field` the form field it concerns (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


# Who may do what -------------------------------------------------------------------------------------

def can_edit(user, offering: Offering) -> bool:
    """Owners and editors of the offering's PES."""
    return pes_services.can_edit(user, offering.pes)


def can_create(user, pes: Pes) -> bool:
    """Only members of a verified PES add offerings."""
    return pes_services.can_edit(user, pes) and pes.status == "verified"


def can_preview(user, offering: Offering) -> bool:
    return can_edit(user, offering) or bool(getattr(user, "is_staff", False))


def publish_problems(offering: Offering) -> list[str]:
    """Why the offering cannot be published now (empty when it can)."""
    problems = []
    if offering.pes.status != "verified":
        problems.append(_("Publikować mogą tylko zweryfikowane podmioty; „%(name)s” nie jest jeszcze "
                          "zweryfikowany.", name=offering.pes.name))
    if offering.blocked_at is not None:
        problems.append(_("Moderator ukrył tę ofertę (powód: %(reason)s). Nie można jej opublikować, dopóki "
                          "moderator nie zniesie blokady.", reason=offering.blocked_reason or "–"))
    if not (offering.title or "").strip():
        problems.append(_("Do publikacji potrzebny jest tytuł."))
    if not (offering.description or "").strip():
        problems.append(_("Do publikacji potrzebny jest opis oferty."))
    if not offering.category:
        problems.append(_("Do publikacji potrzebna jest kategoria."))
    return problems


# Changes ----------------------------------------------------------------------------------------------

def _apply_stock(offering: Offering, data: dict) -> None:
    """Set the stock as the PES typed it, but as a change from what its form showed: items ordered on the
    portal while the form was open stay taken (the database applies the difference in one UPDATE)."""
    new, seen = data["stock"], data.get("stock_seen")
    if offering.id is None or new is None or seen is None or offering.stock is None:
        offering.stock = new
    elif new != seen:
        changed = Offering.stock + (new - seen)
        offering.stock = case((changed < 0, 0), else_=changed)


def _apply(offering: Offering, data: dict) -> None:
    for key in FIELDS:
        if key in data and key != "stock":
            setattr(offering, key, data[key])
    if "stock" in data:
        _apply_stock(offering, data)
    price_history.record(offering)  # before anything flushes: it compares with the stored price
    if "cpv" in data:
        offering.cpv = data["cpv"]
    if "service_area" in data:
        offering.service_area = data["service_area"]


def _add_images(offering: Offering, stored, alts: list[str]) -> None:
    start = len(offering.images)
    if start + len(stored) > MAX_IMAGES:
        raise OfferingError(_("Oferta może mieć najwyżej %(n)d zdjęć.", n=MAX_IMAGES), "new_images")
    for i, (item, alt) in enumerate(zip(stored, alts, strict=True)):
        offering.images.append(OfferingImage(path=item.path, thumb_path=item.thumb_path or item.path,
                                             width=item.width, height=item.height, alt=alt, position=start + i))


def _give_ref(offering: Offering) -> None:
    ref = f"off-{offering.id}"
    if db.session.scalar(select(Offering.id).where(Offering.ref == ref)) is not None:
        ref = f"off-{offering.id}-{uuid.uuid4().hex[:6]}"  # an imported record already uses the plain form
    offering.ref = ref


def create_offering(user, pes: Pes, data: dict, stored=(), alts=(), status: str = "draft") -> Offering:
    """A new offering of `pes` with its photos; published at once when asked and allowed."""
    if not can_create(user, pes):
        raise OfferingError(_("Oferty mogą dodawać tylko członkowie zweryfikowanego podmiotu."))
    offering = Offering(ref=f"new-{uuid.uuid4().hex}", pes=pes, status="draft")
    _apply(offering, data)
    db.session.add(offering)
    _add_images(offering, list(stored), list(alts))
    db.session.flush()
    _give_ref(offering)
    db.session.flush()
    if status != "draft":
        set_status(user, offering, status)
    return offering


def update_offering(user, offering: Offering, data: dict, kept: list[tuple[OfferingImage, str]],
                    stored=(), alts=(), status: str | None = None) -> list[OfferingImage]:
    """Save an edit: fields, the photos kept (in their new order, with their alt text) and new ones.

    Returns the photos removed, whose files are deleted once the change is committed.
    """
    kept_ids = {image.id for image, _alt in kept}
    removed = [image for image in offering.images if image.id not in kept_ids]
    _apply(offering, data)
    for position, (image, alt) in enumerate(kept):
        image.alt, image.position = alt, position
    offering.images = [image for image, _alt in kept]
    _add_images(offering, list(stored), list(alts))
    db.session.flush()
    if status and status != offering.status:
        set_status(user, offering, status)
    return removed


def set_status(user, offering: Offering, status: str) -> None:
    """Publish, unpublish (back to draft) or archive; publishing checks publish_problems()."""
    if status not in STATUS_LABELS:
        raise OfferingError(_("Nieznany status oferty."), "status")
    if status == offering.status:
        return
    if status == "published":
        problems = publish_problems(offering)
        if problems:
            raise OfferingError(" ".join(problems), "status")
    before = audit.snapshot(offering, AUDITED)
    offering.status = status
    if status == "published":
        offering.published_at = clock.now()
    db.session.flush()
    action = {"published": "offering.publish", "draft": "offering.unpublish", "archived": "offering.archive"}
    audit.record(user, action[status], offering, before=before, after=audit.snapshot(offering, AUDITED))


def duplicate(user, offering: Offering, copies) -> Offering:
    """A draft copy of an offering ("(kopia)" in its title) with copies of its photos: `copies` are pairs of
    (StoredImage, alt text), made by catalog.images.copied_for_saving."""
    if not can_create(user, offering.pes):
        raise OfferingError(_("Oferty mogą dodawać tylko członkowie zweryfikowanego podmiotu."))
    suffix = " " + _("(kopia)")
    data = {key: getattr(offering, key) for key in FIELDS}
    data["title"] = offering.title[: 200 - len(suffix)] + suffix
    data["tags"] = list(offering.tags or [])
    data["cpv"] = offering.cpv
    data["service_area"] = [a.powiat for a in offering.areas]
    copies = list(copies)
    return create_offering(user, offering.pes, data, [item for item, _alt in copies],
                           [alt for _item, alt in copies])


# Reports ---------------------------------------------------------------------------------------------

def report(offering: Offering, user, reason: str, message: str, email: str | None) -> OfferingReport:
    """A visitor tells the moderators that something is wrong with a public offering."""
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    item = OfferingReport(offering=offering, reporter_id=user.id if signed_in else None,
                          reporter_email=(user.email if signed_in else (email or None)),
                          reason=reason, message=message or "", status="open")
    db.session.add(item)
    db.session.flush()
    notify_staff(_l("Zgłoszono ofertę: %(title)s", title=offering.title), "mail/staff/offering_reported.txt",
                 offering=offering, report=item, reason=REPORT_REASONS.get(reason, reason),
                 link=external_url("catalog_moderation.detail", offering_id=offering.id))
    return item


# Queries ---------------------------------------------------------------------------------------------

def public_query():
    """Offerings anyone may see: published, not blocked by a moderator, of a verified PES."""
    return (select(Offering).join(Offering.pes)
            .where(Offering.status == "published", Offering.blocked_at.is_(None), Pes.status == "verified"))


def listing(stmt):
    """A public list's order and the rows its cards need, loaded with it."""
    return stmt.options(selectinload(Offering.pes), selectinload(Offering.images)).order_by(
        Offering.published_at.desc().nulls_last(), Offering.id.desc())


def category_counts() -> dict[str, int]:
    """The number of public offerings in each top-level category."""
    stmt = public_query().with_only_columns(Offering.category, func.count()).group_by(Offering.category)
    return dict(db.session.execute(stmt).all())


def subcategory_counts(category: str) -> dict[str, int]:
    stmt = (public_query().where(Offering.category == category)
            .with_only_columns(Offering.subcategory, func.count()).group_by(Offering.subcategory))
    return {sub: n for sub, n in db.session.execute(stmt).all() if sub}


def member_offerings(user, pes_ids: list[int], status: str | None = None):
    """The offerings of the PES the user belongs to, for the panel, newest change first."""
    stmt = (select(Offering).where(Offering.pes_id.in_(pes_ids))
            .options(selectinload(Offering.pes), selectinload(Offering.images))
            .order_by(Offering.updated_at.desc(), Offering.id.desc()))
    if status in STATUS_LABELS:
        stmt = stmt.where(Offering.status == status)
    return stmt


def cpv_names(codes: list[str], english: bool = False) -> dict[str, str]:
    """The names of CPV codes in the visitor's language (Polish when there is no English name)."""
    if not codes:
        return {}
    rows = db.session.scalars(select(CpvCode).where(CpvCode.code.in_(codes))).all()
    return {r.code: (r.name_en if english and r.name_en else r.name_pl) for r in rows}
