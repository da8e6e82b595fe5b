"""Applications for the quality mark as the PES makes them: apply, correct and resubmit, withdraw.

Functions take plain data, flush and never commit; a refusal raises MarkError (or NotPermitted for the
wrong person) with a message for the person, before anything is changed. The office's and the committee's
steps are in review.py, the life of an awarded mark in lifecycle.py.
"""
from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User, utcnow
from catalog.mark import queries
from catalog.mark.labels import ELIGIBLE_LEGAL_FORMS, application_label
from catalog.mark.models import MarkApplication, MarkAttachment, QualityMark
from catalog.models import Offering
from marketplace import clock, outbox
from marketplace.extensions import db

OPEN_STATUSES = ("submitted", "returned", "in_review")
RENEWAL_DAYS = 60  # a PES may apply for renewal from this many days before its mark expires
APPLICATION_FIELDS = ("months_operating", "own_revenue_share", "quality_statement")


class MarkError(Exception):
    """A step that the rules refuse now; str() is the message to show."""


class NotPermitted(MarkError):
    """The person may not do this at all (403)."""


# Who may do what -------------------------------------------------------------------------------------

def is_member(user, pes_id: int) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.membership_of(pes_id))


def can_see_application(user, application: MarkApplication) -> bool:
    """The applying PES's members, staff and the committee."""
    if not user or not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or user.is_committee or is_member(user, application.pes_id)


def require_member(user, pes_id: int) -> None:
    if not is_member(user, pes_id):
        raise NotPermitted(_("Tylko członkowie tego podmiotu mogą to zrobić."))


def mail_owners(pes, subject, template: str, **context) -> list:
    """Queue a mail to every owner of the PES, each in their own language; returns the queued messages."""
    return [outbox.queue(user.email, subject, template, locale=user.locale, pes=pes, **context)
            for user in pes.owners()]


def date_snapshot(obj, fields) -> dict:
    """A JSON-safe picture of some fields (dates as ISO strings), for the audit log."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


# Renewal ---------------------------------------------------------------------------------------------

def renewal_state(offering: Offering, today: date | None = None) -> tuple[str, QualityMark | None]:
    """Whether the offering may be applied for now: ("new", None), ("renewal", mark), ("too_early", mark)
    with a mark valid for more than RENEWAL_DAYS, ("renewed", mark) when a later mark already follows, or
    ("suspended", mark) while a suspended mark's dates still run (a new application does not get round it)."""
    today = today or clock.today()
    suspended = db.session.scalar(select(QualityMark).where(
        QualityMark.offering_id == offering.id, QualityMark.status == "suspended",
        QualityMark.valid_until >= today).limit(1))
    if suspended is not None:
        return "suspended", suspended
    upcoming = db.session.scalar(select(QualityMark).where(
        QualityMark.offering_id == offering.id, QualityMark.status == "active",
        QualityMark.valid_from > today).order_by(QualityMark.valid_from).limit(1))
    if upcoming is not None:
        return "renewed", upcoming
    current = queries.current_mark(offering, today)
    if current is None:
        return "new", None
    if (current.valid_until - today).days > RENEWAL_DAYS:
        return "too_early", current
    return "renewal", current


def renewal_opens(mark: QualityMark) -> date:
    return mark.valid_until - timedelta(days=RENEWAL_DAYS)


def open_application(offering_id: int) -> MarkApplication | None:
    return db.session.scalar(select(MarkApplication).where(
        MarkApplication.offering_id == offering_id, MarkApplication.status.in_(OPEN_STATUSES)).limit(1))


def check_can_apply(user: User, offering: Offering) -> QualityMark | None:
    """Refuse an application that may not be made now; return the mark it renews, if any."""
    require_member(user, offering.pes_id)
    if offering.pes.status != "verified":
        raise MarkError(_("O znak mogą ubiegać się tylko zweryfikowane podmioty."))
    if not offering.is_public:
        raise MarkError(_("O znak można ubiegać się tylko dla opublikowanej oferty."))
    if offering.pes.legal_form not in ELIGIBLE_LEGAL_FORMS:
        raise MarkError(_("Forma prawna podmiotu nie uprawnia do ubiegania się o znak."))
    existing = open_application(offering.id)
    if existing is not None:
        raise MarkError(_("Dla tej oferty jest już otwarty wniosek (status: %(status)s).",
                          status=application_label(existing.status)))
    state, mark = renewal_state(offering)
    if state == "too_early":
        raise MarkError(_("Ta oferta ma znak ważny do %(until)s. O przedłużenie można wystąpić od %(opens)s.",
                          until=format_date(mark.valid_until, "long"),
                          opens=format_date(renewal_opens(mark), "long")))
    if state == "suspended":
        raise MarkError(_("Znak tej oferty (certyfikat %(number)s) jest zawieszony. O nowy znak można wystąpić "
                          "po jego przywróceniu i w terminie przedłużenia.", number=mark.number))
    if state == "renewed":
        raise MarkError(_("Znak tej oferty został już przedłużony (certyfikat %(number)s).", number=mark.number))
    return mark if state == "renewal" else None


def _attach(application: MarkApplication, stored) -> None:
    for item, path in stored:
        application.attachments.append(MarkAttachment(
            path=path, original_name=item.original_name[:200], content_type=item.content_type, size=item.size))


def apply(user: User, offering: Offering, data: dict, stored=()) -> MarkApplication:
    """A PES member applies for the mark for one published offering of that PES (or for its renewal)."""
    db.session.execute(select(Offering.id).where(Offering.id == offering.id).with_for_update())
    renews = check_can_apply(user, offering)
    application = MarkApplication(
        offering_id=offering.id, pes_id=offering.pes_id, applicant_id=user.id,
        renews_mark_id=renews.id if renews else None, status="submitted", submitted_at=utcnow(),
        recommendations=list(data["recommendations"]),
        **{name: data[name] for name in APPLICATION_FIELDS})
    _attach(application, stored)
    db.session.add(application)
    db.session.flush()
    return application


def resubmit(user: User, application: MarkApplication, data: dict, stored=(), remove_ids=()) -> list[str]:
    """The PES corrects a returned application and sends it again; returns the paths of removed files,
    to be deleted once the change is committed."""
    require_member(user, application.pes_id)
    if application.status != "returned":
        raise MarkError(_("Poprawić można tylko wniosek zwrócony do uzupełnienia."))
    for name in APPLICATION_FIELDS:
        setattr(application, name, data[name])
    application.recommendations = list(data["recommendations"])
    removed = [a for a in application.attachments if str(a.id) in set(remove_ids)]
    for attachment in removed:
        application.attachments.remove(attachment)
    _attach(application, stored)
    application.status = "submitted"
    application.submitted_at = utcnow()
    db.session.flush()
    return [a.path for a in removed]


def withdraw(user: User, application: MarkApplication) -> None:
    """The PES takes back an application that the committee has not started on."""
    require_member(user, application.pes_id)
    if application.status not in ("submitted", "returned"):
        raise MarkError(_("Tego wniosku nie można już wycofać (status: %(status)s).",
                          status=application_label(application.status)))
    application.status = "withdrawn"
    db.session.flush()
