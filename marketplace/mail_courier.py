"""The process's mail thread, which delivers the mail of committed web requests so that they need not wait."""
import os
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import Self


class Courier:
    """A thread per process (and app) delivering the outbox ids that requests hand it after their commit.

    Ids handed over while it works are delivered together in its next batch, through one connection. It
    starts on first use in each process, so after a server forks its workers each has its own. Mail it
    could not send, or had not reached when the process ended, stays in the outbox for send-pending."""

    KEY = "outbox_courier"
    _lock = threading.Lock()

    def __init__(self, app, deliver: Callable[[list[int]], object]):
        self.app = app
        self.deliver = deliver
        self.inbox: SimpleQueue = SimpleQueue()
        self.waiting = 0  # batches handed over and not yet tried
        self.idle = threading.Event()
        self.idle.set()
        self.thread: threading.Thread | None = None
        self.pid: int | None = None

    @classmethod
    def of(cls, app, deliver: Callable[[list[int]], object]) -> Self:
        with cls._lock:
            if cls.KEY not in app.extensions:
                app.extensions[cls.KEY] = cls(app, deliver)
            return app.extensions[cls.KEY]

    def hand(self, ids: list[int]) -> None:
        """Have these messages delivered soon, in the thread's application context."""
        with self._lock:
            if self.pid != os.getpid():  # a forked worker: what the parent held is the parent's
                self.inbox, self.waiting, self.pid, self.thread = SimpleQueue(), 0, os.getpid(), None
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="mail-outbox", daemon=True)
                self.thread.start()
            self.waiting += 1
            self.idle.clear()
            self.inbox.put(list(ids))

    def _take(self) -> list[list[int]]:
        """Wait for ids, then take every batch handed over so far."""
        batches = [self.inbox.get()]
        try:
            while True:
                batches.append(self.inbox.get_nowait())
        except Empty:
            return batches

    def _run(self) -> None:
        while True:
            batches = self._take()
            try:
                with self.app.app_context():  # a session of its own, removed when the context ends
                    self.deliver([row_id for batch in batches for row_id in batch])
            except Exception:  # the rows stay in the outbox; the thread must go on
                self.app.logger.exception("mail thread: delivery failed, the mail stays in the outbox")
            finally:
                with self._lock:
                    self.waiting = max(0, self.waiting - len(batches))
                    if not self.waiting:
                        self.idle.set()
