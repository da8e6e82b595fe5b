"""What can be done with PES profiles: create, edit, confirm data, search the directory, remind about stale data.

The team (invitations, members, roles) is in marketplace.pes.team. Functions take plain data, flush but
never commit, and raise PesError with a message for the person.
"""
import uuid
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.models import User, utcnow
from marketplace import audit, outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.moderation.notify import notify_staff
from marketplace.outbox import OutboxMail
from marketplace.pes.models import RESERVED_MIN_SHARE, Pes, PesMembership, PesServiceArea

REMINDER_INTERVAL = timedelta(days=30)
AUDITED_FIELDS = ("name", "legal_form", "krs", "nip", "regon", "powiat", "social_enterprise_status",
                  "disadvantaged_share", "integration_mission", "status", "status_reason")
# What a moderator checks before verifying: changing any of these sends a verified profile back to review.
VERIFIED_FIELDS = ("name", "legal_form", "nip", "krs", "regon", "disadvantaged_share", "integration_mission",
                   "social_enterprise_status")

# The one place that names the roles in a PES team (used by the PES and moderation pages alike).
ROLE_LABELS = {"owner": _l("właściciel"), "editor": _l("redaktor")}


def member_role_label(code: str | None) -> str:
    return str(ROLE_LABELS.get(code, code or ""))


class PesError(Exception):
    """A request that the rules refuse; str() is the message to show."""


# Who may do what -------------------------------------------------------------------------------------

def role_in(user, pes: Pes) -> str | None:
    """The user's role in this PES ("owner", "editor") or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = user.membership_of(pes.id)
    return membership.role if membership else None


def can_edit(user, pes: Pes) -> bool:
    return role_in(user, pes) in ("owner", "editor")


def can_manage_team(user, pes: Pes) -> bool:
    return role_in(user, pes) == "owner"


def can_preview(user, pes: Pes) -> bool:
    """Members and staff may see a profile that is not public yet."""
    return can_edit(user, pes) or bool(getattr(user, "is_staff", False))


def stale_days() -> int:
    return current_app.config["PES_DATA_STALE_DAYS"]


# The profile ----------------------------------------------------------------------------------------

def _apply(pes: Pes, data: dict) -> None:
    for key, value in data.items():
        setattr(pes, key, value)


def create_pes(user: User, data: dict, logo: str | None = None) -> Pes:
    """A new profile owned by `user`; it waits for a moderator before it becomes public."""
    pes = Pes(ref=f"new-{uuid.uuid4().hex}", status="pending", logo=logo)
    _apply(pes, data)
    db.session.add(pes)
    db.session.add(PesMembership(pes=pes, user=user, role="owner"))
    db.session.flush()
    ref = f"pes-{pes.id}"
    if db.session.scalar(select(Pes.id).where(Pes.ref == ref)) is not None:
        ref = f"pes-{pes.id}-{uuid.uuid4().hex[:6]}"  # an imported record already uses the plain form
    pes.ref = ref
    db.session.flush()
    audit.record(user, "pes.create", pes, after=audit.snapshot(pes, AUDITED_FIELDS + ("ref",)))
    _tell_staff(pes)
    return pes


def _tell_staff(pes: Pes, resubmitted: bool = False) -> None:
    """Moderators and admins learn that a profile waits for verification."""
    notify_staff(_l("PES czeka na weryfikację: %(name)s", name=pes.name), "mail/staff/pes_submitted.txt",
                 pes=pes, resubmitted=resubmitted, link=external_url("moderation.pes_detail", pes_id=pes.id))


def _needs_review(pes: Pes, before: dict) -> bool:
    """A rejected profile always goes back to the queue; a verified one when checked data changed."""
    if before["status"] == "rejected":
        return True
    return before["status"] == "verified" and any(getattr(pes, f) != before[f] for f in VERIFIED_FIELDS)


def update_pes(user: User, pes: Pes, data: dict, logo: str | None = None, remove_logo: bool = False) -> str | None:
    """Save an edit, which also confirms the data; the profile goes back to review when it must.

    Returns the path of a logo file that is no longer used, to delete once the change is committed.
    """
    before = audit.snapshot(pes, AUDITED_FIELDS)
    _apply(pes, data)
    old_logo = None
    if logo or remove_logo:
        old_logo, pes.logo = pes.logo, logo
    pes.data_confirmed_at = utcnow()
    resubmitted = _needs_review(pes, before)
    if resubmitted:
        pes.status, pes.status_reason = "pending", None
    db.session.flush()
    after = audit.snapshot(pes, AUDITED_FIELDS)
    changed = {k for k in after if after[k] != before[k]}
    audit.record(user, "pes.resubmit" if resubmitted else "pes.update", pes,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    if resubmitted:
        _tell_staff(pes, resubmitted=True)
    return old_logo


def confirm_data(pes: Pes) -> None:
    """The members say the profile is still true: it stops counting as stale."""
    pes.data_confirmed_at = utcnow()
    db.session.flush()


# The directory --------------------------------------------------------------------------------------

def directory_query(q: str = "", powiats=(), legal_forms=(), reserved: bool = False):
    """Verified PES matching the filters, by name; `powiats` match the area a PES serves.

    Names are compared and sorted by their case-folded form, made in Python, so that Polish letters
    match the same way on every database ("łódź" finds "ŁÓDŹ").
    """
    stmt = select(Pes).where(Pes.status == "verified")
    if q:
        stmt = stmt.where(Pes.name_key.contains(q.casefold(), autoescape=True))
    if powiats:
        served = select(PesServiceArea.pes_id).where(PesServiceArea.powiat.in_(list(powiats)))
        stmt = stmt.where(Pes.id.in_(served))
    if legal_forms:
        stmt = stmt.where(Pes.legal_form.in_(list(legal_forms)))
    if reserved:
        stmt = stmt.where(Pes.integration_mission.is_(True), Pes.disadvantaged_share >= RESERVED_MIN_SHARE)
    return stmt.order_by(Pes.name_key, Pes.id)


# Reminders ------------------------------------------------------------------------------------------

def remind_stale(now=None) -> tuple[int, list[OutboxMail]]:
    """Mail the owners of verified PES whose data is stale, at most once in 30 days.

    Returns how many PES were reminded and the queued mail, to deliver once committed.
    """
    now = now or utcnow()
    stmt = select(Pes).where(
        Pes.status == "verified", Pes.data_confirmed_at < now - timedelta(days=stale_days()),
        (Pes.stale_reminder_sent_at.is_(None)) | (Pes.stale_reminder_sent_at < now - REMINDER_INTERVAL))
    reminded, mails = 0, []
    stmt = stmt.options(selectinload(Pes.members).selectinload(PesMembership.user)).order_by(Pes.id)
    for pes in db.session.scalars(stmt).all():
        owners = pes.owners()
        for owner in owners:
            mails.append(outbox.queue(owner.email, _l("Sprawdź dane „%(name)s” w portalu", name=pes.name),
                                      "mail/pes/stale_reminder.txt", locale=owner.locale, pes=pes, user=owner,
                                      link=external_url("pes.my_pes")))
        if owners:
            pes.stale_reminder_sent_at = now
            reminded += 1
    db.session.flush()
    return reminded, mails
