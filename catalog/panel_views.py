"""The members' panel of the catalogue: a PES's offerings, the editor (create, edit, photos), status changes and
copies. The routes are registered on catalog.views.bp, which imports this module."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.decorators import confirmed_required
from catalog import categories, services
from catalog import images as photos
from catalog.forms import OfferingForm, StatusFilterForm
from catalog.mark.queries import marks_for
from catalog.models import Offering
from catalog.views import bp, offering_or_404
from marketplace import outbox
from marketplace.core import images as core_images
from marketplace.core.urls import id_arg, page_arg
from marketplace.core.views import safe_next
from marketplace.extensions import db
from marketplace.moderation.forms import ConfirmForm
from marketplace.pes.models import Pes

STATUS_ACTIONS = {"publikuj": "published", "wycofaj": "draft", "archiwizuj": "archived"}


def _editable(offering_id: int) -> Offering:
    offering = offering_or_404(offering_id)
    if not services.can_edit(current_user, offering):
        abort(403)
    return offering


def _memberships() -> list:
    return sorted(current_user.memberships, key=lambda m: (m.pes.name_key, m.pes_id))


@bp.get("/panel/oferty")
@login_required
def my_offerings():
    """Every offering of the signed-in person's PES, filtered by status, with their actions."""
    memberships = _memberships()
    filters = StatusFilterForm(request.args)
    stmt = services.member_offerings(current_user, [m.pes_id for m in memberships], filters.value())
    page = db.paginate(stmt, page=page_arg(), per_page=50, error_out=False)
    return render_template("catalog/my_offerings.html", memberships=memberships, filters=filters, page=page,
                           args={"status": filters.value()} if filters.value() else {},
                           action_form=ConfirmForm(), marks=marks_for(page.items))


def _pes_for_new_offering() -> Pes | None:
    """The PES named by ?pes= (it must be the person's: 403), or the person's only PES; None when the person
    belongs to several and named none. A ?pes= that no row can have is 404."""
    pes_id = id_arg("pes")
    if pes_id is None and request.args.get("pes") is not None:
        abort(404)
    if pes_id is None:
        if len(current_user.memberships) != 1:
            return None
        pes_id = current_user.memberships[0].pes_id
    pes = db.session.get(Pes, pes_id) or abort(404)
    if current_user.membership_of(pes.id) is None:
        abort(403)
    return pes


def _choose_pes():
    """Several PES (or none): which one adds the offering."""
    if request.method != "GET":
        abort(404)
    memberships = _memberships()
    if not memberships:
        abort(404)
    return render_template("catalog/choose_pes.html", memberships=memberships)


def _form_status(form) -> int:
    if not form.is_submitted():
        return 200
    return 400 if "csrf_token" in form.errors else 422


def _refused(form, exc: services.OfferingError) -> None:
    db.session.rollback()
    form.add_refusal(exc.field, str(exc))


def _saved(form, message: str) -> None:
    flash(message, "info")
    if form.category_from_cpv:
        flash(_("Kategorię „%(name)s” dobrano na podstawie kodów CPV. Sprawdź, czy pasuje.",
                name=categories.name(form.category.data)), "info")


@bp.route("/panel/oferty/nowa", methods=["GET", "POST"])
@confirmed_required
def create():
    """A member of a verified PES adds an offering; nothing is written if any part (a photo) is wrong."""
    pes = _pes_for_new_offering()
    if pes is None:
        return _choose_pes()
    if not services.can_create(current_user, pes):
        return render_template("errors/error.html", code=403, title=_("Nie można dodać oferty"), text=_(
            "Oferty może dodawać tylko zweryfikowany podmiot. „%(name)s” czeka na weryfikację lub jest "
            "zawieszony.", name=pes.name)), 403
    form = OfferingForm()
    if form.validate_on_submit():
        try:
            with core_images.stored_for_saving(form.prepared_images, photos.FOLDER) as stored:
                item = services.create_offering(current_user, pes, form.offering_data(), stored, form.new_alts,
                                                form.status.data)
                outbox.commit()
        except services.OfferingError as exc:
            _refused(form, exc)
        else:
            _saved(form, _("Oferta „%(title)s” została zapisana.", title=item.title))
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
            with core_images.stored_for_saving(form.prepared_images, photos.FOLDER) as stored:
                removed = services.update_offering(current_user, item, form.offering_data(), form.kept_images(),
                                                   stored, form.new_alts, form.status.data)
                files = [photos.StoredImage(i.path, i.thumb_path, 0, 0) for i in removed]
                outbox.commit()
        except services.OfferingError as exc:
            _refused(form, exc)
        else:
            photos.delete_files(files)  # only now that the change is committed
            _saved(form, _("Zmiany w ofercie „%(title)s” zostały zapisane.", title=item.title))
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
    if not ConfirmForm().validate_on_submit():
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
    if not ConfirmForm().validate_on_submit():
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
