"""Outgoing mail through an outbox: a message is a row written in the same transaction as the change
that caused it, and is delivered after commit; a failed delivery stays queued for `flask outbox send`.

Without MAIL_SERVER, messages are written as .eml files under the instance folder's mail/ directory.
"""
import os
import smtplib
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import utcnow
from marketplace.extensions import db

MAX_ATTEMPTS = 10


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(db.Text)


def queue(to: str, subject: str, template: str, locale: str | None = None, **context) -> OutboxMail:
    """Render a plain-text mail in the recipient's language and add it to the session's transaction."""
    with force_locale(locale or "pl"):
        body = render_template(template, **context)
    msg = OutboxMail(to=to, subject=subject, body=body)
    db.session.add(msg)
    return msg


def commit() -> None:
    """Commit the request's transaction, then try to deliver what it queued."""
    db.session.commit()
    deliver_pending()


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
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
        if cfg.get("MAIL_USERNAME"):
            smtp.starttls()
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        smtp.send_message(msg)


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Deliver queued mail; returns (sent, failed). Failures stay queued with their error."""
    rows = db.session.scalars(
        select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMail.id).limit(limit)).all()
    sent = failed = 0
    for row in rows:
        row.attempts += 1
        try:
            _send(_build(row))
        except (OSError, smtplib.SMTPException) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            failed += 1
            current_app.logger.warning("mail %s to %s not sent: %s", row.id, row.to, exc)
        else:
            row.sent_at = utcnow()
            row.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed
