"""The life of an awarded mark: suspension, revocation and reinstatement by the office, and expiry reminders.

Functions flush and never commit; a refused step raises MarkError before anything is changed.
"""
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from accounts.models import User
from catalog.mark.labels import mark_state_label
from catalog.mark.models import REMINDER_DAYS, MarkApplication, MarkReminder, QualityMark
from catalog.mark.review import MARK_AUDIT, clean_reason
from catalog.mark.services import (
    OPEN_STATUSES,
    MarkError,
    NotPermitted,
    date_snapshot,
    is_member,
    mail_owners,
)
from marketplace import audit, clock
from marketplace.core.urls import external_url
from marketplace.extensions import db

# action -> (statuses it starts from, the status it leaves, reason required, mail subject(number), template)
ACTIONS = {
    "suspend": (("active",), "suspended", True,
                lambda n: _l("Znak jakości %(number)s został zawieszony", number=n), "mail/mark/suspended.txt"),
    "revoke": (("active", "suspended"), "revoked", True,
               lambda n: _l("Znak jakości %(number)s został cofnięty", number=n), "mail/mark/revoked.txt"),
    "reinstate": (("suspended",), "active", False,
                  lambda n: _l("Znak jakości %(number)s znów obowiązuje", number=n), "mail/mark/reinstated.txt"),
}


def can_change(mark: QualityMark, action: str) -> bool:
    return mark.status in ACTIONS[action][0]


def change_status(actor: User, mark: QualityMark, action: str, reason: str | None) -> None:
    """Suspend, revoke or reinstate a mark (staff only, never on their own PES's mark); the PES is told why."""
    starts, to_status, reason_required, subject, template = ACTIONS[action]
    if not actor.is_staff:
        raise NotPermitted(_("Nie masz uprawnień do tej czynności."))
    if is_member(actor, mark.pes_id):
        raise NotPermitted(_("Nie możesz zmieniać znaku podmiotu, którego jesteś członkiem."))
    if mark.status not in starts:
        raise MarkError(_("Tej czynności nie można wykonać, gdy znak jest %(state)s.",
                          state=mark_state_label(mark.status)))
    if reason_required:
        reason = clean_reason(reason, _("Podaj uzasadnienie."))
    else:
        reason = (reason or "").strip()[:5000] or None
    before = date_snapshot(mark, MARK_AUDIT)
    mark.status = to_status
    mark.status_reason = reason if to_status != "active" else None
    db.session.flush()
    audit.record(actor, f"mark.{action}", mark, before=before, after=date_snapshot(mark, MARK_AUDIT),
                 reason=reason)
    mail_owners(mark.pes, subject(mark.number), template, mark=mark, reason=reason,
                link=external_url("mark.verify", number=mark.number))


# Reminders -------------------------------------------------------------------------------------------

def _threshold(days_left: int) -> int | None:
    """The reminder due for a mark ending in `days_left` days: the smallest of 60, 30, 7 not below it."""
    due = [d for d in sorted(REMINDER_DAYS) if days_left <= d]
    return due[0] if due else None


def _renewed_or_renewing():
    """Marks that a granted or open renewal application already follows."""
    renewal = aliased(MarkApplication)
    return exists().where(renewal.renews_mark_id == QualityMark.id,
                          renewal.status.in_(("granted",) + OPEN_STATUSES))


def due_reminders(today: date) -> list[tuple[QualityMark, int]]:
    """Active marks ending within 60 days, not renewed, with the reminder they are due and have not had."""
    marks = db.session.scalars(
        select(QualityMark).where(QualityMark.status == "active", QualityMark.valid_from <= today,
                                  QualityMark.valid_until >= today,
                                  QualityMark.valid_until <= today + timedelta(days=max(REMINDER_DAYS)),
                                  ~_renewed_or_renewing())
        .order_by(QualityMark.valid_until, QualityMark.id)).all()
    sent = {(r.mark_id, r.days_before) for r in db.session.scalars(
        select(MarkReminder).where(MarkReminder.mark_id.in_([m.id for m in marks])))} if marks else set()
    out = []
    for mark in marks:
        days = _threshold((mark.valid_until - today).days)
        if days is not None and (mark.id, days) not in sent:
            out.append((mark, days))
    return out


def remind() -> tuple[dict[int, int], list]:
    """Mail the owners of every mark due a reminder, once per threshold; returns ({days: marks reminded},
    the queued mail)."""
    today = clock.today()
    counts, mails = {d: 0 for d in REMINDER_DAYS}, []
    for mark, days in due_reminders(today):
        db.session.add(MarkReminder(mark_id=mark.id, days_before=days))
        mails += mail_owners(mark.pes, _l("Znak jakości %(number)s wkrótce wygaśnie", number=mark.number),
                    "mail/mark/reminder.txt", mark=mark, days_left=(mark.valid_until - today).days,
                    link=external_url("mark.apply", oferta=mark.offering_id))
        counts[days] += 1
    db.session.flush()
    return counts, mails
