"""Mail leaves through the outbox: written with the transaction, delivered after commit, retried on failure."""
import socket
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from marketplace.outbox import OutboxMail


@pytest.fixture
def smtp_server():
    """A real SMTP server on a loopback port that keeps what it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    handler = Keep()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mail_is_written_to_files_without_a_server(app, mailbox):
    with app.test_request_context():
        outbox.queue("anna@example.org", "Witaj", "mail/generic.txt", name="Anna", text="Wiadomość z portalu.")
        outbox.commit()
    msg = mailbox.last("anna@example.org")
    assert msg["Subject"] == "Witaj"
    assert "Dzień dobry, Anna" in mailbox.body(msg)
    assert db.session.scalar(select(OutboxMail)).sent_at is not None


def test_mail_goes_through_smtp_when_configured(app, smtp_server):
    handler, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with app.test_request_context():
        outbox.queue("jan@example.org", "Potwierdzenie", "mail/generic.txt", name="Jan", text="Wiadomość z portalu.")
        outbox.commit()
    assert len(handler.messages) == 1
    assert handler.messages[0].rcpt_tos == ["jan@example.org"]
    assert "Dzień dobry, Jan" in handler.messages[0].content.decode()


def test_a_failed_delivery_stays_queued_and_is_sent_later(app, runner, smtp_server):
    handler, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())  # nothing listens there
    with app.test_request_context():
        outbox.queue("ewa@example.org", "Ważne", "mail/generic.txt", name="Ewa", text="Wiadomość z portalu.")
        outbox.commit()  # the request's change is committed even though the mail could not go
    row = db.session.scalar(select(OutboxMail))
    assert row.sent_at is None and row.attempts == 1 and "Error" in row.last_error

    result = runner.invoke(args=["outbox", "send"])
    assert "0 sent, 0 failed" in result.output  # not due yet: retries wait, longer after each failure

    row.next_attempt_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 1 and "0 sent, 1 failed" in result.output
    db.session.refresh(row)
    assert row.attempts == 2 and row.next_attempt_at - datetime.now(timezone.utc).replace(
        tzinfo=row.next_attempt_at.tzinfo) > timedelta(minutes=1)

    app.config.update(MAIL_PORT=port)
    row.next_attempt_at = None
    db.session.commit()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "1 sent, 0 failed" in result.output
    assert [m.rcpt_tos for m in handler.messages] == [["ewa@example.org"]]
    result = runner.invoke(args=["outbox", "send"])
    assert "0 sent, 0 failed" in result.output  # nothing is sent twice


def test_a_line_break_in_a_subject_is_folded_and_never_breaks_a_request(app, mailbox):
    with app.test_request_context():
        outbox.queue("ola@example.org", "Fundacja\r\nBcc: all@example.org", "mail/generic.txt", name="Ola",
                     text="x")
        outbox.commit()
    msg = mailbox.last("ola@example.org")
    assert msg["Subject"] == "Fundacja Bcc: all@example.org" and msg["Bcc"] is None


def test_an_unexpected_delivery_error_leaves_the_mail_queued(app):
    app.config.update(MAIL_DIR="/proc/no-such-folder/mail")  # writing the .eml file fails
    with app.test_request_context():
        outbox.queue("jan@example.org", "Temat", "mail/generic.txt", name="Jan", text="x")
        outbox.commit()  # no exception reaches the request
    row = db.session.scalar(select(OutboxMail))
    assert row.sent_at is None and row.last_error


def test_a_message_is_delivered_by_one_worker_only(app, mailbox):
    with app.test_request_context():
        row = outbox.queue("jan@example.org", "Temat", "mail/generic.txt", name="Jan", text="x")
        db.session.commit()
    assert outbox.deliver([row.id, row.id]) == (1, 0)  # the second claim of the same message gets nothing
    assert len(mailbox.to("jan@example.org")) == 1


def test_delivered_mail_is_purged_after_a_while(app, runner):
    with app.test_request_context():
        outbox.queue("jan@example.org", "Temat", "mail/generic.txt", name="Jan", text="x")
        outbox.commit()
    row = db.session.scalar(select(OutboxMail))
    row.sent_at = datetime.now(timezone.utc) - timedelta(days=120)
    db.session.commit()
    result = runner.invoke(args=["outbox", "purge", "--days", "90"])
    assert result.exit_code == 0 and "1 deleted" in result.output
    assert db.session.scalar(select(OutboxMail)) is None


def test_a_rolled_back_transaction_sends_nothing(app, mailbox):
    with app.test_request_context():
        outbox.queue("nikt@example.org", "Nie wysyłaj", "mail/generic.txt", name="X", text="Wiadomość z portalu.")
        db.session.rollback()
        outbox.deliver_pending()
    assert mailbox.messages() == []
