"""The team of a PES: invitations by signed link, joining, leaving, and owners' roles.

Every change to the members first locks the PES row until commit and reads the team again from the
database, so that two owners acting at the same moment (each removing the other, say) are handled one
after the other and a PES never ends up without an owner.
"""
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from accounts.models import User, utcnow
from marketplace import audit, outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.pes.models import MEMBER_ROLES, Pes, PesInvitation, PesMembership
from marketplace.pes.services import ROLE_LABELS, PesError

INVITE_SALT = "pes-team-invitation"


class WrongAccount(PesError):
    """The invitation was sent to another address than the signed-in account's."""


# Reading the team under a lock -----------------------------------------------------------------------

def _locked_team(pes: Pes) -> list[PesMembership]:
    """Lock the PES row until commit, then return its members as the database has them now."""
    db.session.execute(select(Pes.id).where(Pes.id == pes.id).with_for_update())
    db.session.expire(pes, ["members"])
    return list(db.session.scalars(
        select(PesMembership).where(PesMembership.pes_id == pes.id).order_by(PesMembership.id)
        .execution_options(populate_existing=True)))


def _acting_owner(actor: User, members: list[PesMembership]) -> PesMembership:
    mine = next((m for m in members if m.user_id == actor.id), None)
    if mine is None or mine.role != "owner":
        raise PesError(_("Zespół może zmieniać tylko właściciel, a Ty nim już nie jesteś. "
                         "Ktoś właśnie zmienił zespół – odśwież stronę."))
    return mine


def _member(members: list[PesMembership], membership_id: int) -> PesMembership:
    found = next((m for m in members if m.id == membership_id), None)
    if found is None:
        raise PesError(_("Tej osoby nie ma już w zespole."))
    return found


def _owner_count(members: list[PesMembership]) -> int:
    return sum(1 for m in members if m.role == "owner")


# Invitations ----------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITE_SALT)


def invitation_token(invitation: PesInvitation) -> str:
    return _serializer().dumps({"invitation": invitation.id})


def invite(inviter: User, pes: Pes, email: str, role: str) -> PesInvitation:
    """Invite someone who is not in the team yet; a new invitation replaces an open one to the same address."""
    email = email.strip().lower()
    if any(m.user.email.strip().lower() == email for m in pes.members):
        raise PesError(_("Ta osoba już należy do zespołu. Jeśli ma mieć inną rolę, zmień ją w tabeli "
                         "„Członkowie”."))
    now = utcnow()
    for old in pes.invitations:
        if old.is_open and old.email == email:
            old.revoked_at = now
    invitation = PesInvitation(pes=pes, email=email, role=role, invited_by_id=inviter.id)
    db.session.add(invitation)
    db.session.flush()
    invitee = db.session.scalar(select(User).where(func.lower(User.email) == email))
    outbox.queue(email, _l("Zaproszenie do zespołu „%(name)s”", name=pes.name), "mail/pes/invitation.txt",
                 locale=(invitee or inviter).locale, pes=pes, inviter=inviter, role_label=ROLE_LABELS[role],
                 days=current_app.config["INVITE_TOKEN_MAX_AGE"] // 86400,
                 link=external_url("pes.invitation", token=invitation_token(invitation)))
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
    """Join the team in the invited role, if the signed-in account has the invited address."""
    check_account(user, invitation)
    members = _locked_team(invitation.pes)
    if any(m.user_id == user.id for m in members):
        raise PesError(_("Już należysz do zespołu „%(name)s”.", name=invitation.pes.name))
    membership = PesMembership(pes=invitation.pes, user=user, role=invitation.role)
    db.session.add(membership)
    invitation.accepted_at = utcnow()
    db.session.flush()
    audit.record(user, "pes.member_join", invitation.pes, after={"user_id": user.id, "role": membership.role})
    return membership


def revoke_invitation(actor: User, invitation: PesInvitation) -> None:
    if not invitation.is_open:
        raise PesError(_("To zaproszenie nie jest już aktywne."))
    invitation.revoked_at = utcnow()
    audit.record(actor, "pes.invite_revoke", invitation.pes, before={"email": invitation.email})
    db.session.flush()


# Members and roles ----------------------------------------------------------------------------------

def remove_member(actor: User, pes: Pes, membership: PesMembership) -> None:
    """An owner takes someone (or themselves) off the team; a PES always keeps at least one owner."""
    members = _locked_team(pes)
    _acting_owner(actor, members)
    target = _member(members, membership.id)
    if target.role == "owner" and _owner_count(members) <= 1:
        raise PesError(_("Nie można usunąć jedynego właściciela. Najpierw nadaj rolę właściciela innej osobie."))
    audit.record(actor, "pes.member_remove", pes, before={"user_id": target.user_id, "role": target.role})
    db.session.delete(target)
    db.session.flush()


def change_role(actor: User, pes: Pes, membership: PesMembership, role: str) -> None:
    """An owner makes an editor an owner, or an owner (themselves too) an editor while another owner remains."""
    if role not in MEMBER_ROLES:
        raise PesError(_("Nieznana rola."))
    members = _locked_team(pes)
    _acting_owner(actor, members)
    target = _member(members, membership.id)
    if target.role == role:
        raise PesError(_("Ta osoba ma już rolę: %(role)s.", role=ROLE_LABELS[role]))
    if role == "editor" and _owner_count(members) <= 1:
        raise PesError(_("PES musi mieć co najmniej jednego właściciela. Najpierw nadaj rolę właściciela "
                         "innej osobie."))
    audit.record(actor, "pes.member_role", pes, before={"user_id": target.user_id, "role": target.role},
                 after={"user_id": target.user_id, "role": role})
    target.role = role
    db.session.flush()
