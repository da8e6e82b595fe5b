"""The mail that account operations send: links to act on, and notices of changes made to an account.

Links are built from the portal's configured address (external_url), never from the request, so that a
forged Host header cannot put someone else's site into a mail. Messages go through the outbox and are
written in the recipient's language (the account's choice, else the language of the current page).
"""
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from accounts import tokens
from accounts.models import User
from marketplace import outbox
from marketplace.core.urls import external_url


def locale_of(user: User) -> str:
    """The account's language, or the one the person is using the portal in now."""
    return user.locale or str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "pl"))


def _hours(setting: str) -> int:
    return current_app.config[setting] // 3600


def confirmation(user: User) -> None:
    """The link that confirms the account's address."""
    claims = {"uid": user.id, "em": tokens.fingerprint(user.email)}
    link = external_url("accounts.confirm_email", token=tokens.issue("confirm", claims))
    outbox.queue(user.email, _l("Potwierdź adres e-mail"), "mail/accounts/confirm.txt", locale=locale_of(user),
                 user=user, link=link, hours=_hours("CONFIRM_TOKEN_MAX_AGE"))


def signup_attempt(user: User) -> None:
    """Someone signed up with an address that has an account: its owner is told, and nobody else learns it."""
    outbox.queue(user.email, _l("Próba założenia konta na Twój adres e-mail"), "mail/accounts/signup_attempt.txt",
                 locale=locale_of(user), user=user, login_link=external_url("accounts.login"),
                 reset_link=external_url("accounts.reset_request"))


def reset_link(user: User, claims: dict) -> None:
    """The link that sets a new password."""
    link = external_url("accounts.reset_password", token=tokens.issue("reset", claims))
    outbox.queue(user.email, _l("Ustawienie nowego hasła"), "mail/accounts/reset.txt", locale=locale_of(user),
                 user=user, link=link, minutes=current_app.config["RESET_TOKEN_MAX_AGE"] // 60)


def password_changed(user: User) -> None:
    """After a password change or reset: if it was not the owner, they learn it at once."""
    outbox.queue(user.email, _l("Hasło do konta zostało zmienione"), "mail/accounts/password_changed.txt",
                 locale=locale_of(user), user=user, reset_link=external_url("accounts.reset_request"))


def email_change_link(user: User, new_email: str, claims: dict) -> None:
    """The link, sent to the new address, that makes the change."""
    link = external_url("accounts.confirm_email_change", token=tokens.issue("email", claims))
    outbox.queue(new_email, _l("Potwierdź nowy adres e-mail"), "mail/accounts/email_change.txt",
                 locale=locale_of(user), user=user, link=link, new_email=new_email,
                 hours=_hours("CONFIRM_TOKEN_MAX_AGE"))


def email_changed(user: User, old_email: str) -> None:
    """Told to the old address once the change is made."""
    outbox.queue(old_email, _l("Adres e-mail konta został zmieniony"), "mail/accounts/email_changed.txt",
                 locale=locale_of(user), user=user, old_email=old_email, new_email=user.email)


def account_deleted(user: User) -> None:
    outbox.queue(user.email, _l("Konto zostało usunięte"), "mail/accounts/deleted.txt", locale=locale_of(user),
                 user=user)
