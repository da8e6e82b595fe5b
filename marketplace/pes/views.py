"""PES pages: the public directory and profiles, and the members' panel (profile, data, team)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from accounts.decorators import confirmed_required, mail_limited
from marketplace import outbox
from marketplace.core.urls import page_arg
from marketplace.extensions import db
from marketplace.pes import images, services
from marketplace.pes import team as pes_team
from marketplace.pes.forms import ActionForm, DirectoryFilterForm, InviteForm, PesForm, RoleForm
from marketplace.pes.models import Pes, PesInvitation, PesMembership

# Every POST here is checked for its CSRF token by CSRFProtect before the view runs. Everything that
# changes a PES or its team needs a confirmed e-mail address (confirmed_required).
bp = Blueprint("pes", __name__)
PER_PAGE = 20
# The team page shows every member's account and the invitations: load them with the PES.
TEAM_LOADING = (selectinload(Pes.members).selectinload(PesMembership.user), selectinload(Pes.invitations))


@bp.context_processor
def _helpers():
    return {"pes_stale": lambda pes: pes.data_is_stale(days=services.stale_days()),
            "can_edit_pes": lambda pes: services.can_edit(current_user, pes),
            "role_label": services.member_role_label}


def _pes_or_404(pes_id: int, *options) -> Pes:
    return db.session.scalar(select(Pes).where(Pes.id == pes_id).options(*options)) or abort(404)


def _editable(pes_id: int, *options) -> Pes:
    pes = _pes_or_404(pes_id, *options)
    if not services.can_edit(current_user, pes):
        abort(403)
    return pes


def _team_owned(pes_id: int, *options) -> Pes:
    pes = _editable(pes_id, *options)
    if not services.can_manage_team(current_user, pes):
        abort(403)
    return pes


def _member_or_404(pes: Pes, member_id: int) -> PesMembership:
    membership = db.session.get(PesMembership, member_id)
    if membership is None or membership.pes_id != pes.id:
        abort(404)
    return membership


# Public pages ---------------------------------------------------------------------------------------

@bp.get("/pes")
def directory():
    """The public directory of verified PES, filtered by the powiat they serve, legal form and eligibility."""
    form = DirectoryFilterForm(request.args)
    stmt = services.directory_query(**form.filters())
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("pes/directory.html", form=form, page=page, args=form.url_args())


@bp.get("/pes/<int:pes_id>")
def profile(pes_id: int):
    """A PES profile: public once verified; its members and staff may preview it before that."""
    pes = _pes_or_404(pes_id)
    if not pes.is_public and not services.can_preview(current_user, pes):
        abort(404)
    return render_template("pes/profile.html", pes=pes)


# The members' panel ---------------------------------------------------------------------------------

@bp.get("/panel/pes")
@login_required
def my_pes():
    """The signed-in person's PES with their status, moderators' reasons and stale-data reminders."""
    memberships = db.session.scalars(
        select(PesMembership).join(PesMembership.pes).where(PesMembership.user_id == current_user.id)
        .options(contains_eager(PesMembership.pes)).order_by(Pes.name_key, Pes.id)).all()
    return render_template("pes/my_pes.html", memberships=memberships)


@bp.route("/panel/pes/nowy", methods=["GET", "POST"])
@confirmed_required
def create():
    """Register a new PES; the author becomes its owner and it waits for a moderator's verification."""
    form = PesForm()
    if form.validate_on_submit():
        with images.stored_for_saving(form.prepared_logo) as logo:
            pes = services.create_pes(current_user, form.profile_data(), logo=logo)
            outbox.commit()
        flash(_("Profil „%(name)s” został zapisany i czeka na weryfikację przez moderatora. "
                "Do tego czasu nie jest widoczny publicznie.", name=pes.name), "info")
        return redirect(url_for("pes.my_pes"))
    return render_template("pes/form.html", form=form, pes=None)


def _saved_message(was: str, now: str) -> tuple[str, str]:
    """The flash after an edit: plain about a profile that went back to review and is hidden meanwhile."""
    if now != "pending" or was == now:
        return _("Zmiany zostały zapisane."), "info"
    if was == "rejected":
        return _("Profil został ponownie zgłoszony do weryfikacji."), "info"
    return _("Zmiany zostały zapisane, ale zmieniły się dane, które sprawdza moderator, więc profil wrócił do "
             "weryfikacji. Do czasu ponownej weryfikacji nie jest widoczny publicznie ani w katalogu."), "warning"


@bp.route("/panel/pes/<int:pes_id>/edytuj", methods=["GET", "POST"])
@confirmed_required
def edit(pes_id: int):
    """Edit a profile (owners and editors of this PES); saving also confirms that the data is current."""
    pes = _editable(pes_id)
    form = PesForm(obj=pes)
    if form.validate_on_submit():
        was = pes.status
        with images.stored_for_saving(form.prepared_logo) as logo:
            unused = services.update_pes(current_user, pes, form.profile_data(), logo=logo,
                                         remove_logo=form.remove_logo.data)
            outbox.commit()
        images.delete(unused)  # only now that the change is committed
        flash(*_saved_message(was, pes.status))
        return redirect(url_for("pes.my_pes"))
    return render_template("pes/form.html", form=form, pes=pes)


@bp.post("/panel/pes/<int:pes_id>/potwierdz")
@confirmed_required
def confirm(pes_id: int):
    """The members confirm that the profile's data is still current."""
    pes = _editable(pes_id)
    services.confirm_data(pes)
    outbox.commit()
    flash(_("Dziękujemy. Dane „%(name)s” zostały potwierdzone.", name=pes.name), "info")
    return redirect(url_for("pes.my_pes"))


# The team -------------------------------------------------------------------------------------------

def _render_team(pes: Pes, invite_form: InviteForm, status: int = 200):
    owners = sum(1 for m in pes.members if m.role == "owner")
    return render_template("pes/team.html", pes=pes, invite_form=invite_form, owner_count=owners,
                           is_owner=services.can_manage_team(current_user, pes),
                           open_invitations=[i for i in pes.invitations if i.is_open]), status


@bp.get("/panel/pes/<int:pes_id>/zespol")
@login_required
def team(pes_id: int):
    """The people who manage this PES and the open invitations; owners change them."""
    return _render_team(_editable(pes_id, *TEAM_LOADING), InviteForm())


@bp.post("/panel/pes/<int:pes_id>/zespol/zapros")
@confirmed_required
@mail_limited()
def invite(pes_id: int):
    """Owners invite someone new by e-mail; the mail carries a signed link that expires."""
    pes = _team_owned(pes_id, *TEAM_LOADING)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            pes_team.invite(current_user, pes, form.email.data, form.role.data)
        except services.PesError as exc:  # refused before anything was changed
            form.email.errors.append(str(exc))
        else:
            outbox.commit()
            flash(_("Zaproszenie zostało wysłane na adres %(email)s.", email=form.email.data), "info")
            return redirect(url_for("pes.team", pes_id=pes.id))
    return _render_team(pes, form, 400 if "csrf_token" in form.errors else 422)


@bp.post("/panel/pes/<int:pes_id>/zespol/<int:member_id>/usun")
@confirmed_required
def remove_member(pes_id: int, member_id: int):
    """Owners take someone off the team, but never the last owner."""
    pes = _team_owned(pes_id)
    membership = _member_or_404(pes, member_id)
    leaving = membership.user_id == current_user.id
    try:
        pes_team.remove_member(current_user, pes, membership)
    except services.PesError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("pes.team", pes_id=pes_id))
    outbox.commit()
    flash(_("Osoba została usunięta z zespołu."), "info")
    return redirect(url_for("pes.my_pes") if leaving else url_for("pes.team", pes_id=pes_id))


@bp.post("/panel/pes/<int:pes_id>/zespol/<int:member_id>/rola")
@confirmed_required
def change_role(pes_id: int, member_id: int):
    """Owners hand over the PES: they make an editor an owner, or an owner an editor while another remains."""
    pes = _team_owned(pes_id)
    membership = _member_or_404(pes, member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        pes_team.change_role(current_user, pes, membership, form.role.data)
    except services.PesError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("pes.team", pes_id=pes_id))
    outbox.commit()
    who = membership.user.name or membership.user.email
    role = services.member_role_label(form.role.data)
    flash(_("Masz teraz rolę: %(role)s.", role=role) if membership.user_id == current_user.id
          else _("%(who)s ma teraz rolę: %(role)s.", who=who, role=role), "info")
    return redirect(url_for("pes.team", pes_id=pes_id))


@bp.post("/panel/pes/<int:pes_id>/zespol/zaproszenia/<int:invitation_id>/wycofaj")
@confirmed_required
def revoke_invitation(pes_id: int, invitation_id: int):
    """Owners withdraw an invitation that has not been accepted yet."""
    pes = _team_owned(pes_id)
    invitation = db.session.get(PesInvitation, invitation_id)
    if invitation is None or invitation.pes_id != pes.id:
        abort(404)
    try:
        pes_team.revoke_invitation(current_user, invitation)
    except services.PesError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        outbox.commit()
        flash(_("Zaproszenie dla %(email)s zostało wycofane.", email=invitation.email), "info")
    return redirect(url_for("pes.team", pes_id=pes_id))


def _invitation_page(problem: str | None, invitation, status: int = 200, form=None):
    return render_template("pes/invitation.html", problem=problem, invitation=invitation, form=form), status


@bp.route("/zaproszenie/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The invitee opens the link, signs in (or signs up) with the invited address and accepts."""
    try:
        inv = pes_team.load_invitation(token)
    except services.PesError as exc:
        return _invitation_page(str(exc), None, 410)
    if not current_user.is_authenticated:
        flash(_("Zaloguj się lub załóż konto na adres, na który przyszło zaproszenie, aby je przyjąć."), "info")
        return redirect(url_for("accounts.login", next=request.path))
    return _answer_invitation(inv)


@confirmed_required
def _answer_invitation(inv: PesInvitation):
    """The signed-in invitee, with a confirmed address, sees the invitation and accepts it."""
    try:
        pes_team.check_account(current_user, inv)
    except pes_team.WrongAccount as exc:
        return _invitation_page(str(exc), inv, 403)
    form = ActionForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            abort(400)
        return _invitation_page(None, inv, form=form)
    try:
        pes_team.accept_invitation(current_user, inv)
    except services.PesError as exc:
        db.session.rollback()
        return _invitation_page(str(exc), None, 409)
    outbox.commit()
    flash(_("Jesteś teraz w zespole „%(name)s”.", name=inv.pes.name), "info")
    return redirect(url_for("pes.my_pes"))
