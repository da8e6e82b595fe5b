"""Account operations: sign-up, confirmation, login, password reset, settings and deletion.

Plain functions on data; they flush but never commit, queue mail through the outbox, and raise
AccountError (with a message for the person) or a tokens.TokenError when something cannot be done.
"""
from datetime import UTC
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts import notices, tokens
from accounts.models import ROLES, Institution, User, utcnow
from accounts.passwords import hash_password, needs_rehash, password_problems, verify_password
from marketplace.extensions import db
from marketplace.inquiries import privacy
from marketplace.legal import services as legal


class AccountError(Exception):
    """An operation refused for a reason the person can act on; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class AlreadyConfirmed(AccountError):
    """The address was confirmed before."""


def normalise_email(value: str) -> str:
    """The address in the form we store (lower case); ValueError with a message when it is not valid."""
    try:
        return validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValueError(_("Podaj poprawny adres e-mail, np. jan.kowalski@example.org.")) from None


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))


def _email_taken() -> AccountError:
    return AccountError(_("Konto z tym adresem e-mail już istnieje. Zaloguj się albo zresetuj hasło."), "email")


def create_account(email: str, password: str, name: str = "", role: str = "buyer",
                   confirmed: bool = False, institution: Institution | None = None) -> User:
    """A new account; refuses an address already in use."""
    if role not in ROLES:
        raise AccountError(_("Nieznana rola: %(role)s.", role=role), "role")
    if find_by_email(email) is not None:
        raise _email_taken()
    user = User(email=email.lower(), password_hash=hash_password(password), name=name.strip(), role=role,
                email_confirmed_at=utcnow() if confirmed else None, institution=institution)
    db.session.add(user)
    db.session.flush()
    return user


def institution_for(name: str, nip: str, kind: str) -> Institution:
    """The institution with this NIP, or a new one waiting for staff to verify it."""
    existing = db.session.scalar(select(Institution).where(Institution.nip == nip).order_by(Institution.id))
    if existing is not None:
        return existing
    inst = Institution(name=name.strip(), nip=nip, kind=kind, status="pending")
    db.session.add(inst)
    db.session.flush()
    return inst


def register(email: str, name: str, password: str, account_type: str, institution: dict | None = None) -> User | None:
    """Sign-up: the account (and the purchaser's institution), and the confirmation mail.

    For an address that already has an account nothing is written: its owner is mailed a notice and None
    is returned, so that the caller answers exactly as for a new account and reveals nothing.
    A purchaser waits, whatever the institution, until staff confirm that they act for it.
    """
    existing = find_by_email(email)  # checked first so that no institution is left behind
    if existing is not None:
        hash_password(password)  # the same work as a real sign-up, so the answer takes as long
        notices.signup_attempt(existing)
        return None
    inst = None
    if account_type == "purchaser":
        inst = institution_for(institution["name"], institution["nip"], institution["kind"])
    user = create_account(email, password, name=name, role=account_type, institution=inst)
    user.terms_accepted_at = utcnow()
    user.terms_version = legal.terms_version()  # the consent box links to the newest terms
    if account_type == "purchaser":
        user.institution_status = "pending"
    db.session.flush()
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    notices.confirmation(user)


def _user_of(claims: dict) -> User:
    user = db.session.get(User, claims.get("uid")) if isinstance(claims.get("uid"), int) else None
    if user is None:
        raise tokens.TokenInvalid()
    return user


def confirm_email(token: str) -> User:
    """Mark the address confirmed; a second use answers AlreadyConfirmed."""
    claims = tokens.read("confirm", token)
    user = _user_of(claims)
    if claims.get("em") != tokens.fingerprint(user.email):
        raise tokens.TokenUsed()
    if user.is_confirmed:
        raise AlreadyConfirmed(_("Ten adres e-mail został już potwierdzony."))
    user.email_confirmed_at = utcnow()
    db.session.flush()
    return user


@lru_cache(maxsize=2)
def _decoy_hash(fast: bool) -> str:
    return hash_password("decoy-password-for-unknown-accounts")


def authenticate(email: str, password: str) -> User | None:
    """The account for these credentials, or None; the same work is done for unknown addresses."""
    user = find_by_email(email)
    if user is None:
        verify_password(_decoy_hash(bool(current_app.config.get("ARGON2_FAST"))), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def reset_claims(user: User) -> dict:
    """What a reset link carries: the account and fingerprints of its current password hash and address,
    so that the link stops working once the password or the address changes."""
    return {"uid": user.id, "pw": tokens.fingerprint(user.password_hash), "em": tokens.fingerprint(user.email)}


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = find_by_email(email)
    if user is not None:
        notices.reset_link(user, reset_claims(user))


def user_for_reset(token: str) -> User:
    """The account a reset link is for, while the link is unused and fresh."""
    claims = tokens.read("reset", token)
    user = _user_of(claims)
    if (claims.get("pw") != tokens.fingerprint(user.password_hash)
            or claims.get("em") != tokens.fingerprint(user.email)):
        raise tokens.TokenUsed()
    return user


def set_password(user: User, new_password: str) -> None:
    """A new password; every other session and remember-me cookie stops working, and the owner is told."""
    user.password_hash = hash_password(new_password)
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()
    notices.password_changed(user)


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset(token)
    set_password(user, new_password)
    if not user.is_confirmed:  # the link reached the mailbox, so the address works
        user.email_confirmed_at = utcnow()
    return user


def check_password(user: User, password: str, field: str = "password") -> None:
    if not verify_password(user.password_hash, password or ""):
        raise AccountError(_("Hasło jest nieprawidłowe."), field)


def update_profile(user: User, name: str, locale: str | None) -> None:
    user.name = name.strip()
    user.locale = locale or None
    db.session.flush()


def change_password(user: User, current: str, new_password: str) -> None:
    check_password(user, current, "current_password")
    problems = password_problems(new_password, user.email)
    if problems:
        raise AccountError(" ".join(problems), "new_password")
    set_password(user, new_password)


def request_email_change(user: User, password: str, new_email: str) -> None:
    """Mail a link to the new address; nothing changes until it is followed."""
    check_password(user, password)
    if new_email == user.email:
        raise AccountError(_("To jest Twój obecny adres e-mail."), "new_email")
    if find_by_email(new_email) is not None:
        raise email_in_use("new_email")
    claims = {"uid": user.id, "old": tokens.fingerprint(user.email), "new": new_email}
    notices.email_change_link(user, new_email, claims)


def apply_email_change(token: str) -> User:
    """Switch to the new address from the link; the old address is told."""
    claims = tokens.read("email", token)
    user = _user_of(claims)
    new_email = claims.get("new")
    if claims.get("old") != tokens.fingerprint(user.email) or not isinstance(new_email, str):
        raise tokens.TokenUsed()
    if find_by_email(new_email) is not None:
        raise email_in_use()
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = utcnow()
    db.session.flush()
    notices.email_changed(user, old_email)
    return user


def email_in_use(field: str | None = None) -> AccountError:
    return AccountError(_("Ten adres e-mail jest już używany przez inne konto."), field)


def blocking_pes(user: User) -> list:
    """PES the user alone owns while others are members: ownership must be handed over first."""
    blocking = []
    for m in user.memberships:
        if m.role != "owner":
            continue
        others = [x for x in m.pes.members if x.user_id != user.id]
        if others and not any(x.role == "owner" for x in others):
            blocking.append(m.pes)
    return blocking


def is_last_admin(user: User, lock: bool = False) -> bool:
    """Whether this is the portal's only administrator; with `lock`, the admins' rows are locked, so that
    two admins deleting their accounts at once cannot both go."""
    if user.role != "admin":
        return False
    query = select(User.id).where(User.role == "admin")
    admins = db.session.scalars(query.with_for_update() if lock else query).all()
    return admins == [user.id]


def delete_account(user: User, password: str) -> None:
    """Erase the account (RODO); memberships go with it, its inquiries stay with the PES anonymised; a last
    mail confirms it."""
    check_password(user, password)
    if is_last_admin(user, lock=True):
        raise AccountError(_("Jesteś jedynym administratorem portalu, więc nie możesz usunąć swojego konta. "
                             "Najpierw nadaj rolę administratora innej osobie."))
    blocking = blocking_pes(user)
    if blocking:
        names = ", ".join(p.name for p in blocking)
        raise AccountError(_("Jesteś jedynym właścicielem podmiotu, który ma innych członków: %(names)s. "
                             "Najpierw przekaż komuś z nich rolę właściciela.", names=names))
    privacy.anonymise_account(user)  # threads stay with the PES, without the person
    notices.account_deleted(user)
    db.session.delete(user)
    db.session.flush()


def _iso(value):
    """ISO 8601 in UTC with its offset; SQLite gives back naive datetimes, which were stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC).isoformat()
    return value.astimezone(UTC).isoformat()


def _favourites(user: User) -> list[dict]:
    from marketplace.favourites.models import Favourite

    rows = db.session.scalars(db.select(Favourite).where(Favourite.user_id == user.id).order_by(Favourite.id))
    return [{"pes": f.pes.name if f.pes else None, "offering": f.offering.title if f.offering else None,
             "saved_at": _iso(f.created_at)} for f in rows]


def _builder_results(user: User) -> list[dict]:
    from marketplace.procurement.models import SavedResult

    rows = db.session.scalars(db.select(SavedResult).where(SavedResult.user_id == user.id).order_by(SavedResult.id))
    return [{"title": r.title, "inputs": r.inputs, "saved_at": _iso(r.created_at),
             "link": f"/zamowienia-publiczne/wynik/{r.token}"} for r in rows]


def export_data(user: User) -> dict:
    """Everything the portal keeps about the account itself, for the RODO right of access."""
    inst = user.institution
    return {
        "account": {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                    "locale": user.locale, "email_confirmed_at": _iso(user.email_confirmed_at),
                    "terms_accepted_at": _iso(user.terms_accepted_at), "terms_version": user.terms_version,
                    "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at)},
        "institution": None if inst is None else {
            "name": inst.name, "nip": inst.nip, "kind": inst.kind, "status": inst.status,
            "your_status": user.institution_status, "your_status_checked_at": _iso(user.institution_checked_at)},
        "pes_memberships": [{"pes_id": m.pes_id, "pes_name": m.pes.name, "role": m.role,
                             "since": _iso(m.created_at)} for m in user.memberships],
        **privacy.export_for(user, _iso),
        "favourites": _favourites(user),
        "clause_builder_results": _builder_results(user),
        "exported_at": _iso(utcnow()),
    }
