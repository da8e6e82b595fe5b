"""What can be done with PES profiles: create, edit, confirm data, manage the team, remind about stale data.

Functions take plain data, flush but never commit, and raise PesError with a message for the person.
"""
import uuid
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from accounts.models import User, utcnow
from marketplace import audit, outbox
from marketplace.extensions import db
from marketplace.pes.models import RESERVED_MIN_SHARE, Pes, PesInvitation, PesMembership, PesServiceArea

INVITE_SALT = "pes-team-invitation"
REMINDER_INTERVAL = timedelta(days=30)
AUDITED_FIELDS = ("name", "legal_form", "krs", "nip", "regon", "powiat", "social_enterprise_status",
                  "disadvantaged_share", "integration_mission", "status", "status_reason")


ROLE_LABELS = {"owner": _l("właściciel"), "editor": _l("redaktor")}


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
    return pes


def update_pes(user: User, pes: Pes, data: dict, logo: str | None = None, remove_logo: bool = False) -> str | None:
    """Save an edit, which also confirms the data; a rejected profile goes back to the queue.

    Returns the path of a logo file that is no longer used, to delete once the change is committed.
    """
    before = audit.snapshot(pes, AUDITED_FIELDS)
    _apply(pes, data)
    old_logo = None
    if logo or remove_logo:
        old_logo, pes.logo = pes.logo, logo
    pes.data_confirmed_at = utcnow()
    if pes.status == "rejected":
        pes.status, pes.status_reason = "pending", None
    db.session.flush()
    after = audit.snapshot(pes, AUDITED_FIELDS)
    changed = {k for k in after if after[k] != before[k]}
    action = "pes.resubmit" if before["status"] == "rejected" else "pes.update"
    audit.record(user, action, pes, before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return old_logo


def confirm_data(pes: Pes) -> None:
    """The members say the profile is still true: it stops counting as stale."""
    pes.data_confirmed_at = utcnow()
    db.session.flush()


# The directory --------------------------------------------------------------------------------------

def directory_query(q: str = "", powiats=(), legal_forms=(), reserved: bool = False):
    """Verified PES matching the filters, by name; `powiats` match the area a PES serves."""
    stmt = select(Pes).where(Pes.status == "verified")
    if q:
        stmt = stmt.where(Pes.name.icontains(q, autoescape=True))
    if powiats:
        served = select(PesServiceArea.pes_id).where(PesServiceArea.powiat.in_(list(powiats)))
        stmt = stmt.where(Pes.id.in_(served))
    if legal_forms:
        stmt = stmt.where(Pes.legal_form.in_(list(legal_forms)))
    if reserved:
        stmt = stmt.where(Pes.integration_mission.is_(True), Pes.disadvantaged_share >= RESERVED_MIN_SHARE)
    return stmt.order_by(func.lower(Pes.name), Pes.id)


# Mail -----------------------------------------------------------------------------------------------

def _external(endpoint: str, **values) -> str | None:
    """An absolute link for a mail, or None when the portal's address is not known (no request, no SERVER_NAME)."""
    try:
        return url_for(endpoint, _external=True, **values)
    except RuntimeError:
        return None


def _mail(to: str, locale: str | None, subject, template: str, **context) -> None:
    """Queue a mail whose subject (a lazy string) and body are in the recipient's language."""
    with force_locale(locale or "pl"):
        subject = str(subject)
    outbox.queue(to, subject, template, locale=locale or "pl", **context)


# The team -------------------------------------------------------------------------------------------

class WrongAccount(PesError):
    """The invitation was sent to another address than the signed-in account's."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITE_SALT)


def invitation_token(invitation: PesInvitation) -> str:
    return _serializer().dumps({"invitation": invitation.id})


def invite(inviter: User, pes: Pes, email: str, role: str) -> PesInvitation:
    """Invite someone by e-mail; a new invitation replaces an open one to the same address."""
    email = email.strip().lower()
    if any(m.user.email.lower() == email for m in pes.members):
        raise PesError(_("Osoba z tym adresem e-mail już należy do zespołu."))
    now = utcnow()
    for old in pes.invitations:
        if old.is_open and old.email == email:
            old.revoked_at = now
    invitation = PesInvitation(pes=pes, email=email, role=role, invited_by_id=inviter.id)
    db.session.add(invitation)
    db.session.flush()
    invitee = db.session.scalar(select(User).where(func.lower(User.email) == email))
    days = current_app.config["INVITE_TOKEN_MAX_AGE"] // 86400
    _mail(email, invitee.locale if invitee else inviter.locale,
          _l("Zaproszenie do zespołu „%(name)s”", name=pes.name), "mail/pes/invitation.txt",
          pes=pes, inviter=inviter, role_label=ROLE_LABELS[role], days=days,
          link=_external("pes.invitation", token=invitation_token(invitation)))
    audit.record(inviter, "pes.invite", pes, after={"email": email, "role": role})
    return invitation


def load_invitation(token: str) -> PesInvitation:
    """The invitation behind a link, if the link is genuine, not expired, and the invitation still open."""
    try:
        payload = _serializer().loads(token, max_age=current_app.config["INVITE_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise PesError(_("To zaproszenie wygasło. Poproś o wysłanie nowego.")) from None
    except BadSignature:
        raise PesError(_("Ten link z zaproszeniem jest nieprawidłowy.")) from None
    invitation = db.session.get(PesInvitation, payload.get("invitation") if isinstance(payload, dict) else None)
    if invitation is None:
        raise PesError(_("Ten link z zaproszeniem jest nieprawidłowy."))
    if invitation.accepted_at is not None:
        raise PesError(_("To zaproszenie zostało już wykorzystane."))
    if invitation.revoked_at is not None:
        raise PesError(_("To zaproszenie zostało wycofane. Poproś o wysłanie nowego."))
    return invitation


def check_account(user: User, invitation: PesInvitation) -> None:
    """Only the account with the invited address may accept an invitation."""
    if user.email.strip().lower() != invitation.email:
        raise WrongAccount(_("To zaproszenie zostało wysłane na inny adres e-mail. "
                             "Zaloguj się na konto z tym adresem, aby je przyjąć."))


def accept_invitation(user: User, invitation: PesInvitation) -> PesMembership:
    """Join the team, if the signed-in account has the invited address."""
    check_account(user, invitation)
    membership = user.membership_of(invitation.pes_id)
    if membership is None:
        membership = PesMembership(pes=invitation.pes, user=user, role=invitation.role)
        db.session.add(membership)
    elif invitation.role == "owner":
        membership.role = "owner"
    invitation.accepted_at = utcnow()
    db.session.flush()
    audit.record(user, "pes.member_join", invitation.pes, after={"user_id": user.id, "role": membership.role})
    return membership


def remove_member(actor: User, pes: Pes, membership: PesMembership) -> None:
    """Take someone off the team; a PES always keeps at least one owner."""
    owners = [m for m in pes.members if m.role == "owner"]
    if membership.role == "owner" and len(owners) <= 1:
        raise PesError(_("Nie można usunąć jedynego właściciela. Najpierw zaproś innego właściciela."))
    audit.record(actor, "pes.member_remove", pes, before={"user_id": membership.user_id, "role": membership.role})
    pes.members.remove(membership)
    db.session.flush()


def revoke_invitation(actor: User, invitation: PesInvitation) -> None:
    if not invitation.is_open:
        raise PesError(_("To zaproszenie nie jest już aktywne."))
    invitation.revoked_at = utcnow()
    audit.record(actor, "pes.invite_revoke", invitation.pes, before={"email": invitation.email})
    db.session.flush()


# Reminders ------------------------------------------------------------------------------------------

def remind_stale(now=None) -> tuple[int, int]:
    """Mail the owners of verified PES whose data is stale, at most once in 30 days; (PES, mails)."""
    now = now or utcnow()
    stmt = select(Pes).where(
        Pes.status == "verified", Pes.data_confirmed_at < now - timedelta(days=stale_days()),
        (Pes.stale_reminder_sent_at.is_(None)) | (Pes.stale_reminder_sent_at < now - REMINDER_INTERVAL))
    reminded = mails = 0
    for pes in db.session.scalars(stmt.order_by(Pes.id)).all():
        owners = pes.owners()
        for owner in owners:
            _mail(owner.email, owner.locale, _l("Sprawdź dane „%(name)s” w portalu", name=pes.name),
                  "mail/pes/stale_reminder.txt", pes=pes, user=owner,
                  link=_external("pes.my_pes"))
        if owners:
            pes.stale_reminder_sent_at = now
            reminded += 1
            mails += len(owners)
    db.session.flush()
    return reminded, mails
