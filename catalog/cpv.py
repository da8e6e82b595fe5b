"""The Common Procurement Vocabulary (CPV 2008): code checks, search, and loading the list from a file.

The portal ships a selection of codes (catalog/data/cpv_pl.csv); the full official list, with names in every
EU language, can be loaded from the EU's export (CSV or XLSX) with `flask cpv load FILE`.

The check digit of almost every code is the weighted sum of its eight digits (weights 3, 7, 1, 3, 7, 1, 3, 7)
modulo 10. A few groups kept the check digits they had before CPV 2008 (e.g. 03413000-8 "Drewno opałowe",
72413000-8 "Usługi w zakresie projektowania stron WWW"); the codes of the shipped list whose official check
digit differs from the rule are accepted as they are, so that official codes are never "corrected" into
codes that do not exist.
"""
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from catalog.models import CpvCode, fold
from marketplace.extensions import db

DATA_FILE = Path(__file__).parent / "data" / "cpv_pl.csv"
WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)
CODE_RE = re.compile(r"\d{8}-\d")
BATCH = 500
HEADER_SEARCH_ROWS = 5
CODE_HEADERS = ("code", "kod", "cpv")
PL_HEADERS = ("pl", "name_pl")
EN_HEADERS = ("en", "name_en")


class CpvFileError(ValueError):
    """A file that cannot be loaded at all (unreadable, or without the columns we need)."""


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows whose code is malformed or fails the check digit, or that have no Polish name


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
    match = re.fullmatch(r"(\d{8})-?(\d)?", text)
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
    """Insert new codes and update the names of known ones from our CSV or the EU's CSV/XLSX export;
    flushes, the caller commits. CpvFileError when the file cannot be used (then nothing is written)."""
    rows = _read_rows(Path(path))
    try:
        columns = _find_header(rows)
        parsed, skipped = _parse(rows, columns)
    except csv.Error as exc:
        raise CpvFileError(_("Nie można odczytać pliku CSV: %(reason)s", reason=exc)) from exc
    result = LoadResult(skipped=skipped)
    items = list(parsed.items())
    for start in range(0, len(items), BATCH):
        _upsert(items[start:start + BATCH], result)
    return result


def _upsert(batch: list, result: LoadResult) -> None:
    existing = {c.code: c for c in db.session.scalars(select(CpvCode).where(
        CpvCode.code.in_([code for code, _names in batch])))}
    for code, (name_pl, name_en) in batch:
        row = existing.get(code)
        if row is None:
            db.session.add(CpvCode(code=code, name_pl=name_pl, name_en=name_en))
            result.created += 1
        elif (row.name_pl, row.name_en) != (name_pl, name_en or row.name_en):
            row.name_pl = name_pl
            row.name_en = name_en or row.name_en
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.flush()


def _find_header(rows) -> tuple[int, int, int | None]:
    """The columns of the header row: the first row, or one of the next few when a title comes first."""
    row, problem = next(rows, None), None
    for _attempt in range(HEADER_SEARCH_ROWS):
        try:
            return _columns(row)
        except CpvFileError as exc:
            problem = problem or exc  # the first row's problem is the one to report
        row = next(rows, None)
        if row is None:
            break
    raise problem


def _columns(header) -> tuple[int, int, int | None]:
    """The positions of the code, Polish and English columns, found by their header names."""
    names = [str(h or "").strip().casefold() for h in (header or [])]

    def find(candidates):
        return next((i for i, n in enumerate(names) if n in candidates), None)

    code, pl, en = find(CODE_HEADERS), find(PL_HEADERS), find(EN_HEADERS)
    if code is None:
        raise CpvFileError(_("W pierwszym wierszu pliku brak kolumny z kodem (CODE)."))
    if pl is None:
        raise CpvFileError(_("W pierwszym wierszu pliku brak kolumny z nazwami polskimi (PL)."))
    return code, pl, en


def _parse(rows, columns) -> tuple[dict, int]:
    code_at, pl_at, en_at = columns
    parsed, skipped = {}, 0
    for row in rows:
        row = list(row or [])
        if not any(str(v or "").strip() for v in row):
            continue  # an empty line
        code = _cell_code(_cell(row, code_at))
        name_pl = _cell(row, pl_at)
        if code is None or not name_pl:
            skipped += 1
            continue
        parsed[code] = (name_pl[:400], _cell(row, en_at)[:400] or None)
    return _drop_conflicting(parsed, skipped)


def _drop_conflicting(parsed: dict, skipped: int) -> tuple[dict, int]:
    """A code whose check digit breaks the rule is taken as the file gives it (official codes do that),
    unless the same eight digits appear with another check digit in the file or the loaded list: then it
    is a typo and is skipped."""
    by_digits: dict[str, list[str]] = {}
    for code in parsed:
        by_digits.setdefault(code[:8], []).append(code)
    for code in list(parsed):
        if check_digit(code[:8]) == int(code[9]):
            continue
        others = [c for c in by_digits[code[:8]] if c != code]
        loaded = db.session.scalar(select(CpvCode.code).where(CpvCode.code.like(f"{code[:8]}-_"),
                                                              CpvCode.code != code))
        if others or loaded:
            del parsed[code]
            skipped += 1
    return parsed, skipped


def _cell(row: list, index: int | None) -> str:
    if index is None or index >= len(row) or row[index] is None:
        return ""
    return " ".join(str(row[index]).split())


def _cell_code(text: str) -> str | None:
    """A cell's code: "NNNNNNNN-N" as the file gives it (the loaded file is the official source, and some
    official codes kept check digits that break the rule); 8 bare digits get the rule's check digit."""
    if re.fullmatch(r"\d{1,8}", text):  # a spreadsheet may have kept the code as a number
        text = text.zfill(8)
    if not re.fullmatch(r"\d{8}(-\d)?", text):
        return None
    if len(text) == 8:
        return f"{text}-{expected_digit(text)}"
    return text


def _read_rows(path: Path):
    """The file's rows as lists of cells: CSV (comma, semicolon or tab), XLSX, or a ZIP holding one of them."""
    suffix = path.suffix.casefold()
    try:
        if suffix == ".zip":
            return _rows_from_zip(path)
        if suffix in (".xlsx", ".xlsm"):
            return _xlsx_rows(path.read_bytes())
        if suffix == ".xls":
            raise CpvFileError(_("Format .xls nie jest obsługiwany: zapisz plik jako .xlsx lub .csv."))
        return _csv_rows(path.read_bytes())
    except OSError as exc:
        raise CpvFileError(_("Nie można odczytać pliku: %(reason)s", reason=exc.strerror or exc)) from exc


def _rows_from_zip(path: Path):
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.casefold().endswith((".xlsx", ".csv"))]
            if len(members) != 1:
                raise CpvFileError(_("Archiwum ZIP powinno zawierać jeden plik .xlsx lub .csv."))
            data = archive.read(members[0])
    except zipfile.BadZipFile as exc:
        raise CpvFileError(_("To nie jest poprawne archiwum ZIP.")) from exc
    return _xlsx_rows(data) if members[0].casefold().endswith(".xlsx") else _csv_rows(data)


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CpvFileError(_("To nie jest poprawny arkusz .xlsx.")) from exc
    # Read everything now: the workbook is closed before the rows are used.
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return iter(rows)


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CpvFileError(_("Plik CSV musi być zapisany w kodowaniu UTF-8.")) from exc
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    return csv.reader(io.StringIO(text), delimiter=delimiter)
