"""The portal's clock. "Today" is the date in Europe/Warsaw (CONTRACT section 3).

CLOCK_OFFSET_DAYS (set in tests only, never from the environment) moves the whole portal's clock, so that a
browser test can see a quality mark expire.
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

WARSAW = ZoneInfo("Europe/Warsaw")


def _offset() -> timedelta:
    try:
        return timedelta(days=current_app.config.get("CLOCK_OFFSET_DAYS", 0))
    except RuntimeError:
        return timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc) + _offset()


def today() -> date:
    """Today's date in Europe/Warsaw."""
    return now().astimezone(WARSAW).date()
