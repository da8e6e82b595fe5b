"""Offering records of the import format (CONTRACT section 3): validation, upsert by ref, export.

An offering's `quality_mark` imports an already awarded mark (number and dates); it is valid from valid_from
to valid_until, both days included.
"""
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from catalog import categories, cpv, price_history, pricing
from catalog.mark.models import MARK_STATUSES, QualityMark
from catalog.models import KINDS, STATUSES, VAT_RATES, CpvCode, Offering
from marketplace import audit, clock
from marketplace.extensions import db
from marketplace.pes import validation
from marketplace.pes.models import Pes
from marketplace.transfer import ImportContext, RecordHandler, checked_text

LIMITS = {"ref": 64, "title": 200, "description": 10000, "unit": 40, "min_order": 100, "lead_time": 100,
          "subcategory": 60}
REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _string(record, key, problems, required=False):
    return checked_text(record.get(key), key, problems, LIMITS.get(key, 250), required)


PRICE_MESSAGES = {
    "empty": "must be a decimal string such as \"18.50\", or null for price on request",
    "not_a_number": "must be a decimal string such as \"18.50\"",
    "negative": "must be greater than zero",
    "zero": "must be greater than zero",
    "too_large": f"is more than {pricing.MAX_PRICE} PLN: check the amount",
    "too_many_decimals": "may have at most 2 decimal places",
}


def parse_price(value) -> Decimal | None:
    """A net price through the editor's own parser (catalog.pricing), with the import's English messages."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(PRICE_MESSAGES["empty"])
    try:
        return pricing.parse_net(str(value))
    except pricing.PriceError as exc:
        raise ValueError(PRICE_MESSAGES.get(exc.code, str(exc))) from None


def _date(value, key, problems):
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        pass
    problems.append(("quality_mark", f"{key} must be a date such as 2026-05-31"))
    return None


def _one_mark(mark, problems) -> dict | None:
    if not isinstance(mark, dict):
        problems.append(("quality_mark", "must be an object with number, valid_from and valid_until"))
        return None
    number = mark.get("number")
    if not isinstance(number, str) or not number.strip() or len(number) > 40:
        problems.append(("quality_mark", "number is required (at most 40 characters)"))
    start, end = _date(mark.get("valid_from"), "valid_from", problems), _date(mark.get("valid_until"), "valid_until",
                                                                             problems)
    if start and end and end < start:
        problems.append(("quality_mark", "valid_until is before valid_from"))
    status = mark.get("status", "active")  # an extension: export keeps suspended and revoked marks so
    if status not in MARK_STATUSES:
        problems.append(("quality_mark", f"status must be one of {', '.join(MARK_STATUSES)}"))
    return {"number": (number or "").strip(), "valid_from": start, "valid_until": end, "status": status}


def _marks(record, ref, ctx, problems) -> list[dict]:
    """The record's `quality_mark` and, an extension that export writes for renewed marks, `quality_marks`."""
    raw = [record["quality_mark"]] if record.get("quality_mark") is not None else []
    extra = record.get("quality_marks")
    if extra is not None:
        if not isinstance(extra, list):
            problems.append(("quality_marks", "must be a list of marks"))
        else:
            raw += [m for m in extra if not (isinstance(m, dict) and raw and m.get("number") == raw[0].get("number"))]
    marks = [m for m in (_one_mark(r, problems) for r in raw) if m and m["number"]]
    owners = ctx.refs.setdefault("mark_owner", {})
    for mark in marks:
        number = mark["number"]
        if owners.get(number, ref) != ref:
            problems.append(("quality_mark", f"number {number} is already given to offering {owners[number]!r} "
                                             "in this file"))
            continue
        owner = db.session.execute(select(Offering.ref).join(QualityMark, QualityMark.offering_id == Offering.id)
                                   .where(QualityMark.number == number)).scalar()
        if owner is not None and owner != ref:
            problems.append(("quality_mark", f"number {number} belongs to offering {owner!r}"))
    return marks


class OfferingHandler(RecordHandler):
    type = "offering"
    order = 20

    def validate(self, record: dict, ctx: ImportContext):
        problems: list[tuple[str, str]] = []
        clean = {k: _string(record, k, problems, required=k in ("ref", "title"))
                 for k in ("ref", "title", "description", "unit", "min_order", "lead_time", "subcategory")}
        self._identity(record, clean, ctx, problems)
        self._classification(record, clean, problems)
        try:
            clean["price_net"] = parse_price(record.get("price_net"))
        except ValueError as exc:
            problems.append(("price_net", str(exc)))
        vat = record.get("vat_rate", "23")
        vat = str(vat) if isinstance(vat, int) and not isinstance(vat, bool) else vat
        if vat not in VAT_RATES:
            problems.append(("vat_rate", f"must be one of {', '.join(VAT_RATES)}"))
        clean["vat_rate"] = vat
        self._lists(record, clean, problems)
        status = record.get("status", "published")
        if status not in STATUSES:
            problems.append(("status", f"must be one of {', '.join(STATUSES)}"))
        clean["status"] = status
        clean["marks"] = _marks(record, clean.get("ref"), ctx, problems)
        if not problems:
            ctx.seen("offering").add(clean["ref"])
            for mark in clean["marks"]:
                ctx.refs["mark_owner"][mark["number"]] = clean["ref"]
        return clean, problems

    @staticmethod
    def _identity(record, clean, ctx, problems):
        ref = clean.get("ref")
        if ref and not REF_PATTERN.fullmatch(ref):
            problems.append(("ref", "may hold only letters, digits, '.', '_' and '-'"))
        if ref and ref in ctx.seen("offering"):
            problems.append(("ref", f"duplicate ref {ref!r} in this file"))
        pes_ref = record.get("pes_ref")
        if not isinstance(pes_ref, str) or not pes_ref:
            problems.append(("pes_ref", "is required"))
        elif pes_ref not in ctx.seen("pes") and db.session.scalar(select(Pes.id).where(Pes.ref == pes_ref)) is None:
            problems.append(("pes_ref", f"no PES with ref {pes_ref!r} in this file or in the database"))
        clean["pes_ref"] = pes_ref
        kind = record.get("kind")
        if kind not in KINDS:
            problems.append(("kind", f"must be {' or '.join(KINDS)}" if kind else "is required"))
        clean["kind"] = kind

    @staticmethod
    def _classification(record, clean, problems):
        category = record.get("category")
        if not isinstance(category, str) or not categories.is_category(category):
            problems.append(("category", f"unknown category {category!r}" if category else "is required"))
        elif clean.get("subcategory") and not categories.is_subcategory(category, clean["subcategory"]):
            problems.append(("subcategory", f"{clean['subcategory']!r} is not a subcategory of {category!r}"))
        clean["category"] = category
        codes = record.get("cpv") or []
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            problems.append(("cpv", "must be a list of codes such as \"55524000-9\""))
            codes = []
        normalised = []
        for code in codes:
            try:
                normalised.append(cpv.normalise(code))
            except ValueError as exc:
                problems.append(("cpv", f"{code}: {exc}"))
        known = set(db.session.scalars(select(CpvCode.code).where(CpvCode.code.in_(normalised)))) if normalised else set()
        for code in normalised:
            if code not in known:
                problems.append(("cpv", f"{code} is not in the loaded CPV list"))
        clean["cpv"] = normalised

    @staticmethod
    def _lists(record, clean, problems):
        tags = record.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 40 for t in tags):
            problems.append(("tags", "must be a list of short words"))
            tags = []
        clean["tags"] = [t.strip().lower() for t in tags][:10]
        area = record.get("service_area")
        if area is not None:
            if not isinstance(area, list) or not all(isinstance(c, str) and validation.region.is_powiat(c) for c in area):
                problems.append(("service_area", "must be a list of the region's powiat codes"))
                area = None
        clean["service_area"] = area

    def upsert(self, clean: dict) -> bool:
        offering = db.session.scalar(select(Offering).where(Offering.ref == clean["ref"]))
        pes = db.session.scalar(select(Pes).where(Pes.ref == clean["pes_ref"]))
        created = offering is None
        if created:
            offering = Offering(ref=clean["ref"])
            db.session.add(offering)
        offering.pes = pes
        for key in ("kind", "title", "category", "subcategory", "price_net", "vat_rate", "unit", "min_order",
                    "lead_time", "tags", "status"):
            setattr(offering, key, clean.get(key))
        price_history.record(offering)  # before the flush below: it compares with the stored price
        offering.description = clean.get("description") or ""
        offering.cpv = clean["cpv"]
        offering.service_area = clean.get("service_area") or []
        if offering.status == "published" and offering.published_at is None:
            offering.published_at = clock.now()
        db.session.flush()
        for mark in clean["marks"]:
            _upsert_mark(offering, mark)
        audit.record(None, "offering.import", offering, after=audit.snapshot(offering, ("ref", "title", "status")))
        return created

    def export(self):
        marks: dict[int, list[QualityMark]] = {}
        for mark in db.session.scalars(select(QualityMark).order_by(QualityMark.valid_from, QualityMark.id)):
            marks.setdefault(mark.offering_id, []).append(mark)
        for offering in db.session.scalars(select(Offering).order_by(Offering.id)):
            yield to_record(offering, marks.get(offering.id, []))


def _upsert_mark(offering: Offering, data: dict) -> None:
    mark = db.session.scalar(select(QualityMark).where(QualityMark.number == data["number"]))
    if mark is None:
        mark = QualityMark(number=data["number"], status="active")
        db.session.add(mark)
    mark.offering_id, mark.pes_id = offering.id, offering.pes_id
    mark.valid_from, mark.valid_until = data["valid_from"], data["valid_until"]
    mark.status = data["status"]
    mark.offering_title = mark.offering_title or offering.title
    mark.pes_name = mark.pes_name or offering.pes.name
    db.session.flush()


def _mark_record(mark: QualityMark) -> dict:
    out = {"number": mark.number, "valid_from": mark.valid_from.isoformat(),
           "valid_until": mark.valid_until.isoformat()}
    if mark.status != "active":
        out["status"] = mark.status
    return out


def to_record(offering: Offering, marks: list[QualityMark]) -> dict:
    """The offering as an import record; `quality_mark` is the mark valid today (else the newest), and every
    other mark of the offering (earlier or renewed ones) goes in the `quality_marks` extension."""
    rec = {"type": "offering", "ref": offering.ref, "pes_ref": offering.pes.ref, "kind": offering.kind,
           "title": offering.title, "description": offering.description or None, "category": offering.category,
           "subcategory": offering.subcategory, "cpv": offering.cpv,
           "price_net": None if offering.price_net is None else f"{offering.price_net:.2f}",
           "vat_rate": offering.vat_rate, "unit": offering.unit, "min_order": offering.min_order,
           "lead_time": offering.lead_time, "tags": offering.tags or None,
           "service_area": [a.powiat for a in offering.areas] or None, "status": offering.status}
    out = {k: v for k, v in rec.items() if v is not None or k == "price_net"}
    if marks:
        today = clock.today()
        main = next((m for m in marks if m.is_valid_on(today)), marks[-1])
        out["quality_mark"] = _mark_record(main)
        others = [_mark_record(m) for m in marks if m is not main]
        if others:
            out["quality_marks"] = others
    return out
