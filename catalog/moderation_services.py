"""Moderating offerings: blocking and restoring them, and handling visitors' reports.

Each action checks who acts and the state it starts from, writes the audit log and queues the PES's mail;
it flushes and never commits. A wrong state, a missing reason or a moderator who belongs to the offering's
PES raises ModerationError, and nothing is changed then.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from accounts.models import User
from catalog.models import Offering, OfferingReport
from catalog.public_forms import REPORT_REASONS
from marketplace import audit, clock, outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.moderation.services import ModerationError, clean_reason, require_role

OFFERING_FIELDS = ("status", "blocked_reason", "blocked_at")
REPORT_FIELDS = ("status", "handled_by_id", "handled_at")

REPORT_STATUSES = {"open": _l("otwarte"), "resolved": _l("rozpatrzone"), "dismissed": _l("odrzucone")}


def label(labels: dict, code: str | None) -> str:
    """The translated label of a code, or the code itself when it is not known."""
    return str(labels.get(code, code or ""))


def reason_label(code: str | None) -> str:
    """A report's reason as the reporting visitor chose it (the labels of the report form)."""
    return label(REPORT_REASONS, code)


def is_member(user: User, offering: Offering) -> bool:
    """Nobody moderates the offerings of a PES they belong to."""
    return user.membership_of(offering.pes_id) is not None


def _check(actor: User, offering: Offering) -> None:
    require_role(actor)
    if is_member(actor, offering):
        raise ModerationError(_("Nie możesz moderować ofert podmiotu, którego jesteś członkiem. "
                                "Poproś o to innego moderatora."))


def can_block(offering: Offering) -> bool:
    return offering.blocked_at is None


def can_restore(offering: Offering) -> bool:
    return offering.blocked_at is not None


def ensure_can_block(actor: User, offering: Offering) -> None:
    _check(actor, offering)
    if not can_block(offering):
        raise ModerationError(_("Nic nie zmieniono: ta oferta jest już ukryta przez moderatora."))


def ensure_can_restore(actor: User, offering: Offering) -> None:
    _check(actor, offering)
    if not can_restore(offering):
        raise ModerationError(_("Nic nie zmieniono: ta oferta nie jest ukryta przez moderatora."))


def ensure_can_close(actor: User, report: OfferingReport) -> None:
    _check(actor, report.offering)
    if report.status != "open":
        raise ModerationError(_("Nic nie zmieniono: to zgłoszenie zostało już zamknięte (%(status)s).",
                                status=label(REPORT_STATUSES, report.status)))


def _tell_pes(offering: Offering, subject, template: str, reason: str | None) -> None:
    """Mail every owner and editor of the offering's PES, each in their own language (`subject` is lazy)."""
    link = external_url("catalog.my_offerings")
    for member in offering.pes.members:
        user = member.user
        outbox.queue(user.email, subject, template, locale=user.locale,
                     offering=offering, pes=offering.pes, reason=reason, link=link)


def _close(actor: User, report: OfferingReport, status: str, note: str | None) -> None:
    before = audit.snapshot(report, REPORT_FIELDS)
    report.status, report.handled_by_id, report.handled_at = status, actor.id, clock.now()
    db.session.flush()
    action = "report.resolve" if status == "resolved" else "report.dismiss"
    audit.record(actor, action, report, before=before, after=audit.snapshot(report, REPORT_FIELDS), reason=note)


def open_reports_of(offering: Offering) -> list[OfferingReport]:
    return list(db.session.scalars(select(OfferingReport).where(
        OfferingReport.offering_id == offering.id, OfferingReport.status == "open").order_by(OfferingReport.id)))


def block_offering(actor: User, offering: Offering, reason: str | None) -> int:
    """Take an offering off the public pages, tell its PES why, and close its open reports (their number)."""
    ensure_can_block(actor, offering)
    reason = clean_reason(reason, True)
    before = audit.snapshot(offering, OFFERING_FIELDS)
    offering.blocked_at, offering.blocked_reason = clock.now(), reason
    db.session.flush()
    audit.record(actor, "offering.block", offering, before=before,
                 after=audit.snapshot(offering, OFFERING_FIELDS), reason=reason)
    reports = open_reports_of(offering)
    for report in reports:
        _close(actor, report, "resolved", reason)
    _tell_pes(offering, _l("Oferta „%(title)s” została ukryta przez moderatora", title=offering.title),
              "mail/catalog_moderation/offering_blocked.txt", reason)
    return len(reports)


def restore_offering(actor: User, offering: Offering, note: str | None = None) -> None:
    """Lift a moderator's block; the offering is public again if its PES still publishes it."""
    ensure_can_restore(actor, offering)
    note = clean_reason(note, False)
    before = audit.snapshot(offering, OFFERING_FIELDS)
    offering.blocked_at, offering.blocked_reason = None, None
    db.session.flush()
    audit.record(actor, "offering.unblock", offering, before=before,
                 after=audit.snapshot(offering, OFFERING_FIELDS), reason=note)
    _tell_pes(offering, _l("Blokada oferty „%(title)s” została zniesiona", title=offering.title),
              "mail/catalog_moderation/offering_restored.txt", note)


def close_report(actor: User, report: OfferingReport, status: str, note: str | None = None) -> None:
    """Mark an open report as resolved (it was founded) or dismissed (it was not)."""
    if status not in ("resolved", "dismissed"):
        raise ValueError(status)
    ensure_can_close(actor, report)
    _close(actor, report, status, clean_reason(note, False))


# Lists ----------------------------------------------------------------------------------------------

def open_reports_query():
    """Open reports, newest first, with their offering and its PES."""
    return (select(OfferingReport).where(OfferingReport.status == "open")
            .options(joinedload(OfferingReport.offering).joinedload(Offering.pes))
            .order_by(OfferingReport.created_at.desc(), OfferingReport.id.desc()))


def blocked_query():
    """Offerings a moderator has blocked, most recently blocked first."""
    return (select(Offering).where(Offering.blocked_at.is_not(None)).options(joinedload(Offering.pes))
            .order_by(Offering.blocked_at.desc(), Offering.id.desc()))


def search_query(q: str):
    """Any offering whose title contains the text, whatever the letter case."""
    return (select(Offering).where(Offering.title_key.contains(q.casefold(), autoescape=True))
            .options(joinedload(Offering.pes)).order_by(Offering.title_key, Offering.id))


def counts() -> dict[str, int]:
    """How many reports are open and how many offerings are blocked, for the tabs."""
    reports = db.session.scalar(select(func.count()).select_from(OfferingReport)
                                .where(OfferingReport.status == "open"))
    blocked = db.session.scalar(select(func.count()).select_from(Offering).where(Offering.blocked_at.is_not(None)))
    return {"reports": reports or 0, "blocked": blocked or 0}


def reports_of(offering: Offering) -> list[OfferingReport]:
    """All reports of an offering, open ones first, then newest first."""
    return list(db.session.scalars(select(OfferingReport).where(OfferingReport.offering_id == offering.id)
                                   .order_by((OfferingReport.status == "open").desc(),
                                             OfferingReport.created_at.desc(), OfferingReport.id.desc())))


def handlers_of(reports: list[OfferingReport]) -> dict[int, str]:
    """The e-mail addresses of the moderators who handled these reports, by account id."""
    ids = {r.handled_by_id for r in reports if r.handled_by_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
