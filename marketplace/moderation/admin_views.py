"""The administrator's pages of the panel: account roles and the audit log."""
from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts.decorators import role_required
from accounts.models import User
from marketplace.core.urls import MAX_INT, page_arg
from marketplace.extensions import db
from marketplace.moderation import queries, services
from marketplace.moderation.forms import AuditFilterForm, RoleForm, UserSearchForm, role_label
from marketplace.moderation.views import PER_PAGE, UNPROCESSABLE, bp, run
from marketplace.pes.labels import status_label

FIELD_LABELS = {"status": _l("status"), "status_reason": _l("uzasadnienie"),
                "verified_at": _l("zweryfikowano"), "role": _l("rola"),
                "data_confirmed_at": _l("dane potwierdzono"),
                "institution_status": _l("powiązanie z instytucją"),
                "institution_checked_at": _l("powiązanie sprawdzono"),
                "words": _l("słowa"), "note": _l("uwaga"),
                "version": _l("wersja"), "title_pl": _l("tytuł"), "effective_on": _l("obowiązuje od")}
STATUS_FIELDS = ("status", "institution_status")

admin_required = role_required("admin")


def _role_form(user: User, formdata=None) -> RoleForm:
    form = RoleForm(formdata=formdata, prefix=f"u{user.id}", role=user.role)
    form.role.label.text = _("Rola konta %(email)s", email=user.email)
    return form


def _render_users(failed: User | None = None, form=None):
    search_form = UserSearchForm(request.args)
    search = search_form.q.data if search_form.validate() else None
    pagination = db.paginate(queries.user_query(search), page=page_arg(), per_page=PER_PAGE, error_out=False)
    role_forms = {user.id: _role_form(user) for user in pagination.items}
    if failed is not None:
        role_forms[failed.id] = form
    html = render_template("moderation/users.html", form=search_form, search=search, pagination=pagination,
                           role_forms=role_forms, failed_form=form)
    return (html, UNPROCESSABLE) if failed is not None else html


@bp.get("/uzytkownicy")
@admin_required
def users():
    """Find an account by e-mail and change its role."""
    return _render_users()


@bp.post("/uzytkownicy/<int:user_id>/rola")
@admin_required
def change_role(user_id: int):
    """Give an account another role (an admin cannot demote themself)."""
    user = db.get_or_404(User, user_id)
    form = _role_form(user, formdata=request.form)
    if not form.validate_on_submit():
        return _render_users(failed=user, form=form)
    if run(services.change_role, user, form.role.data):
        flash(_("Konto %(email)s ma teraz rolę: %(role)s.", email=user.email, role=role_label(user.role)),
              "success")
    page = page_arg()
    return redirect(url_for(".users", q=request.args.get("q") or None, page=page if page > 1 else None))


def _value(field: str, value) -> str:
    if value is None or value == "":
        return "—"
    if field in STATUS_FIELDS:
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
        return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return str(value)


def describe_changes(entry) -> list[tuple[str, str, str]]:
    """The fields an audit entry changed, as (field, before, after) in words."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = dict.fromkeys([*before, *after])
    return [(str(FIELD_LABELS.get(k, k)), _value(k, before.get(k)), _value(k, after.get(k)))
            for k in keys if before.get(k) != after.get(k)]


def _object_filter() -> tuple[str, int] | None:
    """The one object whose entries are asked for; a type or number no entry can have is ignored."""
    kind = (request.args.get("object_type") or "")[:40]
    raw = request.args.get("object_id") or ""
    if not kind or not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_INT:
        return None
    return kind, int(raw)


@bp.get("/dziennik")
@admin_required
def audit_log():
    """Who did what and why: every moderation and admin action, newest first."""
    form = AuditFilterForm(request.args)
    form.set_choices(queries.audit_action_choices(), queries.audit_actor_choices())
    object_type, object_id = _object_filter() or (None, None)
    query = queries.audit_query(form.action.data or "", form.actor.data or "", object_type, object_id)
    pagination = db.paginate(query, page=page_arg(), per_page=PER_PAGE * 2, error_out=False)
    args = {k: v for k, v in (("action", form.action.data), ("actor", form.actor.data),
                              ("object_type", object_type), ("object_id", object_id)) if v}
    return render_template("moderation/audit_log.html", form=form, pagination=pagination, args=args,
                           names=queries.object_names(pagination.items), describe=describe_changes,
                           object_filter=(object_type, object_id) if object_type else None)
