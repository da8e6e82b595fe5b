"""Filters, globals and security headers for every page."""
from datetime import UTC, datetime
from functools import lru_cache

from flask import g, has_request_context, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from markupsafe import Markup

from marketplace import region
from marketplace.core.urls import url_or


def _aware(value):
    """Datetimes from SQLite come naive but are UTC; plain dates (a mark's validity) stay as they are."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


CACHED_URLS = 4096  # addresses kept per process for templates (menus, footers, cards)
_PLAIN = (str, int)


def cached_url_for(app):
    """Templates' url_for: the same addresses, each built once per process for the host, root path and
    blueprint it depends on. Addresses are a function of the routing table, fixed at start, and of these;
    calls outside a request (mail), with options (_external, _anchor, ...) or with values other than text
    and whole numbers are built each time."""
    build = app.url_for

    @lru_cache(maxsize=CACHED_URLS)
    def cached(_host, _root, _blueprint, endpoint, items):
        return build(endpoint, **dict(items))

    def template_url_for(endpoint, **values):
        if (not has_request_context() or any(k[0] == "_" for k in values)
                or not all(type(v) in _PLAIN for v in values.values())):
            return build(endpoint, **values)
        blueprint = request.blueprint if endpoint[0] == "." else None
        return cached(request.host, request.root_path, blueprint, endpoint, tuple(values.items()))

    return template_url_for


def _translations():
    """The request's translations, kept beside Flask-Babel's locale for the request: templates ask for dozens
    of strings per page, and Flask-Babel looks its catalogue up again for each. A locale refreshed in the
    middle of a request (flask_babel.refresh) is a new locale object, so the catalogue is looked up again."""
    state = g.get("_flask_babel")
    known = state.__dict__ if state is not None else {}
    kept = known.get("portal_translations")
    if kept is not None and kept[0] is known.get("babel_locale"):
        return kept[1]
    found = get_translations()
    state = g.get("_flask_babel")  # made by Flask-Babel on its first use in the request
    locale = getattr(state, "babel_locale", None)
    if locale is not None:
        state.portal_translations = (locale, found)
    return found


STATIC_PARTS = 64


def static_parts(app):
    """Templates' static_part(name): a part of the layout that depends only on the language and on the
    portal's address (menus, footer, the style sheets), rendered once per process for each of them with the
    template environment's globals only, never a visitor's data."""
    @lru_cache(maxsize=STATIC_PARTS)
    def cached(name, _locale, _host, _root):
        return Markup(app.jinja_env.get_template(name).render())

    def static_part(name: str) -> Markup:
        return cached(name, str(get_locale() or "pl"), request.host, request.root_path)

    return static_part


def register(app) -> None:
    from marketplace.pes.labels import legal_form_label, status_label

    app.jinja_env.globals["url_for"] = cached_url_for(app)
    app.jinja_env.globals["static_part"] = static_parts(app)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        powiat_label=region.powiat_label,
        region_name=region.name,
        legal_form_label=legal_form_label,
        status_label=status_label,
        current_locale=lambda: str(get_locale() or "pl"),
        url_or=url_or,
    )
    app.jinja_env.filters["date"] = lambda v, fmt="long": format_date(_aware(v), fmt) if v else ""
    app.jinja_env.filters["datetime"] = lambda v, fmt="medium": format_datetime(_aware(v), fmt) if v else ""
    app.jinja_env.filters["number"] = lambda v: format_decimal(v) if v is not None else ""

    @app.context_processor
    def _lang_links():
        def switch_url(lang: str) -> str:
            return url_for("core.set_language", lang=lang, next=request.full_path.rstrip("?"))
        return {"switch_url": switch_url}

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("PRODUCTION"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp
