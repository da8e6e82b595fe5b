"""The life of an awarded mark: suspension, revocation and reinstatement by the office, and expiry reminders.

Functions flush and never commit; a refused step raises MarkError before anything is changed.
"""
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, selectinload

from accounts.models import User
from catalog.mark.eligibility import OPEN_STATUSES
from catalog.mark.labels import mark_state_label
from catalog.mark.models import REMINDER_DAYS, MarkApplication, MarkReminder, QualityMark
from catalog.mark.review import MARK_AUDIT, change, clean_reason
from catalog.mark.services import MarkError, NotPermitted, date_snapshot, is_member, mail_owners
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


def open_renewals(mark_id: int, lock: bool = False) -> list[MarkApplication]:
    """The open applications for the renewal of a mark (locked when asked, before the mark itself: the
    chair's decision locks the application first and the marks after, and so must everyone else)."""
    stmt = (select(MarkApplication).where(MarkApplication.renews_mark_id == mark_id,
                                          MarkApplication.status.in_(OPEN_STATUSES)).order_by(MarkApplication.id))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def _return_renewals(actor: User, mark: QualityMark, to_status: str) -> list[MarkApplication]:
    """A suspended or revoked mark is not renewed: its open renewal applications go back to the PES."""
    if to_status == "suspended":
        comment = _("Wniosek zwrócono, ponieważ znak %(number)s, którego przedłużenia dotyczy, został zawieszony. "
                    "Można go złożyć ponownie po przywróceniu znaku.", number=mark.number)
    else:
        comment = _("Wniosek zwrócono, ponieważ znak %(number)s, którego przedłużenia dotyczy, został cofnięty.",
                    number=mark.number)
    returned = open_renewals(mark.id)
    for application in returned:
        change(actor, application, "mark.return", comment, status="returned", return_comment=comment)
    return returned


def change_status(actor: User, mark: QualityMark, action: str, reason: str | None) -> None:
    """Suspend, revoke or reinstate a mark (staff only, never on their own PES's mark); the PES is told why.
    Suspending or revoking returns any open application for the mark's renewal."""
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
    returned = _return_renewals(actor, mark, to_status) if to_status != "active" else []
    mail_owners(mark.pes, subject(mark.number), template, mark=mark, reason=reason, returned=returned,
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
        .options(selectinload(QualityMark.offering), selectinload(QualityMark.pes))
        .order_by(QualityMark.valid_until, QualityMark.id)).all()
    sent = {(r.mark_id, r.days_before) for r in db.session.scalars(
        select(MarkReminder).where(MarkReminder.mark_id.in_([m.id for m in marks])))} if marks else set()
    out = []
    for mark in marks:
        days = _threshold((mark.valid_until - today).days)
        if days is not None and (mark.id, days) not in sent:
            out.append((mark, days))
    return out


def remind() -> tuple[dict[int, int], list, int]:
    """Mail the owners of every mark due a reminder, once per threshold; returns ({days: marks reminded},
    the queued mail, the number of marks skipped because their offering or PES is not public now). A skipped
    mark is not marked as reminded: it gets the reminder due once it is public again."""
    today = clock.today()
    counts, mails, skipped = {d: 0 for d in REMINDER_DAYS}, [], 0
    for mark, days in due_reminders(today):
        if mark.offering is None or not mark.offering.is_public:
            skipped += 1
            continue
        db.session.add(MarkReminder(mark_id=mark.id, days_before=days, sent_at=clock.now()))
        mails += mail_owners(mark.pes, _l("Znak jakości %(number)s wkrótce wygaśnie", number=mark.number),
                             "mail/mark/reminder.txt", mark=mark, days_left=(mark.valid_until - today).days,
                             link=external_url("mark.apply", oferta=mark.offering_id))
        counts[days] += 1
    db.session.flush()
    return counts, mails, skipped
