"""The index never drifts from the database: every committed change is searchable at once, a change the index
could not take waits in the outbox until `flask search sync`, `reindex` swaps a new index in while searches go
on, and `check` finds what differs."""
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.pes.models import Pes
from search import service, sync
from search.models import SearchOutbox
from tests.test_search_service import PUBLIC, api, enable_search, refs, sample  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_config():
    return {"SEARCH_LOCK_TIMEOUT": 0.2}


def offering(ref: str) -> Offering:
    return db.session.scalar(select(Offering).where(Offering.ref == ref))


def pes(ref: str) -> Pes:
    return db.session.scalar(select(Pes).where(Pes.ref == ref))


def outbox_size() -> int:
    return db.session.scalar(select(func.count()).select_from(SearchOutbox))


def test_a_committed_change_is_searchable_at_once(client, sample):
    assert service.suggest("pierogi") == ["Pierogi z kapustą i grzybami"]
    offering("of-03").title = "Kopytka ręcznie lepione"
    db.session.commit()
    assert refs(api(client, q="kopytka")) == {"of-03"}
    assert service.suggest("pierogi") == []  # the old title is gone from the index
    assert outbox_size() == 0


def test_what_stops_being_public_leaves_the_results_and_comes_back(client, sample):
    offering("of-01").status = "archived"
    offering("of-02").blocked_at = datetime.now(UTC)
    pes("pes-02").status = "suspended"  # its offerings of-05, of-06, of-07 and of-29 go with it
    pes("pes-11").status = "verified"  # and of-28 comes in
    db.session.commit()
    found = refs(api(client))
    assert not found & {"of-01", "of-02", "of-05", "of-06", "of-07", "of-29"}
    assert "of-28" in found and len(found) == PUBLIC - 6 + 1
    pes("pes-02").status = "verified"
    db.session.delete(offering("of-27"))
    db.session.commit()
    found = refs(api(client))
    assert {"of-05", "of-06", "of-07", "of-29"} <= found and "of-27" not in found


def test_a_pes_change_reaches_all_its_offerings(client, sample):
    assert api(client, powiat="0413")["total"] == 0  # a powiat no PES of the catalogue serves
    pes("pes-01").service_area = ["0463", "0413"]
    pes("pes-01").legal_form = "fundacja"
    db.session.commit()
    assert refs(api(client, powiat="0413")) == {"of-01", "of-02", "of-03"}
    assert refs(api(client, legal_form="fundacja")) == {"of-01", "of-02", "of-03", "of-12", "of-13"}


def test_a_rolled_back_change_leaves_neither_outbox_row_nor_index_change(client, sample):
    offering("of-03").title = "Kopytka"
    db.session.flush()
    assert outbox_size() == 1  # written with the change, in its transaction
    db.session.rollback()
    assert outbox_size() == 0
    assert api(client, q="kopytka")["total"] == 0


def hold_index_lock():
    store = service.engine().store
    lock = store.open_build(store.live_name()).lock("WRITELOCK")
    assert lock.acquire()
    return lock


def test_a_change_committed_while_the_index_is_locked_waits_in_the_outbox(client, runner, sample):
    lock = hold_index_lock()
    try:
        offering("of-03").title = "Kopytka ręcznie lepione"
        start = time.perf_counter()
        db.session.commit()  # the change is saved; the index waits
        assert time.perf_counter() - start < 2
        assert outbox_size() == 1
        assert api(client, q="kopytka")["total"] == 0
        result = runner.invoke(args=["search", "sync"])
        assert result.exit_code == 1 and "stay in the outbox" in result.output
        assert outbox_size() == 1
    finally:
        lock.release()
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "1 change(s) applied" in result.output
    assert refs(api(client, q="kopytka")) == {"of-03"}
    assert outbox_size() == 0
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_the_next_commit_applies_what_an_earlier_one_could_not(client, sample):
    lock = hold_index_lock()
    offering("of-03").title = "Kopytka ręcznie lepione"
    db.session.commit()
    lock.release()
    offering("of-20").title = "Miód gryczany"
    db.session.commit()
    assert refs(api(client, q="kopytka")) == {"of-03"} and refs(api(client, q="gryczany")) == {"of-20"}
    assert outbox_size() == 0


def test_a_failing_index_write_loses_nothing(client, runner, sample, monkeypatch):
    from whoosh.writing import SegmentWriter

    def disk_full(self, *args, **kwargs):
        self.cancel()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SegmentWriter, "commit", disk_full)
    offering("of-03").title = "Kopytka ręcznie lepione"
    db.session.commit()  # does not raise: the change is committed, the index update waits
    assert outbox_size() == 1
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 1 and "No space left on device" in result.output
    monkeypatch.undo()
    assert runner.invoke(args=["search", "sync"]).exit_code == 0
    assert refs(api(client, q="kopytka")) == {"of-03"} and outbox_size() == 0


def test_an_index_removed_from_disk_is_built_again_from_the_database(app, client, sample):
    import shutil

    assert api(client)["total"] == PUBLIC
    store = service.engine().store
    shutil.rmtree(store.build_path(store.live_name()))  # the live build's folder is gone
    offering("of-03").title = "Kopytka ręcznie lepione"
    db.session.commit()
    assert refs(api(client, q="kopytka")) == {"of-03"} and outbox_size() == 0
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])  # and now the whole index folder
    assert api(client)["total"] == PUBLIC
    assert service.check() == {"missing": [], "stale": [], "extra": []}


def test_nothing_is_recorded_or_indexed_when_search_is_disabled(app, client, sample):
    app.config["SEARCH_ENABLED"] = False
    offering("of-03").title = "Kopytka ręcznie lepione"
    db.session.commit()
    assert outbox_size() == 0
    assert api(client, q="kopytka")["total"] == 0


def test_check_finds_missing_stale_and_extra_documents(app, client, runner, sample):
    assert runner.invoke(args=["search", "check"]).output.splitlines() == ["missing: 0", "stale: 0", "extra: 0"]
    missing = offering("of-03").id
    service.remove([missing])
    app.config["SEARCH_ENABLED"] = False  # changes the index does not hear of
    offering("of-01").status = "archived"
    offering("of-02").title = "Obsługa konferencji"
    db.session.commit()
    extra, stale = offering("of-01").id, offering("of-02").id
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"missing: 1 ({missing})" in result.output
    assert f"stale: 1 ({stale})" in result.output
    assert f"extra: 1 ({extra})" in result.output
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and f"{PUBLIC - 1} offering(s) indexed" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


SEARCHER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    from app import create_app
    from marketplace.api.params import SearchParams
    from search import service
    from tests.conftest import make_test_config
    tmp, db_url, stop = Path(sys.argv[1]), sys.argv[2] or None, Path(sys.argv[3])
    app = create_app(make_test_config(tmp, db_url))
    totals = set()
    with app.app_context():
        n = 0
        while not stop.exists() or n < 20:
            totals.add(service.search(SearchParams(categories=("sprzatanie", "catering"))).total)
            totals.add(service.search(SearchParams()).total)
            n += 1
            if n == 20:
                print("ready", flush=True)
    print(n, sorted(totals), flush=True)
""")


def test_reindex_swaps_the_index_while_another_process_searches(app, runner, sample, tmp_path, pg_url):
    store = service.engine().store
    first = store.live_name()
    stop = tmp_path / "stop"
    env = {**os.environ, "SECRET_KEY": "test-secret-key"}
    proc = subprocess.Popen([sys.executable, "-c", SEARCHER, str(tmp_path), pg_url or "", str(stop)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(3):
            result = runner.invoke(args=["search", "reindex"])
            assert result.exit_code == 0 and f"{PUBLIC} offering(s) indexed" in result.output
    finally:
        stop.touch()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    searches, totals = out.split(maxsplit=1)
    # every search answered in full: 3 + 3 offerings in the two categories, and all of them
    assert int(searches) > 20 and totals.strip() == f"[6, {PUBLIC}]"
    assert store.live_name() != first and store.builds() == [store.live_name()]


WRITER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    from app import create_app
    from search import service, sync
    from tests.conftest import make_test_config
    app = create_app(make_test_config(Path(sys.argv[1]), sys.argv[2] or None, SEARCH_LOCK_TIMEOUT=30))
    sync.init_app(app)
    with app.app_context():
        print(service.sync(), flush=True)
""")


def test_two_processes_applying_the_outbox_at_once_both_succeed(app, client, sample, tmp_path, pg_url):
    app.config["SEARCH_ENABLED"] = False
    for ref in ("of-03", "of-20", "of-24"):
        offering(ref).title += " nowość"
    db.session.add_all([SearchOutbox(entity="offering", entity_id=offering(ref).id)
                        for ref in ("of-03", "of-20", "of-24")])
    db.session.add(SearchOutbox(entity="pes", entity_id=pes("pes-01").id))
    db.session.commit()
    env = {**os.environ, "SECRET_KEY": "test-secret-key"}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), pg_url or ""], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    assert sum(int(out) for out, _ in results) >= 4  # every row applied (some perhaps by both)
    assert outbox_size() == 0
    assert refs(api(client, q="nowość")) == {"of-03", "of-20", "of-24"}
    assert service.check() == {"missing": [], "stale": [], "extra": []}


def test_a_reindex_shared_among_processes_gives_the_same_index(app, client, runner, sample, monkeypatch):
    before = api(client, q="sprzątanie")
    monkeypatch.setattr(sync, "PARALLEL_MIN", 5)  # the catalogue's 26 offerings in parts of at least 5
    result = runner.invoke(args=["search", "reindex", "--procs", "3"])
    assert result.exit_code == 0 and f"{PUBLIC} offering(s) indexed" in result.output, result.output
    with service.engine().live.current() as view:
        assert len(view.segments) == 3  # one segment per process
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    after = api(client, q="sprzątanie")
    assert after["total"] == before["total"] and after["facets"] == before["facets"]
    assert [i["ref"] for i in after["items"]] == [i["ref"] for i in before["items"]]


def test_a_failing_part_of_a_shared_reindex_leaves_the_live_index(app, client, runner, sample, monkeypatch):
    live = service.engine().store.live_name()
    monkeypatch.setattr(sync, "PARALLEL_MIN", 5)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sync.documents, "iter_documents", broken)  # the forked writers inherit it
    result = runner.invoke(args=["search", "reindex", "--procs", "2"])
    assert result.exit_code == 1 and "disk full" in result.output
    store = service.engine().store
    assert store.live_name() == live and store.builds() == [live]
    assert api(client, q="pierogi")["total"] > 0
