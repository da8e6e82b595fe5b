"""Catalogue pages: the public catalogue (categories, offering pages, a PES's offerings, CPV search) and the
members' panel where a PES manages its offerings. Sitemap and robots.txt come from catalog.seo."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.decorators import confirmed_required, mail_limited
from catalog import categories, cpv, markdown, pricing, seo, services
from catalog import images as photos
from catalog.forms import (
    ActionForm,
    CpvSearchForm,
    OfferingForm,
    ReportForm,
    StatusFilterForm,
)
from catalog.mark.queries import current_mark, marks_for
from catalog.models import Offering
from marketplace import outbox
from marketplace.core.urls import external_url, page_arg
from marketplace.core.views import safe_next
from marketplace.extensions import db
from marketplace.pes.models import Pes

# Every POST is checked for its CSRF token by CSRFProtect before the view runs.
bp = Blueprint("catalog", __name__)
PER_PAGE = 24
STATUS_ACTIONS = {"publikuj": "published", "wycofaj": "draft", "archiwizuj": "archived"}


def offering_url(offering: Offering, **values) -> str:
    return url_for("catalog.offering", offering_id=offering.id, slug=seo.slugify(offering.title), **values)


@bp.record_once
def _register(state) -> None:
    pricing.register(state.app)
    state.app.jinja_env.globals.update(offering_url=offering_url)


@bp.context_processor
def _helpers():
    return {"category_name": categories.name, "subcategory_name": categories.subcategory_name,
            "kind_label": services.kind_label, "offering_status_label": services.status_label,
            "render_markdown": markdown.render, "excerpt": markdown.plain,
            "max_image_mb": photos.max_megabytes}


# Loading and access ---------------------------------------------------------------------------------

def _offering_or_404(offering_id: int) -> Offering:
    return db.session.scalar(select(Offering).where(Offering.id == offering_id)
                             .options(selectinload(Offering.images))) or abort(404)


def _visible(offering_id: int) -> Offering:
    """Public offerings for everyone; others only for their PES's members and staff (404 for the rest)."""
    offering = _offering_or_404(offering_id)
    if not offering.is_public and not services.can_preview(current_user, offering):
        abort(404)
    return offering


def _editable(offering_id: int) -> Offering:
    offering = _offering_or_404(offering_id)
    if not services.can_edit(current_user, offering):
        abort(403)
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
    ld = seo.offering_ld(offering, [external_url("core.media", filename=i.path) for i in offering.images])
    return render_template("catalog/offering.html", offering=offering, pes=offering.pes,
                           mark=current_mark(offering), cpv_names=_cpv_names(offering.cpv),
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
    item = _offering_or_404(offering_id)
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


seo.add_routes(bp, services.public_query)


# The members' panel ---------------------------------------------------------------------------------

@bp.get("/panel/oferty")
@login_required
def my_offerings():
    """Every offering of the signed-in person's PES, filtered by status, with their actions."""
    memberships = sorted(current_user.memberships, key=lambda m: (m.pes.name_key, m.pes_id))
    filters = StatusFilterForm(request.args)
    stmt = services.member_offerings(current_user, [m.pes_id for m in memberships], filters.value())
    page = db.paginate(stmt, page=page_arg(), per_page=50, error_out=False)
    return render_template("catalog/my_offerings.html", memberships=memberships, filters=filters, page=page,
                           args={"status": filters.value()} if filters.value() else {},
                           action_form=ActionForm(), marks=marks_for(page.items))


def _pes_for_new_offering() -> Pes:
    """The PES named by ?pes=, or the person's only PES; it must be theirs (403) and verified."""
    pes_id = request.args.get("pes", type=int)
    if pes_id is None and len(current_user.memberships) == 1:
        pes_id = current_user.memberships[0].pes_id
    if pes_id is None:
        abort(404)
    pes = db.session.get(Pes, pes_id) or abort(404)
    if current_user.membership_of(pes.id) is None:
        abort(403)
    return pes


def _form_status(form) -> int:
    if not form.is_submitted():
        return 200
    return 400 if "csrf_token" in form.errors else 422


def _refused(form, exc: services.OfferingError) -> None:
    db.session.rollback()
    target = form._fields.get(exc.field or "", form.title)
    target.errors = list(target.errors) + [str(exc)]


@bp.route("/panel/oferty/nowa", methods=["GET", "POST"])
@confirmed_required
def create():
    """A member of a verified PES adds an offering; nothing is written if any part (a photo) is wrong."""
    pes = _pes_for_new_offering()
    if not services.can_create(current_user, pes):
        return render_template("errors/error.html", code=403, title=_("Nie można dodać oferty"), text=_(
            "Oferty może dodawać tylko zweryfikowany podmiot. „%(name)s” czeka na weryfikację lub jest "
            "zawieszony.", name=pes.name)), 403
    form = OfferingForm()
    if form.validate_on_submit():
        try:
            with photos.stored_for_saving(form.prepared_images) as stored:
                item = services.create_offering(current_user, pes, form.offering_data(), stored, form.new_alts,
                                                form.status.data)
                outbox.commit()
        except services.OfferingError as exc:
            _refused(form, exc)
        else:
            flash(_("Oferta „%(title)s” została zapisana.", title=item.title), "info")
            return redirect(url_for("catalog.edit", offering_id=item.id))
    return render_template("catalog/form.html", form=form, pes=pes, offering=None), _form_status(form)


@bp.route("/panel/oferty/<int:offering_id>/edytuj", methods=["GET", "POST"])
@confirmed_required
def edit(offering_id: int):
    """Members of the offering's PES change it, its photos (alt text, order, removal) and its status."""
    item = _editable(offering_id)
    form = OfferingForm(obj=item, offering=item)
    if not form.is_submitted():
        form.load(item)
    elif form.validate_on_submit():
        try:
            with photos.stored_for_saving(form.prepared_images) as stored:
                removed = services.update_offering(current_user, item, form.offering_data(), form.kept_images(),
                                                   stored, form.new_alts, form.status.data)
                files = [photos.StoredImage(i.path, i.thumb_path, 0, 0) for i in removed]
                outbox.commit()
        except services.OfferingError as exc:
            _refused(form, exc)
        else:
            photos.delete_files(files)  # only now that the change is committed
            flash(_("Zmiany w ofercie „%(title)s” zostały zapisane.", title=item.title), "info")
            return redirect(url_for("catalog.edit", offering_id=item.id))
    return render_template("catalog/form.html", form=form, pes=item.pes, offering=item), _form_status(form)


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("catalog.my_offerings"))


@bp.post("/panel/oferty/<int:offering_id>/<action>")
@confirmed_required
def change_status(offering_id: int, action: str):
    """Publish, unpublish (back to draft) or archive an offering from the panel."""
    target = STATUS_ACTIONS.get(action) or abort(404)
    item = _editable(offering_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.set_status(current_user, item, target)
    except services.OfferingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        outbox.commit()
        messages = {"published": _("Oferta „%(title)s” jest opublikowana."),
                    "draft": _("Oferta „%(title)s” wróciła do szkiców i nie jest widoczna publicznie."),
                    "archived": _("Oferta „%(title)s” została przeniesiona do archiwum.")}
        flash(messages[target] % {"title": item.title}, "info")
    return redirect(_back())


@bp.post("/panel/oferty/<int:offering_id>/kopiuj")
@confirmed_required
def duplicate(offering_id: int):
    """Copy an offering, with its photos, as a new draft to adapt."""
    item = _editable(offering_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with photos.copied_for_saving(item.images) as copies:
            copy = services.duplicate(current_user, item, copies)
            outbox.commit()
    except services.OfferingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(_back())
    flash(_("Utworzono kopię oferty jako szkic. Sprawdź ją i opublikuj, gdy będzie gotowa."), "info")
    return redirect(url_for("catalog.edit", offering_id=copy.id))
