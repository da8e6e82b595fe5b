"""The OpenAPI 3.1 description of the JSON API, built from the same data as the checks (categories, region,
legal forms), so that the codes it lists are always the ones the endpoints accept. The tests validate every
response of the API against it."""
from flask import current_app
from flask_babel import gettext as _

from catalog import categories
from catalog.models import KINDS, VAT_RATES
from marketplace import region
from marketplace.api.params import PER_PAGE_DEFAULT, PER_PAGE_MAX, Q_MAX_LENGTH, SORTS
from marketplace.pes.models import LEGAL_FORMS

VERSION = "1.0.0"
JSON = "application/json"
NULLABLE_STRING = {"type": ["string", "null"]}
DECIMAL = {"type": "string", "pattern": r"^\d+\.\d{2}$"}
TERYT = {"type": "string", "pattern": r"^\d{4}$"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict, optional: dict | None = None) -> dict:
    """An object schema: `required` properties must be present, `optional` ones may be."""
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def counts() -> dict:
    return {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}


def _offering_schemas() -> dict:
    return {
        "Price": obj({"net": DECIMAL, "gross": DECIMAL, "vat_rate": {"type": "string", "enum": list(VAT_RATES)},
                      "currency": {"type": "string", "const": "PLN"}, "unit": NULLABLE_STRING}),
        "QualityMark": obj({"number": {"type": "string"}, "valid_until": {"type": "string", "format": "date"}},
                           {"valid_from": {"type": "string", "format": "date"}}),
        "SearchItem": obj({
            "id": {"type": "integer"}, "ref": {"type": "string"}, "kind": {"type": "string", "enum": list(KINDS)},
            "title": {"type": "string"}, "snippet": {"type": "string"}, "url": {"type": "string"},
            "category": {"type": "string", "enum": categories.slugs()},
            "cpv": {"type": "array", "items": {"type": "string", "pattern": r"^\d{8}-\d$"}},
            "price": nullable(ref("Price")), "quality_mark": nullable(ref("QualityMark")), "pes": ref("PesSummary"),
        }, {
            "subcategory": NULLABLE_STRING, "tags": {"type": "array", "items": {"type": "string"}},
            "service_area": {"type": "array", "items": TERYT},
            "published_at": nullable({"type": "string", "format": "date-time"}),
        }),
        "Offering": {**ref("SearchItem"), "description": _("Oferta: ten sam kształt co wynik wyszukiwania.")},
        "SearchResponse": obj({
            "query": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
            "items": {"type": "array", "items": ref("SearchItem")}, "facets": ref("Facets"),
            "suggestion": NULLABLE_STRING,
        }, {
            "answered_query": {"type": "string"}, "corrected": {"type": "boolean"},
            "partial": {"type": "boolean"}, "complete": {"type": "integer", "minimum": 0},
            "places": {"type": "array", "items": TERYT}, "served_elsewhere": {"type": "array", "items": TERYT},
        }),
        "Facets": obj({name: counts() for name in ("category", "powiat", "legal_form", "kind", "quality_mark")}),
    }


def _pes_schemas() -> dict:
    listing = {"city": NULLABLE_STRING, "service_area": {"type": "array", "items": TERYT},
               "url": {"type": "string"}}
    detail = {
        "address": obj({"street": NULLABLE_STRING, "postal_code": NULLABLE_STRING, "city": NULLABLE_STRING}),
        "krs": NULLABLE_STRING, "nip": NULLABLE_STRING, "regon": NULLABLE_STRING, "email": NULLABLE_STRING,
        "phone": NULLABLE_STRING, "website": NULLABLE_STRING, "description": {"type": "string"},
        "mission": {"type": "string"}, "social_enterprise_status": {"type": "boolean"},
        "integration_mission": {"type": "boolean"},
        "disadvantaged_share": nullable({"type": "integer", "minimum": 0, "maximum": 100}),
        "offerings_url": {"type": "string"},
    }
    return {
        "PesSummary": obj({"id": {"type": "integer"}, "ref": {"type": "string"}, "name": {"type": "string"},
                           "legal_form": {"type": "string", "enum": list(LEGAL_FORMS)}, "powiat": TERYT,
                           "reserved_eligible": {"type": "boolean"}}),
        "PesListItem": {"allOf": [ref("PesSummary"), obj(listing)]},
        "Pes": {"allOf": [ref("PesListItem"), obj(detail)]},
        "PesList": obj({"query": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
                        "items": {"type": "array", "items": ref("PesListItem")}}),
    }


def _reference_schemas() -> dict:
    text = obj({"pl": {"type": "string"}, "en": {"type": "string"}})
    sub = obj({"slug": {"type": "string"}, "name": ref("LocalisedText"), "count": {"type": "integer", "minimum": 0}})
    return {
        "LocalisedText": text,
        "Category": obj({"slug": {"type": "string", "enum": categories.slugs()}, "name": ref("LocalisedText"),
                         "description": ref("LocalisedText"), "count": {"type": "integer", "minimum": 0},
                         "subcategories": {"type": "array", "items": sub}}),
        "CategoryList": obj({"total": {"type": "integer", "minimum": 0},
                             "items": {"type": "array", "items": ref("Category")}}),
        "Powiat": obj({"code": TERYT, "name": {"type": "string"}, "label": {"type": "string"}},
                      {"kind": NULLABLE_STRING, "seat": NULLABLE_STRING}),
        "PowiatList": obj({"region": obj({"code": {"type": "string"}, "name": {"type": "string"}}),
                           "items": {"type": "array", "items": ref("Powiat")}}),
        "Error": obj({"error": obj({"code": {"type": "string"}, "message": {"type": "string"}},
                                   {"field": NULLABLE_STRING})}),
    }


def _query(name: str, schema: dict, description: str, repeatable: bool = False) -> dict:
    if repeatable:
        schema = {"type": "array", "items": schema}
    param = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    if repeatable:
        param.update(style="form", explode=True)
    return param


def _parameters() -> dict:
    boolean = {"type": "string", "enum": ["1", "true", "0", "false"]}
    return {
        "q": _query("q", {"type": "string", "maxLength": Q_MAX_LENGTH},
                    _("Szukany tekst; pusty oznacza wszystko. Błędy pisowni są poprawiane, gdy zapytanie nic nie "
                      "znajduje albo gdy wpisanego słowa nie ma w żadnym tytule ani słowie kluczowym, a poprawka "
                      "znajduje więcej (answered_query mówi, na jakie zapytanie odpowiedziano); kod CPV znajduje też "
                      "kody niższe w drzewie CPV. Tekst bez słów, z samych słów pomijanych, dłuższy niż limit "
                      "albo z kodem CPV o złej cyfrze kontrolnej daje błąd 400.")),
        "exact": _query("exact", boolean, _("1 lub true: szukaj słów tak, jak je wpisano, bez poprawiania "
                                            "pisowni.")),
        "kind": _query("kind", {"type": "string", "enum": list(KINDS)}, _("Produkt albo usługa.")),
        "category": _query("category", {"type": "string", "enum": categories.slugs()},
                           _("Kategoria; można podać kilka (wystarczy jedna)."), True),
        "powiat": _query("powiat", {"type": "string", "enum": region.powiat_codes()},
                         _("Kod TERYT powiatu obsługiwanego przez podmiot; można podać kilka."), True),
        "legal_form": _query("legal_form", {"type": "string", "enum": list(LEGAL_FORMS)},
                             _("Forma prawna podmiotu; można podać kilka."), True),
        "quality_mark": _query("quality_mark", boolean, _("1 lub true: tylko oferty ze znakiem jakości "
                                                          "ważnym dzisiaj.")),
        "reserved_eligible": _query("reserved_eligible", boolean, _("1 lub true: tylko podmioty, którym można "
                                                                    "udzielić zamówienia zastrzeżonego "
                                                                    "(art. 94 Pzp).")),
        "sort": _query("sort", {"type": "string", "enum": list(SORTS), "default": "relevance"},
                       _("Kolejność; przy sortowaniu po cenie oferty z ceną do uzgodnienia są na końcu.")),
        "page": _query("page", {"type": "integer", "minimum": 1, "default": 1},
                       _("Numer strony od 1; strona za ostatnią jest pusta.")),
        "per_page": _query("per_page", {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX,
                                        "default": PER_PAGE_DEFAULT}, _("Liczba wyników na stronie.")),
        "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
    }


def _responses() -> dict:
    def error(text: str) -> dict:
        return {"description": text, "content": {JSON: {"schema": ref("Error")}}}

    return {"BadRequest": error(_("Nieprawidłowy parametr (code: invalid_parameter, field: jego nazwa).")),
            "NotFound": error(_("Nie ma takiego obiektu wśród publicznych (code: not_found).")),
            "TooManyRequests": error(_("Przekroczono limit zapytań z jednego adresu (code: rate_limited).")),
            "Unavailable": error(_("Wyszukiwarka jest chwilowo niedostępna."))}


def _get(op_id: str, summary: str, schema: str, params=(), errors=()) -> dict:
    responses = {"200": {"description": "OK", "content": {JSON: {"schema": ref(schema)}}}}
    names = {"400": "BadRequest", "404": "NotFound", "429": "TooManyRequests", "503": "Unavailable"}
    for status in (*errors, "429"):
        responses[status] = {"$ref": f"#/components/responses/{names[status]}"}
    return {"get": {"operationId": op_id, "summary": summary,
                    "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
                    "responses": responses}}


def _paths() -> dict:
    search = ("q", "exact", "kind", "category", "powiat", "legal_form", "quality_mark", "reserved_eligible",
              "sort", "page", "per_page")
    pes = ("q", "powiat", "legal_form", "reserved_eligible", "page", "per_page")
    return {
        "/api/v1/search": _get("search", _("Wyszukiwanie ofert z filtrami, licznikami (facets) i podpowiedzią."),
                               "SearchResponse", search, ("400", "503")),
        "/api/v1/offerings/{id}": _get("getOffering", _("Jedna opublikowana oferta."), "Offering", ("id",),
                                       ("404",)),
        "/api/v1/pes": _get("listPes", _("Zweryfikowane podmioty ekonomii społecznej."), "PesList", pes,
                            ("400",)),
        "/api/v1/pes/{id}": _get("getPes", _("Profil zweryfikowanego podmiotu."), "Pes", ("id",), ("404",)),
        "/api/v1/categories": _get("listCategories", _("Kategorie i podkategorie z liczbą ofert."),
                                   "CategoryList"),
        "/api/v1/powiats": _get("listPowiats", _("Powiaty regionu z kodami TERYT."), "PowiatList"),
        "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": _("Ten opis API (OpenAPI 3.1)."),
                                         "responses": {"200": {"description": "OK", "content": {
                                             JSON: {"schema": {"type": "object"}}}}}}},
    }


def document() -> dict:
    """The whole OpenAPI 3.1 document, in the request's language."""
    schemas = {**_offering_schemas(), **_pes_schemas(), **_reference_schemas()}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": _("Portal PES: API katalogu"), "version": VERSION,
                 "description": _("Publiczne API tylko do odczytu: oferty i podmioty ekonomii społecznej "
                                  "regionu. Bez logowania, z limitem zapytań na adres."),
                 "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": current_app.config.get("PORTAL_URL") or "/"}],
        "paths": _paths(),
        "components": {"schemas": schemas, "parameters": _parameters(), "responses": _responses()},
    }
