"""Helpers for the accounts tests (this module holds no tests).

The `app` fixture keeps an application context open for the whole test, and Flask reuses an open context
for requests, so `g` (where Flask-Login caches the signed-in user) would be shared by every request and
every client of a test. A real server gives each request its own context; FreshContextClient does the
same, so that each request loads its user from its own session cookie.
"""
import re

from flask.testing import FlaskClient


class FreshContextClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def fresh_client(app) -> FlaskClient:
    app.test_client_class = FreshContextClient
    return app.test_client()


def link_in(body: str, path: str) -> str:
    """The site-relative link that starts with `path` in a mail body."""
    m = re.search(r"https?://localhost(" + re.escape(path) + r"[^\s]+)", body)
    assert m, body
    return m.group(1)
