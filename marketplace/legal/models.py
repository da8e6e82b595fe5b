"""One row per version of a legal or information page; a change adds a version and never edits one."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, utcnow
from marketplace.extensions import db

TERMS = "regulamin"
PRIVACY = "polityka-prywatnosci"
CONTACT = "kontakt"
ACCESSIBILITY = "deklaracja-dostepnosci"
# The documents in the order the footer and the panel list them; each slug is also its public address.
SLUGS = (TERMS, PRIVACY, CONTACT, ACCESSIBILITY)
TITLE_MAX = 200
BODY_MAX = 100_000


class LegalDocument(db.Model):
    """A version of a document: its title and Markdown text in Polish (required) and English (optional)."""

    __tablename__ = "legal_documents"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_legal_documents_slug_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column()
    title_pl: Mapped[str] = mapped_column(String(TITLE_MAX))
    title_en: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    body_pl: Mapped[str] = mapped_column(db.Text)
    body_en: Mapped[str | None] = mapped_column(db.Text)
    effective_on: Mapped[date] = mapped_column(db.Date)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    created_by: Mapped[User | None] = relationship()

    def title(self, lang: str) -> str:
        return (self.title_en if lang == "en" else None) or self.title_pl

    def body(self, lang: str) -> str:
        return (self.body_en if lang == "en" else None) or self.body_pl

    def has_language(self, lang: str) -> bool:
        """Whether the version has its own text in `lang` (Polish always has)."""
        return lang != "en" or bool((self.body_en or "").strip())

    def __repr__(self) -> str:
        return f"<LegalDocument {self.slug} v{self.version}>"
