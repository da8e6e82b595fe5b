"""Absolute links for mail and pages, built from the portal's configured address, never from the request's
Host header (which a visitor controls), and bounded integers in URLs."""
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from werkzeug.routing import BuildError, IntegerConverter

MAX_INT = 2**31 - 1  # the largest id a PostgreSQL integer column holds
MAX_PAGE = 10_000


def external_url(endpoint: str, **values) -> str:
    """`https://portal.example/path` for an endpoint, from PORTAL_URL."""
    base = urlsplit(current_app.config["PORTAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def url_or(endpoint: str, fallback: str, **values) -> str:
    """The endpoint's URL, or `fallback` while no view of that name (or with those arguments) exists yet,
    so that a page can link to a feature that another package is still building."""
    if endpoint not in current_app.view_functions:
        return fallback
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that answers 404 for numbers no database row can have, instead of a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def id_arg(name: str) -> int | None:
    """An id from the query string, or None when it is missing or no row could have it."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_INT else None


def page_arg(name: str = "page") -> int:
    """The 1-based page number from the query string, clamped to a sane range."""
    value = request.args.get(name, 1, type=int) or 1
    return min(max(value, 1), MAX_PAGE)
