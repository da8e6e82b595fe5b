"""Rate limits of inquiries, besides the recipient cap and the honeypot: per client address, per account and
per e-mail address (a guest's), counting only the inquiries actually sent; and messages per account."""
from flask import current_app, request
from flask_login import current_user

from marketplace.extensions import limiter

SENT_FLAG = "inquiries.sent"


def note_sent() -> None:
    """This request sent an inquiry: the limits below count it."""
    request.environ[SENT_FLAG] = True


def _sent(_response) -> bool:
    return bool(request.environ.get(SENT_FLAG))


def _account_key() -> str:
    return f"inquiry-account:{current_user.id}" if current_user.is_authenticated else ""


def _email_key() -> str:
    if current_user.is_authenticated:
        return ""
    return "inquiry-email:" + (request.form.get("email") or "").strip().lower()


def _limit(setting: str):
    return lambda: current_app.config[setting]


def inquiry_limited(view):
    per_address = limiter.limit(_limit("INQUIRY_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_sent)
    per_account = limiter.limit(_limit("INQUIRY_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"],
                                exempt_when=lambda: not _account_key(), deduct_when=_sent)
    per_email = limiter.limit(_limit("INQUIRY_LIMIT_PER_EMAIL"), key_func=_email_key, methods=["POST"],
                              exempt_when=lambda: not _email_key(), deduct_when=_sent)
    return per_address(per_account(per_email(view)))


def message_limited(view):
    """Messages in threads, per account (or per address for guests)."""
    key = lambda: _account_key() or "inquiry-message:" + (request.remote_addr or "")
    return limiter.limit(_limit("INQUIRY_MESSAGE_LIMIT"), key_func=key, methods=["POST"])(view)
