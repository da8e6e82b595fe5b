"""Mail to the regional office's staff when something waits for them (a PES to verify, a reported offering,
a quality mark application...).

Messages go through the outbox in the caller's transaction, one per moderator or administrator whose address
is confirmed, each in that person's language; the view's outbox.commit() writes and sends them.
"""
from sqlalchemy import select

from accounts.models import STAFF_ROLES, User
from marketplace import outbox
from marketplace.extensions import db
from marketplace.outbox import OutboxMail


def staff_recipients() -> list[User]:
    """Moderators and administrators with a confirmed e-mail address."""
    return list(db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES),
                                                      User.email_confirmed_at.is_not(None)).order_by(User.id)))


def notify_staff(subject, template: str, **context) -> list[OutboxMail]:
    """Queue one mail per staff account; returns the queued messages.

    `subject` may be a lazy string (rendered in each recipient's language). The template (plain text, under
    mail/staff/) gets `context` and `recipient`, the staff account it is written for.
    """
    mails, seen = [], set()
    for user in staff_recipients():
        address = user.email.strip().lower()
        if address in seen:
            continue
        seen.add(address)
        mails.append(outbox.queue(user.email, subject, template, locale=user.locale or "pl", recipient=user,
                                  **context))
    return mails
