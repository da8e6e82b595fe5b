"""The legal values in force on a day, as plain data the builder's rules read (no database access here).

A LegalState holds copies of the newest version of every value; `entry(key, day)` picks the one valid on that
day. Every entry the rules consult is remembered, so a result can say which legal state it used.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class MissingValue(LookupError):
    """No version of a value is valid on the day asked (e.g. a date before the first known threshold)."""


@dataclass(frozen=True)
class Entry:
    key: str
    valid_from: date
    value: object
    unit: str
    source_title: str
    source_url: str
    legal_state_on: date
    verified: bool
    note: str = ""
    valid_until: date | None = None
    version: int = 1
    id: int | None = None

    @property
    def amount(self) -> Decimal:
        return Decimal(str(self.value))


@dataclass
class LegalState:
    entries: list[Entry]
    used: dict[tuple[str, date], Entry] = field(default_factory=dict)

    def entry(self, key: str, day: date) -> Entry:
        """The version of `key` valid on `day`: the one with the latest start not after it."""
        found = [e for e in self.entries if e.key == key and e.valid_from <= day]
        if not found:
            raise MissingValue(key)
        chosen = max(found, key=lambda e: (e.valid_from, e.version))
        if chosen.valid_until is not None and day > chosen.valid_until:
            raise MissingValue(key)  # e.g. the EU thresholds of the next two years are not in the data yet
        self.used[(chosen.key, chosen.valid_from)] = chosen
        return chosen

    def amount(self, key: str, day: date) -> Decimal:
        return self.entry(key, day).amount

    def groups(self, key: str, day: date) -> list[dict]:
        return list(self.entry(key, day).value)

    def span(self, keys) -> tuple[date, date | None]:
        """The days every one of `keys` has a value for: from the latest first start to the earliest end."""
        starts, ends = [], []
        for key in keys:
            mine = [e for e in self.entries if e.key == key]
            starts.append(min(e.valid_from for e in mine))
            last = max(mine, key=lambda e: (e.valid_from, e.version))
            if last.valid_until is not None:
                ends.append(last.valid_until)
        return max(starts), min(ends, default=None)

    def used_entries(self) -> list[Entry]:
        return sorted(self.used.values(), key=lambda e: (e.key, e.valid_from))

    def as_of(self) -> date | None:
        """The newest legal-state date among the values used so far."""
        return max((e.legal_state_on for e in self.used.values()), default=None)


def parse_entry(raw: dict) -> Entry:
    """An entry from the shipped data file's form (dates as ISO text)."""
    return Entry(key=raw["key"], valid_from=date.fromisoformat(raw["valid_from"]), value=raw["value"],
                 unit=raw["unit"], source_title=raw["source_title"], source_url=raw["source_url"],
                 legal_state_on=date.fromisoformat(raw["legal_state_on"]), verified=bool(raw["verified"]),
                 note=raw.get("note", ""),
                 valid_until=date.fromisoformat(raw["valid_until"]) if raw.get("valid_until") else None)
