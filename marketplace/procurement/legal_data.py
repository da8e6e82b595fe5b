"""Legal values in the database: seeding version 1 from the shipped file, reading the state in force, and
moderators' changes (a new version each time, written to the audit log). Functions flush, never commit.
"""
import json
from datetime import date
from pathlib import Path

from flask import g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from marketplace import audit
from marketplace.extensions import db
from marketplace.procurement.legal_state import Entry, LegalState, parse_entry
from marketplace.procurement.models import LegalValue

DATA_FILE = Path(__file__).parent / "data" / "legal_values.json"
FIELDS = ("valid_until", "value", "unit", "source_title", "source_url", "legal_state_on", "verified", "note")


def shipped() -> list[Entry]:
    """The values as shipped with the portal (also what tests of the rules use, without a database)."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))["values"]
    return [parse_entry(item) for item in raw]


def shipped_state() -> LegalState:
    return LegalState(shipped())


def _entry(row: LegalValue) -> Entry:
    return Entry(key=row.key, valid_from=row.valid_from, value=row.value, unit=row.unit,
                 source_title=row.source_title, source_url=row.source_url, legal_state_on=row.legal_state_on,
                 verified=row.verified, note=row.note or "", valid_until=row.valid_until, version=row.version,
                 id=row.id)


def seed() -> int:
    """Version 1 of every shipped value that has no version yet; returns how many were added. A concurrent
    seed makes the unique (key, valid_from, version) insert fail, and that value is left as the other wrote it."""
    have = set(db.session.execute(select(LegalValue.key, LegalValue.valid_from)).all())
    added = 0
    for entry in shipped():
        if (entry.key, entry.valid_from) in have:
            continue
        row = LegalValue(key=entry.key, valid_from=entry.valid_from, version=1,
                         **{name: getattr(entry, name) for name in FIELDS})
        try:
            with db.session.begin_nested():
                db.session.add(row)
            added += 1
        except IntegrityError:
            continue
    return added


def newest_rows() -> list[LegalValue]:
    """The newest version of every (key, valid_from), ordered by key and date."""
    newest = (select(LegalValue.key, LegalValue.valid_from, func.max(LegalValue.version).label("version"))
              .group_by(LegalValue.key, LegalValue.valid_from).subquery())
    stmt = (select(LegalValue).join(newest, (LegalValue.key == newest.c.key)
                                    & (LegalValue.valid_from == newest.c.valid_from)
                                    & (LegalValue.version == newest.c.version))
            .order_by(LegalValue.key, LegalValue.valid_from))
    return list(db.session.scalars(stmt))


def current_state() -> LegalState:
    """The legal state the builder uses now, seeding the shipped values on a fresh install; read once per
    request (each caller gets its own LegalState, so the values one result used are its own)."""
    entries = g.get("legal_entries") if has_request_context() else None
    if entries is None:
        rows = newest_rows()
        if not rows:
            seed()
            rows = newest_rows()
        entries = [_entry(r) for r in rows]
        if has_request_context():
            g.legal_entries = entries
    return LegalState(list(entries))


def state_of(ids) -> LegalState:
    """The legal state a saved result used: exactly those versions, whatever changed since."""
    rows = db.session.scalars(select(LegalValue).where(LegalValue.id.in_(list(ids) or [0])))
    return LegalState([_entry(r) for r in rows])


def versions(key: str, valid_from: date) -> list[LegalValue]:
    return list(db.session.scalars(select(LegalValue).where(LegalValue.key == key,
                                                            LegalValue.valid_from == valid_from)
                                   .order_by(LegalValue.version.desc())))


def get(value_id: int) -> LegalValue | None:
    return db.session.get(LegalValue, value_id)


def _snapshot(row: LegalValue) -> dict:
    data = audit.snapshot(row, ("version", "unit", "source_title", "source_url", "verified"))
    data.update(value=row.value, legal_state_on=row.legal_state_on.isoformat())
    return data


def change(actor: User, row: LegalValue, data: dict, reason: str | None = None) -> LegalValue | None:
    """A new version of `row`'s value with the fields in `data`; None when nothing would change. Confirming an
    unverified value is a change too: a version with `verified` set, so who confirmed it and when is kept."""
    fields = {name: data.get(name, getattr(row, name)) for name in FIELDS}
    if all(fields[name] == getattr(row, name) for name in FIELDS):
        return None
    if has_request_context():
        g.pop("legal_entries", None)  # the request's copy is out of date now
    newer = LegalValue(key=row.key, valid_from=row.valid_from, version=row.version + 1,
                       created_by_id=actor.id, **fields)
    db.session.add(newer)
    db.session.flush()
    audit.record(actor, "legal_value.change", newer, before=_snapshot(row), after=_snapshot(newer), reason=reason)
    return newer


def confirm(actor: User, row: LegalValue) -> LegalValue | None:
    return change(actor, row, {"verified": True}, reason="confirmed")
