"""The shipped synonym list as buyers meet it: the words of a trade ("ogrodnik", "sprzątaczka", "kucharz")
reach the services of every category and come back the other way, without stems that drag in unrelated
offers; and through the API a trade word finds an offering that names only the service."""
from datetime import UTC, datetime

import pytest

from catalog.categories import all_categories, slugs
from catalog.models import Offering
from marketplace.extensions import db
from search.analysis import Synonyms, is_stopword, stems
from tests.factories import make_pes


@pytest.fixture(scope="module")
def shipped() -> Synonyms:
    return Synonyms.load()


def related(word: str, other: str, synonyms: Synonyms) -> bool:
    """Whether a query for `word` also looks for `other` (or a form of it) through a synonym group."""
    return any(stems(member) & stems(other) for member in synonyms.expand(word) - {word})


def category_vocabulary(category: dict) -> set[str]:
    """The stems of the words the catalogue itself uses for a category: its name, description and
    subcategories."""
    texts = [category["name_pl"], category["description_pl"],
             *(sub["name_pl"] for sub in category.get("subcategories", []))]
    out = set()
    for text in texts:
        for word in text.replace(",", " ").replace(".", " ").split():
            out |= stems(word)
    return out


# -- (a) the list loads ----------------------------------------------------------------------------------


def test_the_shipped_list_loads_without_problems(shipped):
    assert shipped.problems == []
    assert len(shipped.groups) >= 140
    for group in shipped.groups:
        assert len(group) >= 2, group
        assert len(group) <= 20, group  # what a moderator's group may hold, so the panel shows it whole
        assert not any(is_stopword(word) for word in group), group
        assert all(" " not in word and "-" not in word for word in group), group


# -- (b) every category's trades reach the category's words ----------------------------------------------

# Words for the people who do a category's work (or what buyers call the service): each must expand to a
# word of the category's own name, description or subcategory names, through another member of a group.
TRADES = {
    "catering": ["kucharz", "kucharka", "garmażer"],
    "zywnosc": ["piekarz", "cukiernik", "pszczelarz", "masarz", "rzeźnik", "serowar"],
    "sprzatanie": ["sprzątaczka", "sprzątacz", "porządki"],
    "zielen": ["ogrodnik", "ogrodniczka", "arborysta", "kosiarz", "drwal"],
    "remonty": ["malarz", "hydraulik", "elektryk", "glazurnik", "kafelkarz", "murarz", "budowlaniec",
                "fachowiec"],
    "rekodzielo": ["rękodzielnik", "garncarz", "jubiler", "dekorator"],
    "tekstylia": ["krawcowa", "krawiec", "szwaczka", "hafciarka"],
    "stolarstwo": ["stolarz", "meblarz", "tapicer"],
    "poligrafia": ["drukarz", "introligator", "grafik"],
    "opieka": ["opiekunka", "opiekun", "asystentka"],
    "edukacja": ["nauczyciel", "korepetytor", "lektor", "szkoleniowiec", "trener", "edukator"],
    "turystyka": ["przewodnik", "przewodniczka", "pensjonat", "kwatery"],
    "kultura": ["animator", "fotografka", "kamerzysta", "akustyk", "muzyk"],
    "transport": ["przewoźnik", "kierowca", "tragarz", "doręczyciel"],
    "pralnia": ["praczka", "magiel"],
    "biuro-it": ["księgowa", "księgowy", "informatyk", "tłumaczka", "archiwista", "sekretarka", "webmaster"],
    "zdrowie": ["fizjoterapeutka", "rehabilitant", "masażysta", "pielęgniarka"],
    "rolnictwo": ["rolnik", "sadownik", "pszczelarz", "leśnik"],
    "inne": ["ochroniarz", "stróż", "fryzjerka", "kosmetolog", "pakowacz", "grabarz"],
}


def test_every_category_has_trade_words():
    assert set(TRADES) == set(slugs())


@pytest.mark.parametrize("category", all_categories(), ids=lambda c: c["slug"])
def test_the_trade_words_of_a_category_reach_its_vocabulary(shipped, category):
    vocabulary = category_vocabulary(category)
    for word in TRADES[category["slug"]]:
        others = {m for m in shipped.expand(word) if not stems(m) & stems(word)}
        assert others, f"{word}: in no group"
        reached = {m for m in others if stems(m) & vocabulary}
        assert reached, f"{word} expands to {sorted(others)}, none a word of {category['slug']}"


# -- (c) both ways ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("person, service", [
    ("ogrodnik", "ogrodnicze"),
    ("ogrodnik", "zieleń"),
    ("ogrodnik", "ogrodnictwo"),
    ("ogrodnik", "ogrody"),
    ("sprzątaczka", "sprzątanie"),
    ("sprzątaczka", "porządki"),
    ("kucharz", "catering"),
    ("kucharz", "gastronomia"),
    ("kucharz", "garmażerka"),
    ("krawcowa", "szycie"),
    ("krawiec", "krawiectwo"),
    ("stolarz", "stolarstwo"),
    ("stolarz", "meble"),
    ("malarz", "malowanie"),
    ("hydraulik", "instalacje"),
    ("elektryk", "instalacje"),
    ("glazurnik", "płytki"),
    ("drukarz", "druk"),
    ("opiekunka", "opieka"),
    ("przewoźnik", "transport"),
    ("kierowca", "przewóz"),
    ("praczka", "pranie"),
    ("praczka", "pralnia"),
    ("księgowa", "księgowość"),
    ("fizjoterapeuta", "rehabilitacja"),
    ("pszczelarz", "miód"),
    ("piekarz", "pieczywo"),
    ("cukiernik", "ciasta"),
    ("rolnik", "warzywa"),
    ("rolnik", "gospodarstwo"),
    ("przewodnik", "wycieczki"),
    ("animator", "animacje"),
    ("florysta", "kwiaty"),
    ("kwiaciarka", "bukiety"),
])
def test_a_trade_word_and_its_service_expand_to_each_other(shipped, person, service):
    assert related(person, service, shipped), f"{person} does not reach {service}"
    assert related(service, person, shipped), f"{service} does not reach {person}"


def test_inflected_forms_and_words_without_diacritics_find_their_group(shipped):
    for typed in ("ogrodnika", "ogrodnicy", "ogrodniczych", "ogrodnictwa"):
        assert "ogrodnik" in shipped.expand(typed), typed
        assert related(typed, "zieleni", shipped), typed
    for typed in ("sprzątaczki", "sprzataczka", "sprzataczki"):
        assert related(typed, "sprzątanie", shipped), typed
    for typed in ("kucharza", "kucharze", "kucharki"):
        assert related(typed, "catering", shipped), typed


@pytest.mark.parametrize("word", [
    "serie",  # "sery" would stem like it
    "pączki",  # written without diacritics, "paczki" of a courier
    "place",  # "płace" of the payroll, without diacritics
    "sądy",  # "sady" of an orchard, without diacritics
    "paski",  # "pasieka" has a stem "pask"
    "mięśnie",  # "mięsny" stems like the muscles
    "świecie",  # "świece" stems like the town of Świecie
    "starych",  # "starsi" has the stem "stary"
    "rachunek",  # "rachunkowy" stems like it
    "panel",
    "przedstawienie",
    "dane",
    "hotele",
])
def test_unrelated_common_words_join_no_group(shipped, word):
    assert shipped.expand(word) == {word}


def test_trade_groups_stay_apart(shipped):
    """A trade word does not bring the services of another trade."""
    assert not related("ogrodnik", "pielęgnacja", shipped)  # care of the sick is pielęgnacja too
    assert not related("ogrodnik", "sprzątanie", shipped)
    assert not related("sprzątaczka", "czyszczenie", shipped)  # dry cleaning is a laundry's service
    assert not related("kucharz", "żywienie", shipped)  # nutrition workshops are health offers
    assert not related("seniorzy", "stare", shipped)
    assert not related("hydraulik", "elektryk", shipped)


# -- (d) through the API ---------------------------------------------------------------------------------


def make_offering(pes, ref: str, title: str, description: str, category: str) -> Offering:
    offering = Offering(ref=ref, pes=pes, kind="service", title=title, description=description,
                        category=category, status="published", vat_rate="23",
                        published_at=datetime.now(UTC))
    db.session.add(offering)
    return offering


@pytest.fixture
def offerings(app):
    pes = make_pes(name="Spółdzielnia Socjalna Razem", powiat="0463")
    make_offering(pes, "off-ogrody", "Usługi ogrodnicze",
                  "Pielęgnacja zieleni przy budynkach: koszenie trawy, przycinanie krzewów.", "zielen")
    make_offering(pes, "off-ogrodnik", "Ogrodnik na godziny",
                  "Przyjedziemy z własnym sprzętem do przydomowego terenu.", "zielen")
    make_offering(pes, "off-biura", "Sprzątanie biur",
                  "Codziennie po godzinach pracy, z własnymi środkami.", "sprzatanie")
    make_offering(pes, "off-catering", "Catering na spotkania",
                  "Przygotowujemy posiłki na szkolenia i narady.", "catering")
    make_offering(pes, "off-kucharz", "Kucharz na przyjęcia domowe",
                  "Gotujemy u zamawiającego, z jego produktów.", "catering")
    make_offering(pes, "off-ulotki", "Druk ulotek",
                  "Ulotki A5 i A6, pełny kolor, papier kredowy.", "poligrafia")
    db.session.commit()


def api(client, q: str) -> list[str]:
    resp = client.get("/api/v1/search", query_string={"q": q, "per_page": 100})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [item["ref"] for item in resp.get_json()["items"]]


@pytest.mark.parametrize("q", ["ogrodnik", "ogrodnika", "ogrodnik toruń", "ogrodnik torun"])
def test_a_gardener_finds_gardening_services(client, offerings, q):
    found = api(client, q)
    assert {"off-ogrody", "off-ogrodnik"} <= set(found), found
    assert not {"off-biura", "off-catering", "off-kucharz", "off-ulotki"} & set(found), found
    assert found[0] == "off-ogrodnik"  # the word itself ranks above its synonyms


def test_the_service_finds_the_gardener_back(client, offerings):
    for q in ("ogrodnicze", "ogrodnictwo", "zieleń"):
        found = api(client, q)
        assert "off-ogrodnik" in found, (q, found)
        assert not {"off-biura", "off-catering", "off-ulotki"} & set(found), (q, found)


@pytest.mark.parametrize("q", ["sprzątaczka", "sprzątaczki", "sprzataczka"])
def test_a_cleaner_finds_office_cleaning(client, offerings, q):
    assert api(client, q) == ["off-biura"]


def test_a_cook_finds_catering_and_catering_finds_the_cook(client, offerings):
    found = api(client, "kucharz")
    assert found[0] == "off-kucharz"
    assert "off-catering" in found
    assert not {"off-ogrody", "off-ogrodnik", "off-biura", "off-ulotki"} & set(found), found
    found = api(client, "catering")
    assert found[0] == "off-catering"
    assert "off-kucharz" in found
    assert "off-ulotki" not in found
