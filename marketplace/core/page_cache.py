"""Public pages and API answers kept per process for visitors without a session, never stale.

A visitor who sends neither a session nor a remember-me cookie (nor an Authorization header) sees the same
page as any other such visitor with the same language, address and day, save for the CSRF token of its forms.
Such a page (of the endpoints in CACHEABLE, answered 200) is kept under

    (content version, today's date in Warsaw, language, scheme, host, root path, path, query string)

The content version (marketplace.content_version) is read from the database at the start of each such
request, before the view reads anything, and changes in the same transaction as every change a page can show;
a copy made at an older version can therefore never be served after the change commits. The date is in the key
because marks expire and prices' 30-day lowest change with the day.

The CSRF token of the page's forms is kept as a placeholder and each visitor gets a token of their own, made
as Flask-WTF makes it (so the session cookie that carries it is set just as without the cache). A page whose
making put anything else in the session, flashed a message or set a cookie is not kept.

The store is per process and bounded (PAGE_CACHE_BYTES, 0 turns the cache off); copies of an older version
or day are dropped as soon as a newer one is seen. `X-Page-Cache: hit|miss` tells which way a page came.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from functools import lru_cache

from flask import Flask, current_app, g, request, session

from marketplace import clock, content_version
from marketplace.extensions import db

log = logging.getLogger(__name__)
# Endpoints whose answer depends only on the key above. A view with a rate limit of its own is left out (the
# search page): Flask-Limiter checks such limits in the view, which a kept copy skips; the API's limit is the
# blueprint's, checked before the cache is asked.
CACHEABLE = frozenset({
    "core.home", "pes.directory", "pes.profile",
    "catalog.index", "catalog.category", "catalog.pes_offerings", "catalog.offering",
    "api.search", "api.offering", "api.pes_list", "api.pes_detail", "api.category_list",
})
KEPT_TYPES = ("text/html", "application/json")
SESSION_KEYS_OF_A_TOKEN = frozenset({"csrf_token", "_fresh"})
PLACEHOLDER = b"\x00csrf\x00"  # a NUL byte never appears in a page we render
DROPPED_HEADERS = frozenset({"set-cookie", "content-length", "x-page-cache"})


class Store:
    """An LRU of responses bounded by the bytes of their bodies, for one generation (version and day)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.generation = None
        self.entries: OrderedDict = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, generation, key):
        with self.lock:
            if generation != self.generation:
                return None
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, generation, key, entry) -> None:
        size = len(entry[2])
        if size > self.max_bytes // 8:
            return
        with self.lock:
            if generation != self.generation:
                if self.generation is not None and generation < self.generation:
                    return  # made from an older version than copies already kept
                self.entries.clear()
                self.size, self.generation = 0, generation
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old[2])
            self.entries[key] = entry
            self.size += size
            while self.size > self.max_bytes:
                _key, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped[2])


class VersionReader:
    """Reads the content version on one connection of its own per process, kept out of the pool and in
    autocommit, so a kept answer costs one small query and no session, transaction or pool checkout. Threads
    (the development server makes one per request) take turns on it; the query takes microseconds. An
    in-memory SQLite database (one connection for everything) is read through the request's session."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conn = None
        self.pid = None

    def read(self) -> int | None:
        engine = db.engine
        if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
            return content_version.read(db.session.connection())
        with self.lock:
            if self.conn is None or self.pid != os.getpid():  # never use a connection made before a fork
                conn = engine.raw_connection()
                conn.detach()  # ours from now on: the pool neither counts nor resets it
                if engine.dialect.name == "postgresql":
                    conn.dbapi_connection.autocommit = True
                self.conn, self.pid = conn, os.getpid()
            try:
                cursor = self.conn.dbapi_connection.cursor()
                cursor.execute(content_version.READ_SQL)
                row = cursor.fetchone()
                cursor.close()
            except Exception:  # noqa: BLE001 (a lost connection: this request is answered without the cache)
                self._close()
                return None
        return row[0] if row else None

    def _close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None or self.pid != os.getpid():
            return  # a parent's connection is the parent's to close
        try:
            conn.close()
        except Exception as exc:  # noqa: BLE001 (closing a broken connection)
            log.debug("page cache: closing the version connection failed: %s", exc)

    def close_all(self, *_args) -> None:
        with self.lock:
            self._close()


def _store(app: Flask) -> Store | None:
    return app.extensions.get("page_cache")


@lru_cache(maxsize=256)
def browser_language(header: str, languages: tuple) -> str:
    """The language the browser prefers among the portal's (by its Accept-Language header); Polish when none
    of them. marketplace.setup.select_locale uses it for visitors who chose none, so a kept page's language
    is the one its view would have used."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    return parse_accept_header(header, LanguageAccept).best_match(languages) or "pl"


def _anonymous() -> bool:
    cookies = request.cookies
    app = current_app
    return (app.config["SESSION_COOKIE_NAME"] not in cookies
            and app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
            and "Authorization" not in request.headers)


def _lookup():
    store = _store(current_app)
    if store is None or request.method != "GET" or request.endpoint not in CACHEABLE or not _anonymous():
        return None
    version = current_app.extensions["page_cache_version"].read()
    if version is None:
        return None
    generation = (version, clock.today())
    # A visitor without a session has the browser's language (marketplace.setup.select_locale).
    language = browser_language(request.headers.get("Accept-Language", ""), tuple(current_app.config["LANGUAGES"]))
    key = (language, request.scheme, request.host, request.root_path, request.path,
           request.query_string)
    entry = store.get(generation, key)
    if entry is None:
        g.page_cache_slot = (store, generation, key)
        return None
    status, headers, body, has_token = entry
    if has_token:
        from flask_wtf.csrf import generate_csrf

        body = body.replace(PLACEHOLDER, generate_csrf().encode())
    response = current_app.response_class(body, status=status, headers=headers)
    response.vary.add("Cookie")  # as the page made by its view says (it read the session for the language)
    response.headers["X-Page-Cache"] = "hit"
    return response


def _keep(response):
    slot = g.pop("page_cache_slot", None)
    if slot is None:
        return response
    response.headers["X-Page-Cache"] = "miss"
    if (response.status_code != 200 or response.is_streamed or response.direct_passthrough
            or response.mimetype not in KEPT_TYPES or "Set-Cookie" in response.headers
            or "no-store" in (response.headers.get("Cache-Control") or "")):
        return response
    if (session.modified and not set(session.keys()) <= SESSION_KEYS_OF_A_TOKEN) or session.get("_fresh"):
        return response  # the view remembered something of this visitor's
    body = response.get_data()
    token = g.get("csrf_token")
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), PLACEHOLDER)
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in DROPPED_HEADERS]
    store, generation, key = slot
    store.put(generation, key, (response.status_code, headers, body, has_token))
    return response


def init_app(app: Flask) -> None:
    """Answer from the cache before any view (after the rate limits and the checks of the request), keep
    what the views answered after them."""
    size = int(app.config.get("PAGE_CACHE_BYTES", 0) or 0)
    if size <= 0:
        return
    app.extensions["page_cache"] = Store(size)
    reader = app.extensions["page_cache_version"] = VersionReader()
    with app.app_context():
        from sqlalchemy import event

        event.listen(db.engine, "engine_disposed", reader.close_all)
    app.before_request(_lookup)
    app.after_request(_keep)
