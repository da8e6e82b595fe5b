"""Outgoing mail through an outbox: a message is a row written in the same transaction as the change
that caused it, and is delivered after commit, so nothing is lost while the mail server is down.

After a request commits, the process's mail thread delivers what it queued (MAIL_SEND_BACKGROUND; off, the
request delivers it itself before answering). A failed delivery is retried later with a growing delay by
`flask mail send-pending` (cron); a message that failed MAX_ATTEMPTS times waits for `flask mail retry-failed`
and is counted by `flask mail status`.

Duplicates are bounded by the claim: just before a message is sent, a transaction of its own counts the attempt
and moves next_attempt_at past now by the backoff, on the condition that nobody did so meanwhile; right after,
another transaction marks it sent. Two processes never send the same message, and a process that dies between
handing a message to the server and recording it leaves that message claimed: it is sent again only after its
backoff. So a crash sends at most one message twice per sending process, the one it had in flight (so does a
connection lost while the server was taking a message, which is sent once more on a new connection); each row
keeps one Message-ID, so a recipient's mail program can recognise the copy.

Without MAIL_SERVER, messages are written as .eml files under the instance folder's mail/ directory.
"""
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import String, func, inspect, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import utcnow
from marketplace.extensions import db
from marketplace.mail_courier import Courier
from marketplace.mail_transport import Transport, Unreachable

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
# Headers that the outbox sets itself, or that would change the message's structure or recipients.
RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "sender",
                    "return-path"}
HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\Z")


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(db.Text)
    # The HTML alternative of the body, when the mail's template has an .html sibling.
    html: Mapped[str | None] = mapped_column(db.Text)
    # Further headers (List-Unsubscribe, Reply-To) as a JSON object of name to value.
    headers: Mapped[str | None] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # A failed delivery is not tried again before this time (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(db.Text)


def queue(to: str, subject, template: str, locale: str | None = None, headers: dict | None = None,
          **context) -> OutboxMail:
    """Render a mail in the recipient's language and add it to the session's transaction.

    `template` is the plain-text version (a .txt template); a template of the same name ending in .html, when
    there is one, gives the HTML version. Both see `mail_subject`. `subject` may be a lazy string: it is
    rendered in the recipient's language too. Line breaks in it (from user-supplied names) are folded, since a
    mail header cannot hold them. `headers` are added to the message as they are (checked here, so that a bad
    one fails where it was written rather than at every delivery).
    """
    with force_locale(locale or "pl"):
        subject_text = " ".join(str(subject).split())[:250]
        context = dict(context, mail_subject=subject_text)
        body = render_template(template, **context)
        html_template = _html_sibling(template)
        html = render_template(html_template, **context) if html_template else None
    msg = OutboxMail(to=to, subject=subject_text, body=body, html=html, headers=_headers_json(headers))
    db.session.add(msg)
    if has_request_context():
        g.setdefault("outbox_queued", []).append(msg)
    return msg


def _html_sibling(template: str) -> str | None:
    """The HTML version's template name, if that template exists (a missing template it extends still fails)."""
    if not template.endswith(".txt"):
        return None
    name = template[:-len(".txt")] + ".html"
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound as exc:
        if exc.name != name:
            raise
        return None
    return name


def _headers_json(headers: dict | None) -> str | None:
    if not headers:
        return None
    for name, value in headers.items():
        lowered = name.lower()
        if not HEADER_NAME.match(name) or lowered in RESERVED_HEADERS or lowered.startswith("content-"):
            raise ValueError(f"the header {name!r} cannot be set on a queued mail")
        if "\r" in str(value) or "\n" in str(value):
            raise ValueError(f"the value of the header {name!r} holds a line break")
    return json.dumps({name: str(value) for name, value in headers.items()}, ensure_ascii=False)


def commit() -> None:
    """Commit the request's transaction, then have the mail that this request queued delivered."""
    db.session.commit()
    queued = g.pop("outbox_queued", []) if has_request_context() else []
    # The identity survives the commit's expiry, so reading it costs no query; rolled-back rows have none.
    ids = [key[0] for key in (inspect(m).identity for m in queued) if key]
    if not ids:
        return
    app = current_app._get_current_object()
    if app.config.get("MAIL_SEND_BACKGROUND", True):
        Courier.of(app, deliver).hand(ids)  # the request answers without waiting for the mail server
    else:
        deliver(ids)


def rollback() -> None:
    """Roll back the request's transaction and forget the mail it had queued."""
    db.session.rollback()
    if has_request_context():
        g.pop("outbox_queued", None)


def _build(row: OutboxMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = row.to
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = _message_id(row)
    for name, value in json.loads(row.headers or "{}").items():
        msg[name] = value
    msg.set_content(row.body)
    if row.html:
        msg.add_alternative(row.html, subtype="html")  # makes it multipart/alternative, plain text first
    return msg


def _message_id(row: OutboxMail) -> str:
    """The same for every delivery of a row (so a copy sent twice is recognisable), telling nothing about it."""
    cfg = current_app.config
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    token = hmac.new(str(cfg["SECRET_KEY"]).encode(), f"outbox:{row.id}:{created.timestamp()}".encode(),
                     hashlib.sha256).hexdigest()[:32]
    return f"<{token}@{urlsplit(cfg.get('PORTAL_URL') or '').hostname or 'portal.local'}>"


def _claim(row_id: int, now: datetime) -> OutboxMail | None:
    """Take one due message for this process; another worker that tries at the same time gets nothing."""
    row = db.session.get(OutboxMail, row_id)
    if row is None or row.sent_at is not None or row.attempts >= MAX_ATTEMPTS:
        return None
    seen = row.attempts
    delay = FIRST_RETRY * (2 ** seen)
    claimed = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == row_id, OutboxMail.sent_at.is_(None), OutboxMail.attempts == seen,
               or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now))
        .values(attempts=seen + 1, next_attempt_at=now + delay)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return None
    db.session.refresh(row)
    return row


def deliver(ids) -> tuple[int, int]:
    """Try to deliver the given messages now, through one connection; returns (sent, failed).

    Failures stay queued with their error. When the mail server cannot be reached the batch stops: the
    messages after the one that found it down are left as they were, due at the next try."""
    ids, sent, failed = list(ids), 0, 0
    with Transport(current_app.config) as transport:
        for position, row_id in enumerate(ids):
            row = _claim(row_id, utcnow())
            if row is None:
                continue
            try:
                transport.send(_build(row))
            except Unreachable as exc:
                _record_failure(row, exc)
                current_app.logger.warning("mail server unreachable: %d message(s) left for the next try",
                                           len(ids) - position - 1)
                return sent, failed + 1
            except Exception as exc:  # noqa: BLE001 (any failure leaves the message queued, never breaks a request)
                _record_failure(row, exc)
                failed += 1
            else:
                row.sent_at = utcnow()
                row.last_error = None
                db.session.commit()
                sent += 1
    return sent, failed


def _record_failure(row: OutboxMail, exc: Exception) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    db.session.commit()
    if row.attempts >= MAX_ATTEMPTS:
        current_app.logger.error("mail %s to %s given up after %d attempts (see flask mail status): %s",
                                 row.id, row.to, row.attempts, exc)
    else:
        current_app.logger.warning("mail %s to %s not sent: %s", row.id, row.to, exc)


def due_ids(limit: int = 1000, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS,
                                    or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now))
        .order_by(OutboxMail.id).limit(limit)))


def deliver_pending(limit: int = 1000, now: datetime | None = None) -> tuple[int, int]:
    """Deliver every message that is due (for cron)."""
    return deliver(due_ids(limit, now))


def status(now: datetime | None = None) -> dict:
    """What waits, what was given up, what went, and how long the oldest waiting message has waited."""
    unsent = OutboxMail.sent_at.is_(None)
    waiting = (unsent, OutboxMail.attempts < MAX_ATTEMPTS)

    def count(*where) -> int:
        return db.session.scalar(select(func.count()).select_from(OutboxMail).where(*where)) or 0

    oldest = db.session.scalar(select(func.min(OutboxMail.created_at)).where(*waiting))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # SQLite keeps no time zone; the value is UTC
    return {"pending": count(*waiting), "failed": count(unsent, OutboxMail.attempts >= MAX_ATTEMPTS),
            "sent": count(OutboxMail.sent_at.is_not(None)),
            "oldest_pending_age": (now or utcnow()) - oldest if oldest else None}


def given_up(limit: int = 20) -> list[OutboxMail]:
    """Messages that reached MAX_ATTEMPTS, oldest first."""
    return list(db.session.scalars(select(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.attempts >= MAX_ATTEMPTS).order_by(OutboxMail.id).limit(limit)))


def retry_failed(now: datetime | None = None) -> int:
    """Give the messages that reached MAX_ATTEMPTS a new series of tries, once their cause is fixed.

    One still within its backoff may be in flight in another process, and is left alone."""
    now = now or utcnow()
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.attempts >= MAX_ATTEMPTS,
               or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now))
        .values(attempts=0, next_attempt_at=None).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def purge_sent(older_than_days: int = 90) -> int:
    """Delete delivered messages after a while: their bodies hold personal data (RODO)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(db.delete(OutboxMail).where(OutboxMail.sent_at.is_not(None),
                                                            OutboxMail.sent_at < cutoff))
    db.session.commit()
    return result.rowcount


def wait_background(timeout: float | None = None) -> bool:
    """Wait until the mail handed to this process's mail thread has been tried (for tests and scripts)."""
    courier = current_app.extensions.get(Courier.KEY)
    return courier is None or courier.idle.wait(timeout)
