"""Public purchasers in the panel: an institution, its people, and the checks of both."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from accounts.decorators import staff_required
from accounts.models import Institution, User
from marketplace.extensions import db
from marketplace.moderation import institutions
from marketplace.moderation.forms import ConfirmForm, InstitutionVerifyForm, RejectForm, RevokeForm
from marketplace.moderation.views import UNPROCESSABLE, actor, bp, run
from marketplace.pes.labels import status_label

# URL slug -> (service action, form class, message after success)
INSTITUTION_ACTIONS = {
    "weryfikuj": ("verify", InstitutionVerifyForm,
                  _l("Instytucja zweryfikowana; potwierdzone osoby dostały wiadomość.")),
    "odrzuc": ("reject", RejectForm, _l("Zgłoszenie instytucji odrzucone; jej użytkownicy dostali uzasadnienie.")),
    "cofnij": ("revoke", RevokeForm, _l("Weryfikacja instytucji cofnięta; jej użytkownicy nie mają już dostępu "
                                        "do narzędzi zamawiających i dostali uzasadnienie.")),
}
PERSON_ACTIONS = {
    "potwierdz": ("verify", _l("Potwierdzono powiązanie osoby %(email)s z instytucją.")),
    "odrzuc": ("reject", _l("Odrzucono powiązanie osoby %(email)s z instytucją; dostała uzasadnienie.")),
}


def _person_form(user: User, submitted: bool = False) -> RejectForm:
    """The form refusing one person's tie; each person's has its own prefix, so its ids are unique."""
    form = RejectForm(prefix=f"p{user.id}") if submitted else RejectForm(formdata=None, prefix=f"p{user.id}")
    # The address tells the fields apart for screen readers; Markup.format escapes it.
    form.reason.label.text = Markup('{} <span class="visually-hidden">– {}</span>').format(
        _("Powód odrzucenia"), user.email)
    return form


def _render_institution(inst: Institution, failed: str | None = None, form=None, person: User | None = None):
    """The institution's page; a form that did not validate is shown again with its messages (422)."""
    people = sorted(inst.users, key=lambda u: u.id)
    waiting = institutions.unchecked_people(inst)
    forms = {"verify": InstitutionVerifyForm(formdata=None, people=" ".join(str(u.id) for u in waiting)),
             "reject": RejectForm(formdata=None), "revoke": RevokeForm(formdata=None)}
    person_forms = {u.id: _person_form(u) for u in people}
    if person is not None:
        person_forms[person.id] = form
    elif failed:
        forms[failed] = form
    own = actor().institution_id == inst.id
    html = render_template(
        "moderation/institution_detail.html", institution=inst, people=people, waiting=waiting, forms=forms,
        person_forms=person_forms, own=own,
        allowed={a: not own and institutions.can_change_institution(inst, a)
                 for a in institutions.INSTITUTION_TRANSITIONS},
        person_allowed={u.id: {a: not own and institutions.can_change_person(u, a)
                               for a in institutions.PERSON_TRANSITIONS} for u in people})
    return (html, UNPROCESSABLE) if failed else html


@bp.get("/instytucje/<int:institution_id>")
@staff_required
def institution_detail(institution_id: int):
    """A public purchaser's institution and its people, to check each before the tools open to them."""
    return _render_institution(db.get_or_404(Institution, institution_id))


@bp.post("/instytucje/<int:institution_id>/<any(weryfikuj, odrzuc, cofnij):slug>")
@staff_required
def institution_action(institution_id: int, slug: str):
    """Verify, reject or revoke an institution; its people are told by mail."""
    action, form_cls, done = INSTITUTION_ACTIONS[slug]
    inst = db.get_or_404(Institution, institution_id, with_for_update=True)
    back = redirect(url_for(".institution_detail", institution_id=inst.id))
    if not institutions.can_change_institution(inst, action):
        flash(_("Nie zmieniono statusu: instytucja ma teraz status „%(status)s”, a ta czynność jest dla niej "
                "niedostępna.", status=status_label(inst.status)), "error")
        return back
    form = form_cls()
    if not form.validate_on_submit():
        return _render_institution(inst, failed=action, form=form)
    args = (form.people_ids,) if action == "verify" else (form.reason.data,)
    if run(getattr(institutions, f"{action}_institution"), inst, *args):
        flash(str(done), "success")
    return back


@bp.post("/instytucje/<int:institution_id>/osoby/<int:user_id>/<any(potwierdz, odrzuc):slug>")
@staff_required
def person_action(institution_id: int, user_id: int, slug: str):
    """Confirm or refuse that one person acts for the institution; they are told by mail."""
    action, done = PERSON_ACTIONS[slug]
    inst = db.get_or_404(Institution, institution_id, with_for_update=True)
    user = db.get_or_404(User, user_id, with_for_update=True)
    if user.institution_id != inst.id:
        abort(404)
    back = redirect(url_for(".institution_detail", institution_id=inst.id, _anchor=f"person-{user.id}"))
    if not institutions.can_change_person(user, action):
        flash(_("Nie zmieniono statusu osoby %(email)s: ta czynność jest teraz dla niej niedostępna.",
                email=user.email), "error")
        return back
    form = _person_form(user, submitted=True) if action == "reject" else ConfirmForm()
    if not form.validate_on_submit():
        return _render_institution(inst, failed=action, form=form, person=user)
    args = (form.reason.data,) if action == "reject" else ()
    if run(getattr(institutions, f"{action}_person"), user, *args):
        flash(str(done) % {"email": user.email}, "success")
    return back
