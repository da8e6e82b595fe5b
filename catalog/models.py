"""Offerings (products and services) of PES, their CPV codes, images and reports, and the CPV list."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from accounts.models import utcnow
from marketplace.extensions import db

KINDS = ("product", "service")
STATUSES = ("draft", "published", "archived")
VAT_RATES = ("23", "8", "5", "0", "zw")
# Art. 38 of the consumer rights Act: goods made to the buyer's specification, goods that spoil quickly.
WITHDRAWAL_EXCEPTIONS = ("made_to_order", "perishable")
MAX_IMAGES = 8
_FOLD = str.maketrans("ąćęłńóśźż", "acelnoszz")


def fold(text: str) -> str:
    """Case-folded text without Polish diacritics, for matching what people type on any keyboard."""
    return (text or "").casefold().translate(_FOLD)


class CpvCode(db.Model):
    """One code of the Common Procurement Vocabulary with its names; the list is data, loaded from a file."""

    __tablename__ = "cpv_codes"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # "55524000-9"
    name_pl: Mapped[str] = mapped_column(String(400))
    name_en: Mapped[str | None] = mapped_column(String(400))
    # Polish and English names case-folded without diacritics, for search on every database alike
    # ("sprzatanie" finds "Usługi sprzątania", "catering" finds the catering services).
    name_key: Mapped[str] = mapped_column(String(820), default="", index=True)

    @validates("name_pl", "name_en")
    def _keep_key(self, key, value):
        pl = value if key == "name_pl" else self.name_pl
        en = value if key == "name_en" else self.name_en
        self.name_key = fold(f"{pl or ''} | {en or ''}")
        return value


class Offering(db.Model):
    __tablename__ = "offerings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    pes_id: Mapped[int] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    title_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    description: Mapped[str] = mapped_column(db.Text, default="")  # Markdown, sanitised when shown
    category: Mapped[str] = mapped_column(String(40), index=True)  # top-level slug (CONTRACT section 3)
    subcategory: Mapped[str | None] = mapped_column(String(60))
    price_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # None: price on request
    vat_rate: Mapped[str] = mapped_column(String(3), default="23")
    unit: Mapped[str | None] = mapped_column(String(40))
    min_order: Mapped[str | None] = mapped_column(String(100))
    # Items in stock for ordering on the portal; None: not counted (services, goods made on demand).
    stock: Mapped[int | None] = mapped_column()
    # Why a consumer has no 14-day right of withdrawal (WITHDRAWAL_EXCEPTIONS), or None: the right applies.
    withdrawal_exception: Mapped[str | None] = mapped_column(String(20))
    lead_time: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list] = mapped_column(db.JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    # A moderator's unpublishing: the PES sees the reason; only a moderator lifts the block.
    blocked_reason: Mapped[str | None] = mapped_column(db.Text)
    blocked_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    pes: Mapped["Pes"] = relationship()  # noqa: F821
    cpv_links: Mapped[list["OfferingCpv"]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", order_by="OfferingCpv.position")
    areas: Mapped[list["OfferingArea"]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", order_by="OfferingArea.powiat")
    images: Mapped[list["OfferingImage"]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", order_by="OfferingImage.position")

    @validates("title")
    def _keep_title_key(self, _key, value):
        self.title_key = (value or "").casefold()
        return value

    @property
    def cpv(self) -> list[str]:
        return [link.code for link in self.cpv_links]

    @cpv.setter
    def cpv(self, codes) -> None:
        self.cpv_links = [OfferingCpv(code=c, position=i) for i, c in enumerate(dict.fromkeys(codes))]

    @property
    def service_area(self) -> list[str]:
        """The powiats served: the offering's own list, or else its PES's."""
        return [a.powiat for a in self.areas] or self.pes.service_area

    @service_area.setter
    def service_area(self, codes) -> None:
        self.areas = [OfferingArea(powiat=c) for c in dict.fromkeys(codes or [])]

    @property
    def price_on_request(self) -> bool:
        return self.price_net is None

    @property
    def is_public(self) -> bool:
        return self.status == "published" and self.blocked_at is None and self.pes.status == "verified"

    def __repr__(self) -> str:
        return f"<Offering {self.ref}>"


class OfferingCpv(db.Model):
    __tablename__ = "offering_cpv"

    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)

    offering: Mapped[Offering] = relationship(back_populates="cpv_links")


class OfferingArea(db.Model):
    __tablename__ = "offering_areas"

    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True)
    powiat: Mapped[str] = mapped_column(String(4), primary_key=True, index=True)

    offering: Mapped[Offering] = relationship(back_populates="areas")


class OfferingImage(db.Model):
    __tablename__ = "offering_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to UPLOAD_DIR, e.g. offerings/ab12.webp
    thumb_path: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    alt: Mapped[str] = mapped_column(String(250))
    position: Mapped[int] = mapped_column(default=0)

    offering: Mapped[Offering] = relationship(back_populates="images")


REPORT_STATUSES = ("open", "resolved", "dismissed")


class OfferingReport(db.Model):
    """A visitor's "report this offer" to the moderators."""

    __tablename__ = "offering_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(db.Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    offering: Mapped[Offering] = relationship()



class OfferingPrice(db.Model):
    """One price an offering had from `valid_from` on: the history that the Omnibus rule needs (a reduced
    price is shown beside the lowest price of the 30 days before the reduction)."""

    __tablename__ = "offering_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    price_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
