"""Inquiries (zapytania) to one PES or many, their threads per PES, messages, quotes and attachments.

An inquiry is what the buyer wrote once; each recipient PES gets a thread of its own, so a PES never sees who
else was asked. The thread's status says where the conversation stands; a quote is a priced answer that the
buyer may accept (one per inquiry) and that lapses after its validity date.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import utcnow
from marketplace.extensions import db

INQUIRY_STATUSES = ("unconfirmed", "sent", "closed")
THREAD_STATUSES = ("new", "read", "answered", "quoted", "accepted", "declined", "closed", "expired")
# A thread whose quote lapsed stays open: the PES may quote again and both sides may write.
OPEN_STATUSES = ("new", "read", "answered", "quoted", "expired")
QUOTE_STATUSES = ("offered", "accepted", "declined", "withdrawn", "expired")
MAIL_PREFERENCES = ("instant", "digest", "none")


class Inquiry(db.Model):
    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sender: an account, or a guest known by the address they confirmed. After the retention period
    # (or when the account is deleted) the person's data is replaced and anonymised_at is set.
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    sender_name: Mapped[str] = mapped_column(String(120))
    sender_email: Mapped[str] = mapped_column(String(254), index=True)
    sender_phone: Mapped[str | None] = mapped_column(String(40))
    sender_organisation: Mapped[str | None] = mapped_column(String(250))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(db.Text)
    quantity: Mapped[str | None] = mapped_column(String(100))
    wanted_by: Mapped[date | None] = mapped_column(db.Date)
    delivery_powiat: Mapped[str | None] = mapped_column(String(4))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id", ondelete="SET NULL"))
    multi: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="sent", index=True)
    locale: Mapped[str] = mapped_column(String(5), default="pl")
    consent_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    anonymised_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # Set once, by a conditional update: a second acceptance finds it taken.
    accepted_quote_id: Mapped[int | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="SET NULL", use_alter=True))

    sender: Mapped["User | None"] = relationship()  # noqa: F821
    institution: Mapped["Institution | None"] = relationship()  # noqa: F821
    offering: Mapped["Offering | None"] = relationship()  # noqa: F821
    threads: Mapped[list["InquiryThread"]] = relationship(
        back_populates="inquiry", cascade="all, delete-orphan", order_by="InquiryThread.id")
    attachments: Mapped[list["InquiryAttachment"]] = relationship(
        primaryjoin="and_(InquiryAttachment.inquiry_id == Inquiry.id, InquiryAttachment.message_id.is_(None))",
        viewonly=True, order_by="InquiryAttachment.id")


class InquiryThread(db.Model):
    __tablename__ = "inquiry_threads"
    __table_args__ = (UniqueConstraint("inquiry_id", "pes_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="new", index=True)
    # Something the other side has not seen yet.
    pes_unread: Mapped[bool] = mapped_column(default=True)
    buyer_unread: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    first_answer_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    reported_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    report_reason: Mapped[str | None] = mapped_column(db.Text)
    report_resolved_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    inquiry: Mapped[Inquiry] = relationship(back_populates="threads")
    pes: Mapped["Pes"] = relationship()  # noqa: F821
    messages: Mapped[list["InquiryMessage"]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", order_by="InquiryMessage.id")
    quotes: Mapped[list["Quote"]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", order_by="Quote.id",
        foreign_keys="Quote.thread_id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class InquiryMessage(db.Model):
    __tablename__ = "inquiry_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("inquiry_threads.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(10))  # "buyer", "pes" or "system"
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    thread: Mapped[InquiryThread] = relationship(back_populates="messages")
    attachments: Mapped[list["InquiryAttachment"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="InquiryAttachment.id")
    quote: Mapped["Quote | None"] = relationship(back_populates="message", uselist=False)


class Quote(db.Model):
    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("inquiry_threads.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_messages.id", ondelete="SET NULL"))
    net: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    vat_rate: Mapped[str] = mapped_column(String(3))
    gross: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    valid_until: Mapped[date] = mapped_column(db.Date)
    delivery_date: Mapped[date | None] = mapped_column(db.Date)
    delivery_terms: Mapped[str] = mapped_column(db.Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="offered", index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    thread: Mapped[InquiryThread] = relationship(back_populates="quotes", foreign_keys=[thread_id])
    message: Mapped[InquiryMessage | None] = relationship(back_populates="quote")


class InquiryAttachment(db.Model):
    """A file sent with the inquiry (message_id empty) or with one message; stored privately."""

    __tablename__ = "inquiry_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_messages.id", ondelete="CASCADE"),
                                                   index=True)
    path: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(160))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    message: Mapped[InquiryMessage | None] = relationship(back_populates="attachments")


class SenderBlock(db.Model):
    """A PES no longer receives inquiries from this address (or account)."""

    __tablename__ = "inquiry_sender_blocks"
    __table_args__ = (UniqueConstraint("pes_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
