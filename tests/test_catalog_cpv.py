"""CPV codes: check digits, the shipped list, search, and `flask cpv load` with our CSV and the EU's export."""
import csv
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from catalog import cpv
from catalog.cli import cpv_cli
from catalog.models import CpvCode
from marketplace.extensions import db


@pytest.fixture
def cli(app, runner):
    if "cpv" not in app.cli.commands:
        app.cli.add_command(cpv_cli)
    return runner


@pytest.fixture
def loaded(app):
    cpv.ensure_loaded()
    db.session.commit()


def shipped_rows() -> list[dict]:
    with open(cpv.DATA_FILE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def count_codes() -> int:
    return db.session.scalar(select(func.count()).select_from(CpvCode))


def name_of(code: str) -> str | None:
    return db.session.scalar(select(CpvCode.name_pl).where(CpvCode.code == code))


# Check digits and normalising -------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["55524000-9", "90911200-8", "45000000-7", "79810000-5", "85000000-9"])
def test_check_digit_of_known_codes(code):
    assert cpv.check_digit(code[:8]) == int(code[9])
    assert cpv.is_valid_format(code)


@pytest.mark.parametrize("code", ["55524000-8", "90911200-0", "5552400-9", "55524000", "555240009", "", None,
                                  "5552400a-9", "55524000-99"])
def test_wrong_check_digit_or_shape_is_not_valid(code):
    assert not cpv.is_valid_format(code)


def test_check_digit_wants_eight_digits():
    with pytest.raises(ValueError):
        cpv.check_digit("5552400")


def test_official_codes_with_an_older_check_digit_are_accepted_as_they_are():
    # "Drewno opałowe" and web-site design keep check digits that the weighted rule does not give.
    assert cpv.check_digit("03413000") == 9 and cpv.is_valid_format("03413000-8")
    assert not cpv.is_valid_format("03413000-9")
    assert cpv.normalise("03413000") == "03413000-8"
    assert cpv.normalise("72413000") == "72413000-8"
    with pytest.raises(ValueError, match="powinna być 8"):
        cpv.normalise("03413000-9")


@pytest.mark.parametrize("raw", ["55524000-9", "555240009", "55524000", " 55524000-9 ", "55.52.40.00-9",
                                 "55524000 - 9"])
def test_normalise_accepts_the_usual_spellings(raw):
    assert cpv.normalise(raw) == "55524000-9"


def test_normalise_explains_what_is_wrong():
    with pytest.raises(ValueError, match="powinna być 9"):
        cpv.normalise("55524000-1")
    for raw in ("5552400", "abc", "", None, "55524000-12"):
        with pytest.raises(ValueError, match="12345678-9"):
            cpv.normalise(raw)


# The shipped list -----------------------------------------------------------------------------------------

def test_every_shipped_row_has_a_valid_code_and_a_polish_name():
    rows = shipped_rows()
    assert 600 <= len(rows) <= 1100
    assert list(rows[0]) == ["code", "name_pl", "name_en"]
    assert len({r["code"] for r in rows}) == len(rows)
    for row in rows:
        assert cpv.is_valid_format(row["code"]), row["code"]
        assert row["name_pl"].strip() and row["name_en"].strip(), row["code"]
    # The exceptions to the weighted rule are few, and all of them official codes of the list.
    assert len(cpv.official_exceptions()) < 40


def test_shipped_list_holds_divisions_groups_and_the_art_361_codes():
    codes = {r["code"] for r in shipped_rows()}
    for division in ("03", "15", "18", "19", "22", "37", "39", "44", "45", "50", "55", "60", "63", "72",
                     "75", "77", "79", "80", "85", "90", "92", "98"):
        assert any(c.startswith(division + "000000") for c in codes), division
    for group in ("55100000-1", "55300000-3", "55500000-5", "90900000-6", "85300000-2", "80500000-9"):
        assert group in codes
    art_361 = ["75121000-0", "75122000-7", "75123000-4", "79622000-0", "79624000-4", "79625000-1",
               "80110000-8", "80300000-7", "80420000-4", "80430000-7", "80511000-9", "80520000-5",
               "80590000-6", "85000000-9", "85323000-9", "92500000-6", "92600000-7", "98133000-4", "98133110-8"]
    assert set(art_361) <= codes


def test_ensure_loaded_fills_an_empty_table_once(app):
    result = cpv.ensure_loaded()
    db.session.commit()
    assert result.created == len(shipped_rows()) and result.skipped == 0
    assert name_of("55524000-9") == "Usługi dostarczania posiłków do szkół"
    assert cpv.ensure_loaded() is None
    assert count_codes() == len(shipped_rows())


# Search -----------------------------------------------------------------------------------------------

def codes_of(results) -> list[str]:
    return [c.code for c in results]


def test_search_by_code_prefix(loaded):
    found = codes_of(cpv.search("9091"))
    assert found and all(c.startswith("9091") for c in found)
    assert found == sorted(found)
    assert codes_of(cpv.search("55524000-9")) == ["55524000-9"]
    assert codes_of(cpv.search("555240009")) == ["55524000-9"]
    assert codes_of(cpv.search("55.52")) == codes_of(cpv.search("5552"))


def test_search_by_polish_word_regardless_of_case_and_ending(loaded):
    found = cpv.search("sprząt", limit=100)
    assert "90919200-4" in codes_of(found)  # Usługi sprzątania biur
    assert all("sprzat" in c.name_key for c in found)
    assert codes_of(cpv.search("SPRZĄTANIE", limit=100)) == codes_of(found)
    assert codes_of(cpv.search("sprzątanie biur")) == ["90919000-2", "90919200-4"]
    # A keyboard without Polish letters finds the same, and English names count too.
    assert codes_of(cpv.search("sprzatanie", limit=100)) == codes_of(found)
    assert "55524000-9" in codes_of(cpv.search("school catering", limit=100))


def test_search_limits_and_rejects_nothing_typed(loaded):
    assert len(cpv.search("usługi", limit=5)) == 5
    assert cpv.search("") == [] and cpv.search("   ") == []
    assert cpv.search("%") == [] and cpv.search("_") == []


def test_exists_names_the_unknown_codes(loaded):
    assert cpv.exists(["55524000-9", "90911200-8"]) == []
    assert cpv.exists(["55524000-9", "33100000-1", "33100000-1"]) == ["33100000-1"]
    assert cpv.exists([]) == []


# Loading files -------------------------------------------------------------------------------------------

def test_load_our_csv_adds_updates_and_skips_bad_check_digits(cli, loaded, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,name_pl,name_en\n"
                    "33100000-1,Urządzenia medyczne,Medical equipments\n"
                    "55524000-9,Usługi dostarczania posiłków do szkół (nowa nazwa),School catering services\n"
                    "90911200-8,Usługi sprzątania budynków,Building-cleaning services\n"
                    "33100000-2,Zła cyfra kontrolna,Wrong check digit\n"
                    "\n", encoding="utf-8")
    before = count_codes()
    result = cli.invoke(args=["cpv", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 dodano, 1 zaktualizowano, 1 bez zmian, 1 pominięto" in result.output
    assert count_codes() == before + 1
    assert name_of("33100000-1") == "Urządzenia medyczne"
    assert name_of("55524000-9").endswith("(nowa nazwa)")
    assert codes_of(cpv.search("nowa nazwa")) == ["55524000-9"]
    assert name_of("33100000-2") is None


def eu_workbook(path, rows, header=("CODE", "BG", "EN", "PL", "DE")):
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def test_load_the_eu_xlsx_layout(cli, loaded, tmp_path):
    path = eu_workbook(tmp_path / "cpv_2008.xlsx", [
        ("33100000-1", "Медицинско оборудване", "Medical equipments", "Urządzenia medyczne", "Medizinische Geräte"),
        ("55524000-9", "", "School catering services", "Usługi dostarczania posiłków do szkół", ""),
        ("03413000-8", "", "Fuel wood", "Drewno opałowe", ""),
        ("33100000-7", "", "Broken", "Błędny kod", ""),
        (None, None, None, None, None),
    ])
    before = count_codes()
    result = cli.invoke(args=["cpv", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 dodano, 0 zaktualizowano, 2 bez zmian, 1 pominięto" in result.output
    assert count_codes() == before + 1
    row = db.session.get(CpvCode, "33100000-1")
    assert (row.name_pl, row.name_en, row.name_key) == ("Urządzenia medyczne", "Medical equipments",
                                                         "urzadzenia medyczne | medical equipments")


def test_a_title_row_above_the_header_is_passed_over(cli, loaded, tmp_path):
    path = eu_workbook(tmp_path / "titled.xlsx", [("CODE", "EN", "PL"),
                                                   ("33100000-1", "Medical equipments", "Urządzenia medyczne")],
                       header=("Common Procurement Vocabulary 2008",))
    result = cli.invoke(args=["cpv", "load", str(path)])
    assert result.exit_code == 0 and "1 dodano" in result.output
    assert name_of("33100000-1") == "Urządzenia medyczne"


def test_load_a_semicolon_csv_and_a_zip_holding_a_workbook(cli, loaded, tmp_path):
    semicolons = tmp_path / "eksport.csv"
    semicolons.write_text("Code;EN;PL\n33100000-1;Medical equipments;Urządzenia medyczne\n", encoding="utf-8")
    assert "1 dodano" in cli.invoke(args=["cpv", "load", str(semicolons)]).output
    book = eu_workbook(tmp_path / "inside.xlsx", [("33600000-6", "", "Pharmaceutical products",
                                                    "Produkty farmaceutyczne", "")])
    archive = tmp_path / "cpv_2008_xls.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(book, "cpv_2008.xlsx")
    result = cli.invoke(args=["cpv", "load", str(archive)])
    assert result.exit_code == 0 and "1 dodano" in result.output
    assert name_of("33600000-6") == "Produkty farmaceutyczne"


@pytest.mark.parametrize("header", [("CODE", "BG", "EN", "DE"), ("KOD_X", "PL", "EN")])
def test_file_without_a_polish_or_code_column_is_refused_and_nothing_written(cli, loaded, tmp_path, header):
    path = eu_workbook(tmp_path / "bad.xlsx", [("33100000-1", "x", "Medical equipments", "y")], header=header)
    before = count_codes()
    result = cli.invoke(args=["cpv", "load", str(path)])
    assert result.exit_code == 1
    assert "Nie wczytano pliku" in result.output
    assert ("(PL)" if "CODE" in header else "(CODE)") in result.output
    db.session.rollback()
    assert count_codes() == before and name_of("33100000-1") is None


@pytest.mark.parametrize("name, content", [("old.xls", b"\xd0\xcf\x11\xe0"), ("broken.xlsx", b"not a zip"),
                                           ("latin2.csv", "code,name_pl\n33100000-1,Urządzenia".encode("cp1250"))])
def test_unreadable_files_are_refused_with_a_message(cli, loaded, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = cli.invoke(args=["cpv", "load", str(path)])
    assert result.exit_code == 1 and "Nie wczytano pliku" in result.output
    assert name_of("33100000-1") is None


def test_an_old_excel_file_alone_or_in_the_eu_zip_is_refused_with_what_to_do(cli, loaded, tmp_path):
    old = tmp_path / "cpv_2008.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    archive = tmp_path / "cpv_2008_xls.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(old, "cpv_2008.xls")
    for path in (old, archive):
        result = cli.invoke(args=["cpv", "load", str(path)])
        assert result.exit_code == 1, result.output
        assert "„cpv_2008.xls” jest w starym formacie .xls" in result.output
        assert "zapisz jako .xlsx lub CSV (UTF-8)" in result.output


def test_load_file_stays_importable_from_the_cpv_module(loaded, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,name_pl,name_en\n03413000-8,Drewno opałowe,Fuel wood\n", encoding="utf-8")
    result = cpv.load_file(path)
    assert (result.created, result.unchanged, result.skipped) == (0, 1, 0)
    with pytest.raises(cpv.CpvFileError):
        cpv.load_file(tmp_path / "nothing.xls")
