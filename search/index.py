"""The index on disk: builds, the pointer to the live one, writers with Whoosh's lock, and the searcher.

Layout of SEARCH_INDEX_DIR::

    live             a one-line file naming the live build folder (replaced atomically with os.replace)
    live.lock        serialises the creation of a first build and the swap of the pointer
    build-<stamp>/   one complete Whoosh index each (segments written with compound=False), and beside each
                     segment the file of its derived arrays (arrays-<segment>.v<format>, see search.query),
                     written before the commit that names the segment and removed with it

`flask search reindex` writes a new build beside the live one while searches go on, swaps the pointer, then
removes the other builds. A process notices the swap by the pointer file's identity and opens the new build.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.index import _DEF_INDEX_NAME, TOC, FileIndex, LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from search import query, schema

POINTER = "live"
POINTER_LOCK = "live.lock"
BUILD_PREFIX = "build-"
WRITELOCK = "WRITELOCK"
VERSION_FILE = "SCHEMA_VERSION"  # in each build: the schema it was made with (search.schema.SCHEMA_VERSION)


class SearchCodec(W3Codec):
    """Whoosh's codec without per-posting field-length statistics.

    The search scores terms itself (search.query) and never asks for field lengths, while writing them costs
    two lookups per posting at every commit: most of the time of a full build."""

    length_stats = False


# Separate segment files (opening a reader copies nothing), and the codec above.
WRITER_OPTIONS = {"compound": False, "limitmb": 128, "codec": SearchCodec()}


class SearchWriter(SegmentWriter):
    """Whoosh's segment writer that, at every commit, first writes the arrays file of each segment that has
    none (the new one, or the parts of a build made by several processes), so that no searching process
    derives them itself, then removes the files of the segments the commit dropped (merged away)."""

    def _commit_toc(self, segments):
        for segment in segments:
            query.prepare_segment(self.storage, self.schema, segment)
        super()._commit_toc(segments)
        query.remove_stale_arrays(self.storage, [segment.segment_id() for segment in segments])


class SearchIndex(FileIndex):
    """A Whoosh index in a folder whose writers are SearchWriters (every commit keeps the arrays files)."""

    def writer(self, procs: int = 1, **kwargs):
        return SearchWriter(self, **kwargs)


def open_index(folder: str) -> SearchIndex:
    return SearchIndex(FileStorage(folder), indexname=_DEF_INDEX_NAME)


class IndexUnavailable(Exception):
    """The index cannot be written now; what was to be written stays in the outbox."""


class IndexBusy(IndexUnavailable):
    """Another writer holds the index's lock for longer than we wait."""


class IndexStore:
    """The builds in one folder and the pointer naming the live one."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)

    def _file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def build_path(self, name: str) -> str:
        return self._file(name)

    def live_name(self) -> str | None:
        try:
            with open(self._file(POINTER), encoding="utf-8") as fh:
                return fh.read().strip() or None
        except FileNotFoundError:
            return None

    def pointer_key(self) -> tuple | None:
        """Changes whenever the pointer is replaced (a new inode each time)."""
        try:
            st = os.stat(self._file(POINTER))
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    @contextmanager
    def pointer_lock(self):
        os.makedirs(self.path, exist_ok=True)
        fd = os.open(self._file(POINTER_LOCK), os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def open_build(self, name: str):
        return open_index(self._file(name))

    def open_live(self):
        """(name, index) of the live build, or None when there is none yet."""
        name = self.live_name()
        return (name, self.open_build(name)) if name else None

    def live_exists(self) -> bool:
        """Whether the pointer names a build folder that is there (whatever its schema)."""
        name = self.live_name()
        return bool(name) and os.path.isdir(self._file(name))

    def live_ok(self) -> bool:
        """Whether the pointer names a build that is there (the folder may have been removed by hand) and
        was made with the current schema (after an upgrade that changed it, the index is built again)."""
        name = self.live_name()
        try:
            with open(os.path.join(self._file(name), VERSION_FILE), encoding="utf-8") as fh:
                version = fh.read().strip()
            return (version == str(schema.SCHEMA_VERSION)
                    and any(f.endswith(".toc") for f in os.listdir(self._file(name))))
        except (OSError, TypeError):
            return False

    def new_build(self):
        """A new, empty build folder beside the live one: (name, index)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{BUILD_PREFIX}{stamp}-{secrets.token_hex(4)}"
        folder = self._file(name)
        os.makedirs(folder)
        with open(os.path.join(folder, VERSION_FILE), "w", encoding="utf-8") as fh:
            fh.write(f"{schema.SCHEMA_VERSION}\n")
        return name, SearchIndex.create(FileStorage(folder), schema.build_schema(), _DEF_INDEX_NAME)

    def swap(self, name: str) -> None:
        """Make a build the live one, atomically (readers see the old pointer or the new one)."""
        tmp = self._file(f"{POINTER}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._file(POINTER))
        dir_fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def remove_builds(self, keep: str) -> None:
        """Remove every build but `keep` (readers that still have one open keep their open files)."""
        for entry in os.listdir(self.path):
            if entry.startswith(BUILD_PREFIX) and entry != keep:
                shutil.rmtree(self._file(entry), ignore_errors=True)

    def builds(self) -> list[str]:
        if not os.path.isdir(self.path):
            return []
        return sorted(e for e in os.listdir(self.path) if e.startswith(BUILD_PREFIX))


def _acquire(lock, timeout: float, delay: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if lock.acquire():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)


@contextmanager
def live_writer(store: IndexStore, timeout: float, delay: float = 0.05):
    """A writer on the live build, committed when the block ends (cancelled on an error).

    Raises IndexBusy when the lock stays taken for `timeout` seconds, or when no live build exists."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            live = store.open_live()
        except (OSError, whoosh_index.EmptyIndexError) as e:
            raise IndexUnavailable(f"the live index cannot be opened: {e}") from e
        if live is None:
            raise IndexUnavailable("there is no live index")
        name, ix = live
        try:
            writer = ix.writer(timeout=max(0.0, deadline - time.monotonic()), delay=delay, **WRITER_OPTIONS)
        except (LockError, OSError) as e:
            if time.monotonic() >= deadline:
                raise IndexBusy(str(e) or "index locked") from e
            continue
        if store.live_name() == name:  # still live now that we hold its lock (no reindex swapped it)
            break
        writer.cancel()
    try:
        yield writer
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    if not writer.is_closed:  # the block may have cancelled it (nothing to write)
        writer.commit()


@contextmanager
def hold_live(store: IndexStore, timeout: float, delay: float = 0.05):
    """Hold the live build's write lock (no writer changes it meanwhile); yields its name or None."""
    deadline = time.monotonic() + timeout
    while True:
        name = store.live_name()
        if name is None or not store.live_ok():
            yield None
            return
        lock = store.open_build(name).lock(WRITELOCK)
        try:
            got = _acquire(lock, max(0.0, deadline - time.monotonic()), delay)
        except OSError:
            got = False
        if got and store.live_name() == name:
            break
        if got:
            lock.release()
        elif time.monotonic() >= deadline:
            raise IndexBusy("index locked")
    try:
        yield name
    finally:
        lock.release()


class LiveSearcher:
    """This process's searcher on the live build, reopened only when the index changed.

    Whoosh's own Searcher.refresh() reuses segment readers by segment id alone, so it misses deletions and
    keeps merged-away segments; here a segment reader is reused only when its segment and its deletions are
    the same. `make_view(searcher, previous_view)` derives what queries need (see search.query); it is built
    once per change and reused by every search until the next one. Searches take a lock: the readers' files
    are shared by the threads of a process.
    """

    def __init__(self, store: IndexStore, make_view, ensure_live):
        self.store = store
        self._make_view = make_view
        self._ensure_live = ensure_live  # called when there is no live build yet
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._key = None
        self._ix = None
        self._gen = None
        self._readers: dict[tuple, SegmentReader] = {}
        self.view = None

    def close(self) -> None:
        """Close every open reader (when the app goes away; the next search opens them again)."""
        with self._lock:
            for reader in self._readers.values():
                if not reader.is_closed:
                    reader.close()
            self._readers, self.view, self._key = {}, None, None

    @contextmanager
    def current(self):
        with self._lock:
            self._refresh()
            yield self.view

    def _refresh(self) -> None:
        if self._pid != os.getpid():  # forked after opening: never share file positions with the parent
            self._readers, self.view, self._key, self._pid = {}, None, None, os.getpid()
        for attempt in range(10):
            try:
                self._refresh_once()
                return
            except (OSError, whoosh_index.EmptyIndexError):
                # A writer removed files between our reading the TOC and opening them, or the build
                # folder is gone (then it is built again from the database).
                if attempt == 9:
                    raise
                self._key = None
                time.sleep(0.02)
                self._ensure_live()

    def _refresh_once(self) -> None:
        key = self.store.pointer_key()
        if key is None:
            self._ensure_live()
            key = self.store.pointer_key()
        if key != self._key:
            if not self.store.live_ok():  # removed, or made with another schema: build it again
                self._ensure_live()
                key = self.store.pointer_key()
            self._ix, self._gen = self.store.open_live()[1], None
            self._key = key
        gen = self._ix.latest_generation()
        if gen != self._gen or self.view is None:
            searcher = self._open_searcher()
            self.view = self._make_view(searcher, self.view)
            self._gen = gen

    def _open_searcher(self) -> Searcher:
        ix = self._ix
        toc = TOC.read(ix.storage, ix.indexname)
        keep: dict[tuple, SegmentReader] = {}
        readers = []
        for segment in toc.segments:
            key = (ix.storage.folder, segment.segment_id(), segment.deleted_count())
            reader = self._readers.get(key) or keep.get(key)
            if reader is None:
                reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
                if reader.doc_count_all():
                    reader.stored_fields(0)  # open the stored-fields file now, while it surely exists
            keep[key] = reader
            readers.append(reader)
        for key, reader in self._readers.items():
            if key not in keep and not reader.is_closed:
                reader.close()
        self._readers = keep
        if not readers:
            reader = EmptyReader(toc.schema)
        elif len(readers) == 1:
            reader = readers[0]
        else:
            reader = MultiReader(readers, generation=toc.generation)
        return Searcher(reader, fromindex=ix, closereader=False)
