"""Catalogue categories: the contract's slugs, subcategories, names in both languages and CPV mapping."""
import csv
import json

import pytest

from catalog import categories, cpv

CONTRACT_SLUGS = ["catering", "zywnosc", "sprzatanie", "zielen", "remonty", "rekodzielo", "tekstylia",
                  "stolarstwo", "poligrafia", "opieka", "edukacja", "turystyka", "kultura", "transport",
                  "pralnia", "biuro-it", "zdrowie", "rolnictwo", "inne"]


def shipped_codes() -> list[str]:
    with open(cpv.DATA_FILE, encoding="utf-8", newline="") as fh:
        return [row["code"] for row in csv.DictReader(fh)]


def test_file_covers_exactly_the_contract_slugs():
    assert categories.slugs() == CONTRACT_SLUGS
    with open(categories.DATA_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    assert data["source"] and data["as_of"]  # where the names and CPV prefixes come from, and when


@pytest.mark.parametrize("slug", CONTRACT_SLUGS)
def test_each_category_is_complete(slug):
    cat = categories.get(slug)
    for key in ("name_pl", "name_en", "description_pl", "description_en"):
        assert cat[key].strip(), key
    subs = cat["subcategories"]
    assert 3 <= len(subs) <= 8
    assert len({s["slug"] for s in subs}) == len(subs)
    for sub in subs:
        assert sub["name_pl"].strip() and sub["name_en"].strip()
        assert categories.is_subcategory(slug, sub["slug"])


def test_every_cpv_prefix_matches_codes_of_the_shipped_list():
    codes = shipped_codes()
    for cat in categories.all_categories():
        assert cat["cpv_prefixes"], cat["slug"]
        for prefix in cat["cpv_prefixes"]:
            assert prefix.isdigit() and 2 <= len(prefix) <= 7, prefix
            assert any(c.startswith(prefix) for c in codes), (cat["slug"], prefix)


def test_every_shipped_code_falls_in_a_category():
    assert [c for c in shipped_codes() if categories.category_for_cpv(c) is None] == []


@pytest.mark.parametrize("code, slug", [
    ("55524000-9", "catering"), ("55000000-0", "catering"), ("55100000-1", "turystyka"),
    ("55243000-5", "turystyka"), ("15811100-7", "zywnosc"), ("03142100-9", "zywnosc"), ("03221000-6", "rolnictwo"),
    ("90919200-4", "sprzatanie"), ("77310000-6", "zielen"), ("45112710-5", "zielen"), ("45000000-7", "remonty"),
    ("45421151-7", "stolarstwo"), ("39100000-3", "stolarstwo"), ("98394000-1", "stolarstwo"),
    ("18530000-3", "rekodzielo"), ("18100000-0", "tekstylia"), ("98393000-4", "tekstylia"),
    ("79810000-5", "poligrafia"), ("85311100-3", "opieka"), ("80500000-9", "edukacja"), ("92331210-5", "kultura"),
    ("98392000-7", "transport"), ("60130000-8", "transport"), ("98310000-9", "pralnia"),
    ("72413000-8", "biuro-it"), ("85142100-7", "zdrowie"), ("79710000-4", "inne"),
])
def test_category_for_cpv_takes_the_longest_prefix(code, slug):
    assert categories.category_for_cpv(code) == slug


@pytest.mark.parametrize("code", ["", None, "abc", "12345678-0"])
def test_category_for_cpv_of_an_unknown_code(code):
    assert categories.category_for_cpv(code) is None


def test_names_are_polish_outside_a_request(app):
    assert categories.name("sprzatanie") == "Sprzątanie i utrzymanie czystości"
    assert categories.subcategory_name("catering", "obiady-dla-szkol") == "Obiady dla szkół i przedszkoli"
    assert categories.description("zielen").startswith("Pielęgnacja parków")


def test_names_follow_the_visitors_language(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert categories.name("sprzatanie") == "Cleaning and upkeep"
        assert categories.subcategory_name("catering", "obiady-dla-szkol") == "Meals for schools and nurseries"
        assert ("biuro-it", "Office and IT services") in categories.choices()
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        assert categories.name("biuro-it") == "Usługi biurowe i IT"


def test_unknown_slugs_are_not_categories():
    assert not categories.is_category("nieznana") and not categories.is_category(None)
    assert not categories.is_category(["catering"])
    assert not categories.is_subcategory("catering", "nieznana")
    assert not categories.is_subcategory("zywnosc", "obiady-dla-szkol")  # another category's subcategory
    assert not categories.is_subcategory("nieznana", "obiady-dla-szkol")
    assert not categories.is_subcategory("catering", None)
    assert categories.get("nieznana") is None
    assert categories.name("nieznana") == "nieznana"
    assert categories.subcategory_name("catering", "nieznana") == "nieznana"
    assert categories.subcategory_choices("nieznana") == []


def test_choices_list_every_category_in_order(app):
    choices = categories.choices()
    assert [slug for slug, _name in choices] == CONTRACT_SLUGS
    assert dict(choices)["catering"] == "Catering i gastronomia"
    subs = categories.subcategory_choices("catering")
    assert ("stolowki", "Prowadzenie stołówek") in subs
