"""The audit log: every moderator and admin action, with who, what, when, and the state before and after."""
from datetime import datetime, timezone

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, utcnow
from marketplace.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Kept when the actor's account is deleted, so the log still says which role acted.
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(db.Text)

    actor: Mapped[User | None] = relationship()


def record(actor: User | None, action: str, obj, before: dict | None = None, after: dict | None = None,
           reason: str | None = None) -> AuditEntry:
    """Add an audit entry to the session; it is written with the transaction it describes."""
    entry = AuditEntry(actor_id=actor.id if actor else None, actor_role=actor.role if actor else None,
                       action=action, object_type=type(obj).__name__.lower(), object_id=obj.id,
                       before=before, after=after, reason=reason)
    db.session.add(entry)
    return entry


def snapshot(obj, fields) -> dict:
    """A JSON-safe picture of some fields of an object, for before/after."""
    out = {}
    for f in fields:
        v = getattr(obj, f)
        if isinstance(v, datetime):
            v = (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).isoformat()  # SQLite gives naive UTC
        out[f] = v
    return out
