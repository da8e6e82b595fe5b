"""Filters, globals and security headers for every page."""
from datetime import datetime, timezone

from flask import request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from marketplace import region
from marketplace.core.urls import url_or


def _aware(value):
    """Datetimes from SQLite come naive but are UTC; plain dates (a mark's validity) stay as they are."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def register(app) -> None:
    from marketplace.pes.labels import legal_form_label, status_label

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
