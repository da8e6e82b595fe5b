"""The catalogue search as a buyer or a program meets it (CONTRACT section 4), on the contract's sample
imported with the `import` command: filters, facets, text in Polish, order, pages, snippets, suggestions."""
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

# The contract's sample data set, kept beside the project with the contract itself.
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "contract_sample.jsonl"
MARKED = {"off-001", "off-004", "off-006", "off-010", "off-015"}  # marks valid today (off-011's expired)
RESERVED_PES = {"pes-0001", "pes-0002", "pes-0003", "pes-0005", "pes-0006", "pes-0010"}


def records():
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def published():
    """The sample's offerings that the public sees: published, of a verified PES."""
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
    enable_search(app)
    result = runner.invoke(args=["import", str(SAMPLE)])
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
    assert data["total"] == len(sample) == 19
    assert refs(data) == set(sample)
    assert "off-020" not in refs(data)  # archived
    assert "off-021" not in refs(data)  # its PES is not verified
    assert data["suggestion"] is None
    assert db.session.query(SearchOutbox).count() == 0  # the import's changes were all applied


@pytest.mark.parametrize("params, expected", [
    ({"kind": "product"}, lambda s: {r for r, o in s.items() if o["kind"] == "product"}),
    ({"category": ["sprzatanie", "pralnia"]},
     lambda s: {r for r, o in s.items() if o["category"] in ("sprzatanie", "pralnia")}),
    ({"powiat": "0418"}, lambda s: {"off-006", "off-007"}),  # served by pes-0003, seated in 0464
    ({"powiat": ["0418", "0462"]}, lambda s: {"off-004", "off-005", "off-006", "off-007"}),
    ({"legal_form": "kgw"}, lambda s: {"off-013", "off-014"}),
    ({"quality_mark": "1"}, lambda s: MARKED),
    ({"reserved_eligible": "true"}, lambda s: {r for r, o in s.items() if o["pes_ref"] in RESERVED_PES}),
    ({"kind": "service", "category": "catering", "quality_mark": "1"}, lambda s: {"off-001"}),
])
def test_filters(client, sample, params, expected):
    data = api(client, **params)
    assert refs(data) == expected(sample)
    assert data["total"] == len(expected(sample))


def test_an_expired_mark_neither_passes_the_filter_nor_shows(client, sample):
    data = api(client, q="kubki")
    assert refs(data) == {"off-011"}
    assert data["items"][0]["quality_mark"] is None
    assert api(client, q="kubki", quality_mark="1")["total"] == 0


def test_a_mark_is_valid_by_the_portal_clock_both_ends_included(app, client, sample):
    offering = db.session.query(Offering).filter_by(ref="off-002").one()
    today = clock.today()
    db.session.add(QualityMark(number="ZJ/T/1", offering_id=offering.id, pes_id=offering.pes_id,
                               valid_from=today - timedelta(days=365), valid_until=today, status="active"))
    db.session.commit()
    assert "off-002" in refs(api(client, quality_mark="1"))
    app.config["CLOCK_OFFSET_DAYS"] = 1  # tomorrow: the same index, the mark no longer valid
    assert "off-002" not in refs(api(client, quality_mark="1"))
    assert api(client, quality_mark="1")["facets"]["quality_mark"] == {"1": len(MARKED)}


def test_a_mark_granted_again_after_a_gap_counts_from_its_first_day(app, client, sample):
    offering = db.session.query(Offering).filter_by(ref="off-002").one()
    today = clock.today()
    for number, start, end in (("ZJ/T/1", -360, 5), ("ZJ/T/2", 20, 385)):
        db.session.add(QualityMark(number=number, offering_id=offering.id, pes_id=offering.pes_id,
                                   valid_from=today + timedelta(days=start),
                                   valid_until=today + timedelta(days=end), status="active"))
    db.session.commit()  # indexed today, within the first mark
    assert "off-002" in refs(api(client, quality_mark="1"))
    for offset, valid in ((5, True), (6, False), (19, False), (20, True), (385, True), (386, False)):
        app.config["CLOCK_OFFSET_DAYS"] = offset  # days go by with nothing reindexed
        assert ("off-002" in refs(api(client, quality_mark="1"))) is valid, offset


@pytest.mark.parametrize("q, found, not_found", [
    ("sprzatanie", {"off-004", "off-016"}, {"off-001", "off-013", "off-021"}),
    ("Sprzątanie", {"off-004", "off-016"}, {"off-001"}),
    ("cateringu", {"off-001"}, {"off-004", "off-010"}),
    ("pierogi", {"off-003", "off-014"}, {"off-004", "off-006"}),
    ("catering szkół", {"off-001"}, {"off-002", "off-004"}),
])
def test_polish_text(client, sample, q, found, not_found):
    got = refs(api(client, q=q))
    assert found <= got and not (not_found & got), got


def test_the_best_match_comes_first(client, sample):
    data = api(client, q="sprzątanie biur")
    assert data["items"][0]["ref"] == "off-004"


@pytest.mark.parametrize("sort, reverse", [("price_asc", False), ("price_desc", True)])
def test_price_orders_by_net_price_with_price_on_request_last(client, sample, sort, reverse):
    items = api(client, sort=sort)["items"]
    priced = [i for i in items if i["price"]]
    nets = [float(i["price"]["net"]) for i in priced]
    assert nets == sorted(nets, reverse=reverse) and len(nets) == 15
    assert all(i["price"] is None for i in items[len(priced):])


def test_newest_first(client, sample):
    seconds = [i["published_at"][:19] for i in api(client, sort="newest")["items"]]  # the index keeps seconds
    assert seconds == sorted(seconds, reverse=True) and len(seconds) == 19


def test_pages(client, sample):
    first, second = api(client, per_page=5, page=1), api(client, per_page=5, page=2)
    assert len(first["items"]) == len(second["items"]) == 5
    assert not refs(first) & refs(second)
    last = api(client, per_page=5, page=4)
    assert len(last["items"]) == 4 and last["total"] == 19
    past = api(client, per_page=5, page=5)
    assert past["items"] == [] and past["total"] == 19 and past["page"] == 5
    pages = [refs(api(client, per_page=5, page=n, sort="price_asc")) for n in range(1, 5)]
    assert set().union(*pages) == set(sample)


def test_each_facet_applies_the_other_filters_but_not_its_own(client, sample):
    facets = api(client, category="catering")["facets"]
    assert facets["category"]["catering"] == 2 and facets["category"]["sprzatanie"] == 3
    assert sum(facets["category"].values()) == 19
    assert facets["kind"] == {"service": 2}
    assert facets["powiat"] == {"0463": 2, "0415": 2}
    assert facets["quality_mark"] == {"1": 1}
    facets = api(client, category="catering", kind="product")["facets"]
    assert facets["category"] == {"zywnosc": 2, "rekodzielo": 3, "tekstylia": 1, "rolnictwo": 1,
                                  "stolarstwo": 1, "catering": 0}  # a selected value stays, with 0
    assert facets["kind"] == {"service": 2, "product": 0}


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
    offering = db.session.query(Offering).filter_by(ref="off-016").one()
    offering.description = "Sprzątamy po <b>remontach</b> & budowach. " + "Dokładnie i szybko. " * 20
    db.session.commit()
    item = next(i for i in api(client, q="remontów")["items"] if i["ref"] == "off-016")
    assert "<mark>remontach</mark>" in item["snippet"]
    assert "&lt;b&gt;" in item["snippet"] and "&amp;" in item["snippet"] and "<b>" not in item["snippet"]
    assert len(item["snippet"]) < 260 and item["snippet"].endswith("…")
    plain = next(i for i in api(client)["items"] if i["ref"] == "off-016")
    assert "<mark>" not in plain["snippet"]


@pytest.mark.parametrize("typed, suggested", [
    ("piergoi", "pierogi"),  # swapped letters
    ("sprzątnaie", "sprzątanie"),
    ("sprzatanei biur", "sprzątanie biur"),
    ("kubkki", "kubki"),
    ("sprzaatannie", "sprzątanie"),  # two letters too many
    ("spzątanie", "sprzątanie"),  # a letter missing
    ("sprzątabie biur", "sprzątanie biur"),  # a wrong letter
])
def test_a_misspelt_query_gets_a_suggestion(client, sample, typed, suggested):
    data = api(client, q=typed)
    assert data["total"] == 0 and data["suggestion"] == suggested
    assert api(client, q=suggested)["total"] > 0


@pytest.mark.parametrize("params", [
    {}, {"q": "sprzątanie"}, {"q": "catering toruń"}, {"categories": ("catering", "sprzatanie")},
    {"q": "pierogi", "powiats": ("0463",)}, {"quality_mark": True}, {"q": "hulajnoga"},
])
def test_count_agrees_with_the_search(app, sample, params):
    from marketplace.api.params import SearchParams

    assert service.count(SearchParams(**params)) == service.search(SearchParams(**params)).total


def test_a_typo_some_offering_shares_still_gets_a_suggestion(client, sample):
    pes = db.session.query(Offering).filter_by(ref="off-003").one().pes
    for n, title in enumerate(["Kopytka śląskie"] * 12 + ["Kopytkaa z sosem"]):  # the last: a seller's typo
        db.session.add(Offering(ref=f"off-k{n}", pes=pes, kind="product", title=title, category="zywnosc",
                                status="published", vat_rate="5", description="Wyrób domowy.",
                                published_at=datetime.now(UTC)))
    db.session.commit()
    data = api(client, q="kopytkaa")
    assert data["total"] < 3 and data["suggestion"] == "kopytka"
    assert api(client, q="kopytka")["total"] > data["total"]
    assert api(client, q="kopytka")["suggestion"] is None


def test_no_suggestion_when_the_query_finds_something_or_nothing_is_close(client, sample):
    assert api(client, q="pierogi")["suggestion"] is None
    assert api(client, q="hulajnoga")["suggestion"] is None
    assert api(client, q="pierogi", category="sprzatanie")["suggestion"] is None  # the filter, not a typo


def test_search_as_you_type(sample):
    assert set(service.suggest("pie")[:2]) == {"Pierogi ręcznie lepione", "Pielęgnacja terenów zielonych"}
    assert set(service.suggest("SPRZĄ")) == {"Sprzątanie biur i klatek schodowych", "Sprzątanie po remontach"}
    assert service.suggest("sprzatanie po")[0] == "Sprzątanie po remontach"
    assert service.suggest("catering") == ["Catering dla szkół i przedszkoli", "Obsługa cateringowa konferencji"]
    assert service.suggest("catering ") == ["Catering dla szkół i przedszkoli"]  # a whole word
    assert service.suggest("") == [] and service.suggest("zzz") == []


def test_the_service_answers_the_api_shape(sample):
    result = service.search(SearchParams(q="pierogi", per_page=1))
    assert result.total == 2 and len(result.hits) == 1
    offering_id, text = result.hits[0]
    assert isinstance(offering_id, int) and "<mark>" in text
    assert set(result.facets) == {"category", "powiat", "legal_form", "kind", "quality_mark"}
