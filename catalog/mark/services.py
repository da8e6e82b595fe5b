"""Applications for the quality mark as the PES makes them: apply, correct and resubmit, withdraw.

Functions take plain data, flush and never commit; a refusal raises MarkError (or NotPermitted for the
wrong person) with a message for the person, before anything is changed. The office's and the committee's
steps are in review.py, the life of an awarded mark in lifecycle.py, the rules of who may apply when in
eligibility.py.
"""
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from catalog.mark import eligibility
from catalog.mark.labels import application_label
from catalog.mark.models import MarkApplication, MarkAttachment, QualityMark
from catalog.models import Offering
from marketplace import audit, clock, outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.moderation.notify import notify_staff

APPLICATION_FIELDS = ("months_operating", "own_revenue_share", "quality_statement")
# What the audit log keeps of the PES's own steps (the texts themselves stay on the application).
PES_AUDIT = ("status", "months_operating", "own_revenue_share")
# Applications the committee may open, and whose attachments it may download.
COMMITTEE_STATUSES = ("in_review", "granted", "refused")


class MarkError(Exception):
    """A step that the rules refuse now; str() is the message to show."""


class NotPermitted(MarkError):
    """The person may not do this at all (403)."""


# Who may do what -------------------------------------------------------------------------------------

def is_member(user, pes_id: int) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.membership_of(pes_id))


def can_see_application(user, application: MarkApplication) -> bool:
    """The applying PES's members and staff always; the committee once the office has passed it on."""
    if not user or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or is_member(user, application.pes_id):
        return True
    return user.is_committee and application.status in COMMITTEE_STATUSES


def require_member(user, pes_id: int) -> None:
    if not is_member(user, pes_id):
        raise NotPermitted(_("Tylko członkowie tego podmiotu mogą to zrobić."))


def locked_application(app_id: int, *options) -> MarkApplication | None:
    """The application with its row locked until the transaction ends (SELECT ... FOR UPDATE; SQLite
    serialises writers instead) and its values read afresh: a second, double-submitted step waits here and
    then sees what the first one did, so the status check that follows refuses it."""
    return db.session.scalar(select(MarkApplication).where(MarkApplication.id == app_id).options(*options)
                             .with_for_update().execution_options(populate_existing=True))


# Mail ------------------------------------------------------------------------------------------------

def _send(users, subject, template: str, context: dict) -> list:
    mails, seen = [], set()
    for user in users:
        address = (user.email or "").strip().lower()
        if address and address not in seen:
            seen.add(address)
            mails.append(outbox.queue(user.email, subject, template, locale=user.locale, **context))
    return mails


def mail_owners(pes, subject, template: str, **context) -> list:
    """Queue a mail to every owner of the PES, each in their own language; returns the queued messages."""
    return _send(pes.owners(), subject, template, {"pes": pes, **context})


def mail_application(application: MarkApplication, subject, template: str, **context) -> list:
    """Mail about an application: to the PES's owners and to the person who applied, once per address.
    The applicant is left out once they no longer belong to the PES."""
    pes = application.pes
    users = list(pes.owners())
    applicant = db.session.get(User, application.applicant_id) if application.applicant_id else None
    if applicant is not None and applicant.membership_of(pes.id):
        users.append(applicant)
    return _send(users, subject, template, {"pes": pes, "application": application, **context})


def date_snapshot(obj, fields) -> dict:
    """A JSON-safe picture of some fields (dates as ISO strings), for the audit log."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


# Renewal ---------------------------------------------------------------------------------------------

def renewal_state(offering: Offering, today: date | None = None) -> tuple[str, QualityMark | None]:
    """See eligibility.renewal_state; this one loads the offering's marks."""
    marks, _open = eligibility.load([offering.id])
    return eligibility.renewal_state(marks[offering.id], today or clock.today())


def check_can_apply(user: User, offering: Offering) -> QualityMark | None:
    """Refuse an application that may not be made now; return the mark it renews, if any."""
    require_member(user, offering.pes_id)
    marks, open_apps = eligibility.load([offering.id])
    today = clock.today()
    message = eligibility.refusal(offering, marks[offering.id], open_apps.get(offering.id), today)
    if message:
        raise MarkError(message)
    state, mark = eligibility.renewal_state(marks[offering.id], today)
    return mark if state == "renewal" else None


def _lock_offering(offering_id: int) -> None:
    """One application step per offering at a time: the second waits for the first to commit."""
    db.session.execute(select(Offering.id).where(Offering.id == offering_id).with_for_update())


def _attach(application: MarkApplication, stored) -> None:
    for item, path in stored:
        application.attachments.append(MarkAttachment(
            path=path, original_name=item.original_name[:200], content_type=item.content_type, size=item.size))


def apply(user: User, offering: Offering, data: dict, stored=()) -> MarkApplication:
    """A PES member applies for the mark for one published offering of that PES (or for its renewal)."""
    _lock_offering(offering.id)
    renews = check_can_apply(user, offering)
    now = clock.now()
    application = MarkApplication(
        offering_id=offering.id, pes_id=offering.pes_id, applicant_id=user.id,
        renews_mark_id=renews.id if renews else None, status="submitted", submitted_at=now, created_at=now,
        recommendations=list(data["recommendations"]),
        **{name: data[name] for name in APPLICATION_FIELDS})
    _attach(application, stored)
    db.session.add(application)
    db.session.flush()
    audit.record(user, "mark.apply", application, after=audit.snapshot(application, PES_AUDIT))
    _tell_staff(application)
    return application


def _tell_staff(application: MarkApplication, resubmitted: bool = False) -> None:
    """The office learns that an application waits for its check."""
    notify_staff(_l("Wniosek o znak jakości: %(title)s", title=application.offering.title),
                 "mail/staff/mark_submitted.txt", application=application, resubmitted=resubmitted,
                 link=external_url("mark.office_detail", app_id=application.id))


def resubmit(user: User, application: MarkApplication, data: dict, stored=(), remove_ids=()) -> list[str]:
    """The PES corrects a returned application and sends it again, if it still may apply for the offering;
    returns the paths of removed files, to be deleted once the change is committed. The caller holds the
    application's row lock (locked_application)."""
    require_member(user, application.pes_id)
    if application.status != "returned":
        raise MarkError(_("Poprawić można tylko wniosek zwrócony do uzupełnienia."))
    _lock_offering(application.offering_id)
    marks, _open = eligibility.load([application.offering_id])
    message = eligibility.offering_refusal(application.offering, marks[application.offering_id], clock.today())
    if message:
        raise MarkError(message)
    before = audit.snapshot(application, PES_AUDIT)
    for name in APPLICATION_FIELDS:
        setattr(application, name, data[name])
    application.recommendations = list(data["recommendations"])
    removed = [a for a in application.attachments if str(a.id) in set(remove_ids)]
    for attachment in removed:
        application.attachments.remove(attachment)
    _attach(application, stored)
    application.status = "submitted"
    application.submitted_at = clock.now()
    db.session.flush()
    audit.record(user, "mark.resubmit", application, before=before, after=audit.snapshot(application, PES_AUDIT))
    _tell_staff(application, resubmitted=True)
    return [a.path for a in removed]


def withdraw(user: User, application: MarkApplication) -> None:
    """The PES takes back an application that the committee has not started on (the caller holds its lock)."""
    require_member(user, application.pes_id)
    if application.status not in ("submitted", "returned"):
        raise MarkError(_("Tego wniosku nie można już wycofać (status: %(status)s).",
                          status=application_label(application.status)))
    before = audit.snapshot(application, PES_AUDIT)
    application.status = "withdrawn"
    db.session.flush()
    audit.record(user, "mark.withdraw", application, before=before, after=audit.snapshot(application, PES_AUDIT))
