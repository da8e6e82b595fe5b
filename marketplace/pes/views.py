"""PES pages: the public directory and profiles, and the members' panel (profile, data, team)."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import outbox
from marketplace.extensions import db, limiter
from marketplace.pes import images, services
from marketplace.pes.forms import ActionForm, DirectoryFilterForm, InviteForm, PesForm
from marketplace.pes.models import Pes, PesInvitation, PesMembership

# Every POST here is checked for its CSRF token by CSRFProtect before the view runs.
bp = Blueprint("pes", __name__)
PER_PAGE = 20


@bp.context_processor
def _helpers():
    return {"pes_stale": lambda pes: pes.data_is_stale(days=services.stale_days()),
            "can_edit_pes": lambda pes: services.can_edit(current_user, pes),
            "role_label": lambda code: str(services.ROLE_LABELS.get(code, code))}


def _pes_or_404(pes_id: int) -> Pes:
    return db.session.get(Pes, pes_id) or abort(404)


def _editable(pes_id: int) -> Pes:
    pes = _pes_or_404(pes_id)
    if not services.can_edit(current_user, pes):
        abort(403)
    return pes


def _team_owned(pes_id: int) -> Pes:
    pes = _editable(pes_id)
    if not services.can_manage_team(current_user, pes):
        abort(403)
    return pes


# Public pages ---------------------------------------------------------------------------------------

@bp.get("/pes")
def directory():
    """The public directory of verified PES, filtered by the powiat they serve, legal form and eligibility."""
    form = DirectoryFilterForm(request.args)
    stmt = services.directory_query(**form.filters())
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
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
    memberships = sorted(current_user.memberships, key=lambda m: m.pes.name.lower())
    return render_template("pes/my_pes.html", memberships=memberships)


@bp.route("/panel/pes/nowy", methods=["GET", "POST"])
@login_required
def create():
    """Register a new PES; the author becomes its owner and it waits for a moderator's verification."""
    form = PesForm()
    if form.validate_on_submit():
        logo = images.store(form.prepared_logo) if form.prepared_logo else None
        pes = services.create_pes(current_user, form.profile_data(), logo=logo)
        outbox.commit()
        flash(_("Profil „%(name)s” został zapisany i czeka na weryfikację przez moderatora. "
                "Do tego czasu nie jest widoczny publicznie.", name=pes.name), "info")
        return redirect(url_for("pes.my_pes"))
    return render_template("pes/form.html", form=form, pes=None)


@bp.route("/panel/pes/<int:pes_id>/edytuj", methods=["GET", "POST"])
@login_required
def edit(pes_id: int):
    """Edit a profile (owners and editors of this PES); saving also confirms that the data is current."""
    pes = _editable(pes_id)
    form = PesForm(obj=pes)
    if form.validate_on_submit():
        resubmitted = pes.status == "rejected"
        logo = images.store(form.prepared_logo) if form.prepared_logo else None
        unused = services.update_pes(current_user, pes, form.profile_data(), logo=logo,
                                     remove_logo=form.remove_logo.data)
        outbox.commit()
        images.delete(unused)
        flash(_("Profil został ponownie zgłoszony do weryfikacji.") if resubmitted
              else _("Zmiany zostały zapisane."), "info")
        return redirect(url_for("pes.my_pes"))
    return render_template("pes/form.html", form=form, pes=pes)


@bp.post("/panel/pes/<int:pes_id>/potwierdz")
@login_required
def confirm(pes_id: int):
    """The members confirm that the profile's data is still current."""
    pes = _editable(pes_id)
    services.confirm_data(pes)
    outbox.commit()
    flash(_("Dziękujemy. Dane „%(name)s” zostały potwierdzone.", name=pes.name), "info")
    return redirect(url_for("pes.my_pes"))


# The team -------------------------------------------------------------------------------------------

def _render_team(pes: Pes, invite_form: InviteForm, status: int = 200):
    return render_template("pes/team.html", pes=pes, invite_form=invite_form,
                           is_owner=services.can_manage_team(current_user, pes),
                           open_invitations=[i for i in pes.invitations if i.is_open]), status


@bp.get("/panel/pes/<int:pes_id>/zespol")
@login_required
def team(pes_id: int):
    """The people who manage this PES and the open invitations; owners change them."""
    return _render_team(_editable(pes_id), InviteForm())


@bp.post("/panel/pes/<int:pes_id>/zespol/zapros")
@login_required
@limiter.limit(lambda: current_app.config["MAIL_LIMIT"])
def invite(pes_id: int):
    """Owners invite someone by e-mail; the mail carries a signed link that expires."""
    pes = _team_owned(pes_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite(current_user, pes, form.email.data, form.role.data)
        except services.PesError as exc:
            form.email.errors.append(str(exc))
        else:
            outbox.commit()
            flash(_("Zaproszenie zostało wysłane na adres %(email)s.", email=form.email.data), "info")
            return redirect(url_for("pes.team", pes_id=pes.id))
    return _render_team(pes, form, 400 if "csrf_token" in form.errors else 422)


@bp.post("/panel/pes/<int:pes_id>/zespol/<int:member_id>/usun")
@login_required
def remove_member(pes_id: int, member_id: int):
    """Owners take someone off the team, but never the last owner."""
    pes = _team_owned(pes_id)
    membership = db.session.get(PesMembership, member_id)
    if membership is None or membership.pes_id != pes.id:
        abort(404)
    leaving = membership.user_id == current_user.id
    try:
        services.remove_member(current_user, pes, membership)
    except services.PesError as exc:
        flash(str(exc), "error")
        return redirect(url_for("pes.team", pes_id=pes.id))
    outbox.commit()
    flash(_("Osoba została usunięta z zespołu."), "info")
    return redirect(url_for("pes.my_pes") if leaving else url_for("pes.team", pes_id=pes.id))


@bp.post("/panel/pes/<int:pes_id>/zespol/zaproszenia/<int:invitation_id>/wycofaj")
@login_required
def revoke_invitation(pes_id: int, invitation_id: int):
    """Owners withdraw an invitation that has not been accepted yet."""
    pes = _team_owned(pes_id)
    invitation = db.session.get(PesInvitation, invitation_id)
    if invitation is None or invitation.pes_id != pes.id:
        abort(404)
    try:
        services.revoke_invitation(current_user, invitation)
    except services.PesError as exc:
        flash(str(exc), "error")
    else:
        outbox.commit()
        flash(_("Zaproszenie dla %(email)s zostało wycofane.", email=invitation.email), "info")
    return redirect(url_for("pes.team", pes_id=pes.id))


@bp.route("/zaproszenie/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The invitee opens the link, signs in (or signs up) with the invited address and accepts."""
    try:
        inv = services.load_invitation(token)
    except services.PesError as exc:
        return render_template("pes/invitation.html", problem=str(exc), invitation=None), 410
    if not current_user.is_authenticated:
        flash(_("Zaloguj się lub załóż konto na adres, na który przyszło zaproszenie, aby je przyjąć."), "info")
        return redirect(url_for("accounts.login", next=request.path))
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(current_user, inv)
        except services.WrongAccount as exc:
            return render_template("pes/invitation.html", problem=str(exc), invitation=inv), 403
        outbox.commit()
        flash(_("Jesteś teraz w zespole „%(name)s”.", name=inv.pes.name), "info")
        return redirect(url_for("pes.my_pes"))
    if request.method == "POST":
        abort(400)
    try:
        services.check_account(current_user, inv)
    except services.WrongAccount as exc:
        return render_template("pes/invitation.html", problem=str(exc), invitation=inv), 403
    return render_template("pes/invitation.html", problem=None, invitation=inv, form=form)
