"""The regional office's panel: the verification queue and the PES actions.

Institutions and purchasers are in `institution_views.py`, roles and the audit log in `admin_views.py`;
all of them are routes of this one blueprint.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.decorators import staff_required
from marketplace import outbox
from marketplace.core.urls import page_arg
from marketplace.extensions import db
from marketplace.moderation import queries, services
from marketplace.moderation.forms import ConfirmForm, ReinstateForm, RejectForm, SuspendForm, role_label
from marketplace.moderation.services import ModerationError, NotPermitted, action_label
from marketplace.pes.labels import INSTITUTION_KIND_LABELS, status_label
from marketplace.pes.models import Pes
from marketplace.pes.services import ROLE_LABELS as MEMBER_ROLE_LABELS

bp = Blueprint("moderation", __name__, url_prefix="/moderacja")

PER_PAGE = 20
TABS = ("pes", "institutions", "suspended", "rejected")
# A form that does not validate is shown again with this status and its messages.
UNPROCESSABLE = 422
# URL slug -> (service action, form class, message after success)
PES_ACTIONS = {
    "weryfikuj": ("verify", ConfirmForm, _l("Podmiot jest zweryfikowany i widoczny publicznie.")),
    "odrzuc": ("reject", RejectForm, _l("Zgłoszenie odrzucone; właściciele dostali uzasadnienie.")),
    "zawies": ("suspend", SuspendForm, _l("Profil zawieszony – nie jest już widoczny publicznie.")),
    "przywroc": ("reinstate", ReinstateForm, _l("Profil przywrócony i znów widoczny publicznie.")),
}
OBJECT_LABELS = {"pes": _l("PES"), "institution": _l("instytucja"), "user": _l("konto"), "offering": _l("oferta"),
                 "offeringreport": _l("zgłoszenie oferty"), "qualitymark": _l("znak jakości"),
                 "markapplication": _l("wniosek o znak jakości"), "synonymgroup": _l("grupa synonimów"),
                 "inquirythread": _l("rozmowa w zapytaniu"), "legaldocument": _l("dokument portalu"),
                 "legalvalue": _l("wartość prawna"), "guidancepage": _l("strona poradnika")}
NAMED_OBJECTS = ("pes", "institution", "user", "offering", "qualitymark", "synonymgroup",
                 "legaldocument")  # queries.object_names


@bp.context_processor
def _helpers():
    return {"role_label": role_label, "action_label": action_label, "object_label": object_label,
            "named_objects": NAMED_OBJECTS,
            "member_role_label": lambda code: str(MEMBER_ROLE_LABELS.get(code, code)),
            "institution_kind_label": lambda code: str(INSTITUTION_KIND_LABELS.get(code, code))}


def object_label(code: str) -> str:
    return str(OBJECT_LABELS.get(code, code))


def actor():
    return current_user._get_current_object()


def run(service, obj, *args) -> bool:
    """Call a moderation service and commit; on a domain error roll back and flash why."""
    try:
        service(actor(), obj, *args)
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    outbox.commit()
    return True


@bp.get("/")
@staff_required
def queue():
    """What waits for the office: PES, institutions and purchasers to verify, suspended and rejected PES."""
    tab = request.args.get("tab", "pes")
    if tab not in TABS:
        tab = "pes"
    pagination = db.paginate(queries.queue_query(tab), page=page_arg(), per_page=PER_PAGE, error_out=False)
    people, people_total = queries.waiting_people() if tab == "institutions" else ([], 0)
    return render_template("moderation/queue.html", tab=tab, tabs=TABS, pagination=pagination,
                           counts=queries.queue_counts(), people=people, people_total=people_total)


def _render_pes(pes: Pes, failed: str | None = None, form=None):
    forms = {action: cls(formdata=None) for action, cls, _msg in PES_ACTIONS.values()}
    if failed:
        forms[failed] = form
    own = actor().membership_of(pes.id) is not None
    html = render_template("moderation/pes_detail.html", pes=pes, forms=forms, own=own,
                           allowed={a: not own and services.can_change(pes, a)
                                    for a in services.PES_TRANSITIONS})
    return (html, UNPROCESSABLE) if failed else html


@bp.get("/pes/<int:pes_id>")
@staff_required
def pes_detail(pes_id: int):
    """Everything a moderator needs to judge a PES, and the actions its status allows."""
    return _render_pes(db.get_or_404(Pes, pes_id))


@bp.post("/pes/<int:pes_id>/<any(weryfikuj, odrzuc, zawies, przywroc):slug>")
@staff_required
def pes_action(pes_id: int, slug: str):
    """Verify, reject, suspend or reinstate a PES; its owners are told by mail."""
    action, form_cls, done = PES_ACTIONS[slug]
    pes = db.get_or_404(Pes, pes_id, with_for_update=True)
    back = redirect(url_for(".pes_detail", pes_id=pes.id))
    if not services.can_change(pes, action):
        flash(_("Nie zmieniono statusu: podmiot ma teraz status „%(status)s”, a ta czynność jest dla niego "
                "niedostępna.", status=status_label(pes.status)), "error")
        return back
    form = form_cls()
    if not form.validate_on_submit():
        return _render_pes(pes, failed=action, form=form)
    reason = form.reason.data if hasattr(form, "reason") else None
    if run(getattr(services, f"{action}_pes"), pes, reason):
        flash(str(done), "success")
    return back


# The other pages of the panel register their routes on `bp` when imported.
from marketplace.moderation import admin_views, institution_views, synonym_views  # noqa: F401
