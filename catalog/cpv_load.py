"""Loading the CPV list from a file: our CSV (code,name_pl,name_en) or the EU's official export (CSV or XLSX,
also inside a ZIP), with a header row whose columns are found by name.

A code is taken as the file gives it, also when its check digit breaks the weighted rule (some official
codes kept older check digits); it is skipped only as a typo, when the same eight digits appear with another
check digit in the file or in the loaded list. The old Excel format (.xls) cannot be read: the message says
to save the sheet as .xlsx or CSV.
"""
import csv
import io
import re
import zipfile
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from catalog.cpv import BATCH, CpvFileError, LoadResult, check_digit, expected_digit
from catalog.models import CpvCode
from marketplace.extensions import db

HEADER_SEARCH_ROWS = 5
CODE_HEADERS = ("code", "kod", "cpv")
PL_HEADERS = ("pl", "name_pl")
EN_HEADERS = ("en", "name_en")


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
            raise _old_excel(path.name)
        return _csv_rows(path.read_bytes())
    except OSError as exc:
        raise CpvFileError(_("Nie można odczytać pliku: %(reason)s", reason=exc.strerror or exc)) from exc


def _old_excel(name: str) -> CpvFileError:
    return CpvFileError(_("Plik „%(name)s” jest w starym formacie .xls, którego nie można wczytać. Otwórz go w "
                          "arkuszu kalkulacyjnym, zapisz jako .xlsx lub CSV (UTF-8) i wczytaj ten plik.", name=name))


def _rows_from_zip(path: Path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            members = [n for n in names if n.casefold().endswith((".xlsx", ".csv"))]
            old = [n for n in names if n.casefold().endswith(".xls")]
            if not members and old:
                raise _old_excel(old[0])
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
