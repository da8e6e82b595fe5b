"""The search outbox: what the index still has to learn about, written in the transaction of the change."""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import utcnow
from marketplace.extensions import db

ENTITIES = ("offering", "pes")


class SearchOutbox(db.Model):
    """One offering (or every offering of one PES) to bring up to date in the index.

    A row is written in the same transaction as the change it records, applied to the index after commit
    and deleted once applied; a row that could not be applied (index locked, disk full, crash) stays until
    the next commit or `flask search sync` applies it. Several rows for the same entity are harmless.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(10))  # "offering" | "pes"
    entity_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<SearchOutbox {self.entity} {self.entity_id}>"
