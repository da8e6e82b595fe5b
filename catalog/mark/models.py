"""Quality mark applications, their attachments and scores, the awarded marks and their numbering."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import utcnow
from marketplace.extensions import db

APPLICATION_STATUSES = ("submitted", "returned", "in_review", "granted", "refused", "withdrawn")
CRITERIA = ("legal_form", "operating_time", "own_revenue", "quality", "recommendations")
MARK_STATUSES = ("active", "suspended", "revoked")
REMINDER_DAYS = (60, 30, 7)


class MarkApplication(db.Model):
    __tablename__ = "mark_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    renews_mark_id: Mapped[int | None] = mapped_column(ForeignKey("quality_marks.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    # The criteria as the PES describes them.
    months_operating: Mapped[int] = mapped_column(default=0)
    own_revenue_share: Mapped[int] = mapped_column(default=0)  # percent of revenue from own sales
    quality_statement: Mapped[str] = mapped_column(db.Text, default="")
    recommendations: Mapped[list] = mapped_column(db.JSON, default=list)  # [{"name", "organisation", "contact", "text"}]
    # The office's and the committee's words.
    return_comment: Mapped[str | None] = mapped_column(db.Text)
    decision_reason: Mapped[str | None] = mapped_column(db.Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    offering: Mapped["Offering"] = relationship()  # noqa: F821
    pes: Mapped["Pes"] = relationship()  # noqa: F821
    attachments: Mapped[list["MarkAttachment"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="MarkAttachment.id")
    scores: Mapped[list["MarkScore"]] = relationship(back_populates="application", cascade="all, delete-orphan")


class MarkAttachment(db.Model):
    __tablename__ = "mark_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("mark_applications.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to UPLOAD_DIR, under marks/ (never public)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(default=0)

    application: Mapped[MarkApplication] = relationship(back_populates="attachments")


class MarkScore(db.Model):
    """One committee member's score (0-5) and comment on one criterion of one application."""

    __tablename__ = "mark_scores"
    __table_args__ = (UniqueConstraint("application_id", "member_id", "criterion",
                                       name="uq_mark_scores_app_member_criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("mark_applications.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    criterion: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(db.Text, default="")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    application: Mapped[MarkApplication] = relationship(back_populates="scores")


class QualityMark(db.Model):
    """An awarded mark. It is valid on a day when that day lies between valid_from and valid_until (both
    included, in Europe/Warsaw) and the mark is neither suspended nor revoked: computed, never stored."""

    __tablename__ = "quality_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    # use_alter: applications point at the mark they renew and marks at their application (a cycle).
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("mark_applications.id", ondelete="SET NULL", use_alter=True), unique=True)
    # What was certified, as it was named on the day of the award (the offering may change later).
    offering_title: Mapped[str] = mapped_column(String(200), default="")
    pes_name: Mapped[str] = mapped_column(String(250), default="")
    valid_from: Mapped[date] = mapped_column(db.Date, index=True)
    valid_until: Mapped[date] = mapped_column(db.Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    offering: Mapped["Offering"] = relationship()  # noqa: F821
    pes: Mapped["Pes"] = relationship()  # noqa: F821

    def is_valid_on(self, day: date) -> bool:
        return self.status == "active" and self.valid_from <= day <= self.valid_until


class MarkNumberCounter(db.Model):
    """The last certificate number given in a year; incremented under a row lock so numbers never repeat or skip."""

    __tablename__ = "mark_number_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class MarkReminder(db.Model):
    """A reminder mail already sent, so that `flask marks remind` sends each one once."""

    __tablename__ = "mark_reminders"

    mark_id: Mapped[int] = mapped_column(ForeignKey("quality_marks.id", ondelete="CASCADE"), primary_key=True)
    days_before: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sent_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
