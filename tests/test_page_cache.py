"""Public pages and API answers kept for visitors without a session: served again while nothing changed, and
never after a change, whichever way it was written (ORM, a Core UPDATE, another table, the index, the day)."""
import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text, update

from catalog.mark.models import QualityMark
from catalog.models import Offering
from marketplace import clock, content_version
from marketplace.audit import record
from marketplace.core.page_cache import CACHEABLE, Store
from marketplace.extensions import db
from marketplace.orders import stock
from tests.factories import make_pes, make_user
from tests.order_factories import product, selling_pes
from tests.test_catalog_offerings import make_offering, sign_in


@pytest.fixture
def visitor(app):
    """A browser that keeps no cookies: every request comes from a new visitor without a session."""
    return app.test_client(use_cookies=False)


def get(client, path: str, **headers):
    resp = client.get(path, headers=headers)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp


def version() -> int:
    with db.engine.connect() as conn:
        return content_version.read(conn)


def test_a_page_is_kept_and_a_change_shows_at_once(app, visitor):
    pes = make_pes(name="Spółdzielnia Smaki")
    make_offering(pes, title="Obiady domowe")
    db.session.commit()
    first = get(visitor, "/kategoria/catering")
    second = get(visitor, "/kategoria/catering")
    assert (first.headers["X-Page-Cache"], second.headers["X-Page-Cache"]) == ("miss", "hit")
    assert second.get_data() == first.get_data() and "Obiady domowe" in second.get_data(as_text=True)
    for header in ("Content-Type", "Vary", "Content-Security-Policy", "X-Frame-Options"):
        assert second.headers.get(header) == first.headers.get(header), header

    offering = db.session.scalar(select(Offering))
    offering.title = "Obiady regionalne"
    db.session.commit()
    after = get(visitor, "/kategoria/catering")
    assert after.headers["X-Page-Cache"] == "miss"
    assert "Obiady regionalne" in after.get_data(as_text=True)
    assert "Obiady domowe" not in after.get_data(as_text=True)


def test_a_core_update_of_stock_shows_on_the_offering_page(app, visitor):
    pes, _owner = selling_pes()
    item = product(pes, stock=1)
    db.session.commit()
    path = f"/oferta/{item.id}"
    first = visitor.get(path, follow_redirects=True)  # the short address leads to the canonical one
    assert "Dodaj do koszyka" in first.get_data(as_text=True)
    page = first.request.path
    assert get(visitor, page).headers["X-Page-Cache"] == "hit"

    assert stock.take(item.id, 1)  # a Core UPDATE, as checkout takes stock
    db.session.commit()
    after = get(visitor, page).get_data(as_text=True)
    assert "Dodaj do koszyka" not in after
    assert "kiedy produkt znów będzie dostępny" in after


def test_a_rolled_back_change_keeps_the_copies(app, visitor):
    make_offering(make_pes(), title="Obiady domowe")
    db.session.commit()
    get(visitor, "/kategoria/catering")
    before = version()
    db.session.execute(update(Offering).values(title="Nigdy zapisane"))
    db.session.rollback()
    assert version() == before
    assert get(visitor, "/kategoria/catering").headers["X-Page-Cache"] == "hit"


def test_the_version_moves_once_per_transaction_and_not_for_untracked_tables(app):
    pes = make_pes()
    for n in range(3):
        make_offering(pes, title=f"Oferta {n}", ref=f"r-{n}")
    db.session.commit()
    before = version()
    db.session.execute(update(Offering).values(unit="kg"))
    db.session.commit()
    moved = version() - before
    # PostgreSQL bumps once at commit; SQLite once per row (each is just a larger number).
    assert moved == (1 if db.engine.dialect.name == "postgresql" else 3)

    before = version()
    record(None, "test.event", pes)  # the audit log is not shown
    db.session.commit()
    assert version() == before


def test_search_answers_follow_the_index(app, visitor):
    pes = make_pes()
    make_offering(pes, title="Pierogi ruskie")
    db.session.commit()
    path = "/api/v1/search?q=pierogi"
    assert get(visitor, path).get_json()["total"] == 1
    kept = get(visitor, path)
    assert kept.headers["X-Page-Cache"] == "hit" and kept.headers["Access-Control-Allow-Origin"] == "*"
    make_offering(pes, title="Pierogi z kapustą", ref="second")
    db.session.commit()  # outside a request the index is written within the commit
    assert get(visitor, path).get_json()["total"] == 2


def test_a_rebuilt_index_is_not_hidden_by_copies(app, visitor):
    make_offering(make_pes(), title="Pierogi ruskie")
    db.session.commit()
    get(visitor, "/api/v1/search?q=pierogi")
    before = version()
    from search import service

    service.rebuild()
    assert version() > before
    assert get(visitor, "/api/v1/search?q=pierogi").headers["X-Page-Cache"] == "miss"


def test_each_visitor_gets_a_token_of_their_own_that_works(app):
    pes, _owner = selling_pes()
    item = product(pes)
    db.session.commit()
    page = app.test_client().get(f"/oferta/{item.id}", follow_redirects=True).request.path
    tokens = []
    for _ in range(3):
        browser = app.test_client()  # a new visitor, who keeps the cookie the page sets
        resp = get(browser, page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True)).group(1)
        tokens.append(token)
        assert "session=" in resp.headers.get("Set-Cookie", "")
        added = browser.post("/koszyk/dodaj", data={"csrf_token": token, "offering_id": item.id, "quantity": 1,
                                                    "next": page})
        assert added.status_code == 302, added.get_data(as_text=True)[:500]
        assert "Miód wielokwiatowy" in browser.get("/koszyk").get_data(as_text=True)
    assert len(set(tokens)) == 3
    assert page and "\x00" not in get(app.test_client(), page).get_data(as_text=True)

    stranger = app.test_client()
    get(stranger, page)
    refused = stranger.post("/koszyk/dodaj", data={"csrf_token": tokens[0], "offering_id": item.id, "quantity": 1})
    assert refused.status_code == 400  # another visitor's token is no good


def test_visitors_with_a_session_are_never_served_a_copy(app, visitor):
    owner = make_user()
    pes = make_pes(owner=owner, name="Spółdzielnia Smaki")
    make_offering(pes, title="Obiady domowe")
    sign_in(client := app.test_client(), owner)
    get(visitor, f"/pes/{pes.id}")
    resp = get(client, f"/pes/{pes.id}")
    assert "X-Page-Cache" not in resp.headers
    assert "Wyloguj" in resp.get_data(as_text=True)
    assert "Wyloguj" not in get(visitor, f"/pes/{pes.id}").get_data(as_text=True)


def test_languages_are_kept_apart(app, visitor):
    make_offering(make_pes(), title="Obiady domowe")
    db.session.commit()
    polish = get(visitor, "/oferty", **{"Accept-Language": "pl"}).get_data(as_text=True)
    english = get(visitor, "/oferty", **{"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="pl"' in polish and 'lang="en"' in english
    again = get(visitor, "/oferty", **{"Accept-Language": "en"})
    assert again.headers["X-Page-Cache"] == "hit" and 'lang="en"' in again.get_data(as_text=True)


def test_a_mark_that_expires_overnight_is_not_shown_from_yesterday(app, visitor):
    pes = make_pes()
    offering = make_offering(pes, title="Obiady domowe")
    today = clock.today()
    db.session.add(QualityMark(number="ZJ/2026/001", offering_id=offering.id, pes_id=pes.id, status="active",
                               valid_from=today - timedelta(days=300), valid_until=today))
    db.session.commit()
    path = f"/api/v1/offerings/{offering.id}"
    assert get(visitor, path).get_json()["quality_mark"] is not None
    assert get(visitor, path).headers["X-Page-Cache"] == "hit"
    app.config["CLOCK_OFFSET_DAYS"] = 1
    assert get(visitor, path).get_json()["quality_mark"] is None


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_BYTES": 0}])
def test_the_cache_can_be_turned_off(app, visitor):
    assert "X-Page-Cache" not in get(visitor, "/").headers


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_kept_api_answers_still_count_against_the_rate_limit(app, visitor):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    answers = [visitor.get("/api/v1/categories") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[2].headers["X-Page-Cache"] == "hit"
    assert answers[3].get_json()["error"]["code"]


def test_every_cacheable_page_reads_only_tables_the_version_watches(app, visitor):
    """The version is only as good as the tables it watches: each kept endpoint, made afresh with a PES that
    sells, a quality mark and a price change, reads no table that is left out of it."""
    pes, _owner = selling_pes(name="Spółdzielnia Smaki")
    item = product(pes, title="Miód lipowy", stock=5)
    today = clock.today()
    db.session.add(QualityMark(number="ZJ/2026/002", offering_id=item.id, pes_id=pes.id, status="active",
                               valid_from=today - timedelta(days=10), valid_until=today + timedelta(days=100)))
    db.session.commit()
    item.price_net = item.price_net - 1
    db.session.commit()
    pages = {
        "core.home": "/", "pes.directory": "/pes", "pes.profile": f"/pes/{pes.id}", "catalog.index": "/oferty",
        "catalog.category": "/kategoria/zywnosc", "catalog.pes_offerings": f"/pes/{pes.id}/oferty",
        "catalog.offering": visitor.get(f"/oferta/{item.id}", follow_redirects=True).request.path,
        "api.search": "/api/v1/search?q=miod",
        "api.offering": f"/api/v1/offerings/{item.id}", "api.pes_list": "/api/v1/pes",
        "api.pes_detail": f"/api/v1/pes/{pes.id}", "api.category_list": "/api/v1/categories",
    }
    assert set(pages) == CACHEABLE
    read: set[str] = set()
    names = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)

    def watch(_conn, _cursor, statement, *_args):
        read.update(names.findall(statement))

    content_version.bump()  # every page below is made afresh
    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        for path in pages.values():
            assert get(visitor, path).headers["X-Page-Cache"] == "miss", path
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    tables = read & set(db.metadata.tables)
    assert {"offerings", "pes", "quality_marks", "pes_sales", "offering_prices"} <= tables
    assert not tables & (content_version.UNTRACKED - {content_version.TABLE})


def test_the_triggers_cover_every_table_but_the_untracked(app):
    with db.engine.connect() as conn:
        assert content_version.installed_tables(conn) == set(db.metadata.tables) - content_version.UNTRACKED


def test_the_store_keeps_one_generation_within_its_bound():
    store = Store(max_bytes=8000)
    store.put((1, "d"), "a", (200, [], b"x" * 900, False))
    store.put((1, "d"), "b", (200, [], b"x" * 900, False))
    assert store.get((1, "d"), "a") is not None
    store.put((1, "d"), "big", (200, [], b"x" * 1001, False))  # over an eighth of the bound: not kept
    assert store.get((1, "d"), "big") is None
    for n in range(8):
        store.put((1, "d"), f"k{n}", (200, [], b"x" * 900, False))
    assert store.size <= 8000 and store.get((1, "d"), "b") is None  # the least recently used went first
    store.put((2, "d"), "new", (200, [], b"y", False))
    assert store.get((1, "d"), "k7") is None and store.size == 1
    store.put((1, "d"), "late", (200, [], b"z", False))  # made from an older version: dropped
    assert store.get((2, "d"), "late") is None and store.get((1, "d"), "late") is None


def test_a_page_that_remembers_something_of_its_visitor_is_not_kept(app, visitor, monkeypatch):
    from flask import session

    from marketplace.core import page_cache

    @app.get("/_remembers")
    def remembers():
        session["seen"] = True
        return "<p>ok</p>"

    monkeypatch.setattr(page_cache, "CACHEABLE", page_cache.CACHEABLE | {"remembers"})
    assert get(visitor, "/_remembers").headers["X-Page-Cache"] == "miss"
    assert get(visitor, "/_remembers").headers["X-Page-Cache"] == "miss"


def test_without_the_version_row_pages_are_answered_but_not_kept(app, visitor):
    """Without the row (a database emptied by hand) pages are answered, just not kept."""
    with db.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {content_version.TABLE}"))
    resp = get(visitor, "/")
    assert "X-Page-Cache" not in resp.headers
    with db.engine.begin() as conn:
        content_version.install(conn, [])
    assert get(visitor, "/").headers["X-Page-Cache"] == "miss"


def test_requests_on_many_threads_share_one_version_connection(app):
    """The development server (and the browser tests' server) runs each request on a thread of its own: the
    version is still read on one connection, so the database does not see a connection per request."""
    import threading

    def open_connections() -> int:
        if db.engine.dialect.name != "postgresql":
            return len(os.listdir("/proc/self/fd"))
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                                ).scalar()

    app.test_client(use_cookies=False).get("/")
    before = open_connections()
    for _ in range(30):
        thread = threading.Thread(target=lambda: app.test_client(use_cookies=False).get("/"))
        thread.start()
        thread.join()
    assert open_connections() - before <= 2
