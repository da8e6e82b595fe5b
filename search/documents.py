"""The index documents of offerings, read from the database (the source of truth).

Only public offerings are indexed: published, not blocked by a moderator, of a verified PES. Every function
takes the SQLAlchemy session to read with, so that the index can be brought up to date after a commit in a
session of its own.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog import categories
from catalog.mark.models import QualityMark
from catalog.models import CpvCode, Offering
from catalog.services import public_query
from marketplace.pes.models import Pes
from search import schema

CHUNK = 500  # ids per query (well below every database's limit of bound parameters)


def chunked(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    ids = sorted(set(ids))
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def category_names(slug: str, sub: str | None) -> list[str]:
    """The Polish names of an offering's category and subcategory (the index is in Polish)."""
    cat = categories.get(slug)
    if cat is None:
        return []
    names = [cat["name_pl"]]
    names += [s["name_pl"] for s in cat.get("subcategories", []) if sub and s["slug"] == sub]
    return names


def mark_span(marks: Iterable[QualityMark], today: date) -> dict | None:
    """The period of an offering's active marks that matters today, as one mark (number, valid_from,
    valid_until): renewals that follow each other without a gap are joined into one period; the period
    holding today wins, else the next one to begin, else the last one (expired, never valid again); the
    period after the chosen one, if any, comes as next_from and next_until."""
    spans: list[list] = []
    for mark in sorted((m for m in marks if m.status == "active"), key=lambda m: (m.valid_from, m.id or 0)):
        if spans and mark.valid_from <= spans[-1][1] + timedelta(days=1):
            spans[-1][1] = max(spans[-1][1], mark.valid_until)
            spans[-1][2].append(mark)
        else:
            spans.append([mark.valid_from, mark.valid_until, [mark]])
    if not spans:
        return None
    chosen = next((s for s in spans if s[0] <= today <= s[1]), None) or next(
        (s for s in spans if s[0] > today), spans[-1])
    current = [m for m in chosen[2] if m.valid_from <= today <= m.valid_until]
    number = (current or chosen[2])[-1].number
    found = {"number": number, "valid_from": chosen[0], "valid_until": chosen[1], "status": "active"}
    following = next((s for s in spans if s[0] > chosen[1]), None)
    if following:  # a mark granted again after a gap: valid from its first day without a reindex
        found.update(next_from=following[0], next_until=following[1])
    return found


def build(offering: Offering, cpv_names: dict[str, str], marks: list[QualityMark], today: date) -> dict:
    """The index document of one loaded offering."""
    pes = offering.pes
    area = offering.service_area
    values = {
        "id": offering.id, "ref": offering.ref, "kind": offering.kind, "title": offering.title,
        "description": offering.description, "category": offering.category,
        "subcategory": offering.subcategory, "tags": list(offering.tags or []), "cpv": offering.cpv,
        "service_area": area, "price_net": offering.price_net, "vat_rate": offering.vat_rate,
        "published_at": offering.published_at,
    }
    pes_values = {"id": pes.id, "name": pes.name, "legal_form": pes.legal_form, "city": pes.city,
                  "reserved_eligible": pes.reserved_eligible}
    return schema.offering_document(
        values, pes_values, category_names(offering.category, offering.subcategory),
        [cpv_names[c] for c in values["cpv"] if c in cpv_names],
        mark=mark_span(marks, today))


def _load(session: Session, ids: list[int]) -> list[Offering]:
    stmt = (public_query().where(Offering.id.in_(ids))
            .options(selectinload(Offering.pes).selectinload(Pes.areas),
                     selectinload(Offering.cpv_links), selectinload(Offering.areas)))
    return list(session.scalars(stmt))


def _cpv_names(session: Session, offerings: list[Offering]) -> dict[str, str]:
    codes = sorted({c for o in offerings for c in o.cpv})
    if not codes:
        return {}
    return dict(session.execute(select(CpvCode.code, CpvCode.name_pl).where(CpvCode.code.in_(codes))).all())


def _marks(session: Session, ids: list[int]) -> dict[int, list[QualityMark]]:
    found: dict[int, list[QualityMark]] = {}
    stmt = select(QualityMark).where(QualityMark.offering_id.in_(ids), QualityMark.status == "active")
    for mark in session.scalars(stmt):
        found.setdefault(mark.offering_id, []).append(mark)
    return found


def documents_for(session: Session, ids: Iterable[int], today: date) -> dict[int, dict]:
    """The documents of those of the given offerings that are public, by offering id."""
    docs: dict[int, dict] = {}
    for chunk in chunked(ids):
        offerings = _load(session, chunk)
        names, marks = _cpv_names(session, offerings), _marks(session, chunk)
        for offering in offerings:
            docs[offering.id] = build(offering, names, marks.get(offering.id, []), today)
    return docs


def public_ids(session: Session) -> list[int]:
    """The ids of every public offering, in order."""
    return list(session.scalars(public_query().with_only_columns(Offering.id).order_by(Offering.id)))


def iter_documents(session: Session, today: date, batch: int = CHUNK, first: int = 0,
                   last: int | None = None) -> Iterator[dict]:
    """Every public offering's document (those with ids first..last), in id order, a batch of rows in
    memory at a time."""
    last_seen = first - 1
    while True:
        stmt = public_query().with_only_columns(Offering.id).where(Offering.id > last_seen)
        if last is not None:
            stmt = stmt.where(Offering.id <= last)
        ids = list(session.scalars(stmt.order_by(Offering.id).limit(batch)))
        if not ids:
            return
        docs = documents_for(session, ids, today)
        yield from (docs[i] for i in ids if i in docs)
        session.expunge_all()
        last_seen = ids[-1]


def offerings_of_pes(session: Session, pes_ids: Iterable[int]) -> set[int]:
    """Every offering (whatever its status) of the given PES."""
    found: set[int] = set()
    for chunk in chunked(pes_ids):
        found.update(session.scalars(select(Offering.id).where(Offering.pes_id.in_(chunk))))
    return found
