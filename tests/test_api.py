"""The public JSON API (CONTRACT section 4): shapes, filters, what stays hidden, strict parameters, CORS,
rate limits, and every response checked against the API's own OpenAPI document."""
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import MultiDict

from catalog.mark.models import QualityMark
from catalog.models import Offering
from marketplace import clock
from marketplace.api import serialize
from marketplace.api.params import ApiError, SearchParams, parse_search_params
from marketplace.extensions import db
from search.service import SearchResult
from tests.factories import make_pes

_seq = itertools.count(1)
LONG_TEXT = "Zdrowe **obiady** z dowozem do szkół i przedszkoli. " * 10


@pytest.fixture(autouse=True)
def api(app):
    """The API's blueprint, registered here until the application factory does it."""
    if "api" not in app.blueprints:
        from marketplace.api.views import bp

        app.register_blueprint(bp)
    return app


def make_offering(pes, title: str = "Catering dla szkół", **fields) -> Offering:
    fields = {"kind": "service", "category": "catering", "status": "published", "vat_rate": "8",
              "published_at": datetime.now(UTC), **fields}
    offering = Offering(ref=f"off-t{next(_seq)}", pes=pes, title=title, **fields)
    db.session.add(offering)
    db.session.flush()
    return offering


def make_mark(offering, number: str, days_left: int, status: str = "active") -> QualityMark:
    today = clock.today()
    mark = QualityMark(number=number, offering_id=offering.id, pes_id=offering.pes_id, status=status,
                       valid_from=today - timedelta(days=10), valid_until=today + timedelta(days=days_left))
    db.session.add(mark)
    db.session.flush()
    return mark


@pytest.fixture
def data(app):
    """Two verified PES (one eligible for reserved contracts), one waiting for verification, and offerings
    that are public, on request, draft, archived, blocked, or of the unverified PES."""
    przystan = make_pes(name="Spółdzielnia Socjalna PRZYSTAŃ", powiat="0463", service_area=["0463", "0415"],
                        integration_mission=True, disadvantaged_share=45, city="Toruń", ref="pes-0001",
                        email="biuro@przystan.example.org")
    fundacja = make_pes(name="Fundacja Zielony Ogród", legal_form="fundacja", powiat="0461",
                        service_area=["0461"], integration_mission=False, disadvantaged_share=50)
    pending = make_pes(name="Spółdzielnia Czekająca", status="pending", powiat="0463")
    o = {
        "public": make_offering(przystan, description=LONG_TEXT, price_net=Decimal("18.50"), unit="porcja",
                                subcategory="obiady-dla-szkol", tags=["obiady", "dowóz"]),
        "on_request": make_offering(fundacja, "Pielęgnacja zieleni", category="zielen", price_net=None),
        "draft": make_offering(przystan, "Szkic oferty", status="draft"),
        "archived": make_offering(przystan, "Stara oferta", status="archived"),
        "blocked": make_offering(przystan, "Zablokowana oferta", blocked_at=datetime.now(UTC),
                                 blocked_reason="Niezgodna z regulaminem."),
        "unverified": make_offering(pending, "Oferta niezweryfikowanego"),
    }
    o["public"].cpv = ["55524000-9"]
    make_mark(o["public"], "ZJ/2026/0007", days_left=30)
    make_mark(o["on_request"], "ZJ/2026/0008", days_left=30, status="suspended")
    db.session.commit()
    return {"przystan": przystan, "fundacja": fundacja, "pending": pending, **o}


# OpenAPI: the document and validation of responses against it -----------------------------------------

@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check_response(spec: dict, template: str, resp) -> dict:
    """The response's JSON, after validating it against the document's schema for that path and status."""
    assert resp.content_type.startswith("application/json"), resp.content_type
    body = resp.get_json()
    responses = spec["paths"][template]["get"]["responses"]
    status = str(resp.status_code)
    assert status in responses, f"{template} answered {status}, which the document does not describe"
    where = ("paths", template, "get", "responses", status)
    if "$ref" in responses[status]:
        where = tuple(responses[status]["$ref"].lstrip("#/").split("/"))
    registry = Registry().with_resource("urn:api", Resource.from_contents(spec, DRAFT202012))
    schema = {"$ref": "urn:api#" + _pointer(*where, "content", "application/json", "schema")}
    validator = Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors
    return body


def get(client, spec, template: str, path: str | None = None, **params):
    resp = client.get(path or template, query_string=params)
    return resp, check_response(spec, template, resp)


def documented(spec: dict, name: str) -> set[str]:
    """Every property a component schema names, through its allOf parts."""
    schema = spec["components"]["schemas"][name]
    props = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props |= documented(spec, part["$ref"].rsplit("/", 1)[1]) if "$ref" in part else set(part["properties"])
    return props


def test_openapi_document_is_openapi_31_and_describes_every_endpoint(app, spec):
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["title"] and spec["info"]["version"]
    routes = {r.rule.replace("<int:offering_id>", "{id}").replace("<int:pes_id>", "{id}")
              for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert routes == set(spec["paths"])
    assert "/api/v1/search" in spec["paths"]
    search = spec["paths"]["/api/v1/search"]["get"]
    names = {p["$ref"].rsplit("/", 1)[1] for p in search["parameters"]}
    assert names == {"q", "kind", "category", "powiat", "legal_form", "quality_mark", "reserved_eligible",
                     "sort", "page", "per_page", "exact"}
    assert {"200", "400"} <= set(search["responses"])
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for wanted in ("Error", "Price", "QualityMark", "PesSummary", "Offering", "SearchItem", "SearchResponse",
                   "PesList", "Category", "Powiat"):
        assert wanted in spec["components"]["schemas"]


def test_openapi_search_response_matches_the_contract(app, data, spec):
    """The search endpoint's body, built by the same functions it uses, fits the documented schema."""
    hits = [(data["on_request"].id, None), (data["draft"].id, None), (data["public"].id, "<b>obiady</b>")]
    items = serialize.public_items(hits)
    assert [i["ref"] for i in items] == [data["on_request"].ref, data["public"].ref]  # engine order, hidden out
    assert items[1]["snippet"] == "<b>obiady</b>"
    facets = {"category": {"catering": 1, "zielen": 1}, "powiat": {"0463": 1}, "legal_form": {"fundacja": 1},
              "kind": {"service": 2}, "quality_mark": {"1": 1}}
    result = SearchResult(2, hits, facets, None, answered="obiady")
    body = serialize.search_response(SearchParams(q="obiady"), result, items)
    registry = Registry().with_resource("urn:api", Resource.from_contents(spec, DRAFT202012))
    validator = Draft202012Validator({"$ref": "urn:api#/components/schemas/SearchResponse"}, registry=registry)
    assert not list(validator.iter_errors(body))
    assert not list(validator.iter_errors({**body, "suggestion": "obiady"}))
    assert list(validator.iter_errors({**body, "facets": {"category": {}}}))  # the five facets are required
    corrected = SearchResult(2, hits, facets, "obiady", answered="obiady", corrected=True, partial=True,
                             complete=1, places=("0461",), elsewhere=("0463",))
    assert not list(validator.iter_errors(serialize.search_response(SearchParams(q="obaidy"), corrected, items)))
    assert list(validator.iter_errors({**body, "served_elsewhere": ["x"]}))  # TERYT codes only


# Offerings -----------------------------------------------------------------------------------------------

def test_offering_is_shaped_like_a_search_item(client, data, spec):
    offering = data["public"]
    resp, item = get(client, spec, "/api/v1/offerings/{id}", f"/api/v1/offerings/{offering.id}")
    assert resp.status_code == 200
    assert item["ref"] == offering.ref and item["kind"] == "service" and item["title"] == "Catering dla szkół"
    assert item["category"] == "catering" and item["subcategory"] == "obiady-dla-szkol"
    assert item["cpv"] == ["55524000-9"] and item["tags"] == ["obiady", "dowóz"]
    assert item["price"] == {"net": "18.50", "gross": "19.98", "vat_rate": "8", "currency": "PLN", "unit": "porcja"}
    assert item["quality_mark"]["number"] == "ZJ/2026/0007"
    assert item["quality_mark"]["valid_until"] == (clock.today() + timedelta(days=30)).isoformat()
    assert item["pes"] == {"id": data["przystan"].id, "ref": "pes-0001", "name": "Spółdzielnia Socjalna PRZYSTAŃ",
                           "legal_form": "spoldzielnia_socjalna", "powiat": "0463", "reserved_eligible": True}
    assert item["service_area"] == ["0415", "0463"]
    assert item["snippet"].startswith("Zdrowe obiady z dowozem") and "**" not in item["snippet"]
    assert len(item["snippet"]) <= 201 and item["snippet"].endswith("…")
    assert set(item) <= documented(spec, "SearchItem")
    assert client.get(item["url"]).status_code == 200  # the offering's own page, at its canonical address


def test_price_on_request_and_suspended_mark_are_null(client, data, spec):
    _, item = get(client, spec, "/api/v1/offerings/{id}", f"/api/v1/offerings/{data['on_request'].id}")
    assert item["price"] is None and item["quality_mark"] is None
    assert item["pes"]["reserved_eligible"] is False  # 50% share, but no integration mission


def test_expired_mark_is_null(app, client, data, spec):
    path = f"/api/v1/offerings/{data['public'].id}"
    app.config["CLOCK_OFFSET_DAYS"] = 30  # the last day of validity: still valid
    assert get(client, spec, "/api/v1/offerings/{id}", path)[1]["quality_mark"]["number"] == "ZJ/2026/0007"
    app.config["CLOCK_OFFSET_DAYS"] = 31
    assert get(client, spec, "/api/v1/offerings/{id}", path)[1]["quality_mark"] is None


@pytest.mark.parametrize("which", ["draft", "archived", "blocked", "unverified"])
def test_offerings_nobody_may_see_are_not_found(client, data, spec, which):
    resp, body = get(client, spec, "/api/v1/offerings/{id}", f"/api/v1/offerings/{data[which].id}")
    assert resp.status_code == 404
    assert body["error"]["code"] == "not_found" and body["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/offerings/987654321", "/api/v1/pes/987654321"])
def test_unknown_ids_are_not_found(client, data, spec, path):
    template = path.rsplit("/", 1)[0] + "/{id}"
    resp, body = get(client, spec, template, path)
    assert resp.status_code == 404 and body["error"]["code"] == "not_found"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


# PES -----------------------------------------------------------------------------------------------------

def refs(body) -> list[str]:
    return [i["ref"] for i in body["items"]]


def test_pes_list_has_verified_pes_only_by_name(client, data, spec):
    resp, body = get(client, spec, "/api/v1/pes")
    assert resp.status_code == 200
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 20 and body["query"] == ""
    assert refs(body) == [data["fundacja"].ref, "pes-0001"]  # by name: Fundacja, Spółdzielnia
    assert body["items"][1]["service_area"] == ["0415", "0463"] and body["items"][1]["city"] == "Toruń"
    assert set(body["items"][0]) <= documented(spec, "PesListItem")


@pytest.mark.parametrize("params, expected", [
    ({"q": "przystań"}, ["pes-0001"]),  # Polish letters match whatever their case
    ({"q": "  ZIELONY  "}, ["fundacja"]),
    ({"q": "czekająca"}, []),  # not verified
    ({"powiat": "0415"}, ["pes-0001"]),  # serves it, seated elsewhere
    ({"powiat": ["0461", "0415"]}, ["fundacja", "pes-0001"]),
    ({"legal_form": "fundacja"}, ["fundacja"]),
    ({"legal_form": ["fundacja", "spoldzielnia_socjalna"]}, ["fundacja", "pes-0001"]),
    ({"reserved_eligible": "1"}, ["pes-0001"]),
    ({"reserved_eligible": "true"}, ["pes-0001"]),
    ({"reserved_eligible": "0"}, ["fundacja", "pes-0001"]),
    ({"reserved_eligible": "false", "powiat": "", "legal_form": ""}, ["fundacja", "pes-0001"]),
])
def test_pes_list_filters(client, data, spec, params, expected):
    _, body = get(client, spec, "/api/v1/pes", **params)
    expected = [data["fundacja"].ref if r == "fundacja" else r for r in expected]
    assert refs(body) == expected and body["total"] == len(expected)


def test_pes_list_pages(client, data, spec):
    _, second = get(client, spec, "/api/v1/pes", per_page=1, page=2)
    assert refs(second) == ["pes-0001"] and second["total"] == 2 and second["page"] == 2
    resp, past = get(client, spec, "/api/v1/pes", per_page=1, page=3)
    assert resp.status_code == 200 and past["items"] == [] and past["total"] == 2
    resp, far = get(client, spec, "/api/v1/pes", page="99999999999999999999")
    assert resp.status_code == 200 and far["items"] == []


def test_pes_detail(client, data, spec):
    pes = data["przystan"]
    resp, body = get(client, spec, "/api/v1/pes/{id}", f"/api/v1/pes/{pes.id}")
    assert resp.status_code == 200
    assert {k: body[k] for k in ("id", "ref", "name", "legal_form", "powiat", "reserved_eligible")} == \
        serialize.pes_item(pes)
    assert body["service_area"] == ["0415", "0463"] and body["city"] == "Toruń"
    assert body["email"] == "biuro@przystan.example.org" and body["description"] == "Opis podmiotu."
    assert set(body) <= documented(spec, "Pes")
    assert client.get(body["url"]).status_code == 200
    resp, err = get(client, spec, "/api/v1/pes/{id}", f"/api/v1/pes/{data['pending'].id}")
    assert resp.status_code == 404 and err["error"]["code"] == "not_found"


# Reference data ------------------------------------------------------------------------------------------

def test_categories_count_public_offerings_only(client, data, spec):
    _, body = get(client, spec, "/api/v1/categories")
    cats = {c["slug"]: c for c in body["items"]}
    assert len(cats) == 19 and "biuro-it" in cats
    assert cats["catering"]["count"] == 1 and cats["zielen"]["count"] == 1 and body["total"] == 2
    assert cats["catering"]["name"] == {"pl": "Catering i gastronomia", "en": "Catering and food service"}
    subs = {s["slug"]: s["count"] for s in cats["catering"]["subcategories"]}
    assert subs["obiady-dla-szkol"] == 1 and subs["stolowki"] == 0


def test_powiats_list_the_region(client, spec):
    _, body = get(client, spec, "/api/v1/powiats")
    codes = [p["code"] for p in body["items"]]
    assert len(codes) == 23 and codes[0] == "0401" and "0419" in codes and codes[-1] == "0464"
    torun = next(p for p in body["items"] if p["code"] == "0463")
    assert torun["name"] == "Toruń" and torun["label"]


# Parameters ----------------------------------------------------------------------------------------------

SEARCH_ERRORS = [
    ({"per_page": "0"}, "per_page"), ({"per_page": "101"}, "per_page"), ({"per_page": "dużo"}, "per_page"),
    ({"page": "x"}, "page"), ({"page": "0"}, "page"), ({"page": "-2"}, "page"), ({"page": "1.5"}, "page"),
    ({"sort": "cheapest"}, "sort"), ({"kind": "thing"}, "kind"), ({"category": ["catering", "xyz"]}, "category"),
    ({"powiat": "9999"}, "powiat"), ({"powiat": "0201"}, "powiat"), ({"legal_form": "xyz"}, "legal_form"),
    ({"reserved_eligible": "maybe"}, "reserved_eligible"), ({"quality_mark": "yes"}, "quality_mark"),
    ({"page": ["1", "2"]}, "page"),
]
PES_ERRORS = [
    ({"per_page": "0"}, "per_page"), ({"per_page": "101"}, "per_page"), ({"page": "x"}, "page"),
    ({"powiat": "9999"}, "powiat"), ({"legal_form": "xyz"}, "legal_form"),
    ({"reserved_eligible": "maybe"}, "reserved_eligible"),
]


@pytest.mark.parametrize("template, params, field", [("/api/v1/search", p, f) for p, f in SEARCH_ERRORS]
                         + [("/api/v1/pes", p, f) for p, f in PES_ERRORS])
def test_bad_parameters_get_400_naming_the_field(client, spec, template, params, field):
    resp, body = get(client, spec, template, **params)
    assert resp.status_code == 400
    assert body["error"]["code"] == "invalid_parameter" and body["error"]["field"] == field
    assert body["error"]["message"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_search_parameters_are_parsed_for_the_engine(app):
    args = MultiDict([("q", "  catering   szkoły "), ("kind", "service"), ("category", "catering"),
                      ("category", ""), ("category", "zielen"), ("powiat", "0463"), ("legal_form", "cis"),
                      ("quality_mark", "TRUE"), ("reserved_eligible", "0"), ("sort", "price_asc"),
                      ("page", "3"), ("per_page", "100")])
    with app.test_request_context():
        params = parse_search_params(args)
        assert parse_search_params(MultiDict()) == SearchParams()
        assert parse_search_params(MultiDict([("kind", "product"), ("kind", "service")])).kind is None
        with pytest.raises(ApiError) as caught:
            parse_search_params(MultiDict([("sort", "random")]))
    assert params == SearchParams(q="catering szkoły", kind="service", categories=("catering", "zielen"),
                                  powiats=("0463",), legal_forms=("cis",), quality_mark=True,
                                  reserved_eligible=False, sort="price_asc", page=3, per_page=100)
    assert params.offset == 200 and hash(params) == hash(SearchParams(**vars(params)))
    assert caught.value.field == "sort"


# HTTP: CORS, methods, rate limits ------------------------------------------------------------------------

def test_cors_is_open_for_get_and_its_preflight(client, data):
    resp = client.get("/api/v1/categories", headers={"Origin": "https://gmina.example.org"})
    assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options("/api/v1/pes", headers={"Origin": "https://gmina.example.org",
                                                 "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in client.get("/oferty").headers  # the web pages stay closed


def test_other_methods_are_refused_and_change_nothing(client, data):
    before = db.session.query(Offering).count()
    for method in ("post", "put", "delete"):
        resp = getattr(client, method)(f"/api/v1/offerings/{data['public'].id}", json={"title": "Zmienione"})
        assert resp.status_code == 405 and "GET" in resp.headers["Allow"]
        assert resp.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.query(Offering).count() == before and data["public"].title == "Catering dla szkół"


def test_the_default_limit_allows_300_requests_a_minute(client):
    resp = client.get("/api/v1/powiats")
    assert resp.headers["X-RateLimit-Limit"] == "300"


@pytest.mark.parametrize("app_config", [{"API_RATE_LIMIT": "3 per minute"}])
def test_too_many_requests_from_one_address_get_429(client, spec):
    for _ in range(3):
        assert client.get("/api/v1/powiats").status_code == 200
    resp = client.get("/api/v1/powiats")
    assert resp.status_code == 429 and resp.headers["Access-Control-Allow-Origin"] == "*"
    assert check_response(spec, "/api/v1/powiats", resp)["error"]["code"] == "rate_limited"
    other = client.get("/api/v1/powiats", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200  # another address has its own allowance


@pytest.mark.parametrize("app_config", [{"API_RATE_LIMIT": "3 per minute", "RATELIMIT_ENABLED": False}])
def test_limits_are_off_when_disabled(client):
    assert all(client.get("/api/v1/powiats").status_code == 200 for _ in range(6))


def test_search_items_read_without_orm_objects_say_what_the_objects_say(app, data):
    """Items are built from plain rows: each field equals what the ORM objects of the same offering give,
    including the PES's service area standing in for an offering without its own, and the art. 94 flag."""
    data["on_request"].service_area = ["0461", "0415"]
    data["on_request"].cpv = ["77310000-6", "45112710-5"]
    db.session.commit()
    hits = [(data["on_request"].id, None), (data["public"].id, None)]
    items = {i["id"]: i for i in serialize.public_items(hits)}
    for key in ("public", "on_request"):
        o = db.session.get(Offering, data[key].id)
        item = items[o.id]
        assert (item["ref"], item["title"], item["kind"], item["category"]) == (o.ref, o.title, o.kind, o.category)
        assert item["cpv"] == o.cpv and item["service_area"] == o.service_area and item["tags"] == list(o.tags)
        assert item["pes"] == {"id": o.pes.id, "ref": o.pes.ref, "name": o.pes.name, "legal_form": o.pes.legal_form,
                               "powiat": o.pes.powiat, "reserved_eligible": o.pes.reserved_eligible}
    assert items[data["public"].id]["service_area"] == ["0415", "0463"]  # from the PES: the offering has none
    assert items[data["public"].id]["pes"]["reserved_eligible"] is True
    assert items[data["on_request"].id]["pes"]["reserved_eligible"] is False  # a 50% share without the mission
    assert items[data["on_request"].id]["cpv"] == ["77310000-6", "45112710-5"]  # in the order given
    assert items[data["public"].id]["price"] == {"net": "18.50", "gross": "19.98", "vat_rate": "8",
                                                 "currency": "PLN", "unit": "porcja"}
    assert items[data["on_request"].id]["price"] is None
    assert items[data["public"].id]["quality_mark"]["number"] == "ZJ/2026/0007"
    assert items[data["on_request"].id]["quality_mark"] is None  # suspended
    assert items[data["public"].id]["snippet"].startswith("Zdrowe obiady z dowozem")
