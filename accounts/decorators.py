"""Access rules for views, stacked under the route so that the view body is only what the page does.

    @bp.get("/moderacja/")
    @staff_required
    def queue(): ...
"""
from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import ROLES
from marketplace.extensions import limiter, login_manager


def role_required(*roles: str):
    """Only accounts with one of these global roles; others get 403, anonymous visitors the login page."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"role_required needs roles from {ROLES}, got {roles}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def staff_required(view):
    """Moderators and admins (user.is_staff); others get 403, anonymous visitors the login page."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def confirmed_required(view):
    """Only accounts whose e-mail address is confirmed; others are sent to ask for the link again."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_confirmed:
            flash(_("Najpierw potwierdź swój adres e-mail – kliknij link z wiadomości, którą wysłaliśmy."),
                  "warning")
            return redirect(url_for("accounts.check_mail"))
        return view(*args, **kwargs)
    return wrapped


def _purchaser_lock_reason(user) -> str:
    if user.role != "purchaser":
        return _("Ta strona jest przeznaczona dla zamawiających publicznych, których konto potwierdził "
                 "ośrodek regionalny.")
    if not user.is_confirmed:
        return _("Najpierw potwierdź swój adres e-mail – kliknij link z wiadomości, którą wysłaliśmy.")
    if user.institution_status == "rejected" or (user.institution and user.institution.status == "rejected"):
        return _("Ośrodek regionalny nie potwierdził, że działasz w imieniu instytucji, dlatego narzędzia "
                 "dla zamawiających są niedostępne. Szczegóły znajdziesz w ustawieniach konta.")
    return _("Twoje konto zamawiającego czeka na potwierdzenie przez ośrodek regionalny. Do tego czasu "
             "narzędzia dla zamawiających są niedostępne, a konto działa jak konto kupującego.")


def verified_purchaser_required(view):
    """Purchaser tools: only accounts whose tie to a verified institution staff confirmed
    (user.is_verified_purchaser); others get a 403 page saying why, anonymous visitors the login page."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_verified_purchaser:
            return render_template("errors/error.html", code=403, title=_("Brak dostępu"),
                                   text=_purchaser_lock_reason(current_user)), 403
        return view(*args, **kwargs)
    return wrapped


def note(flag: str) -> None:
    """Mark this request (a failed login, a mail sent) for the limits that look at it after the response."""
    request.environ["accounts." + flag] = True


def _noted(flag: str):
    return lambda response: bool(request.environ.get("accounts." + flag))


def _submitted_account() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()


def login_limited(view):
    """Failed logins (the view calls note("login_failed")) are limited per address and per account, so that
    guessing is slow both from one machine and against one account from many; successes cost nothing."""
    per_account = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_submitted_account,
                                methods=["POST"], deduct_when=_noted("login_failed"))
    per_address = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
                                deduct_when=_noted("login_failed"))
    return per_address(per_account(view))


def mail_limited(only_when_sent: bool = False):
    """Forms that send mail are limited per client address (MAIL_LIMIT); with only_when_sent, only the posts
    for which the view called note("mail_sent") count."""
    return limiter.limit(lambda: current_app.config["MAIL_LIMIT"], methods=["POST"],
                         deduct_when=_noted("mail_sent") if only_when_sent else None)


def posted_address(field: str):
    """The address typed into a form field, as the key of the per-recipient limit."""
    return lambda: (request.form.get(field) or "").strip().lower()


def account_address() -> str:
    """The signed-in account's own address, as the key of the per-recipient limit."""
    return current_user.email.lower() if current_user.is_authenticated else ""


def recipient_limited(address):
    """Mail to one address is limited (MAIL_LIMIT_PER_RECIPIENT, shared by every form that mails), so that
    nobody can flood a mailbox from many machines. The posts that count are those for which the view called
    note("mail_sent"), which it does whether or not the account exists, so the limit reveals nothing."""
    return limiter.shared_limit(
        lambda: current_app.config.get("MAIL_LIMIT_PER_RECIPIENT", "3 per hour"), "mail-recipient",
        key_func=lambda: "mail-to:" + address(), methods=["POST"], exempt_when=lambda: not address(),
        deduct_when=_noted("mail_sent"))
