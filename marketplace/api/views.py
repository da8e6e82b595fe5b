"""The public, read-only JSON API (CONTRACT section 4): search, offerings, PES, categories, powiats and
the OpenAPI document. Open to every origin for GET, limited per address, errors in one JSON shape."""
from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog.models import Offering
from catalog.services import public_query
from marketplace import region
from marketplace.api import openapi, serialize
from marketplace.api.params import ApiError, parse_pes_params, parse_search_params
from marketplace.extensions import csrf, db, limiter
from marketplace.pes.models import Pes
from marketplace.pes.services import directory_query

bp = Blueprint("api", __name__, url_prefix="/api/v1")
DEFAULT_LIMIT = "300 per minute"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Type",
    "Access-Control-Max-Age": "86400",
}


def api_limit() -> str:
    """Requests a minute per address for each endpoint; API_RATE_LIMIT overrides (the contract's floor is 300)."""
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_LIMIT


csrf.exempt(bp)  # read-only: nothing here changes data, and programs carry no session
limiter.limit(api_limit)(bp)


def error_response(status: int, code: str, message: str, field: str | None = None):
    error = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return jsonify(error=error), status


@bp.errorhandler(ApiError)
def invalid_parameter(e: ApiError):
    return error_response(400, "invalid_parameter", e.message, e.field)


@bp.after_app_request
def _cors(resp):
    """Any web page may read the API (it is public and read-only), errors and rate limits included."""
    if request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/"):
        resp.headers.update(CORS_HEADERS)
        if request.method == "OPTIONS":
            resp.headers.update(PREFLIGHT_HEADERS)
        if resp.status_code == 405:  # every endpoint here answers GET only
            resp.headers.setdefault("Allow", "GET, HEAD, OPTIONS")
    return resp


def _not_found(message: str):
    return error_response(404, "not_found", message)


# Search -----------------------------------------------------------------------------------------------

def run_search(params):
    """The search engine's answer for checked parameters: an object with `total`, `hits` (pairs of offering
    id and highlighted snippet or None, in order, for the requested page), `facets` and `suggestion`."""
    from search import service

    return service.search(params)  # the engine's one entry point for the API


@bp.get("/search")
def search():
    """The catalogue search for programs: the same engine and filters as the search page."""
    params = parse_search_params(request.args)
    from search.index import IndexUnavailable

    try:
        result = run_search(params)
    except IndexUnavailable:
        return error_response(503, "unavailable", _("Wyszukiwarka jest chwilowo niedostępna."))
    items = serialize.public_items(result.hits)
    return jsonify(serialize.search_response(params, result, items))


# Offerings and PES ------------------------------------------------------------------------------------

@bp.get("/offerings/<int:offering_id>")
def offering(offering_id: int):
    """One public offering, shaped like a search item, so a program can follow up on a result."""
    items = serialize.public_items([(offering_id, None)])
    if not items:
        return _not_found(_("Nie ma opublikowanej oferty o numerze %(id)s.", id=offering_id))
    return jsonify(items[0])


@bp.get("/pes")
def pes_list():
    """Verified PES by name, the powiats they serve, legal form and eligibility for reserved contracts."""
    params = parse_pes_params(request.args)
    stmt = directory_query(params.q, params.powiats, params.legal_forms, params.reserved_eligible)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = []
    if params.offset < total:
        page = stmt.options(selectinload(Pes.areas)).limit(params.per_page).offset(params.offset)
        rows = db.session.scalars(page).all()
    return jsonify(query=params.q, total=total, page=params.page, per_page=params.per_page,
                   items=[serialize.pes_listing(p) for p in rows])


@bp.get("/pes/<int:pes_id>")
def pes_detail(pes_id: int):
    """One verified PES's public profile."""
    pes = db.session.get(Pes, pes_id)
    if pes is None or not pes.is_public:
        return _not_found(_("Nie ma zweryfikowanego podmiotu o numerze %(id)s.", id=pes_id))
    return jsonify(serialize.pes_detail(pes))


# Reference data ---------------------------------------------------------------------------------------

@bp.get("/categories")
def category_list():
    """The catalogue's categories and subcategories with the number of public offerings in each."""
    stmt = (public_query().with_only_columns(Offering.category, Offering.subcategory, func.count())
            .group_by(Offering.category, Offering.subcategory))
    counts = {(cat, sub): n for cat, sub, n in db.session.execute(stmt).all()}
    items = serialize.category_items(counts)
    return jsonify(total=sum(c["count"] for c in items), items=items)


@bp.get("/powiats")
def powiat_list():
    """The region's powiats, whose TERYT codes the `powiat` filters take."""
    items = [serialize.powiat_item(code) for code in region.powiat_codes()]
    return jsonify(region={"code": region.data()["voivodeship"]["code"], "name": region.name()}, items=items)


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API, for client generators and people."""
    return jsonify(openapi.document())
