"""The reminder, on every page, that a signed-in account has newer terms to accept.

It is shown among the page's flash messages: templates get a `get_flashed_messages` that puts the reminder
first, so the layout needs no block of its own. The database is asked once per request, and only when a
page actually shows its messages.
"""
from flask import g, get_flashed_messages, has_request_context, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from marketplace.legal import services
from marketplace.legal.views import bp

CATEGORY = "warning"


def terms_reminder() -> Markup | None:
    """The reminder with a link to the acceptance page (and back), or None when there is nothing to accept."""
    if not has_request_context() or request.endpoint == "legal.accept_terms":
        return None
    if not current_user.is_authenticated:
        return None
    if "terms_reminder" not in g:
        g.terms_reminder = services.needs_terms(current_user)
    if not g.terms_reminder:
        return None
    link = url_for("legal.accept_terms", next=request.full_path.rstrip("?"))
    return Markup('{} <a href="{}">{}</a>').format(
        _("Regulamin portalu został zmieniony."), link, _("Przeczytaj zmiany i zaakceptuj nową wersję"))


def messages_with_reminder(with_categories: bool = False, category_filter=()) -> list:
    """Flask's get_flashed_messages, with the terms reminder first when there is one."""
    found = list(get_flashed_messages(with_categories=with_categories, category_filter=category_filter))
    reminder = terms_reminder()
    if reminder is not None and (not category_filter or CATEGORY in category_filter):
        found.insert(0, (CATEGORY, reminder) if with_categories else reminder)
    return found


@bp.app_context_processor
def _reminder():
    return {"get_flashed_messages": messages_with_reminder}
