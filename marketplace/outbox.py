"""Outgoing mail through an outbox: a message is a row written in the same transaction as the change
that caused it, and is delivered after commit; a failed delivery is retried later with a growing delay
(`flask outbox send`, from cron), so nothing is lost while the mail server is down.

Without MAIL_SERVER, messages are written as .eml files under the instance folder's mail/ directory.
"""
import os
import smtplib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import utcnow
from marketplace.extensions import db

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # A failed delivery is not tried again before this time (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(db.Text)


def queue(to: str, subject, template: str, locale: str | None = None, **context) -> OutboxMail:
    """Render a plain-text mail in the recipient's language and add it to the session's transaction.

    `subject` may be a lazy string: it is rendered in the recipient's language too. Line breaks in it
    (from user-supplied names) are folded, since a mail header cannot hold them.
    """
    with force_locale(locale or "pl"):
        subject_text = " ".join(str(subject).split())[:250]
        body = render_template(template, **context)
    msg = OutboxMail(to=to, subject=subject_text, body=body)
    db.session.add(msg)
    if has_request_context():
        g.setdefault("outbox_queued", []).append(msg)
    return msg


def commit() -> None:
    """Commit the request's transaction, then try to deliver the mail that this request queued."""
    db.session.commit()
    queued = g.pop("outbox_queued", []) if has_request_context() else []
    if queued:
        deliver([m.id for m in queued])


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
    msg["Message-ID"] = make_msgid(domain="portal.local")
    msg.set_content(row.body)
    return msg


def _send(msg: EmailMessage) -> None:
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        folder = cfg["MAIL_DIR"]
        os.makedirs(folder, exist_ok=True)
        name = f"{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}-{uuid.uuid4().hex[:8]}.eml"
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(msg.as_bytes())
        return
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg.get("MAIL_TIMEOUT", 10)) as smtp:
        if cfg.get("MAIL_USERNAME"):
            smtp.starttls()
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(msg)


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
    """Try to deliver the given messages now; returns (sent, failed). Failures stay queued with their error."""
    sent = failed = 0
    for row_id in ids:
        row = _claim(row_id, utcnow())
        if row is None:
            continue
        try:
            _send(_build(row))
        except Exception as exc:  # noqa: BLE001 (any failure leaves the message queued, never breaks a request)
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            failed += 1
            current_app.logger.warning("mail %s to %s not sent: %s", row.id, row.to, exc)
        else:
            row.sent_at = utcnow()
            row.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed


def due_ids(limit: int = 1000, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(OutboxMail.id).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS,
                                    or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now))
        .order_by(OutboxMail.id).limit(limit)))


def deliver_pending(limit: int = 1000, now: datetime | None = None) -> tuple[int, int]:
    """Deliver every message that is due (for cron)."""
    return deliver(due_ids(limit, now))


def purge_sent(older_than_days: int = 90) -> int:
    """Delete delivered messages after a while: their bodies hold personal data (RODO)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(db.delete(OutboxMail).where(OutboxMail.sent_at.is_not(None),
                                                            OutboxMail.sent_at < cutoff))
    db.session.commit()
    return result.rowcount
