"""The accounts blueprint and what its pages share: labels, the 429 page, refusals and link problems.

Routes live in accounts/views.py (sign-up, login, reset) and accounts/settings_views.py (the account's
own settings); both register on this `bp`.
"""
import math
import time

from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _

from accounts import services
from accounts.passwords import MIN_LENGTH
from accounts.tokens import TokenError, TokenExpired, TokenUsed
from marketplace.extensions import db, limiter
from marketplace.pes.labels import INSTITUTION_KIND_LABELS

bp = Blueprint("accounts", __name__, url_prefix="/konto")


@bp.context_processor
def _account_labels():
    return {"password_min": MIN_LENGTH, "institution_kinds": INSTITUTION_KIND_LABELS}


@bp.errorhandler(429)
def too_many_attempts(e):
    """Say plainly why the form was refused and how long to wait."""
    if request.endpoint == "accounts.login":
        text = _("Było zbyt wiele nieudanych prób logowania. Odczekaj kilka minut i spróbuj ponownie.")
    else:
        text = _("Z tego formularza wysłano zbyt wiele wiadomości. Odczekaj chwilę i spróbuj ponownie.")
    limit = limiter.current_limit
    detail = None
    if limit is not None:
        minutes = max(1, math.ceil(int(limit.reset_at - time.time()) / 60))
        detail = _("Możesz spróbować ponownie za %(n)d min.", n=minutes)
    return render_template("errors/error.html", code=429, title=_("Zbyt wiele prób"), text=text,
                           detail=detail), 429


def rollback() -> None:
    """Undo the request's changes, and forget the mail queued with them (it was never written)."""
    db.session.rollback()
    g.pop("outbox_queued", None)


def refuse(form, exc: services.AccountError) -> None:
    """Undo anything half-done and show the reason next to the field it concerns."""
    rollback()
    if exc.field and exc.field in form:
        form[exc.field].errors.append(exc.message)
    else:
        form.form_errors.append(exc.message)


def message(title: str, text: str, link: str | None = None, link_text: str | None = None, status: int = 200):
    return render_template("accounts/message.html", title=title, text=text, link=link,
                           link_text=link_text), status


def link_problem(exc: TokenError, link: str, link_text: str):
    if isinstance(exc, TokenExpired):
        title, text = _("Link wygasł"), _("Ten link jest już nieważny, bo minęło zbyt wiele czasu.")
    elif isinstance(exc, TokenUsed):
        title = _("Link został już użyty")
        text = _("Ten link został już wykorzystany albo dane konta zmieniły się od jego wysłania; nie działa ponownie.")
    else:
        title, text = _("Nieprawidłowy link"), _("Ten link jest niepełny lub uszkodzony. "
                                                  "Skopiuj go z wiadomości w całości.")
    return message(title, text, link, link_text, status=400)
