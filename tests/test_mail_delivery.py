"""Outgoing mail against a real SMTP server: multipart messages, a server that is down or goes down mid-batch,
a sending process killed mid-batch, and delivery by the worker's thread after a request's commit."""
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from marketplace import outbox
from marketplace.extensions import db
from marketplace.outbox import MAX_ATTEMPTS, OutboxMail
from tests.conftest import csrf_token
from tests.factories import make_user
from tests.smtp import smtp_server  # noqa: F401 (fixture)
from tests.test_accounts_support import fresh_client

ROOT = Path(__file__).resolve().parents[1]
SUBJECT = "Zapytanie ofertowe: żółta gęś, źródło ćwiczeń"


def queue_due(app, count: int, prefix: str = "odbiorca") -> list[int]:
    """Queue mail and commit it without delivering it: rows due now, as after a crash before delivery."""
    with app.test_request_context():
        rows = [outbox.queue(f"{prefix}{i}@example.org", f"Wiadomość {i}", "mail/generic.txt", name=f"Osoba {i}",
                             text="Treść wiadomości.") for i in range(count)]
        db.session.commit()
        return [row.id for row in rows]


def rows() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def backoff_passes(*ids: int) -> None:
    """Move the next try of claimed, unsent messages into the past: what waiting out their backoff does."""
    stmt = update(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts > 0)
    if ids:
        stmt = stmt.where(OutboxMail.id.in_(ids))
    db.session.execute(stmt.values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()


def send_pending(runner, *options: str):
    return runner.invoke(args=["mail", "send-pending", *options])


# -- the message -------------------------------------------------------------------------------------------


def test_a_mail_with_an_html_version_arrives_as_multipart_alternative(app, smtp_server):
    app.config.update(smtp_server.app_config())
    unsubscribe = {"List-Unsubscribe": "<https://pes.example.pl/wypisz/abc>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with app.test_request_context():
        outbox.queue("zofia@example.org", SUBJECT, "mail/generic.txt", headers=unsubscribe, name="Zofia Łęcka",
                     text="Prosimy o wycenę – łącznie 120 porcji <pierogów> & kompot.")
        outbox.commit()
    msg = smtp_server.last("zofia@example.org")
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "Dzień dobry, Zofia Łęcka" in text.get_content()
    assert "łącznie 120 porcji <pierogów> & kompot." in text.get_content()
    page = html.get_content()
    assert '<html lang="pl">' in page and f">{SUBJECT}</h1>" in page  # the subject is the mail's heading
    assert "Dzień dobry, Zofia Łęcka" in page and "porcji &lt;pierogów&gt; &amp; kompot." in page
    assert "<img" not in page and '<a href="http://localhost"' in page
    raw_subject = next(line for line in smtp_server.received[-1].original_content.split(b"\r\n")
                       if line.startswith(b"Subject:"))
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject.lower()  # encoded words, as RFC 2047 wants
    assert msg["Subject"] == SUBJECT
    assert msg["List-Unsubscribe"] == unsubscribe["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_html_version_follows_the_recipients_language_and_a_plain_template_stays_plain(app, smtp_server):
    app.config.update(smtp_server.app_config())
    with app.test_request_context():
        outbox.queue("jan@example.org", "Offer", "mail/generic.txt", locale="en", name="Jan", text="x")
        outbox.queue("ewa@example.org", "Konto usunięte", "mail/accounts/deleted.txt",
                     user=SimpleNamespace(email="ewa@example.org"))
        outbox.commit()
    html = smtp_server.last("jan@example.org").get_body(preferencelist=("html",)).get_content()
    assert '<html lang="en">' in html and "Hello Jan," in html
    plain = smtp_server.last("ewa@example.org")
    assert plain.get_content_type() == "text/plain" and "zostało usunięte" in plain.get_content()
    assert [row.html is None for row in rows()] == [False, True]


@pytest.mark.parametrize("headers", [{"Bcc": "all@example.org"}, {"Content-Type": "text/html"},
                                     {"X-Note": "a\r\nBcc: all@example.org"}, {"Bad Name": "x"}])
def test_headers_that_would_change_recipients_or_structure_are_refused_when_queued(app, headers):
    with app.test_request_context(), pytest.raises(ValueError):
        outbox.queue("jan@example.org", "Temat", "mail/generic.txt", headers=headers, name="Jan", text="x")


# -- a server that is down ---------------------------------------------------------------------------------


def test_mail_queued_while_the_server_is_down_is_delivered_once_when_it_is_back(app, runner, smtp_server):
    app.config.update(smtp_server.app_config())
    smtp_server.stop()
    for i in range(3):
        with app.test_request_context():
            outbox.queue(f"osoba{i}@example.org", "Ważne", "mail/generic.txt", name="Ewa", text="Treść.")
            outbox.commit()  # the change is committed and nothing reaches the caller
    assert all(r.sent_at is None and r.attempts == 1 and "Connection refused" in r.last_error for r in rows())
    result = runner.invoke(args=["mail", "status"])
    assert "pending: 3" in result.output and "failed for good (after 10 attempts): 0" in result.output

    smtp_server.start()
    assert "sent 0, failed 0" in send_pending(runner).output  # each waits for its backoff first
    first, second, third = (r.id for r in rows())
    backoff_passes(first, second)
    result = send_pending(runner)
    assert result.exit_code == 0 and "sent 2, failed 0" in result.output
    assert smtp_server.recipients() == ["osoba0@example.org", "osoba1@example.org"]  # not the third yet

    backoff_passes(third)
    assert "sent 1, failed 0" in send_pending(runner).output
    backoff_passes()
    assert "sent 0, failed 0" in send_pending(runner).output
    assert sorted(smtp_server.recipients()) == [f"osoba{i}@example.org" for i in range(3)]  # each once
    assert all(r.sent_at is not None and r.last_error is None for r in rows())


def test_a_batch_uses_one_connection(app, runner, smtp_server):
    app.config.update(smtp_server.app_config())
    queue_due(app, 50)
    result = send_pending(runner)
    assert result.exit_code == 0 and "sent 50, failed 0" in result.output
    assert smtp_server.connections == 1 and len(set(smtp_server.recipients())) == 50


def test_a_server_that_goes_down_mid_batch_loses_and_repeats_nothing(app, runner, smtp_server):
    app.config.update(smtp_server.app_config())
    ids = queue_due(app, 10)
    smtp_server.stop_after(4)
    result = send_pending(runner)
    assert result.exit_code == 1 and "sent 4, failed 1" in result.output
    assert not smtp_server.running and len(smtp_server.received) == 4
    state = rows()
    assert all(r.sent_at is not None for r in state[:4])
    # The fifth found the server gone (its connection closed, a new one refused): it waits for its backoff.
    # The batch stopped there, so the others were not even tried.
    assert state[4].sent_at is None and state[4].attempts == 1 and "Unreachable" in state[4].last_error
    assert all(r.sent_at is None and r.attempts == 0 and r.last_error is None for r in state[5:])

    smtp_server.start()
    assert "sent 5, failed 0" in send_pending(runner).output
    backoff_passes(ids[4])
    assert "sent 1, failed 0" in send_pending(runner).output
    assert sorted(smtp_server.recipients()) == sorted(f"odbiorca{i}@example.org" for i in range(10))
    assert all(r.sent_at is not None for r in rows())


# -- a sending process killed mid-batch ----------------------------------------------------------------------


def test_a_sending_process_killed_mid_batch_sends_at_most_its_message_in_flight_twice(app, runner, smtp_server):
    count = 40
    app.config.update(smtp_server.app_config())
    queue_due(app, count)
    db.session.remove()
    smtp_server.delay = 0.05  # the server takes each message, then answers 50 ms later
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SERVER=smtp_server.host,
               MAIL_PORT=str(smtp_server.port), SECRET_KEY=app.config["SECRET_KEY"], SEARCH_ENABLED="0",
               PORTAL_URL="http://localhost")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "mail", "send-pending"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        arrived = smtp_server.wait_for(10, timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert arrived and proc.returncode == -signal.SIGKILL
    smtp_server.delay = 0

    state = rows()
    sent = sum(r.sent_at is not None for r in state)
    in_flight = [r.id for r in state if r.sent_at is None and r.attempts > 0]
    # At most one message was claimed and never recorded as sent: the one the server was answering (or had
    # not yet been given) when the process died. Every message the server took is sent, or is that one.
    assert len(in_flight) <= 1 and 9 <= sent < count
    assert sent <= len(smtp_server.received) <= sent + len(in_flight)
    result = send_pending(runner)  # within its backoff the message in flight is left alone
    assert result.exit_code == 0 and f"sent {count - sent - len(in_flight)}, failed 0" in result.output
    assert [r.id for r in rows() if r.sent_at is None] == in_flight

    backoff_passes(*in_flight)
    assert f"sent {len(in_flight)}, failed 0" in send_pending(runner).output
    assert all(r.sent_at is not None for r in rows())
    recipients = smtp_server.recipients()
    assert set(recipients) == {f"odbiorca{i}@example.org" for i in range(count)}
    twice = {to for to in recipients if recipients.count(to) > 1}
    assert len(recipients) - count == len(twice) <= 1
    assert twice <= {r.to for r in rows() if r.id in in_flight}
    for to in twice:  # both copies carry the same Message-ID, so the recipient's program can tell
        assert len({m["Message-ID"] for m in smtp_server.messages(to)}) == 1


# -- delivery after a request's commit ---------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"MAIL_SEND_BACKGROUND": True}])
def test_a_request_answers_without_waiting_and_its_mail_follows(app, smtp_server):
    app.config.update(smtp_server.app_config())
    make_user("jan@example.org")
    db.session.commit()
    client = fresh_client(app)
    token = csrf_token(client, "/konto/haslo")
    smtp_server.hold()  # the server takes the connection and the message, and does not answer yet
    response = client.post("/konto/haslo", data={"csrf_token": token, "email": "jan@example.org"})
    assert response.status_code == 200 and "Sprawdź skrzynkę e-mail" in response.get_data(as_text=True)
    (row,) = rows()
    assert row.sent_at is None and row.last_error is None  # the request answered while its mail was held
    smtp_server.release()
    assert smtp_server.wait_for(1, timeout=30)
    assert outbox.wait_background(30)
    (row,) = rows()
    assert row.sent_at is not None and smtp_server.count("jan@example.org") == 1


# -- what failed for good ----------------------------------------------------------------------------------


def test_mail_that_failed_for_good_is_shown_and_can_be_tried_again(app, runner, smtp_server):
    app.config.update(smtp_server.app_config())
    first, _second = queue_due(app, 2)
    db.session.execute(update(OutboxMail).where(OutboxMail.id == first).values(
        attempts=MAX_ATTEMPTS, last_error="SMTPRecipientsRefused: mailbox full",
        next_attempt_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.session.commit()
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 1
    assert "pending: 2" not in result.output and "pending: 1" in result.output
    assert "failed for good (after 10 attempts): 1" in result.output and "mailbox full" in result.output
    assert "oldest pending: 0min" in result.output
    assert "sent 1, failed 0" in send_pending(runner).output  # the given-up one is not tried

    assert "1 message(s) will be tried again" in runner.invoke(args=["mail", "retry-failed"]).output
    assert "sent 1, failed 0" in send_pending(runner).output
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0 and "sent: 2" in result.output and "oldest pending: -" in result.output
    assert "0 deleted" in runner.invoke(args=["mail", "purge"]).output  # delivered today: kept
