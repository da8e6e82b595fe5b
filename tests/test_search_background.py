"""The outbox applied by a background thread after the commits of web requests (SEARCH_SYNC_BACKGROUND)."""
import os
import threading

import pytest
from sqlalchemy import func, select

from catalog.models import Offering
from marketplace.extensions import db
from search import service, sync
from search.index import VERSION_FILE, IndexBusy
from search.models import SearchOutbox
from tests.test_search_service import api, enable_search, refs, sample  # noqa: F401 (fixture)


@pytest.fixture
def app_config():
    return {"SEARCH_SYNC_BACKGROUND": True, "SEARCH_LOCK_TIMEOUT": 0.2}


def offering(ref: str) -> Offering:
    return db.session.scalar(select(Offering).where(Offering.ref == ref))


def outbox_size() -> int:
    return db.session.scalar(select(func.count()).select_from(SearchOutbox))


def test_a_request_does_not_wait_for_the_index_and_the_change_follows(app, client, sample, monkeypatch):
    release, started = threading.Event(), threading.Event()
    real_sync = service.sync

    def held_sync():
        started.set()
        assert release.wait(10)
        return real_sync()

    monkeypatch.setattr(service, "sync", held_sync)
    with app.test_request_context("/"):
        offering("of-03").title = "Kopytka ręcznie lepione"
        db.session.commit()  # returns although the index write is held
        assert started.wait(10)
        assert outbox_size() >= 1
    assert refs(api(client, q="kopytka")) == set()  # not yet in the index
    release.set()
    assert sync.Applier.of(app).wait_idle(10)
    assert refs(api(client, q="kopytka")) == {"of-03"}
    assert outbox_size() == 0


def test_the_thread_tries_again_when_the_index_is_busy(app, client, sample, monkeypatch):
    calls = []
    real_sync = service.sync

    def flaky_sync():
        calls.append(1)
        if len(calls) == 1:
            raise IndexBusy("locked")
        return real_sync()

    monkeypatch.setattr(service, "sync", flaky_sync)
    monkeypatch.setattr(sync.Applier, "RETRY_DELAY", 0.05)
    with app.test_request_context("/"):
        offering("of-03").title = "Kopytka"
        db.session.commit()
    assert sync.Applier.of(app).wait_idle(10)
    assert len(calls) == 2
    assert refs(api(client, q="kopytka")) == {"of-03"} and outbox_size() == 0


def test_commands_outside_requests_apply_the_outbox_themselves(app, client, sample):
    offering("of-03").title = "Kopytka"
    db.session.commit()  # no request: applied before commit() returns
    assert "search_applier" not in app.extensions
    assert refs(api(client, q="kopytka")) == {"of-03"} and outbox_size() == 0


def test_an_index_of_another_schema_is_rebuilt_in_the_background_not_in_a_search(app, client, sample):
    store = service.engine().store
    old = store.live_name()
    version_file = os.path.join(store.build_path(old), VERSION_FILE)
    with open(version_file, "w", encoding="utf-8") as fh:
        fh.write("1\n")  # as if made by an earlier release
    resp = client.get("/api/v1/search", query_string={"q": "pierogi"})
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "unavailable"
    assert sync.Applier.of(app).wait_idle(30)
    assert store.live_name() != old
    assert refs(api(client, q="pierogi"))
