"""Keeping the index in step with the database through the search outbox.

After every flush that touches an offering, a PES, a quality mark or their CPV codes and service areas,
a row is written to `search_outbox` on the flush's own connection, so it commits (or rolls back) with the
change. After the commit the pending rows are applied to the index in a session of their own and deleted;
when that fails (the index is locked for longer than SEARCH_LOCK_TIMEOUT, the disk is full) the rows stay
and the next commit, or `flask search sync`, applies them. Applying is idempotent: it writes what the
database holds at that moment.

The rows are written after the flush rather than before it because a new row's id is known only then;
at that point the session still lists what the flush changed and each attribute's history.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
from itertools import chain

from flask import current_app, has_app_context, has_request_context
from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from accounts.models import utcnow
from catalog.mark.models import QualityMark
from catalog.models import Offering, OfferingArea, OfferingCpv
from marketplace import clock, content_version
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesServiceArea
from search import analysis, documents
from search.index import WRITER_OPTIONS, IndexUnavailable, hold_live, live_writer
from search.models import SearchOutbox

BATCH = 10_000  # outbox rows applied per index commit
BUILD_MEMORY_MB = 2048  # default of SEARCH_BUILD_MEMORY_MB (see build_memory)
PARALLEL_MIN = 2000  # offerings per process below which a build is not shared out
# A PES change matters to the index only through these (its offerings show them or are filtered by them).
PES_FIELDS = ("name", "legal_form", "city", "status", "integration_mission", "disadvantaged_share", "areas")


def init_app(app) -> None:
    """Record changes in the outbox and apply them after commit, for this app (unless SEARCH_ENABLED is off)."""
    app.config.setdefault("SEARCH_ENABLED", True)
    app.config.setdefault("SEARCH_SYNC_BACKGROUND", True)
    app.extensions["search_sync"] = True
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def enabled() -> bool:
    return (has_app_context() and "search_sync" in current_app.extensions
            and bool(current_app.config.get("SEARCH_ENABLED", True)))


# -- recording -------------------------------------------------------------------------------------------


def _changed(obj, names) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _entity(session: Session, obj) -> tuple[str, int] | None:
    """(entity, id) of the outbox row a changed object calls for, or None."""
    if isinstance(obj, Offering):
        if obj in session.dirty and not session.is_modified(obj):
            return None
        return "offering", obj.id
    if isinstance(obj, Pes):
        if obj in session.new:  # a new PES has no offerings but new ones, recorded themselves
            return None
        if obj in session.deleted or _changed(obj, PES_FIELDS):
            return "pes", obj.id
        return None
    if isinstance(obj, (QualityMark, OfferingCpv, OfferingArea)):
        return ("offering", obj.offering_id) if obj.offering_id else None
    if isinstance(obj, PesServiceArea):
        return ("pes", obj.pes_id) if obj.pes_id else None
    return None


def _after_flush(session: Session, _context) -> None:
    if not enabled():
        return
    found = {_entity(session, obj) for obj in chain(session.new, session.dirty, session.deleted)}
    found.discard(None)
    if not found:
        return
    now = utcnow()
    rows = [{"entity": entity, "entity_id": entity_id, "created_at": now} for entity, entity_id in sorted(found)]
    session.connection().execute(SearchOutbox.__table__.insert(), rows)
    session.info["search_pending"] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop("search_pending", False) or not enabled():
        return
    app = current_app._get_current_object()
    if has_request_context() and app.config.get("SEARCH_SYNC_BACKGROUND", True):
        Applier.of(app).kick()  # the request does not wait for the index (see Applier)
        return
    _apply_now(app)


def _apply_now(app) -> bool:
    """Apply the outbox now; False (rows kept for later) when the index could not be written."""
    from search import service

    try:
        service.sync()
        return True
    except Exception as exc:  # noqa: BLE001 (the change is committed; the outbox keeps it for later)
        app.logger.warning("search index not updated after commit (kept in the outbox): %s", exc)
        return False


class Applier:
    """A thread per process (and app) applying the outbox after the commits of web requests.

    A request that changed something only writes its outbox rows (in its own transaction) and wakes this
    thread, so it answers without waiting for the index; the thread applies every pending row, usually within
    tens of milliseconds. Commits arriving meanwhile are applied together. When the index cannot be written,
    it tries again RETRIES times, waiting from RETRY_DELAY up to RETRY_MAX_DELAY (doubling) between tries;
    after that the rows wait for the next change or for `flask search sync` (cron). Commands and scripts outside requests apply the outbox themselves, at once.
    The thread starts on first use in each process, so after a server forks its workers each has its own."""

    RETRIES = 12  # about ten minutes of tries with the delays below
    RETRY_DELAY = 1.0
    RETRY_MAX_DELAY = 60.0
    _lock = threading.Lock()

    def __init__(self, app):
        self.app = app
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.thread: threading.Thread | None = None
        self.pid = None

    @classmethod
    def of(cls, app) -> Applier:
        with cls._lock:
            found = app.extensions.get("search_applier")
            if found is None:
                found = app.extensions["search_applier"] = cls(app)
            return found

    def kick(self) -> None:
        """Have the pending outbox rows applied soon."""
        with self._lock:
            self.idle.clear()
            self.wake.set()
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="search-outbox", daemon=True)
                self.thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every kick so far has been handled (for commands and tests)."""
        return self.idle.wait(timeout)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            with self._lock:
                self.wake.clear()
            with self.app.app_context():
                delay = self.RETRY_DELAY
                for _attempt in range(self.RETRIES):
                    if _apply_now(self.app):
                        break
                    if self.wake.wait(delay):  # a newer commit: try at once
                        with self._lock:
                            self.wake.clear()
                    delay = min(delay * 2, self.RETRY_MAX_DELAY)
            with self._lock:
                if not self.wake.is_set():
                    self.idle.set()


# -- applying --------------------------------------------------------------------------------------------


def write(writer, session: Session, offering_ids=(), pes_ids=()) -> int:
    """Bring the given offerings, and every offering of the given PES, up to date in the index."""
    pes_ids = set(pes_ids)
    ids = set(offering_ids) | documents.offerings_of_pes(session, pes_ids)
    docs = documents.documents_for(session, ids, clock.today())
    for pes_id in sorted(pes_ids):  # also drops offerings the database no longer has
        writer.delete_by_term("pes_id", str(pes_id))
    for offering_id in sorted(ids):
        writer.delete_by_term("id", str(offering_id))
    for offering_id in sorted(docs):
        writer.add_document(**docs[offering_id])
    return len(docs)


def _pending(session: Session, limit: int) -> list:
    stmt = (select(SearchOutbox.id, SearchOutbox.entity, SearchOutbox.entity_id)
            .order_by(SearchOutbox.id).limit(limit))
    return list(session.execute(stmt))


def apply_pending(engine, batch: int = BATCH) -> int:
    """Apply the outbox to the index until it is empty; returns the number of rows applied.

    Raises IndexBusy (rows kept) when the index stays locked longer than the engine's lock timeout."""
    ensure_live(engine)
    applied = 0
    while True:
        with Session(db.engine) as session:
            if not _pending(session, 1):
                return applied
            session.rollback()  # end the snapshot: what follows reads what is committed once we hold the lock
            with live_writer(engine.store, engine.lock_timeout) as writer:
                rows = _pending(session, batch)  # read under the lock: what it names is read after it
                if rows:
                    write(writer, session, {r.entity_id for r in rows if r.entity == "offering"},
                          {r.entity_id for r in rows if r.entity == "pes"})
                else:
                    writer.cancel()
        _forget([r.id for r in rows])
        applied += len(rows)
        if len(rows) < batch:
            return applied


def pending_count() -> int:
    """Outbox rows waiting to be applied."""
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


# -- building --------------------------------------------------------------------------------------------


def _build(engine, procs: int = 1) -> tuple[str, int, list[int]]:
    """A complete new build from the database, beside the live one: (its name, documents written, and the
    outbox rows it covers: those committed before it began reading, to delete once it is live).

    With procs > 1 (the reindex command) the offerings are shared out by id among that many forked
    processes; each reads its part from the database, analyses it and writes a segment of its own, and the
    segments become the build together (searches read several segments as well as one)."""
    name, ix = engine.store.new_build()
    try:
        today = clock.today()
        with Session(db.engine) as session:
            covered = list(session.scalars(select(SearchOutbox.id)))
            session.commit()  # a new snapshot: the build reads what was committed after these rows
            bounds = _shares(documents.public_ids(session), procs)
        if len(bounds) > 1:
            count = _write_parallel(ix, engine.store.build_path(name), bounds, today)
        else:
            writer = ix.writer(**dict(WRITER_OPTIONS, limitmb=build_memory()))
            count = 0
            with Session(db.engine) as session:
                for doc in documents.iter_documents(session, today):
                    writer.add_document(**doc)
                    count += 1
            writer.commit(optimize=True)
    except BaseException:
        shutil.rmtree(engine.store.build_path(name), ignore_errors=True)
        raise
    return name, count, covered


def build_memory() -> int:
    """MB of postings each process writing a build keeps in memory (SEARCH_BUILD_MEMORY_MB); beyond it Whoosh
    spills sorted runs to disk and merges them, which at 100 000 offerings makes a build half as slow again.
    A process's peak is a little under twice this figure."""
    return int(current_app.config.get("SEARCH_BUILD_MEMORY_MB") or BUILD_MEMORY_MB)


def _shares(ids: list[int], procs: int) -> list[tuple[int, int]]:
    """Id ranges (first, last) splitting the offerings into about equal parts, one per process (one part
    when they are few: forking costs more than it saves)."""
    parts = max(1, min(procs, len(ids) // PARALLEL_MIN))
    size = -(-len(ids) // parts) if ids else 0
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)] if ids else [(0, -1)]


def _write_part(app, folder: str, first: int, last: int, today, pipe) -> None:
    """In a forked process: write the documents of offerings first..last as one new segment of the build
    and send back (documents written, the segment) or the error."""
    try:
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's connections stay the parent's
            ix = whoosh_index.open_dir(folder)
            writer = SegmentWriter(ix, _lk=False, **dict(WRITER_OPTIONS, limitmb=build_memory()))
            count = 0
            with Session(db.engine) as session:
                for doc in documents.iter_documents(session, today, first=first, last=last):
                    writer.add_document(**doc)
                    count += 1
            segment = writer._finalize_segment()  # an empty one too: cancelling would remove the build's
            pipe.send((count, segment if count else None, None))  # temporary files, which all parts share
    except BaseException as exc:  # noqa: BLE001 (reported to the parent, which fails the build)
        pipe.send((0, None, f"{type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


def _write_parallel(ix, folder: str, bounds: list[tuple[int, int]], today) -> int:
    """Write the build's parts in forked processes, then make their segments the build's (one commit)."""
    context = multiprocessing.get_context("fork")
    app = current_app._get_current_object()
    analysis.preload()  # once, shared by the forked processes
    workers = []
    for first, last in bounds:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_write_part, args=(app, folder, first, last, today, send), daemon=True)
        process.start()
        send.close()
        workers.append((process, receive))
    results = []
    for process, receive in workers:
        try:
            results.append(receive.recv())
        except EOFError:
            results.append((0, None, f"the writing process ended with code {process.exitcode}"))
        process.join()
    errors = [error for _count, _segment, error in results if error]
    if errors:
        raise IndexUnavailable("the index was not built: " + "; ".join(errors))
    writer = ix.writer(**WRITER_OPTIONS)  # takes the build's lock for the commit
    try:
        writer._close_segment()  # its own segment stays empty
        writer._commit_toc([segment for _count, segment, _error in results if segment is not None])
    finally:
        writer._finish()
    return sum(count for count, _segment, _error in results)


def _forget(row_ids: list[int]) -> None:
    """Delete applied outbox rows."""
    with Session(db.engine) as session:
        for chunk in documents.chunked(row_ids):
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(chunk)))
        session.commit()


def build_procs() -> int:
    """Processes for a build started here: several only in a command's main thread, never in a web worker
    or a background thread (a fork would copy the other threads' state mid-work)."""
    if has_request_context() or threading.current_thread() is not threading.main_thread():
        return 1
    return min(4, os.cpu_count() or 1)


def ensure_live(engine, searching: bool = False) -> None:
    """Build the index from the database when there is none (first run, or its folder was removed), or when
    it was made with another schema (after an upgrade).

    A search in a web request never rebuilds an outdated index itself (it would hold every search of every
    worker for the whole build): it raises IndexUnavailable and has the process's background thread build
    it (`flask search reindex` does it faster, with several processes)."""
    store = engine.store
    if store.live_ok():
        return
    if searching and has_request_context() and store.live_name() and store.live_exists():
        Applier.of(current_app._get_current_object()).kick()
        raise IndexUnavailable("the index was made by another version of the portal: run flask search reindex")
    with store.pointer_lock():
        if not store.live_ok():
            name, _count, covered = _build(engine, build_procs())
            store.swap(name)
            store.remove_builds(keep=name)
            _forget(covered)
            content_version.bump()  # searches answered from the old build are kept no longer


def rebuild(engine, procs: int = 1) -> int:
    """Rebuild the whole index beside the live one and swap it in; searches go on meanwhile.

    The live build's write lock is held throughout, so changes committed during the build wait in the
    outbox (they are not written to the build being replaced) and are applied to the new one after."""
    store = engine.store
    while True:
        with hold_live(store, engine.reindex_wait) as old:
            if old is None:
                with store.pointer_lock():
                    if store.live_ok():
                        continue  # another process made one meanwhile: rebuild that one properly
                    name, count, covered = _build(engine, procs)
                    store.swap(name)
            else:
                name, count, covered = _build(engine, procs)
                with store.pointer_lock():
                    store.swap(name)
            store.remove_builds(keep=name)
        _forget(covered)
        content_version.bump()
        break
    apply_pending(engine)
    return count
