"""The public catalogue: categories, offering pages (and their photos), a PES's offerings, the CPV search.

The members' panel, where a PES manages its offerings, registers its routes on the same blueprint from
catalog.panel_views; the sitemap and robots.txt come from catalog.seo.
"""
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from accounts.decorators import mail_limited
from catalog import categories, cpv, markdown, pricing, seo, services
from catalog import images as photos
from catalog.mark.queries import current_mark, marks_for
from catalog.models import MAX_IMAGES, Offering
from catalog.public_forms import CpvSearchForm, ReportForm
from marketplace import outbox
from marketplace.core import images as core_images
from marketplace.core.urls import external_url, page_arg
from marketplace.extensions import db
from marketplace.pes.models import Pes

# Every POST is checked for its CSRF token by CSRFProtect before the view runs.
bp = Blueprint("catalog", __name__)
PER_PAGE = 24
PUBLIC_PHOTO_MAX_AGE = 3600  # a photo of an unpublished offering may stay in shared caches this long


def offering_url(offering: Offering, **values) -> str:
    return url_for("catalog.offering", offering_id=offering.id, slug=seo.slugify(offering.title), **values)


def photo_url(relative_path: str | None, external: bool = False) -> str:
    """The address of an offering's photo (stored as "offerings/<name>"), served by photo() below."""
    name = photos.file_name(relative_path) or "-"
    return external_url("catalog.photo", name=name) if external else url_for("catalog.photo", name=name)


@bp.record_once
def _register(state) -> None:
    pricing.register(state.app)
    state.app.jinja_env.globals.update(offering_url=offering_url, photo_url=photo_url)


@bp.context_processor
def _helpers():
    return {"category_name": categories.name, "subcategory_name": categories.subcategory_name,
            "kind_label": services.kind_label, "offering_status_label": services.status_label,
            "render_markdown": markdown.render, "excerpt": markdown.plain,
            "max_image_mb": photos.max_megabytes, "max_images": MAX_IMAGES}


# Loading and access ---------------------------------------------------------------------------------

def offering_or_404(offering_id: int) -> Offering:
    return db.session.scalar(select(Offering).where(Offering.id == offering_id)
                             .options(joinedload(Offering.pes).joinedload(Pes.sales),
                                      selectinload(Offering.images))) or abort(404)


def _visible(offering_id: int) -> Offering:
    """Public offerings for everyone; others only for their PES's members and staff (404 for the rest)."""
    offering = offering_or_404(offering_id)
    if not offering.is_public and not services.can_preview(current_user, offering):
        abort(404)
    return offering


def _page(stmt):
    return db.paginate(services.listing(stmt), page=page_arg(), per_page=PER_PAGE, error_out=False)


def _cpv_names(codes: list[str]) -> dict[str, str]:
    return services.cpv_names(codes, english=str(get_locale() or "pl").startswith("en"))


# Public pages ---------------------------------------------------------------------------------------

@bp.get("/oferty")
def index():
    """The catalogue's front page: every category with the number of offerings in it."""
    counts = services.category_counts()
    cats = [(slug, name, counts.get(slug, 0)) for slug, name in categories.choices()]
    return render_template("catalog/index.html", cats=cats, total=sum(counts.values()))


@bp.get("/kategoria/<slug>")
@bp.get("/kategoria/<slug>/<sub>")
def category(slug: str, sub: str | None = None):
    """The public offerings of one category (or subcategory), as cards, a page at a time."""
    if not categories.is_category(slug) or (sub is not None and not categories.is_subcategory(slug, sub)):
        abort(404)
    stmt = services.public_query().where(Offering.category == slug)
    if sub:
        stmt = stmt.where(Offering.subcategory == sub)
    page = _page(stmt)
    counts = services.subcategory_counts(slug)
    subs = [(code, name, counts.get(code, 0)) for code, name in categories.subcategory_choices(slug)]
    args = {"slug": slug, **({"sub": sub} if sub else {})}
    return render_template("catalog/category.html", slug=slug, sub=sub, subs=subs, page=page, args=args,
                           marks=marks_for(page.items))


@bp.get("/pes/<int:pes_id>/oferty")
def pes_offerings(pes_id: int):
    """All public offerings of one verified PES."""
    pes = db.session.get(Pes, pes_id)
    if pes is None or not pes.is_public:
        abort(404)
    page = _page(services.public_query().where(Offering.pes_id == pes.id))
    return render_template("catalog/pes_offerings.html", pes=pes, page=page, marks=marks_for(page.items))


def _render_offering(offering: Offering, report_form: ReportForm, status: int = 200):
    mark = current_mark(offering)
    ld = seo.offering_ld(offering, [photo_url(i.path, external=True) for i in offering.images], mark)
    return render_template("catalog/offering.html", offering=offering, pes=offering.pes,
                           mark=mark, cpv_names=_cpv_names(offering.cpv),
                           report_form=report_form, json_ld=seo.json_ld_script(ld),
                           can_edit=services.can_edit(current_user, offering)), status


@bp.get("/oferta/<int:offering_id>")
@bp.get("/oferta/<int:offering_id>-<slug>")
def offering(offering_id: int, slug: str | None = None):
    """An offering's page: photos, price, the PES that sells it, its quality mark, and a way to report it.
    Short links (/oferta/<id>) and old titles lead to the canonical address with the current title in it."""
    item = _visible(offering_id)
    if slug != seo.slugify(item.title):
        return redirect(offering_url(item), 301)
    return _render_offering(item, ReportForm())


@bp.post("/oferta/<int:offering_id>/zglos")
@mail_limited()
def report(offering_id: int):
    """A visitor reports a public offering to the moderators (limited per address like forms that mail)."""
    item = offering_or_404(offering_id)
    if not item.is_public:
        abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        services.report(item, current_user, form.reason.data, (form.message.data or "").strip(),
                        (form.email.data or "").strip().lower() or None)
        outbox.commit()
        flash(_("Dziękujemy. Zgłoszenie trafiło do moderatorów portalu."), "info")
        return redirect(offering_url(item))
    return _render_offering(item, form, 422)


@bp.get("/cpv")
def cpv_search():
    """Find CPV codes by number or name, to copy into an offering (works without JavaScript)."""
    form = CpvSearchForm(request.args)
    q = (form.q.data or "").strip()[:100]
    results = cpv.search(q, limit=50) if q else []
    return render_template("catalog/cpv.html", form=form, q=q, results=results, names=_cpv_names(
        [c.code for c in results]))


@bp.get("/cpv.json")
def cpv_json():
    """The same search for the picker script: [{"code", "name"}]."""
    q = (request.args.get("q") or "").strip()[:100]
    results = cpv.search(q, limit=20) if q else []
    names = _cpv_names([c.code for c in results])
    return jsonify([{"code": c.code, "name": names.get(c.code, c.name_pl)} for c in results])


@bp.get("/oferta/zdjecie/<name>")
def photo(name: str):
    """An offering's photo or thumbnail. Photos of offerings that are not public (drafts, archived, hidden by
    a moderator, of a PES not verified) are shown only to the PES's members and staff, never cached publicly."""
    owners = photos.offerings_of_file(name) if photos.file_name(f"{photos.FOLDER}/{name}") else []
    public = any(o.is_public for o in owners)
    if not public and not any(services.can_preview(current_user, o) for o in owners):
        abort(404)
    folder = core_images.folder_path(photos.FOLDER)
    if public:
        return send_from_directory(folder, name, max_age=PUBLIC_PHOTO_MAX_AGE)
    resp = send_from_directory(folder, name)
    resp.cache_control.public, resp.cache_control.max_age, resp.expires = False, None, None
    resp.cache_control.private = True
    resp.cache_control.no_cache = True
    resp.vary.add("Cookie")
    return resp


seo.add_routes(bp, services.public_query)

# The members' panel registers its routes on `bp` when imported.
from catalog import panel_views  # noqa: F401
from catalog import search_views as search_page  # noqa: F401
