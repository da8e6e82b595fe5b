"""The live shortlist of PES for a purchase: verified, serving the place of performance, with published
offerings in the subject's category or CPV codes (and the codes below them), and meeting the conditions of the
instrument chosen. One query for the PES, one for their marks: fast on a large catalogue.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, or_, select

from catalog.models import Offering, OfferingCpv
from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries.comparison import MarkInfo, valid_marks
from marketplace.pes.models import Pes, PesServiceArea

SOCIAL_COOPERATIVE = "spoldzielnia_socjalna"
FILTERS = ("all", "art94", "art15a")  # the builder's lists; "employs" serves the guidance pages
LIMIT = 500  # in the market survey report
PAGE_LIMIT = 100  # on the builder's page (the report lists the rest)


@dataclass(frozen=True)
class Supplier:
    pes: Pes
    basis: str  # "cooperative", "share" or "" (what makes it eligible for a reserved contract)
    marks: tuple[MarkInfo, ...]
    confirmed_at: datetime


def cpv_prefix(code: str) -> str:
    """The digits a code's subtree shares: 85311000-2 covers every code that starts with 85311."""
    digits = code[:8].rstrip("0")
    return digits if len(digits) >= 2 else code[:2]


def _code(code: str):
    """A code's subtree, or every code of a range "A..B" (codes have one width, so text order is number order)."""
    low, _sep, high = code.partition("..")
    if high:
        return OfferingCpv.code.between(low, high)
    return OfferingCpv.code.like(cpv_prefix(code) + "%")


def _subject(categories, codes):
    """Published, unblocked offerings of the PES in one of the categories or under one of the CPV codes."""
    offered = [Offering.pes_id == Pes.id, Offering.status == "published", Offering.blocked_at.is_(None)]
    matches = []
    if categories:
        matches.append(Offering.category.in_(list(categories)))
    if codes:
        matches.append(exists().where(OfferingCpv.offering_id == Offering.id, or_(*[_code(c) for c in codes])))
    if matches:
        offered.append(or_(*matches))
    return exists().where(*offered)


def _serving(powiats):
    codes = list(powiats)
    return or_(Pes.powiat.in_(codes), exists().where(PesServiceArea.pes_id == Pes.id,
                                                     PesServiceArea.powiat.in_(codes)))


def _eligible(kind: str, min_share: int):
    """The instrument's condition on the PES itself."""
    cooperative = Pes.legal_form == SOCIAL_COOPERATIVE
    if kind == "art94":
        return or_(cooperative, and_(Pes.integration_mission.is_(True), Pes.disadvantaged_share >= min_share))
    if kind == "art15a":
        return cooperative
    if kind == "employs":  # PES that employ persons of the groups art. 96 and art. 242 reward
        return or_(cooperative, Pes.integration_mission.is_(True), Pes.disadvantaged_share > 0)
    return None


def basis(pes: Pes, min_share: int) -> str:
    if pes.legal_form == SOCIAL_COOPERATIVE:
        return "cooperative"
    if pes.integration_mission and (pes.disadvantaged_share or 0) >= min_share:
        return "share"
    return ""


def query(categories=(), codes=(), powiats=(), kind: str = "all", min_share: int = 30):
    stmt = select(Pes).where(Pes.status == "verified", _subject(categories, codes))
    if powiats:
        stmt = stmt.where(_serving(powiats))
    condition = _eligible(kind, min_share)
    if condition is not None:
        stmt = stmt.where(condition)
    return stmt.order_by(Pes.name_key, Pes.id)


def find(categories=(), codes=(), powiats=(), kind: str = "all", min_share: int = 30,
         day: date | None = None, limit: int = LIMIT) -> tuple[list[Supplier], int]:
    """The matching PES (at most `limit`) and how many match in all."""
    stmt = query(categories, codes, powiats, kind, min_share)
    found = list(db.session.scalars(stmt.limit(limit + 1)))
    total = len(found)
    if total > limit:
        total = db.session.scalar(select(db.func.count()).select_from(stmt.order_by(None).subquery()))
        found = found[:limit]
    marks = valid_marks([p.id for p in found], day or clock.today())
    return [Supplier(p, basis(p, min_share), marks.get(p.id, ()), p.data_confirmed_at) for p in found], total
