"""PES records of the import format (CONTRACT section 3): validation, upsert by ref, export."""
import re
from datetime import datetime, timezone

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from marketplace import audit
from marketplace.extensions import db
from marketplace.pes import validation
from marketplace.pes.models import INTEGRATION_FORMS, LEGAL_FORMS, STATUSES, Pes
from marketplace.transfer import ImportContext, RecordHandler, checked_text

# The same limits as the web form, so that an imported profile can be saved again from the editor.
TEXT_LIMITS = {"ref": 64, "name": 250, "description": 5000, "mission": 3000, "contact_person": 120,
               "street": 200, "city": 120}
REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CHECKS = {"nip": validation.nip, "regon": validation.regon, "krs": validation.krs,
          "phone": validation.phone, "website": validation.website}


def _text(record, key, problems, required=False):
    value = record.get(key)
    return _checked_text(value, key, problems, required)


def _checked_text(value, key, problems, required=False):
    return checked_text(value, key, problems, TEXT_LIMITS.get(key, 250), required)


def _bool(record, key, problems):
    value = record.get(key)
    if value is not None and not isinstance(value, bool):
        problems.append((key, "must be true or false"))
        return None
    return value


class PesHandler(RecordHandler):
    type = "pes"
    order = 10

    def validate(self, record: dict, ctx: ImportContext):
        problems: list[tuple[str, str]] = []
        clean = {"ref": _text(record, "ref", problems, required=True),
                 "name": _text(record, "name", problems, required=True)}
        if clean["ref"] and not REF_PATTERN.fullmatch(clean["ref"]):
            problems.append(("ref", "may hold only letters, digits, '.', '_' and '-'"))
        if clean["ref"] and clean["ref"] in ctx.seen("pes"):
            problems.append(("ref", f"duplicate ref {clean['ref']!r} in this file"))
        legal_form = record.get("legal_form")
        if legal_form is None:
            problems.append(("legal_form", "is required"))
        elif not isinstance(legal_form, str) or legal_form not in LEGAL_FORMS:
            problems.append(("legal_form", f"unknown legal form {legal_form!r}"))
        clean["legal_form"] = legal_form
        self._codes(record, clean, problems)
        for key, check in CHECKS.items():
            if record.get(key) not in (None, ""):
                try:
                    clean[key] = check(str(record[key]))
                except ValueError as exc:
                    problems.append((key, str(exc)))
        self._contact(record, clean, problems)
        for key in ("description", "mission", "contact_person"):
            clean[key] = _text(record, key, problems)
        for key in ("social_enterprise_status", "integration_mission", "verified"):
            clean[key] = _bool(record, key, problems)
        if record.get("disadvantaged_share") is not None:
            try:
                clean["disadvantaged_share"] = validation.share(record["disadvantaged_share"])
            except ValueError as exc:
                problems.append(("disadvantaged_share", str(exc)))
        status = record.get("status")
        if status is not None and (not isinstance(status, str) or status not in STATUSES):
            problems.append(("status", f"unknown status {status!r}"))
        clean["status"] = status
        if not problems:
            ctx.seen("pes").add(clean["ref"])
        return clean, problems

    @staticmethod
    def _codes(record, clean, problems):
        try:
            if record.get("powiat") is not None and not isinstance(record["powiat"], str):
                raise ValueError("must be a string such as \"0463\"")
            clean["powiat"] = validation.powiat(record["powiat"]) if record.get("powiat") else None
            if clean["powiat"] is None:
                problems.append(("powiat", "is required"))
        except ValueError as exc:
            problems.append(("powiat", str(exc)))
        area = record.get("service_area")
        if area is None:
            clean["service_area"] = [clean["powiat"]] if clean.get("powiat") else []
        elif not isinstance(area, list) or not area:
            problems.append(("service_area", "must be a non-empty list of powiat codes"))
        else:
            bad = [c for c in area if not isinstance(c, str) or not validation.region.is_powiat(c)]
            if bad:
                problems.append(("service_area", f"unknown powiat codes {bad}"))
            clean["service_area"] = area

    @staticmethod
    def _contact(record, clean, problems):
        if record.get("email"):
            try:
                clean["email"] = validate_email(str(record["email"]), check_deliverability=False).normalized
            except EmailNotValidError as exc:
                problems.append(("email", str(exc)))
        address = record.get("address")
        if address is None:
            return
        if not isinstance(address, dict):
            problems.append(("address", "must be an object with street, postal_code and city"))
            return
        for key in ("street", "city"):
            sub: list[tuple[str, str]] = []
            clean[key] = _checked_text(address.get(key), key, sub)
            problems.extend(("address", f"{k} {reason}") for k, reason in sub)
        if address.get("postal_code"):
            try:
                clean["postal_code"] = validation.postal_code(address["postal_code"])
            except ValueError as exc:
                problems.append(("address", str(exc)))

    def upsert(self, clean: dict) -> bool:
        pes = db.session.scalar(select(Pes).where(Pes.ref == clean["ref"]))
        created = pes is None
        if created:
            pes = Pes(ref=clean["ref"])
            db.session.add(pes)
        for key in ("name", "legal_form", "powiat", "nip", "regon", "krs", "email", "phone", "website",
                    "street", "postal_code", "city", "contact_person"):
            setattr(pes, key, clean.get(key))
        pes.description = clean.get("description") or ""
        pes.mission = clean.get("mission") or ""
        pes.service_area = clean["service_area"]
        pes.social_enterprise_status = bool(clean.get("social_enterprise_status"))
        pes.disadvantaged_share = clean.get("disadvantaged_share")
        mission = clean.get("integration_mission")
        pes.integration_mission = clean["legal_form"] in INTEGRATION_FORMS if mission is None else mission
        status = clean.get("status") or ("verified" if clean.get("verified") else None)
        if status or created:
            pes.status = status or "pending"
        if pes.status == "verified" and pes.verified_at is None:
            pes.verified_at = datetime.now(timezone.utc)
        db.session.flush()
        audit.record(None, "pes.import", pes, after=audit.snapshot(pes, ("ref", "name", "status")))
        return created

    def export(self):
        for pes in db.session.scalars(select(Pes).order_by(Pes.id)):
            yield to_record(pes)


def to_record(pes: Pes) -> dict:
    """A PES as an import record; optional fields are left out when empty."""
    rec = {"type": "pes", "ref": pes.ref, "name": pes.name, "legal_form": pes.legal_form,
           "krs": pes.krs, "nip": pes.nip, "regon": pes.regon,
           "address": {k: v for k, v in (("street", pes.street), ("postal_code", pes.postal_code),
                                         ("city", pes.city)) if v} or None,
           "powiat": pes.powiat, "service_area": pes.service_area, "email": pes.email, "phone": pes.phone,
           "website": pes.website, "description": pes.description or None, "mission": pes.mission or None,
           "contact_person": pes.contact_person, "social_enterprise_status": pes.social_enterprise_status,
           "disadvantaged_share": pes.disadvantaged_share, "integration_mission": pes.integration_mission,
           "verified": pes.status == "verified", "status": pes.status}
    return {k: v for k, v in rec.items() if v is not None}
