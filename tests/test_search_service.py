"""The catalogue search as a buyer or a program meets it (CONTRACT section 4), on the project's own catalogue
(tests/fixtures/catalogue.jsonl) imported with the `import` command: filters, facets, text in Polish, order,
pages, snippets, suggestions.

What the catalogue holds, as the tests below rely on it (26 public offerings of 10 verified PES):
  pes-01 spółdzielnia socjalna, Toruń (serves 0463, 0415), 40% - reserved: of-01, of-02 (catering), of-03
  pes-02 CIS (0407, 0409, 0411), 75% - reserved: of-05, of-06 (sprzątanie), of-07 (zieleń), of-29
  pes-03 ZAZ, Bydgoszcz (0461, 0403, 0410), 30% - reserved: of-08 (pralnia), of-09, of-10, of-11 archived
  pes-04 fundacja (0416, 0414), 50% but no integration mission: of-12, of-13, of-14 draft
  pes-05 stowarzyszenie with an integration mission (0419 by default), 35% - reserved: of-15, of-16, of-17
  pes-06 WTZ (0402, 0412), 95% - reserved: of-18, of-19
  pes-07 KGW (0405, 0404): of-04 (catering), of-20, of-21
  pes-08 spółdzielnia pracy, Grudziądz (0462, 0406, 0417), 20%: of-22, of-23
  pes-09 spółdzielnia socjalna, Włocławek (0464, 0418, 0408), 25% - not reserved: of-24 (sprzątanie), of-25
  pes-10 KIS (0401, 0411), share not given - not reserved: of-26, of-27
  pes-11 fundacja, not verified: of-28 (sprzątanie)
Quality marks: valid until 2099 on of-01, of-05, of-09, of-15, of-22; of-16's ended in 2017; of-19's begins
in 2098. No price (on request): of-04, of-06, of-12, of-22, of-26, of-29.
"""
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog.mark.models import QualityMark
from catalog.models import Offering
from marketplace import clock
from marketplace.api.params import SearchParams
from marketplace.extensions import db
from search import service, sync
from search.cli import search_cli
from search.models import SearchOutbox

CATALOGUE = Path(__file__).resolve().parent / "fixtures" / "catalogue.jsonl"
PUBLIC = 26
MARKED = {"of-01", "of-05", "of-09", "of-15", "of-22"}  # marks valid today (of-16's expired, of-19's not begun)
RESERVED_PES = {"pes-01", "pes-02", "pes-03", "pes-05", "pes-06"}
PRICED = PUBLIC - 6


def records():
    return [json.loads(line) for line in CATALOGUE.read_text(encoding="utf-8").splitlines() if line.strip()]


def published():
    """The catalogue's offerings that the public sees: published, of a verified PES."""
    verified = {r["ref"] for r in records() if r["type"] == "pes" and r.get("verified")}
    return {r["ref"]: r for r in records() if r["type"] == "offering"
            and r.get("status", "published") == "published" and r["pes_ref"] in verified}


def enable_search(app) -> None:
    """What the application factory does once the search package is registered (idempotent)."""
    sync.init_app(app)
    if "search" not in app.cli.commands:
        app.cli.add_command(search_cli)


@pytest.fixture
def sample(app, runner):
    """The catalogue imported and indexed; the public offerings' records by ref."""
    enable_search(app)
    result = runner.invoke(args=["import", str(CATALOGUE)])
    assert result.exit_code == 0, result.output
    return published()


def api(client, **params):
    resp = client.get("/api/v1/search", query_string={"per_page": 100, **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def refs(data) -> set:
    return {item["ref"] for item in data["items"]}


def test_an_empty_query_finds_every_public_offering_and_nothing_else(client, sample):
    data = api(client)
    assert data["total"] == len(sample) == PUBLIC
    assert refs(data) == set(sample)
    assert "of-11" not in refs(data)  # archived
    assert "of-14" not in refs(data)  # a draft
    assert "of-28" not in refs(data)  # its PES is not verified
    assert data["suggestion"] is None
    assert db.session.query(SearchOutbox).count() == 0  # the import's changes were all applied


@pytest.mark.parametrize("params, expected", [
    ({"kind": "product"}, lambda s: {r for r, o in s.items() if o["kind"] == "product"}),
    ({"category": ["sprzatanie", "pralnia"]},
     lambda s: {r for r, o in s.items() if o["category"] in ("sprzatanie", "pralnia")}),
    ({"powiat": "0418"}, lambda s: {"of-24", "of-25"}),  # served by pes-09, seated in 0464
    ({"powiat": ["0418", "0406"]}, lambda s: {"of-22", "of-23", "of-24", "of-25"}),
    ({"powiat": "0411"}, lambda s: {"of-05", "of-06", "of-07", "of-29", "of-26", "of-27"}),  # two PES serve it
    ({"legal_form": "kgw"}, lambda s: {"of-04", "of-20", "of-21"}),
    ({"legal_form": "fundacja"}, lambda s: {"of-12", "of-13"}),  # not the draft, nor the unverified PES's
    ({"legal_form": ["wtz", "zaz"]}, lambda s: {"of-08", "of-09", "of-10", "of-18", "of-19"}),
    ({"quality_mark": "1"}, lambda s: MARKED),
    ({"reserved_eligible": "true"}, lambda s: {r for r, o in s.items() if o["pes_ref"] in RESERVED_PES}),
    ({"kind": "product", "category": ["tekstylia", "rekodzielo"], "quality_mark": "1"},
     lambda s: {"of-09", "of-15"}),
    ({"category": "sprzatanie", "reserved_eligible": "1"}, lambda s: {"of-05", "of-06"}),  # of-24's PES: 25%
    ({"powiat": "0463", "kind": "product"}, lambda s: {"of-03"}),
])
def test_filters(client, sample, params, expected):
    data = api(client, **params)
    assert refs(data) == expected(sample)
    assert data["total"] == len(expected(sample))


@pytest.mark.parametrize("q, ref", [("anioły", "of-16"),  # its mark ended in 2017
                                    ("torby", "of-19")])  # its mark begins in 2098
def test_an_expired_mark_neither_passes_the_filter_nor_shows(client, sample, q, ref):
    data = api(client, q=q)
    assert refs(data) == {ref}
    assert data["items"][0]["quality_mark"] is None
    assert api(client, q=q, quality_mark="1")["total"] == 0
    marked = next(i for i in api(client, q="obiady")["items"] if i["ref"] == "of-01")
    assert (marked["quality_mark"]["number"], marked["quality_mark"]["valid_until"]) == ("ZJ/2024/011", "2099-12-31")


def test_a_mark_is_valid_by_the_portal_clock_both_ends_included(app, client, sample):
    offering = db.session.query(Offering).filter_by(ref="of-02").one()
    today = clock.today()
    db.session.add(QualityMark(number="ZJ/T/1", offering_id=offering.id, pes_id=offering.pes_id,
                               valid_from=today - timedelta(days=365), valid_until=today, status="active"))
    db.session.commit()
    assert "of-02" in refs(api(client, quality_mark="1"))
    app.config["CLOCK_OFFSET_DAYS"] = 1  # tomorrow: the same index, the mark no longer valid
    assert "of-02" not in refs(api(client, quality_mark="1"))
    assert api(client, quality_mark="1")["facets"]["quality_mark"] == {"1": len(MARKED)}


def test_a_mark_granted_again_after_a_gap_counts_from_its_first_day(app, client, sample):
    offering = db.session.query(Offering).filter_by(ref="of-02").one()
    today = clock.today()
    for number, start, end in (("ZJ/T/1", -360, 5), ("ZJ/T/2", 20, 385)):
        db.session.add(QualityMark(number=number, offering_id=offering.id, pes_id=offering.pes_id,
                                   valid_from=today + timedelta(days=start),
                                   valid_until=today + timedelta(days=end), status="active"))
    db.session.commit()  # indexed today, within the first mark
    assert "of-02" in refs(api(client, quality_mark="1"))
    for offset, valid in ((5, True), (6, False), (19, False), (20, True), (385, True), (386, False)):
        app.config["CLOCK_OFFSET_DAYS"] = offset  # days go by with nothing reindexed
        assert ("of-02" in refs(api(client, quality_mark="1"))) is valid, offset


@pytest.mark.parametrize("q, found, not_found", [
    # without diacritics: the titles of of-05 and of-24, and of-06's category (Sprzątanie i utrzymanie czystości)
    ("sprzatanie", {"of-05", "of-06", "of-24"}, {"of-01", "of-26", "of-28"}),
    ("Sprzątanie", {"of-05", "of-06", "of-24"}, {"of-08", "of-28"}),
    ("przedszkolach", {"of-01"}, {"of-21", "of-02"}),  # "przedszkoli"; of-21's "przedszkolnych" is another word
    ("pierogi", {"of-03", "of-21"}, {"of-20", "of-01"}),  # of-21: "lepienie pierogów" in its description
    ("zywoplotow", {"of-12"}, {"of-07", "of-13"}),  # "żywopłotów"
    ("gliny", {"of-16", "of-17"}, {"of-15"}),  # "z czerwonej gliny", "lepienia z gliny"
])
def test_polish_text(client, sample, q, found, not_found):
    got = refs(api(client, q=q))
    assert found <= got and not (not_found & got), got


def test_a_query_of_several_words_is_answered_by_the_offerings_with_them_all_first(client, sample):
    data = api(client, q="ręcznie robione")  # of-15, of-16 and of-18 have both words; of-03 "ręcznie" only
    assert data["complete"] == 3
    order = [i["ref"] for i in data["items"]]
    assert set(order[:3]) == {"of-15", "of-16", "of-18"}
    assert "of-03" not in order[:3] and "of-21" not in order  # of-21's "robienie" is another word


def test_the_best_match_comes_first(client, sample):
    data = api(client, q="sprzątanie biur")
    assert data["items"][0]["ref"] == "of-05"  # both words in its title; of-24 has "biur" in its description
    assert "of-24" in refs(data)


@pytest.mark.parametrize("sort, reverse", [("price_asc", False), ("price_desc", True)])
def test_price_orders_by_net_price_with_price_on_request_last(client, sample, sort, reverse):
    items = api(client, sort=sort)["items"]
    priced = [i for i in items if i["price"]]
    nets = [float(i["price"]["net"]) for i in priced]
    assert nets == sorted(nets, reverse=reverse) and len(nets) == PRICED
    assert all(i["price"] is None for i in items[len(priced):])
    # The net price decides, not the gross: of-16 costs 28.00 net (34.44 gross), of-17 30.00 net (VAT-exempt).
    order = [i["ref"] for i in items]
    assert (order.index("of-16") < order.index("of-17")) is not reverse


def test_newest_first(client, sample):
    seconds = [i["published_at"][:19] for i in api(client, sort="newest")["items"]]  # the index keeps seconds
    assert seconds == sorted(seconds, reverse=True) and len(seconds) == PUBLIC


def test_pages(client, sample):
    first, second = api(client, per_page=5, page=1), api(client, per_page=5, page=2)
    assert len(first["items"]) == len(second["items"]) == 5
    assert not refs(first) & refs(second)
    last = api(client, per_page=5, page=6)
    assert len(last["items"]) == 1 and last["total"] == PUBLIC
    past = api(client, per_page=5, page=7)
    assert past["items"] == [] and past["total"] == PUBLIC and past["page"] == 7
    pages = [refs(api(client, per_page=5, page=n, sort="price_asc")) for n in range(1, 7)]
    assert set().union(*pages) == set(sample)


def test_each_facet_applies_the_other_filters_but_not_its_own(client, sample):
    facets = api(client, category="catering")["facets"]
    assert facets["category"] == {"catering": 3, "sprzatanie": 3, "rekodzielo": 3, "zywnosc": 2, "zielen": 2,
                                  "tekstylia": 2, "stolarstwo": 2, "edukacja": 2, "pralnia": 1, "rolnictwo": 1,
                                  "poligrafia": 1, "biuro-it": 1, "opieka": 1, "remonty": 1, "transport": 1}
    assert sum(facets["category"].values()) == PUBLIC
    assert facets["kind"] == {"service": 3}
    assert facets["powiat"] == {"0463": 2, "0415": 2, "0405": 1, "0404": 1}  # pes-01's of-01, of-02; pes-07's of-04
    assert facets["legal_form"] == {"spoldzielnia_socjalna": 2, "kgw": 1}
    assert facets["quality_mark"] == {"1": 1}
    facets = api(client, category="catering", kind="product")["facets"]
    assert facets["category"] == {"rekodzielo": 3, "zywnosc": 2, "tekstylia": 2, "stolarstwo": 2, "rolnictwo": 1,
                                  "catering": 0}  # a selected value stays, with 0
    assert facets["kind"] == {"service": 3, "product": 0}


def test_facets_count_the_whole_result_of_the_query_text(client, sample):
    data = api(client, q="sprzątanie", per_page=2)
    everything = api(client, q="sprzątanie")["items"]
    assert data["total"] == len(everything) > 2
    for facet, key in (("category", "category"), ("kind", "kind")):
        counts = {}
        for item in everything:
            counts[item[key]] = counts.get(item[key], 0) + 1
        assert data["facets"][facet] == counts
    served = [p for item in everything for p in item["service_area"]]
    assert data["facets"]["powiat"] == {p: served.count(p) for p in set(served)}


def test_snippets_mark_the_query_words_and_escape_the_text(app, client, sample):
    offering = db.session.query(Offering).filter_by(ref="of-24").one()
    offering.description = "Wywozimy <b>gruz</b> & resztki farby po remontach. " + "Sprzątamy starannie. " * 20
    db.session.commit()
    item = next(i for i in api(client, q="gruzu")["items"] if i["ref"] == "of-24")
    assert "<mark>gruz</mark>" in item["snippet"]
    assert "&lt;b&gt;" in item["snippet"] and "&amp;" in item["snippet"] and "<b>" not in item["snippet"]
    assert len(item["snippet"]) < 260 and item["snippet"].endswith("…")
    plain = next(i for i in api(client)["items"] if i["ref"] == "of-24")
    assert "<mark>" not in plain["snippet"]


@pytest.mark.parametrize("typed, suggested", [
    ("konfiutra", "konfitura"),  # swapped letters
    ("sprzątnaie biur", "sprzątanie biur"),  # the same in one word of two
    ("ławkki", "ławki"),  # a letter too many
    ("maaglowwanie", "maglowanie"),  # two letters too many
    ("przprowadzki", "przeprowadzki"),  # a letter missing
    ("koszebie trawników", "koszenie trawników"),  # a wrong letter
    ("pielegnacka", "pielęgnacja"),  # a wrong letter, and the word as the title writes it
])
def test_a_misspelt_query_gets_a_suggestion(client, sample, typed, suggested):
    data = api(client, q=typed, exact="1")  # the words as typed: no offering has them all
    assert data["complete"] == 0 and data["suggestion"] == suggested
    right = api(client, q=suggested)
    assert right["total"] > 0
    answered = api(client, q=typed)  # without `exact`, the suggestion's results come at once
    assert answered["corrected"] is True and answered["answered_query"] == suggested
    assert refs(answered) == refs(right) and answered["suggestion"] == suggested


@pytest.mark.parametrize("params", [
    {}, {"q": "sprzątanie"}, {"q": "obiady toruń"}, {"categories": ("catering", "sprzatanie")},
    {"q": "pierogi", "powiats": ("0405",)}, {"quality_mark": True}, {"q": "hulajnoga"},
    {"kind": "service", "reserved_eligible": True}, {"legal_forms": ("cis", "kis"), "q": "malowanie"},
])
def test_count_agrees_with_the_search(app, sample, params):
    assert service.count(SearchParams(**params)) == service.search(SearchParams(**params)).total


def test_a_typo_some_offering_shares_still_gets_a_suggestion(client, sample):
    pes = db.session.query(Offering).filter_by(ref="of-03").one().pes
    for n, title in enumerate(["Kluski śląskie"] * 12 + ["Kluskki z sosem"]):  # the last: a seller's typo
        db.session.add(Offering(ref=f"of-kl{n}", pes=pes, kind="product", title=title, category="zywnosc",
                                status="published", vat_rate="5", description="Wyrób domowy.",
                                published_at=datetime.now(UTC)))
    db.session.commit()
    data = api(client, q="kluskki")
    assert data["total"] < 3 and data["suggestion"] == "kluski"
    assert api(client, q="kluski")["total"] > data["total"]
    assert api(client, q="kluski")["suggestion"] is None


def test_no_suggestion_when_the_query_finds_something_or_nothing_is_close(client, sample):
    assert api(client, q="konfitura")["suggestion"] is None  # one offering: few, but the word is right
    assert api(client, q="hulajnoga")["suggestion"] is None
    assert api(client, q="konfitura", category="sprzatanie")["suggestion"] is None  # the filter, not a typo


def test_search_as_you_type(sample):
    found = service.suggest("pie")
    assert set(found[:2]) == {"Pierogi z kapustą i grzybami", "Pielęgnacja ogrodów przydomowych"}
    assert "Warsztaty pieczenia dla dzieci" in found[2:]  # titles starting with the text come first
    assert set(service.suggest("SPRZĄ")) == {"Sprzątanie biur i hal magazynowych",
                                             "Sprzątanie po budowie i remoncie"}  # not the unverified PES's
    assert service.suggest("sprzatanie po")[0] == "Sprzątanie po budowie i remoncie"
    assert service.suggest("catering") == ["Catering na konferencje i szkolenia",
                                           "Przyjęcia okolicznościowe z cateringiem"]
    assert service.suggest("catering ") == ["Catering na konferencje i szkolenia"]  # a whole word
    assert service.suggest("") == [] and service.suggest("zzz") == []


def test_the_service_answers_the_api_shape(sample):
    result = service.search(SearchParams(q="pierogi", per_page=1))
    assert result.total == 2 and len(result.hits) == 1
    offering_id, text = result.hits[0]
    assert isinstance(offering_id, int) and "<mark>" in text
    assert set(result.facets) == {"category", "powiat", "legal_form", "kind", "quality_mark"}
