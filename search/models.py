"""The search outbox (what the index still has to learn about, written in the transaction of the change) and
the synonym groups that moderators add to the shipped list."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, utcnow
from marketplace.extensions import db

ENTITIES = ("offering", "pes")

# Limits of a synonym group: room for 20 words of 40 characters with their separators.
MAX_MEMBERS = 20
MAX_WORD_CHARS = 40
WORDS_MAX_CHARS = 900
NOTE_MAX_CHARS = 500


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


class SynonymGroup(db.Model):
    """A group of interchangeable words that a moderator added to the search's synonym list.

    The shipped list (search/data/synonyms.txt) and these groups are used together at query time
    (search.synonyms.current_synonyms), so a change needs no reindex. `words` holds the members normalised:
    lowercase, trimmed, separated by a comma and a space, diacritics kept ("druk, poligrafia, drukarnia").
    """

    __tablename__ = "search_synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    words: Mapped[str] = mapped_column(String(WORDS_MAX_CHARS))
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX_CHARS))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    @property
    def members(self) -> list[str]:
        return [w for w in self.words.split(", ") if w]

    def __repr__(self) -> str:
        return f"<SynonymGroup {self.id} {self.words!r}>"
