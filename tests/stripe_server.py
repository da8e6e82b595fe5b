"""Local stand-ins for Stripe, reached through the real stripe library.

`localstripe` (session scope) runs the localstripe server in a subprocess and yields its base URL: card
PaymentIntents in PLN, refunds and signed webhook deliveries. Point the app at it with `stripe_config(url)`
and empty it between tests with `flush_localstripe(url)`:

    @pytest.fixture
    def app_config(localstripe):
        flush_localstripe(localstripe)
        return stripe_config(localstripe)

`register_webhook(url, "portal", target, WEBHOOK_SECRET, ["payment_intent.succeeded"])` makes localstripe
post signed events to `target` (registrations outlive a flush; `unregister_webhook` silences one).

`stripe_recorder` (function scope) stands in for what localstripe lacks (Connect Accounts v2 and account
links, the Stripe-Account header, application fees, BLIK and P24, idempotency keys): a small HTTP server
that records every request and answers with the responses queued by the test, in order.

    stripe_recorder.reply(200, {"id": "acct_1", "object": "v2.core.account"})
    app.config.update(stripe_config(stripe_recorder.url))
    ...
    sent = stripe_recorder.requests[-1]      # .method .path .query .headers .form .json
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

SECRET_KEY = "sk_test_portal_localstripe"
PUBLISHABLE_KEY = "pk_test_portal_localstripe"
WEBHOOK_SECRET = "whsec_portal_test_secret"
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stripe_config(api_base: str, **overrides) -> dict:
    """The app's Stripe settings for a local stand-in at `api_base`."""
    cfg = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": api_base}
    cfg.update(overrides)
    return cfg


def _call(url: str, method: str, payload: dict | None = None) -> int:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status


def flush_localstripe(base_url: str) -> None:
    """Forget every object localstripe holds (its webhook registrations stay)."""
    _call(f"{base_url}/_config/data", "DELETE")


def register_webhook(base_url: str, hook_id: str, target: str, secret: str = WEBHOOK_SECRET,
                     events: list[str] | None = None) -> None:
    """Have localstripe post events (all, or only `events`) to `target`, signed with `secret`."""
    _call(f"{base_url}/_config/webhooks/{hook_id}", "POST",
          {"url": target, "secret": secret, "events": events})


def unregister_webhook(base_url: str, hook_id: str) -> None:
    """localstripe cannot delete a registration: an empty list of events makes it send nothing."""
    _call(f"{base_url}/_config/webhooks/{hook_id}", "POST",
          {"url": "http://127.0.0.1:9/", "secret": "unused", "events": []})


def _wait_until_up(proc: subprocess.Popen, base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"localstripe exited with code {proc.returncode}")
        try:
            _call(f"{base_url}/v1/balance", "GET")  # answers 401 without a key: enough to know it is up
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"localstripe did not answer within {START_TIMEOUT} s")


@pytest.fixture(scope="session")
def localstripe():
    """A localstripe server for the whole run; its base URL, "http://127.0.0.1:PORT"."""
    if find_spec("localstripe") is None:
        reason = "localstripe is not installed (pip install -e '.[test]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(proc, base_url)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The recorder ------------------------------------------------------------------------------------------

@dataclass
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    form: dict[str, str] = field(default_factory=dict)  # Stripe's v1 form keys as sent: "metadata[order_id]"
    json: dict | None = None  # the body of v2 requests


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


def stripe_error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 **extra) -> Reply:
    """An error answer in Stripe's shape, e.g. stripe_error(402, "Your card was declined.", "card_error",
    "card_declined", decline_code="insufficient_funds")."""
    error = {"type": type_, "message": message, **extra}
    if code:
        error["code"] = code
    return Reply(status, {"error": error})


class StripeRecorder:
    """Records requests and answers them with queued replies; see the module's docstring."""

    def __init__(self):
        self.requests: list[Recorded] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        self._replies.append(Reply(status, body, headers or {}))

    def answer(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def _record_and_answer(self, handler: BaseHTTPRequestHandler) -> Reply:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        recorded = Recorded(handler.command, parts.path, parse_qs(parts.query), handler.headers, body)
        if body and "json" in (handler.headers.get("Content-Type") or ""):
            recorded.json = json.loads(body)
        elif body:
            recorded.form = dict(parse_qsl(body.decode()))
        with self._lock:
            self.requests.append(recorded)
            if self._replies:
                return self._replies.pop(0)
        return stripe_error(400, f"recorder: no answer queued for {handler.command} {parts.path}")

    def _handler_class(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                answer = recorder._record_and_answer(self)
                payload = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args):  # quiet: the test looks at `requests`
                pass

        return Handler

    def start(self) -> "StripeRecorder":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def stripe_recorder():
    """A running StripeRecorder on a port of its own; its `url` is the STRIPE_API_BASE to use."""
    recorder = StripeRecorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()
