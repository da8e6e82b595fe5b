"""Access rules for views, stacked under the route so that the view body is only what the page does.

    @bp.get("/moderacja/")
    @staff_required
    def queue(): ...
"""
from functools import wraps

from flask import abort, current_app, flash, redirect, request, url_for
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
    """Forms that send mail are limited per address (MAIL_LIMIT); with only_when_sent, only the posts for
    which the view called note("mail_sent") count."""
    return limiter.limit(lambda: current_app.config["MAIL_LIMIT"], methods=["POST"],
                         deduct_when=_noted("mail_sent") if only_when_sent else None)
