"""How a batch of outbox mail leaves the process: one SMTP connection for the whole batch, or .eml files.

Opening a connection costs several round trips (and STARTTLS and a login with credentials), so a batch opens
one when its first message is due to go and sends every message through it. A connection that a server closed
while idle is opened again once; when no connection can be opened at all the batch stops (Unreachable), since
every following message would wait for the same timeout.
"""
import os
import smtplib
import uuid
from datetime import datetime
from email.message import EmailMessage
from typing import Self


class Unreachable(Exception):
    """The mail server could not be reached (or refused the login): no message of the batch can go now."""


class Transport:
    """A context manager that sends messages one by one, reusing one connection, and closes it at the end."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def send(self, msg: EmailMessage) -> None:
        """Hand one message over; raises Unreachable, or the server's error about this message."""
        if not self.config.get("MAIL_SERVER"):
            self._write_file(msg)
            return
        reused = self.smtp is not None
        if not reused:
            self.smtp = self._open()
        try:
            self.smtp.send_message(msg)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self.close()
            if not reused:
                raise
            # A reused connection may have been closed by the server meanwhile: try once on a new one.
            self.smtp = self._open()
            self._send_or_close(msg)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # the server refused this message; the connection stays usable (smtplib reset it)
        except BaseException:
            self.close()  # a timeout or another failure leaves the connection in an unknown state
            raise

    def _send_or_close(self, msg: EmailMessage) -> None:
        try:
            self.smtp.send_message(msg)
        except BaseException:
            self.close()
            raise

    def _open(self) -> smtplib.SMTP:
        cfg = self.config
        smtp = None
        try:
            smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg.get("MAIL_TIMEOUT", 10))
            if cfg.get("MAIL_USERNAME"):
                smtp.starttls()
                smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
            return smtp
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                _quietly_close(smtp)
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """End the connection politely if it is still there; a broken one is just dropped."""
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            _quietly_close(smtp)

    def _write_file(self, msg: EmailMessage) -> None:
        folder = self.config["MAIL_DIR"]
        os.makedirs(folder, exist_ok=True)
        name = f"{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}-{uuid.uuid4().hex[:8]}.eml"
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(msg.as_bytes())


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass
