"""Users, their roles, and the institutions that public purchasers act for."""
from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Global roles. Membership of a PES (owner/editor) is not a role: it is a PesMembership row.
ROLES = ("buyer", "purchaser", "moderator", "admin", "committee", "committee_chair")
COMMITTEE_ROLES = ("committee", "committee_chair")  # the quality mark's committee (Kapituła) and its chair
STAFF_ROLES = ("moderator", "admin")

INSTITUTION_KINDS = ("gmina", "powiat", "jednostka_gminy", "jednostka_powiatu", "wojewodztwo", "inna_publiczna")
INSTITUTION_STATUSES = ("pending", "verified", "rejected")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default="buyer")
    locale: Mapped[str | None] = mapped_column(String(5))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # When the person accepted the terms and the data-processing information at sign-up (RODO accountability).
    terms_accepted_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # The version of the terms (legal_documents "regulamin") accepted then or later; None before versions.
    terms_version: Mapped[int | None] = mapped_column()
    # Bumped on password change so that every other session and remember-me cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    # Whether staff confirmed that this person acts for the institution: "pending", "verified" or "rejected".
    # Checked per person, so that knowing a verified institution's NIP unlocks nothing.
    institution_status: Mapped[str | None] = mapped_column(String(20))
    institution_checked_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    institution: Mapped["Institution | None"] = relationship(back_populates="users")
    memberships: Mapped[list["PesMembership"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_committee(self) -> bool:
        return self.role in COMMITTEE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_verified_purchaser(self) -> bool:
        """Purchaser tools unlock only for a confirmed account whose tie to a verified institution staff checked."""
        return (self.role == "purchaser" and self.is_confirmed and self.institution is not None
                and self.institution.status == "verified" and self.institution_status == "verified")

    def membership_of(self, pes_id: int):
        return next((m for m in self.memberships if m.pes_id == pes_id), None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Institution(db.Model):
    """A public body (gmina, powiat, their units...) that a purchaser account acts for."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    nip: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    status_reason: Mapped[str | None] = mapped_column(db.Text)
    verified_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="institution")
