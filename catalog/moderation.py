"""The moderators' pages for offerings: visitors' reports, blocked offerings, and the actions on one offering.

The panel's main page is the PES verification queue (marketplace/moderation); this part links from it.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.decorators import staff_required
from catalog import categories
from catalog import moderation_services as services
from catalog import services as catalog_services
from catalog.markdown import render as render_markdown
from catalog.models import Offering, OfferingReport
from catalog.moderation_forms import BlockForm, OfferingSearchForm, ReportForm, RestoreForm
from marketplace import outbox
from marketplace.core.urls import page_arg
from marketplace.extensions import db
from marketplace.moderation.services import ModerationError, NotPermitted

bp = Blueprint("catalog_moderation", __name__, url_prefix="/moderacja/oferty")

PER_PAGE = 20
UNPROCESSABLE = 422  # a form that does not validate is shown again with this status and its messages
TABS = ("zgloszenia", "zablokowane")


@bp.context_processor
def _helpers():
    return {"reason_label": services.reason_label,
            "report_status_label": lambda code: services.label(services.REPORT_STATUSES, code),
            "offering_status_label": catalog_services.status_label, "kind_label": catalog_services.kind_label,
            "category_name": categories.name, "subcategory_name": categories.subcategory_name}


def actor():
    return current_user._get_current_object()


def run(service, *args) -> bool:
    """Call a moderation service and commit; on a domain error roll back and flash why."""
    try:
        service(actor(), *args)
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    outbox.commit()
    return True


def refused(check, *args) -> bool:
    """Whether the action is refused before its form is read (wrong state, own PES); flashes why."""
    try:
        check(actor(), *args)
    except NotPermitted:
        abort(403)
    except ModerationError as exc:
        flash(str(exc), "error")
        return True
    return False


@bp.get("")
@staff_required
def index():
    """What waits for moderators: open reports and blocked offerings, and a search of every offering."""
    form = OfferingSearchForm(request.args)
    q = form.q.data if form.validate() and form.q.data else None
    tab = request.args.get("tab") if request.args.get("tab") in TABS else TABS[0]
    if q:
        query = services.search_query(q)
    else:
        query = services.open_reports_query() if tab == "zgloszenia" else services.blocked_query()
    pagination = db.paginate(query, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("catalog/moderation/index.html", form=form, q=q, tab=tab, tabs=TABS,
                           pagination=pagination, counts=services.counts())


def _offering_or_404(offering_id: int, lock: bool = False) -> Offering:
    return db.get_or_404(Offering, offering_id, with_for_update=True if lock else None)


def _render(offering: Offering, failed: str | None = None, form=None):
    reports = services.reports_of(offering)
    forms = {"block": BlockForm(formdata=None), "restore": RestoreForm(formdata=None)}
    for report in reports:
        if report.status == "open":
            forms[f"r{report.id}"] = ReportForm(formdata=None, prefix=f"r{report.id}")
    if failed:
        forms[failed] = form
    html = render_template("catalog/moderation/detail.html", offering=offering, reports=reports, forms=forms,
                           failed=failed, own=services.is_member(actor(), offering),
                           handlers=services.handlers_of(reports),
                           description_html=render_markdown(offering.description))
    return (html, UNPROCESSABLE) if failed else html


@bp.get("/<int:offering_id>")
@staff_required
def detail(offering_id: int):
    """Everything a moderator needs to judge an offering and its reports, with the actions its state allows."""
    return _render(_offering_or_404(offering_id))


@bp.post("/<int:offering_id>/ukryj")
@staff_required
def block(offering_id: int):
    """Take an offering off the public pages; its PES is told why and its open reports are closed."""
    offering = _offering_or_404(offering_id, lock=True)
    back = redirect(url_for(".detail", offering_id=offering.id))
    if refused(services.ensure_can_block, offering):
        return back
    form = BlockForm()
    if not form.validate_on_submit():
        return _render(offering, failed="block", form=form)
    if run(services.block_offering, offering, form.reason.data):
        flash(_("Oferta jest ukryta. Podmiot dostał wiadomość z powodem, a zgłoszenia zamknięto."), "success")
    return back


@bp.post("/<int:offering_id>/przywroc")
@staff_required
def restore(offering_id: int):
    """Lift a block: only a moderator can, editing the offering does not."""
    offering = _offering_or_404(offering_id, lock=True)
    back = redirect(url_for(".detail", offering_id=offering.id))
    if refused(services.ensure_can_restore, offering):
        return back
    form = RestoreForm()
    if not form.validate_on_submit():
        return _render(offering, failed="restore", form=form)
    if run(services.restore_offering, offering, form.note.data):
        flash(_("Blokada zniesiona. Podmiot dostał wiadomość."), "success")
    return back


def _close_report(report_id: int, status: str, done: str):
    report = db.get_or_404(OfferingReport, report_id, with_for_update=True)
    back = redirect(url_for(".detail", offering_id=report.offering_id))
    if refused(services.ensure_can_close, report):
        return back
    form = ReportForm(prefix=f"r{report.id}")
    if not form.validate_on_submit():
        return _render(report.offering, failed=f"r{report.id}", form=form)
    if run(services.close_report, report, status, form.note.data):
        flash(done, "success")
    return back


@bp.post("/zgloszenia/<int:report_id>/rozpatrz")
@staff_required
def resolve_report(report_id: int):
    """Close a founded report (whatever was done about the offering)."""
    return _close_report(report_id, "resolved", _("Zgłoszenie oznaczono jako rozpatrzone."))


@bp.post("/zgloszenia/<int:report_id>/odrzuc")
@staff_required
def dismiss_report(report_id: int):
    """Close a report that was not founded; the offering stays as it is."""
    return _close_report(report_id, "dismissed", _("Zgłoszenie odrzucono jako niezasadne."))
