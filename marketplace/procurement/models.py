"""Legal values, guidance pages and saved builder results. Values and pages are versioned: a change adds a
row and never edits one, so every earlier state stays viewable with who made it and when."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, utcnow
from marketplace.extensions import db


class LegalValue(db.Model):
    """One version of a legal value (a threshold, a rate, a list of codes or groups) valid from a date."""

    __tablename__ = "legal_values"
    __table_args__ = (UniqueConstraint("key", "valid_from", "version", name="uq_legal_values_key_from_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    valid_from: Mapped[date] = mapped_column(db.Date)
    # The last day the value applies (EU thresholds and their rate are set for two years), or None.
    valid_until: Mapped[date | None] = mapped_column(db.Date)
    version: Mapped[int] = mapped_column()
    unit: Mapped[str] = mapped_column(String(20))
    value: Mapped[object] = mapped_column(JSON)
    source_title: Mapped[str] = mapped_column(String(400))
    source_url: Mapped[str] = mapped_column(String(500))
    legal_state_on: Mapped[date] = mapped_column(db.Date)
    verified: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(db.Text, default="")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<LegalValue {self.key} from {self.valid_from} v{self.version}>"


class GuidancePage(db.Model):
    """One version of the guidance for an instrument, in Polish (required) and English (optional)."""

    __tablename__ = "guidance_pages"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_guidance_pages_slug_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column()
    instrument: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    title_pl: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    summary_pl: Mapped[str] = mapped_column(String(400), default="")
    summary_en: Mapped[str | None] = mapped_column(String(400))
    body_pl: Mapped[str] = mapped_column(db.Text)
    body_en: Mapped[str | None] = mapped_column(db.Text)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    legal_state_on: Mapped[date] = mapped_column(db.Date)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def text(self, field: str, lang: str) -> str:
        """A field in the language asked, falling back to Polish where the English is missing."""
        english = getattr(self, f"{field}_en") if lang == "en" else None
        return english or getattr(self, f"{field}_pl")

    def __repr__(self) -> str:
        return f"<GuidancePage {self.slug} v{self.version}>"


class SavedResult(db.Model):
    """A builder result a purchaser saved to come back to or share: its inputs and the legal values used."""

    __tablename__ = "clause_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[dict] = mapped_column(JSON)
    legal_ids: Mapped[list] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    user: Mapped[User | None] = relationship()
