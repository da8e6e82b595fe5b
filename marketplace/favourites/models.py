"""A saved PES or a saved offering: one row each, never both."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import utcnow
from marketplace.extensions import db


class Favourite(db.Model):
    __tablename__ = "favourites"
    __table_args__ = (
        CheckConstraint("(pes_id IS NOT NULL AND offering_id IS NULL) OR "
                        "(pes_id IS NULL AND offering_id IS NOT NULL)", name="one_target"),
        UniqueConstraint("user_id", "pes_id", name="uq_favourites_user_pes"),
        UniqueConstraint("user_id", "offering_id", name="uq_favourites_user_offering"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Indexed so that deleting a PES or an offering finds its favourites without a scan.
    pes_id: Mapped[int | None] = mapped_column(ForeignKey("pes.id", ondelete="CASCADE"), index=True)
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    pes: Mapped["Pes | None"] = relationship()  # noqa: F821
    offering: Mapped["Offering | None"] = relationship()  # noqa: F821

    @property
    def target(self):
        return self.pes if self.pes_id is not None else self.offering

    @property
    def is_available(self) -> bool:
        """Whether the saved PES or offering is still public (a moderator or the PES may hide it later)."""
        target = self.target
        return target is not None and target.is_public
