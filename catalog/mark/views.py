"""The quality mark for PES members: their applications and marks, applying, correcting, attachments.

The office's and the committee's pages are in review_views.py, the public register in register_views.py;
all are routes of this one blueprint.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.decorators import confirmed_required
from catalog.mark import eligibility, labels, numbering, queries, services, uploads
from catalog.mark.forms import ActionForm, ApplicationForm
from catalog.mark.models import MarkApplication, MarkAttachment, QualityMark
from catalog.models import Offering
from marketplace import clock, outbox
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesMembership

bp = Blueprint("mark", __name__)
UNPROCESSABLE = 422
APPLY_ENDPOINTS = ("mark.apply", "mark.application")


def _allow_attachments() -> None:
    """Let the application form carry its attachments: the CSRF check reads the form before any view runs,
    so the larger limit is set first, for these two pages only."""
    if request.endpoint in APPLY_ENDPOINTS:
        request.max_content_length = uploads.MAX_FILES * uploads.max_bytes() + 1024 * 1024  # and the text


bp.record_once(lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, _allow_attachments))
# A certificate number format that cannot work stops the portal at start, not at the first award.
bp.record_once(lambda state: numbering.check_config(state.app.config))


def certified_title(mark) -> str:
    """The offering's title as certified on the day of the award (the live one for marks recorded without)."""
    return mark.offering_title or (mark.offering.title if mark.offering else "")


def certified_pes_name(mark) -> str:
    """The PES's name as certified on the day of the award (the live one for marks recorded without)."""
    return mark.pes_name or (mark.pes.name if mark.pes else "")


@bp.app_context_processor
def _mark_helpers():
    return {"mark_is_valid": queries.is_valid, "mark_state": queries.state_on,
            "mark_state_label": labels.mark_state_label, "mark_application_label": labels.application_label,
            "mark_criterion_label": labels.criterion_label, "mark_category_label": labels.category_label,
            "mark_title": certified_title, "mark_pes_name": certified_pes_name}


def public_offering_url(offering) -> str | None:
    """The offering's public page, or None while it is not public (a draft, archived, blocked)."""
    if offering is None or not offering.is_public:
        return None
    return url_for("catalog.offering", offering_id=offering.id)


@bp.context_processor
def _page_helpers():
    return {"mark_offering_url": public_offering_url,
            "mark_rules": {"min_months": labels.MIN_MONTHS, "own_revenue_guide": labels.OWN_REVENUE_GUIDE}}


def _own_application(app_id: int, lock: bool = False) -> MarkApplication:
    """An application of one of the signed-in person's PES (row-locked for a change); anyone else's is 404."""
    options = (selectinload(MarkApplication.attachments),)
    if lock:
        application = services.locked_application(app_id, *options)
    else:
        application = db.session.scalar(select(MarkApplication).where(MarkApplication.id == app_id)
                                        .options(*options))
    if application is None or not services.is_member(current_user, application.pes_id):
        abort(404)
    return application


@bp.get("/panel/znak")
@login_required
def panel():
    """The signed-in person's PES with their applications, marks and the offerings they may apply for."""
    pes_list = db.session.scalars(
        select(Pes).join(PesMembership).where(PesMembership.user_id == current_user.id)
        .order_by(Pes.name_key, Pes.id)).all()
    ids = [p.id for p in pes_list]
    applications = db.session.scalars(
        select(MarkApplication).where(MarkApplication.pes_id.in_(ids))
        .options(selectinload(MarkApplication.offering))
        .order_by(MarkApplication.submitted_at.desc(), MarkApplication.id.desc())).all() if ids else []
    marks = db.session.scalars(select(QualityMark).where(QualityMark.pes_id.in_(ids))
                               .options(selectinload(QualityMark.offering))
                               .order_by(QualityMark.valid_until.desc(), QualityMark.id.desc())).all() if ids else []
    offerings = db.session.scalars(select(Offering).where(Offering.pes_id.in_(ids), Offering.status == "published")
                                   .order_by(Offering.title_key, Offering.id)).all() if ids else []
    return render_template("mark/panel.html", pes_list=pes_list, applications=applications, marks=marks,
                           offerings=_with_refusals(offerings))


def _with_refusals(offerings) -> list[tuple[Offering, str | None]]:
    """Each offering with why it cannot be applied for now (None when it can): two queries for all."""
    marks, open_apps = eligibility.load(o.id for o in offerings)
    today = clock.today()
    return [(o, eligibility.refusal(o, marks[o.id], open_apps.get(o.id), today)) for o in offerings]


def _apply_refusal(offering: Offering) -> str | None:
    """Why the PES cannot apply for this offering now, or None when it can."""
    try:
        services.check_can_apply(current_user, offering)
    except services.MarkError as exc:
        return str(exc)
    return None


def _offering_for_application() -> Offering:
    offering_id = request.args.get("oferta", type=int)
    offering = db.session.get(Offering, offering_id) if offering_id and 0 < offering_id < 2**31 else None
    if offering is None:
        abort(404)
    if not services.is_member(current_user, offering.pes_id):
        abort(403)
    return offering


def _form_data(form: ApplicationForm) -> dict:
    return {"months_operating": form.months_operating.data, "own_revenue_share": form.own_revenue_share.data,
            "quality_statement": form.quality_statement.data.strip(), "recommendations": form.recommendations()}


@bp.route("/panel/znak/wniosek", methods=["GET", "POST"])
@confirmed_required
def apply():
    """A PES member applies for the mark (or its renewal) for one published offering of that PES."""
    offering = _offering_for_application()
    refusal = _apply_refusal(offering)
    renewal_state, renewed = services.renewal_state(offering)
    form = ApplicationForm()
    if refusal is None and form.validate_on_submit():
        try:
            with uploads.stored_for_saving(form.checked_files) as stored:
                application = services.apply(current_user, offering, _form_data(form), stored)
                outbox.commit()
        except services.MarkError as exc:
            db.session.rollback()
            refusal = str(exc)
        else:
            flash(_("Wniosek o znak jakości dla oferty „%(title)s” został złożony. Sprawdzi go teraz ośrodek "
                    "regionalny.", title=offering.title), "info")
            return redirect(url_for("mark.application", app_id=application.id))
    status = UNPROCESSABLE if form.is_submitted() else 200
    return render_template("mark/apply.html", form=form, offering=offering, pes=offering.pes, refusal=refusal,
                           renewed=renewed if renewal_state == "renewal" else None,
                           eligible=labels.legal_form_eligible(offering.pes.legal_form)), status


@bp.route("/panel/znak/wniosek/<int:app_id>", methods=["GET", "POST"])
@login_required
def application(app_id: int):
    """One application of the PES: its status and the office's comments; a returned one can be corrected."""
    application = _own_application(app_id, lock=request.method == "POST")
    form = None
    if application.status == "returned":
        form = ApplicationForm(existing=application.attachments)
        if not form.is_submitted():
            form.fill_from(application)
        elif form.validate_on_submit():
            if not current_user.is_confirmed:
                abort(403)
            return _resubmit(application, form)
    elif request.method == "POST":
        abort(409)
    status = UNPROCESSABLE if form is not None and form.is_submitted() else 200
    return render_template("mark/application.html", application=application, form=form,
                           withdraw_form=ActionForm(formdata=None), pes=application.pes), status


def _resubmit(application: MarkApplication, form: ApplicationForm):
    try:
        with uploads.stored_for_saving(form.checked_files) as stored:
            removed = services.resubmit(current_user, application, _form_data(form), stored,
                                        form.remove_attachments.data or [])
            outbox.commit()
    except services.MarkError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("mark.application", app_id=application.id))
    uploads.delete(removed)  # only now that the change is committed
    flash(_("Poprawiony wniosek został złożony ponownie."), "info")
    return redirect(url_for("mark.application", app_id=application.id))


@bp.post("/panel/znak/wniosek/<int:app_id>/wycofaj")
@confirmed_required
def withdraw(app_id: int):
    """The PES takes back an application that the committee has not started on."""
    application = _own_application(app_id, lock=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw(current_user, application)
    except services.MarkError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        outbox.commit()
        flash(_("Wniosek został wycofany."), "info")
    return redirect(url_for("mark.application", app_id=app_id))


@bp.get("/znak/zalacznik/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """An attachment of an application, only for the PES's members, the office and the committee."""
    item = db.session.get(MarkAttachment, attachment_id) or abort(404)
    if not services.can_see_application(current_user, item.application):
        abort(403)
    path = uploads.absolute_path(item.path)
    if path is None:
        abort(404)
    try:
        response = send_file(path, mimetype=item.content_type, as_attachment=True,
                             download_name=item.original_name, max_age=0)
    except FileNotFoundError:
        abort(404)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The office's, the committee's and the public pages register their routes on `bp` when imported.
from catalog.mark import register_views, review_views  # noqa: F401
