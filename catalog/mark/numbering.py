"""Certificate numbers and validity periods.

Numbers run per year without gaps or duplicates, even when two awards happen at once: the year's counter
row is locked (SELECT ... FOR UPDATE on PostgreSQL) and incremented by the database itself
(`last = last + 1`), inside the transaction that creates the mark, so an award that fails gives its
number back. On SQLite the database serialises writers, and the increment in SQL keeps it correct there too.
The counter row is created when missing by an INSERT in a savepoint that tolerates a concurrent insert.
"""
import calendar
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from catalog.mark.models import MarkNumberCounter, QualityMark
from marketplace.extensions import db

NUMBER_MAX_LENGTH = 40  # QualityMark.number


class MarkConfigError(RuntimeError):
    """MARK_NUMBER_FORMAT or MARK_VALIDITY_MONTHS cannot work; the message says which and why."""


def check_config(config) -> None:
    """Refuse a certificate number format without both {year} and {seq...} (a format without the sequence
    would give one number over and over), one that does not format, or one whose numbers do not fit the
    column; and a validity that is not a positive number of months. Run when the app starts and on use."""
    fmt = config.get("MARK_NUMBER_FORMAT")
    if not isinstance(fmt, str) or "{year}" not in fmt or "{seq" not in fmt:
        raise MarkConfigError(f"MARK_NUMBER_FORMAT must contain {{year}} and {{seq}} (e.g. ZJ/{{year}}/{{seq:04d}}), "
                              f"got {fmt!r}")
    try:
        first, second, longest = (fmt.format(year=y, seq=n) for y, n in ((2026, 1), (2026, 2), (9999, 99999)))
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise MarkConfigError(f"MARK_NUMBER_FORMAT {fmt!r} cannot be formatted with year and seq: {exc}") from None
    if first == second:
        raise MarkConfigError(f"MARK_NUMBER_FORMAT {fmt!r} gives the same number for every sequence value")
    if len(longest) > NUMBER_MAX_LENGTH:
        raise MarkConfigError(f"MARK_NUMBER_FORMAT {fmt!r} gives numbers longer than {NUMBER_MAX_LENGTH} characters")
    months = config.get("MARK_VALIDITY_MONTHS")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise MarkConfigError(f"MARK_VALIDITY_MONTHS must be a whole number of months, at least 1, got {months!r}")


def number_format() -> str:
    check_config(current_app.config)
    return current_app.config["MARK_NUMBER_FORMAT"]


def validity_months() -> int:
    check_config(current_app.config)
    return current_app.config["MARK_VALIDITY_MONTHS"]


def _locked_counter(year: int) -> MarkNumberCounter | None:
    return db.session.scalar(select(MarkNumberCounter).where(MarkNumberCounter.year == year)
                             .with_for_update().execution_options(populate_existing=True))


def _ensure_counter(year: int) -> None:
    """Create the year's counter; if another transaction created it first, use theirs."""
    if _locked_counter(year) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(MarkNumberCounter(year=year, last=0))
    except IntegrityError:
        pass  # a concurrent award inserted it: the savepoint is rolled back and the row is there now
    _locked_counter(year)


def _next_seq(year: int) -> int:
    db.session.execute(update(MarkNumberCounter).where(MarkNumberCounter.year == year)
                       .values(last=MarkNumberCounter.last + 1).execution_options(synchronize_session=False))
    return db.session.scalar(select(MarkNumberCounter.last).where(MarkNumberCounter.year == year))


def allocate(year: int) -> str:
    """The next certificate number of a year; numbers already taken (imported marks) are passed over."""
    _ensure_counter(year)
    fmt = number_format()
    while True:
        number = fmt.format(year=year, seq=_next_seq(year))
        taken = db.session.scalar(select(QualityMark.id).where(QualityMark.number == number))
        if taken is None:
            return number


def add_months(start: date, months: int) -> date:
    """The day `months` later; when that month is shorter, the first day of the month after it."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    if start.day > last_day:
        return date(year, month, last_day) + timedelta(days=1)
    return date(year, month, start.day)


def validity(start: date, months: int | None = None) -> tuple[date, date]:
    """(valid_from, valid_until), both days included: 15 March 2026 gives 15 March 2026 – 14 March 2027."""
    months = validity_months() if months is None else months
    return start, add_months(start, months) - timedelta(days=1)
