"""The Common Procurement Vocabulary (CPV 2008): code checks, search, and loading the list from a file.

The portal ships a selection of codes (catalog/data/cpv_pl.csv); the full official list, with names in every
EU language, can be loaded from the EU's export (CSV or XLSX) with `flask cpv load FILE` (catalog.cpv_load
reads the files; `load_file` here calls it).

The check digit of almost every code is the weighted sum of its eight digits (weights 3, 7, 1, 3, 7, 1, 3, 7)
modulo 10. A few groups kept the check digits they had before CPV 2008 (e.g. 03413000-8 "Drewno opałowe",
72413000-8 "Usługi w zakresie projektowania stron WWW"); the codes of the shipped list whose official check
digit differs from the rule are accepted as they are, so that official codes are never "corrected" into
codes that do not exist.
"""
import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from catalog.models import CpvCode, fold
from marketplace.extensions import db

DATA_FILE = Path(__file__).parent / "data" / "cpv_pl.csv"
WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)
CODE_RE = re.compile(r"[0-9]{8}-[0-9]")
BATCH = 500


class CpvFileError(ValueError):
    """A file that cannot be loaded at all (unreadable, or without the columns we need)."""


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows whose code is malformed or a typo (see cpv_load), or that have no Polish name


def check_digit(digits: str) -> int:
    """The check digit of eight digits by the weighted rule: sum of digits times 3, 7, 1, 3, 7, 1, 3, 7, mod 10."""
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError(_("Kod CPV ma osiem cyfr przed cyfrą kontrolną."))
    return sum(int(d) * w for d, w in zip(digits, WEIGHTS)) % 10


@lru_cache(maxsize=1)
def official_exceptions() -> dict[str, str]:
    """{eight digits: official code} for the shipped codes whose official check digit breaks the rule."""
    with open(DATA_FILE, encoding="utf-8", newline="") as fh:
        codes = [row["code"] for row in csv.DictReader(fh)]
    return {c[:8]: c for c in codes if CODE_RE.fullmatch(c) and check_digit(c[:8]) != int(c[9])}


def expected_digit(digits: str) -> int:
    """The right check digit for eight digits: the official one for a known exception (in the shipped list or
    in a loaded official file), else the rule's."""
    known = official_exceptions().get(digits)
    if known:
        return int(known[9])
    try:
        loaded = db.session.scalar(select(CpvCode.code).where(CpvCode.code.like(f"{digits}-_")))
    except RuntimeError:  # no application context: the rule alone
        loaded = None
    return int(loaded[9]) if loaded else check_digit(digits)


def is_valid_format(code) -> bool:
    """True for "NNNNNNNN-N" whose last digit is the right check digit."""
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        return False
    return expected_digit(code[:8]) == int(code[9])


def normalise(code) -> str:
    """The canonical "NNNNNNNN-N" form of "55524000-9", "555240009", "55524000" (check digit added)
    or "55.52.40.00-9"; ValueError with a reason when it is not a valid code."""
    text = re.sub(r"[\s.]", "", str(code or ""))
    match = re.fullmatch(r"([0-9]{8})-?([0-9])?", text)  # ASCII digits: other scripts' digits are no code
    if not match:
        raise ValueError(_("kod CPV ma postać 12345678-9"))
    expected = expected_digit(match.group(1))
    if match.group(2) is not None and int(match.group(2)) != expected:
        raise ValueError(_("niepoprawna cyfra kontrolna (powinna być %(digit)d)", digit=expected))
    return f"{match.group(1)}-{expected}"


def _code_prefix(token: str) -> str | None:
    """The code prefix a search token stands for ("5552", "55524000-9", "55.52"), or None for a word."""
    digits = re.sub(r"[.\-]", "", token)
    if not digits.isdigit():
        return None
    return digits if len(digits) <= 8 else f"{digits[:8]}-{digits[8:9]}"


def _word_key(word: str) -> str:
    """A query word case-folded without diacritics, and without the last two letters of a long word, so that
    neither Polish endings nor a keyboard without Polish letters matter ("sprzatanie" finds "sprzątania")."""
    key = fold(word)
    return key[:-2] if len(key) >= 7 else key


def search(query: str, limit: int = 20) -> list[CpvCode]:
    """Codes whose number starts with the digits typed, or whose Polish or English name holds every word typed
    (regardless of case, diacritics and the word's ending), in code order."""
    stmt = select(CpvCode)
    terms = 0
    for token in (query or "").split():
        prefix = _code_prefix(token)
        if prefix is not None:
            stmt = stmt.where(CpvCode.code.startswith(prefix, autoescape=True))
        else:
            stmt = stmt.where(CpvCode.name_key.contains(_word_key(token), autoescape=True))
        terms += 1
    if not terms:
        return []
    return list(db.session.scalars(stmt.order_by(CpvCode.code).limit(limit)))


def exists(codes) -> list[str]:
    """The given codes that are not in the table (an empty list when all are known), in the given order."""
    wanted = list(dict.fromkeys(codes))
    known: set[str] = set()
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        known.update(db.session.scalars(select(CpvCode.code).where(CpvCode.code.in_(chunk))))
    return [c for c in wanted if c not in known]


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(CpvCode))


def ensure_loaded() -> LoadResult | None:
    """Load the shipped selection when the table is empty (the importer and the demo call this);
    the caller commits."""
    if count():
        return None
    return load_file(DATA_FILE)


def load_file(path) -> LoadResult:
    """Insert new codes and update the names of known ones from our CSV or the EU's CSV/XLSX export (see
    catalog.cpv_load); flushes, the caller commits. CpvFileError when the file cannot be used."""
    from catalog.cpv_load import load_file as load  # the loader needs this module's checks

    return load(path)
