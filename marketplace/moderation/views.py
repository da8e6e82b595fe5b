"""The regional office's panel: the verification queue, moderation actions, roles and the audit log."""
from datetime import datetime, timezone

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.decorators import role_required, staff_required
from accounts.models import Institution, User
from marketplace import outbox
from marketplace.extensions import db
from marketplace.moderation import services
from marketplace.moderation.forms import (AuditFilterForm, ConfirmForm, RejectForm, ReinstateForm, RoleForm,
                                          SuspendForm, UserSearchForm, role_label)
from marketplace.moderation.services import ModerationError, NotPermitted, action_label
from marketplace.pes.labels import INSTITUTION_KIND_LABELS, status_label
from marketplace.pes.models import Pes

bp = Blueprint("moderation", __name__, url_prefix="/moderacja")

PER_PAGE = 20
TABS = ("pes", "institutions", "suspended", "rejected")
# URL slug -> (service action, form class, message after success)
PES_ACTIONS = {
    "weryfikuj": ("verify", ConfirmForm, _l("Podmiot jest zweryfikowany i widoczny publicznie.")),
    "odrzuc": ("reject", RejectForm, _l("Zgłoszenie odrzucone; właściciele dostali uzasadnienie.")),
    "zawies": ("suspend", SuspendForm, _l("Profil zawieszony – nie jest już widoczny publicznie.")),
    "przywroc": ("reinstate", ReinstateForm, _l("Profil przywrócony i znów widoczny publicznie.")),
}
INSTITUTION_ACTIONS = {
    "weryfikuj": ("verify", ConfirmForm, _l("Instytucja zweryfikowana; jej użytkownicy dostali wiadomość.")),
    "odrzuc": ("reject", RejectForm,
               _l("Zgłoszenie instytucji odrzucone; jej użytkownicy dostali uzasadnienie.")),
}
FIELD_LABELS = {"status": _l("status"), "status_reason": _l("uzasadnienie"),
                "verified_at": _l("zweryfikowano"), "role": _l("rola"),
                "data_confirmed_at": _l("dane potwierdzono")}
OBJECT_LABELS = {"pes": _l("PES"), "institution": _l("instytucja"), "user": _l("konto")}

admin_required = role_required("admin")


@bp.context_processor
def _helpers():
    return {"role_label": role_label, "action_label": action_label, "object_label": _object_label,
            "institution_kind_label": lambda code: str(INSTITUTION_KIND_LABELS.get(code, code))}


def _object_label(code: str) -> str:
    return str(OBJECT_LABELS.get(code, code))


def _actor():
    return current_user._get_current_object()


def _page() -> int:
    return max(request.args.get("page", 1, type=int), 1)


@bp.get("/")
@staff_required
def queue():
    """What waits for the office: PES and institutions to verify, suspended and rejected PES."""
    tab = request.args.get("tab", "pes")
    if tab not in TABS:
        tab = "pes"
    pagination = db.paginate(services.queue_query(tab), page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("moderation/queue.html", tab=tab, tabs=TABS, pagination=pagination,
                           counts=services.queue_counts())


def _render_pes(pes: Pes, failed: str | None = None, form=None):
    forms = {action: cls(formdata=None) for action, cls, _msg in PES_ACTIONS.values()}
    if failed:
        forms[failed] = form
    own = _actor().membership_of(pes.id) is not None
    return render_template("moderation/pes_detail.html", pes=pes, forms=forms, own=own,
                           allowed={a: not own and services.can_change(pes, a)
                                    for a in services.PES_TRANSITIONS})


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
    if not _run(getattr(services, f"{action}_pes"), pes, reason):
        return back
    flash(str(done), "success")
    return back


def _run(service, obj, *args) -> bool:
    """Call a moderation service and commit; on a domain error roll back and flash why."""
    try:
        service(_actor(), obj, *args)
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    outbox.commit()
    return True


def _render_institution(inst: Institution, form=None):
    return render_template("moderation/institution_detail.html", institution=inst,
                           verify_form=ConfirmForm(formdata=None),
                           reject_form=form or RejectForm(formdata=None),
                           allowed={a: services.can_change_institution(inst, a)
                                    for a in services.INSTITUTION_TRANSITIONS})


@bp.get("/instytucje/<int:institution_id>")
@staff_required
def institution_detail(institution_id: int):
    """A public purchaser's institution and its users, to check before verifying it."""
    return _render_institution(db.get_or_404(Institution, institution_id))


@bp.post("/instytucje/<int:institution_id>/<any(weryfikuj, odrzuc):slug>")
@staff_required
def institution_action(institution_id: int, slug: str):
    """Verify or reject an institution; its users are told by mail."""
    action, form_cls, done = INSTITUTION_ACTIONS[slug]
    inst = db.get_or_404(Institution, institution_id, with_for_update=True)
    back = redirect(url_for(".institution_detail", institution_id=inst.id))
    if not services.can_change_institution(inst, action):
        flash(_("Nie zmieniono statusu: instytucja ma teraz status „%(status)s”, a ta czynność jest dla niej "
                "niedostępna.", status=status_label(inst.status)), "error")
        return back
    form = form_cls()
    if not form.validate_on_submit():
        return _render_institution(inst, form=form if action == "reject" else None)
    args = (form.reason.data,) if action == "reject" else ()
    if _run(getattr(services, f"{action}_institution"), inst, *args):
        flash(str(done), "success")
    return back


@bp.get("/uzytkownicy")
@admin_required
def users():
    """Find an account by e-mail and change its role."""
    form = UserSearchForm(request.args)
    search = form.q.data if form.validate() else None
    pagination = db.paginate(services.user_query(search), page=_page(), per_page=PER_PAGE, error_out=False)
    role_forms = {}
    for user in pagination.items:
        role_forms[user.id] = RoleForm(formdata=None, prefix=f"u{user.id}", role=user.role)
        role_forms[user.id].role.label.text = _("Rola konta %(email)s", email=user.email)
    return render_template("moderation/users.html", form=form, search=search, pagination=pagination,
                           role_forms=role_forms)


@bp.post("/uzytkownicy/<int:user_id>/rola")
@admin_required
def change_role(user_id: int):
    """Give an account another role (an admin cannot demote themself)."""
    user = db.get_or_404(User, user_id)
    back = redirect(url_for(".users", q=request.args.get("q") or None,
                            page=request.args.get("page", type=int)))
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        flash(_("Wybierz jedną z ról z listy."), "error")
        return back
    if _run(services.change_role, user, form.role.data):
        flash(_("Konto %(email)s ma teraz rolę: %(role)s.", email=user.email, role=role_label(user.role)),
              "success")
    return back


def _value(field: str, value) -> str:
    if value is None or value == "":
        return "—"
    if field == "status":
        return status_label(value)
    if field == "role":
        return role_label(value)
    if isinstance(value, bool):
        return _("tak") if value else _("nie")
    if field.endswith("_at") and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return str(value)


def describe_changes(entry) -> list[tuple[str, str, str]]:
    """The fields an audit entry changed, as (field, before, after) in words."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = dict.fromkeys([*before, *after])
    return [(str(FIELD_LABELS.get(k, k)), _value(k, before.get(k)), _value(k, after.get(k)))
            for k in keys if before.get(k) != after.get(k)]


@bp.get("/dziennik")
@admin_required
def audit_log():
    """Who did what and why: every moderation and admin action, newest first."""
    form = AuditFilterForm(request.args)
    form.set_choices(services.audit_action_choices(), services.audit_actor_choices())
    object_type = request.args.get("object_type") or None
    object_id = request.args.get("object_id", type=int)
    query = services.audit_query(form.action.data or "", form.actor.data or "", object_type, object_id)
    pagination = db.paginate(query, page=_page(), per_page=PER_PAGE * 2, error_out=False)
    args = {k: v for k, v in (("action", form.action.data), ("actor", form.actor.data),
                              ("object_type", object_type), ("object_id", object_id)) if v}
    return render_template("moderation/audit_log.html", form=form, pagination=pagination, args=args,
                           names=services.object_names(pagination.items), describe=describe_changes,
                           object_filter=(object_type, object_id) if object_type and object_id else None)
