"""PES profiles, the powiats they serve, their members and invitations."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from accounts.models import utcnow
from marketplace.extensions import db

LEGAL_FORMS = ("spoldzielnia_socjalna", "cis", "kis", "zaz", "wtz", "spoldzielnia_pracy",
               "spoldzielnia_inwalidow", "fundacja", "stowarzyszenie", "kgw", "spolka_non_profit", "inna")
# Forms whose main purpose is social and professional integration (CONTRACT section 3 default).
INTEGRATION_FORMS = ("spoldzielnia_socjalna", "cis", "kis", "zaz", "wtz")
# Art. 94 ust. 2 Pzp: at least 30% of employees from the listed groups.
RESERVED_MIN_SHARE = 30

STATUSES = ("pending", "verified", "rejected", "suspended")
MEMBER_ROLES = ("owner", "editor")


class Pes(db.Model):
    __tablename__ = "pes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(250))
    # The name case-folded in Python, so that filtering and sorting by name treat Polish letters the same way
    # on SQLite and PostgreSQL ("łódź" finds "ŁÓDŹ").
    name_key: Mapped[str] = mapped_column(String(250), default="", index=True)
    legal_form: Mapped[str] = mapped_column(String(30), index=True)
    krs: Mapped[str | None] = mapped_column(String(10))
    nip: Mapped[str | None] = mapped_column(String(10), index=True)
    regon: Mapped[str | None] = mapped_column(String(14))
    street: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(6))
    city: Mapped[str | None] = mapped_column(String(120))
    powiat: Mapped[str] = mapped_column(String(4), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(db.Text, default="")
    mission: Mapped[str] = mapped_column(db.Text, default="")
    contact_person: Mapped[str | None] = mapped_column(String(120))
    social_enterprise_status: Mapped[bool] = mapped_column(default=False)
    disadvantaged_share: Mapped[int | None] = mapped_column()
    integration_mission: Mapped[bool] = mapped_column(default=False)
    logo: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    status_reason: Mapped[str | None] = mapped_column(db.Text)
    verified_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    data_confirmed_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    stale_reminder_sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # Its sales terms (marketplace.orders), read once per loaded PES with their absence: a lookup by key
    # would ask the database again each time a page asks about a PES that does not sell.
    sales: Mapped["PesSales | None"] = relationship(viewonly=True, uselist=False)  # noqa: F821
    areas: Mapped[list["PesServiceArea"]] = relationship(
        back_populates="pes", cascade="all, delete-orphan", order_by="PesServiceArea.powiat")
    members: Mapped[list["PesMembership"]] = relationship(back_populates="pes", cascade="all, delete-orphan")
    invitations: Mapped[list["PesInvitation"]] = relationship(
        back_populates="pes", cascade="all, delete-orphan")

    @validates("name")
    def _keep_name_key(self, _key, value):
        self.name_key = (value or "").casefold()
        return value

    @property
    def service_area(self) -> list[str]:
        return [a.powiat for a in self.areas]

    @service_area.setter
    def service_area(self, codes) -> None:
        wanted = list(dict.fromkeys(codes))
        keep = [a for a in self.areas if a.powiat in wanted]
        have = {a.powiat for a in keep}
        self.areas = keep + [PesServiceArea(powiat=c) for c in wanted if c not in have]

    @property
    def is_public(self) -> bool:
        return self.status == "verified"

    @property
    def reserved_eligible(self) -> bool:
        """Eligible for contracts reserved under art. 94 Pzp (integration mission and 30% share)."""
        return reserved_eligible(self.integration_mission, self.disadvantaged_share)

    def data_is_stale(self, now: datetime | None = None, days: int = 365) -> bool:
        now = now or utcnow()
        confirmed = self.data_confirmed_at
        if confirmed.tzinfo is None:  # SQLite returns naive datetimes
            confirmed = confirmed.replace(tzinfo=UTC)
        return now - confirmed > timedelta(days=days)

    def owners(self):
        return [m.user for m in self.members if m.role == "owner"]

    def __repr__(self) -> str:
        return f"<Pes {self.ref}>"


def reserved_eligible(integration_mission: bool | None, disadvantaged_share: int | None) -> bool:
    """The art. 94 Pzp eligibility of a PES's declared mission and share (also for rows read without the ORM)."""
    return bool(integration_mission and (disadvantaged_share or 0) >= RESERVED_MIN_SHARE)


class PesServiceArea(db.Model):
    __tablename__ = "pes_service_areas"

    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), primary_key=True)
    powiat: Mapped[str] = mapped_column(String(4), primary_key=True, index=True)

    pes: Mapped[Pes] = relationship(back_populates="areas")


class PesMembership(db.Model):
    __tablename__ = "pes_memberships"
    __table_args__ = (UniqueConstraint("pes_id", "user_id", name="uq_pes_memberships_pes_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="editor")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    # How this member hears of inquiries: "instant" mail, a daily "digest", or "none".
    inquiry_mail: Mapped[str] = mapped_column(String(8), default="instant", server_default="instant")
    digest_sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    pes: Mapped[Pes] = relationship(back_populates="members")
    user: Mapped["User"] = relationship(back_populates="memberships")  # noqa: F821


class PesInvitation(db.Model):
    """An owner's invitation, by e-mail, to join a PES; accepted through a signed link."""

    __tablename__ = "pes_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10), default="editor")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    pes: Mapped[Pes] = relationship(back_populates="invitations")

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
