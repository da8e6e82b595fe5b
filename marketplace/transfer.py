"""Import and export of records in the JSON Lines format of CONTRACT section 3.

An import validates every line first and writes nothing if any line is invalid; otherwise it upserts
every record by `ref` in one transaction. Each record type has a handler; the catalogue adds its own.
"""
import json
from dataclasses import dataclass, field

from marketplace.extensions import db


@dataclass
class LineError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportContext:
    """What the validation pass has seen so far: refs per type, for cross-references within the file."""

    refs: dict[str, set] = field(default_factory=dict)

    def seen(self, kind: str) -> set:
        return self.refs.setdefault(kind, set())


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RecordHandler:
    """One record type: how to check a raw record, write a checked one, and export all of them."""

    type: str = ""
    order: int = 0  # lower types are written first (a PES before its offerings)

    def validate(self, record: dict, ctx: ImportContext) -> tuple[dict, list[tuple[str, str]]]:
        raise NotImplementedError

    def upsert(self, clean: dict) -> bool:
        """Write one checked record; True when it was created, False when updated."""
        raise NotImplementedError

    def export(self):
        raise NotImplementedError


HANDLERS: dict[str, RecordHandler] = {}


def checked_text(value, key: str, problems: list, limit: int, required: bool = False) -> str | None:
    """A record's optional (or required) string, stripped; a problem is added when it is not one or too long."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append((key, "is required"))
        return None
    if not isinstance(value, str):
        problems.append((key, "must be a string"))
        return None
    if len(value) > limit:
        problems.append((key, f"is longer than {limit} characters"))
    return value.strip()


def register_handler(handler: RecordHandler) -> None:
    HANDLERS[handler.type] = handler


def _parse(lines) -> tuple[list[tuple[int, RecordHandler, dict]], list[LineError]]:
    """Check every line; return the records in file order and the errors."""
    ctx, parsed, errors = ImportContext(), [], []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            errors.append(LineError(n, "json", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            errors.append(LineError(n, "json", "each line must be a JSON object"))
            continue
        rtype = record.get("type")
        handler = HANDLERS.get(rtype) if isinstance(rtype, str) else None
        if handler is None:
            known = ", ".join(sorted(HANDLERS))
            errors.append(LineError(n, "type", f"unknown record type {record.get('type')!r} (expected {known})"))
            continue
        clean, problems = handler.validate(record, ctx)
        errors.extend(LineError(n, f, reason) for f, reason in problems)
        if not problems:
            parsed.append((n, handler, clean))
    return parsed, errors


def import_lines(lines, commit: bool = True) -> ImportResult:
    """Validate all lines, then upsert all records in one transaction (or none at all).

    With commit=False the caller commits (the demo loads its accounts in the same transaction).
    """
    result = ImportResult()
    parsed, result.errors = _parse(lines)
    if result.errors:
        return result
    try:
        for _n, handler, clean in sorted(parsed, key=lambda p: (p[1].order, p[0])):
            bucket = result.created if handler.upsert(clean) else result.updated
            bucket[handler.type] = bucket.get(handler.type, 0) + 1
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def export_records():
    """Every record of every type, in an order that imports back (PES before offerings)."""
    for handler in sorted(HANDLERS.values(), key=lambda h: h.order):
        yield from handler.export()
