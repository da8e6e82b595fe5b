"""Orders: one per PES from a checkout, their lines, payments through Stripe or by bank transfer, the Stripe
events received, the PES's sales settings, and invoices numbered per PES and year.

Money is Decimal (Numeric(12, 2)) here; only the Stripe gateway converts it to integer grosze.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import utcnow
from marketplace.extensions import db

ORDER_STATUSES = ("new", "awaiting_payment", "paid", "in_progress", "ready", "shipped", "completed",
                  "cancelled", "refunded")
PAYMENT_METHODS = ("stripe", "transfer")
FULFILMENTS = ("delivery", "pickup")
# Stripe's account states as the portal sees them (from the account and its webhook events).
STRIPE_STATES = ("none", "onboarding", "active", "restricted")
KSEF_STATES = ("off", "pending", "sent", "accepted", "rejected", "error")


class PesSales(db.Model):
    """How a PES sells on the portal: its Stripe account, bank transfer terms, VAT status and KSeF."""

    __tablename__ = "pes_sales"

    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)  # the PES takes orders on the portal
    stripe_account_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_state: Mapped[str] = mapped_column(String(12), default="none")
    stripe_checked_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    accepts_transfer: Mapped[bool] = mapped_column(default=False)
    bank_account: Mapped[str | None] = mapped_column(String(34))  # IBAN without spaces, PL + 26 digits
    payment_term_days: Mapped[int] = mapped_column(default=14)
    pickup: Mapped[bool] = mapped_column(default=True)
    pickup_address: Mapped[str | None] = mapped_column(String(300))
    delivery: Mapped[bool] = mapped_column(default=False)
    delivery_net: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    # VAT-exempt sellers (art. 113 of the VAT Act, many foundations) invoice only when the buyer asks.
    vat_exempt: Mapped[bool] = mapped_column(default=False)
    is_trader: Mapped[bool] = mapped_column(default=True)  # declared: sells as a business (consumer law)
    # The PES granted the portal the right to issue invoices in KSeF on its behalf.
    ksef_enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    pes: Mapped["Pes"] = relationship()  # noqa: F821

    @property
    def online_ready(self) -> bool:
        return self.stripe_account_id is not None and self.stripe_state == "active"


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("checkout_id", "pes_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # "ZAM-2026-000123"
    checkout_id: Mapped[str] = mapped_column(String(32), index=True)  # the orders of one checkout
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="RESTRICT"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    payment_method: Mapped[str] = mapped_column(String(10))
    fulfilment: Mapped[str] = mapped_column(String(10))
    # The buyer's data as given at checkout (kept with the order, whatever the account says later).
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_phone: Mapped[str | None] = mapped_column(String(40))
    company_name: Mapped[str | None] = mapped_column(String(250))
    buyer_nip: Mapped[str | None] = mapped_column(String(10))
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(6), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    delivery_address: Mapped[str | None] = mapped_column(String(400))
    note: Mapped[str] = mapped_column(db.Text, default="")
    wants_invoice: Mapped[bool] = mapped_column(default=False)
    consumer: Mapped[bool] = mapped_column(default=True)  # B2C: no NIP given (consumer law applies)
    net_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    gross_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    platform_fee: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    refunded: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    payment_due: Mapped[date | None] = mapped_column(db.Date)  # bank transfer: the term for paying
    reserved_until: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    stock_released: Mapped[bool] = mapped_column(default=False)
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_client_secret: Mapped[str | None] = mapped_column(String(200))
    payment_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    pes: Mapped["Pes"] = relationship()  # noqa: F821
    buyer: Mapped["User | None"] = relationship()  # noqa: F821
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position")
    messages: Mapped[list["OrderMessage"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderMessage.id")


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column()
    unit_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    gross: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reserved: Mapped[int] = mapped_column(default=0)  # items taken from the offering's stock at checkout
    withdrawal_exception: Mapped[str | None] = mapped_column(String(20))

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderMessage(db.Model):
    """A message in an order's conversation between the buyer and the PES."""

    __tablename__ = "order_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_pes: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="messages")


class OrderSequence(db.Model):
    """The last order number given in a year; incremented under a row lock, so numbers never repeat."""

    __tablename__ = "order_sequences"

    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class StripeEvent(db.Model):
    """A Stripe webhook event, stored once by its id: a repeated delivery finds it and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # "evt_..."
    type: Mapped[str] = mapped_column(String(80), index=True)
    account: Mapped[str | None] = mapped_column(String(64))  # the connected account it came from
    payload: Mapped[dict] = mapped_column(db.JSON)
    received_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(200))


class InvoiceSequence(db.Model):
    """The last invoice number a PES gave in a year. Taken under a row lock in the transaction that writes
    the invoice, so a number is neither reused nor skipped: a rolled-back invoice gives its number back."""

    __tablename__ = "invoice_sequences"

    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Invoice(db.Model):
    """A PES's invoice for an order: the FA(3) data kept as issued, and its KSeF state."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("pes_id", "year", "seq"), UniqueConstraint("order_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()
    number: Mapped[str] = mapped_column(String(40))  # "FV/7/2026" style, shown and sent as P_2
    issue_date: Mapped[date] = mapped_column(db.Date)
    sale_date: Mapped[date] = mapped_column(db.Date)
    data: Mapped[dict] = mapped_column(db.JSON)  # seller, buyer, lines, totals per rate, as issued
    gross_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    ksef_state: Mapped[str] = mapped_column(String(10), default="off")
    ksef_number: Mapped[str | None] = mapped_column(String(64))
    ksef_reference: Mapped[str | None] = mapped_column(String(64))
    ksef_error: Mapped[str | None] = mapped_column(String(500))
    ksef_sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    order: Mapped[Order] = relationship()
    pes: Mapped["Pes"] = relationship()  # noqa: F821
