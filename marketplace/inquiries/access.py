"""Who may see and act on an inquiry or a thread, and the signed links that stand in for an account.

The sender sees their inquiry: an account by its id, a guest through a link mailed to the confirmed address
(the link is bound to that address and lapses with the retention period). A PES's members see that PES's
threads and nothing else: never another recipient's thread of the same inquiry.
"""
from flask import abort, current_app, session
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from marketplace.extensions import db
from marketplace.inquiries.models import Inquiry, InquiryMessage, InquiryThread

SESSION_KEY = "guest_inquiries"
MAX_GUEST_INQUIRIES = 20  # remembered in one browser session


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"inquiries.{purpose}")


def _fingerprint(email: str) -> str:
    from accounts import tokens

    return tokens.fingerprint(email)


def _inquiry_token(purpose: str, inquiry: Inquiry) -> str:
    """Bound to the sender's address: once it is anonymised, the link opens nothing."""
    return _serializer(purpose).dumps({"i": inquiry.id, "em": _fingerprint(inquiry.sender_email)})


def confirm_token(inquiry: Inquiry) -> str:
    return _inquiry_token("confirm", inquiry)


def guest_token(inquiry: Inquiry) -> str:
    return _inquiry_token("guest", inquiry)


def unsubscribe_token(member) -> str:
    return _serializer("unsubscribe").dumps({"m": member.id})


def read_token(purpose: str, token: str, max_age: int | None) -> dict | None:
    """The claims of a link, or None for a forged, altered or expired one."""
    try:
        claims = _serializer(purpose).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    return claims if isinstance(claims, dict) else None


def retention_seconds() -> int:
    return int(current_app.config.get("INQUIRY_RETENTION_MONTHS") or 24) * 31 * 24 * 3600


def remember_guest(inquiry_id: int) -> None:
    """This browser may see the guest's inquiry (after the confirmation link or the one in a reply)."""
    known = [i for i in session.get(SESSION_KEY, []) if i != inquiry_id]
    session[SESSION_KEY] = (known + [inquiry_id])[-MAX_GUEST_INQUIRIES:]


def is_sender(inquiry: Inquiry) -> bool:
    if inquiry.anonymised_at is not None:
        return False
    if current_user.is_authenticated and inquiry.sender_id == current_user.id:
        return True
    return inquiry.sender_id is None and inquiry.id in session.get(SESSION_KEY, [])


def sender_inquiry_or_404(inquiry_id: int) -> Inquiry:
    """The inquiry, if the visitor sent it; 404 otherwise (nobody learns that it exists)."""
    inquiry = db.session.get(Inquiry, inquiry_id)
    if inquiry is None or inquiry.status == "unconfirmed" or not is_sender(inquiry):
        abort(404)
    return inquiry


def _thread(thread_id: int) -> InquiryThread | None:
    """A thread with what its page shows (messages, their files and quotes, the PES) in a few queries."""
    return db.session.scalar(select(InquiryThread).where(InquiryThread.id == thread_id).options(
        joinedload(InquiryThread.pes), selectinload(InquiryThread.quotes),
        selectinload(InquiryThread.messages).selectinload(InquiryMessage.attachments),
        selectinload(InquiryThread.messages).selectinload(InquiryMessage.quote)))


def sender_thread_or_404(inquiry: Inquiry, thread_id: int) -> InquiryThread:
    thread = _thread(thread_id)
    if thread is None or thread.inquiry_id != inquiry.id:
        abort(404)
    return thread


def is_member(pes_id: int) -> bool:
    return current_user.is_authenticated and current_user.membership_of(pes_id) is not None


def pes_thread_or_404(pes_id: int, thread_id: int) -> InquiryThread:
    """A thread of this PES, for its members only; a thread of another PES is a 404 (not a 403: its
    existence is not told)."""
    if not is_member(pes_id):
        abort(403)
    thread = _thread(thread_id)
    if thread is None or thread.pes_id != pes_id or thread.inquiry.status == "unconfirmed":
        abort(404)
    return thread
