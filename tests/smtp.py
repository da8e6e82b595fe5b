"""A real SMTP server on a loopback port, for tests of mail that leaves through SMTP.

Use it in any test module:

    from tests.smtp import smtp_server  # noqa: F401 (fixture)

    def test_something(app, smtp_server):
        app.config.update(smtp_server.app_config())       # MAIL_SERVER and MAIL_PORT of this server
        ...
        msg = smtp_server.last("anna@example.org")        # an email.message.EmailMessage
        assert smtp_server.count("anna@example.org") == 1

The fixture is a running `SmtpServer` that keeps its port for the whole test, so that it can be stopped
(`stop()`: the port refuses connections, as a server that is down) and started again (`start()`), and the
app's settings stay right. What it received is kept across restarts in `received` (envelopes, in order of
arrival); `messages(to)`, `last(to)` and `count(to)` find mail by recipient, `wait_for(n)` waits until n
messages have arrived (for mail sent by another thread or process).

To misbehave on purpose: `delay` (seconds) holds the reply to each message's data, after the message was
recorded, as a slow server that has already taken the mail; `hold()` makes it wait, before taking anything,
until `release()`; `stop_after(k)` brings the server down right after it has answered the k-th message from
now: its connections are closed and the port refuses new ones. `connections` counts the sessions that
greeted it (EHLO or HELO), to see how many connections a batch used.
"""
import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Controller(Controller):
    """aiosmtpd's controller, keeping its sessions so that stopping closes their connections too."""

    def __init__(self, handler, port: int):
        super().__init__(handler, hostname="127.0.0.1", port=port)
        self.sessions = []

    def factory(self):
        session = super().factory()
        self.sessions.append(session)
        return session

    def drop_everything(self) -> None:
        """In the server's loop: stop listening and close every connection, as a server that goes down."""
        if self.server is not None:
            self.server.close()
        for session in self.sessions:
            if session.transport is not None:
                session.transport.close()


class SmtpServer:
    """A controllable SMTP server; see the module's docstring."""

    host = "127.0.0.1"

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[Envelope] = []
        self.delay = 0.0
        self.connections = 0
        self._gate = threading.Event()
        self._gate.set()
        self._stop_at: int | None = None
        self._controller: _Controller | None = None
        self._stopper: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- control ---------------------------------------------------------------------------------------

    def app_config(self) -> dict:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port}

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        self._join_stopper()
        if self._controller is None:
            controller = _Controller(self, self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        self._join_stopper()
        controller, self._controller = self._controller, None
        if controller is not None:
            asyncio.run_coroutine_threadsafe(self._drop(controller), controller.loop).result(5)
            controller.stop()

    def stop_after(self, k: int) -> None:
        with self._lock:
            self._stop_at = len(self.received) + k

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def _join_stopper(self) -> None:
        if self._stopper is not None:
            self._stopper.join(10)
            self._stopper = None

    @staticmethod
    async def _drop(controller: _Controller) -> None:
        controller.drop_everything()
        await asyncio.sleep(0)  # let the closed connections finish before the loop stops

    # -- the handler aiosmtpd calls ----------------------------------------------------------------------

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # a hook takes over what the server does by default
        with self._lock:
            self.connections += 1
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return f"250 {server.hostname}"

    async def handle_DATA(self, server, session, envelope):
        while not self._gate.is_set():
            await asyncio.sleep(0.01)
        with self._lock:
            self.received.append(envelope)
            going_down = self._stop_at is not None and len(self.received) >= self._stop_at
            if going_down:
                self._stop_at = None
        if self.delay:
            await asyncio.sleep(self.delay)
        if going_down:
            # Runs after this reply has been written: the client gets its "250" and then finds the server gone.
            asyncio.get_running_loop().call_soon(self._go_down)
        return "250 OK"

    def _go_down(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.drop_everything()
            self._stopper = threading.Thread(target=controller.stop, daemon=True)  # not from its own loop
            self._stopper.start()

    # -- what arrived ----------------------------------------------------------------------------------

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            envelopes = list(self.received)
        return [message_from_bytes(e.original_content, policy=policy.default) for e in envelopes
                if to is None or to in e.rcpt_tos]

    def count(self, to: str) -> int:
        return len(self.messages(to))

    def last(self, to: str) -> EmailMessage:
        found = self.messages(to)
        assert found, f"no mail to {to} arrived"
        return found[-1]

    def recipients(self) -> list[str]:
        """Every recipient of every message, once per message received (a duplicate shows twice)."""
        with self._lock:
            return [to for e in self.received for to in e.rcpt_tos]

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until at least n messages have arrived in all; False if they did not in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= n:
                    return True
            time.sleep(0.02)
        return False


@pytest.fixture
def smtp_server():
    """A running SmtpServer on a port of its own, stopped after the test."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.release()
        server.stop()
