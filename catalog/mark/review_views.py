"""The office's queue of mark applications and its actions on marks, and the committee's (Kapituła) pages."""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.decorators import role_required, staff_required
from accounts.models import COMMITTEE_ROLES, User
from catalog.mark import lifecycle, review, services
from catalog.mark.forms import ActionForm, DecisionForm, ReasonForm, ReinstateForm, ReturnForm, ScoreForm
from catalog.mark.models import CRITERIA, MarkApplication, QualityMark
from catalog.mark.views import UNPROCESSABLE, bp
from marketplace import outbox
from marketplace.core.urls import page_arg
from marketplace.extensions import db

PER_PAGE = 20
QUEUE_TABS = ("submitted", "returned", "in_review", "marks")
MARK_ACTIONS = {"zawies": "suspend", "cofnij": "revoke", "przywroc": "reinstate"}
DETAIL_LOADING = (selectinload(MarkApplication.attachments), selectinload(MarkApplication.scores))


def _actor() -> User:
    return current_user._get_current_object()


def _application(app_id: int, lock: bool = False) -> MarkApplication:
    """The application (with its row locked when it is about to change), or 404."""
    if lock:
        return services.locked_application(app_id, *DETAIL_LOADING) or abort(404)
    return db.session.scalar(select(MarkApplication).where(MarkApplication.id == app_id)
                             .options(*DETAIL_LOADING)) or abort(404)


def forbidden(message: str):
    """403 with a page that says why."""
    abort(make_response(render_template("errors/error.html", code=403, title=_("Brak dostępu"),
                                        text=message), 403))


def _run(step, *args) -> bool:
    """Call a review step and commit; a refusal rolls back, 403 for the wrong person, else a flash saying why."""
    try:
        step(_actor(), *args)
    except services.NotPermitted as exc:
        db.session.rollback()
        forbidden(str(exc))
    except services.MarkError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    outbox.commit()
    return True


# The office -----------------------------------------------------------------------------------------

@bp.get("/moderacja/znak")
@staff_required
def queue():
    """Applications waiting for the office's completeness check, and the marks it may suspend or revoke."""
    tab = request.args.get("tab", "submitted")
    tab = tab if tab in QUEUE_TABS else "submitted"
    if tab == "marks":
        stmt = select(QualityMark).options(selectinload(QualityMark.offering), selectinload(QualityMark.pes)) \
            .order_by(QualityMark.valid_from.desc(), QualityMark.id.desc())
    else:
        stmt = review.queue_query(tab).options(selectinload(MarkApplication.offering),
                                               selectinload(MarkApplication.pes))
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("mark/queue.html", tab=tab, tabs=QUEUE_TABS, page=page)


def _render_office(application: MarkApplication, return_form=None, status: int = 200):
    own = services.is_member(current_user, application.pes_id)
    return render_template("mark/office_detail.html", application=application, own=own,
                           return_form=return_form or ReturnForm(formdata=None),
                           send_form=ActionForm(formdata=None)), status


@bp.get("/moderacja/znak/<int:app_id>")
@staff_required
def office_detail(app_id: int):
    """An application as the office checks it for completeness."""
    return _render_office(_application(app_id))


@bp.post("/moderacja/znak/<int:app_id>/zwroc")
@staff_required
def office_return(app_id: int):
    """Return an incomplete application to the PES with comments."""
    application = _application(app_id, lock=True)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _render_office(application, return_form=form, status=UNPROCESSABLE)
    if _run(review.return_application, application, form.comment.data):
        flash(_("Wniosek zwrócono do uzupełnienia; podmiot dostał wiadomość z uwagami."), "success")
    return redirect(url_for("mark.office_detail", app_id=app_id))


@bp.post("/moderacja/znak/<int:app_id>/przekaz")
@staff_required
def office_send(app_id: int):
    """Pass a complete application to the committee."""
    application = _application(app_id, lock=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    if _run(review.send_to_committee, application):
        flash(_("Wniosek przekazano kapitule."), "success")
    return redirect(url_for("mark.office_detail", app_id=app_id))


def _render_mark(mark: QualityMark, failed: str | None = None, form=None):
    forms = {"suspend": ReasonForm(formdata=None, prefix="suspend"),
             "revoke": ReasonForm(formdata=None, prefix="revoke"),
             "reinstate": ReinstateForm(formdata=None, prefix="reinstate")}
    if failed:
        forms[failed] = form
    allowed = {a: lifecycle.can_change(mark, a) for a in forms}
    html = render_template("mark/office_mark.html", mark=mark, forms=forms, allowed=allowed,
                           own=services.is_member(current_user, mark.pes_id))
    return (html, UNPROCESSABLE) if failed else html


@bp.get("/moderacja/znak/znaki/<int:mark_id>")
@staff_required
def office_mark(mark_id: int):
    """An awarded mark with its history, and the office's suspension, revocation and reinstatement."""
    return _render_mark(db.get_or_404(QualityMark, mark_id))


@bp.post("/moderacja/znak/znaki/<int:mark_id>/<any(zawies, cofnij, przywroc):slug>")
@staff_required
def office_mark_action(mark_id: int, slug: str):
    """Suspend, revoke or reinstate a mark, with reasons mailed to the PES."""
    action = MARK_ACTIONS[slug]
    lifecycle.open_renewals(mark_id, lock=True)  # applications before marks, the order every step locks in
    mark = db.get_or_404(QualityMark, mark_id, with_for_update=True, populate_existing=True)
    form = (ReinstateForm if action == "reinstate" else ReasonForm)(prefix=action)
    if not form.validate_on_submit():
        return _render_mark(mark, failed=action, form=form)
    if _run(lifecycle.change_status, mark, action, form.reason.data):
        flash(_("Zmieniono stan znaku %(number)s; podmiot dostał wiadomość.", number=mark.number), "success")
    return redirect(url_for("mark.office_mark", mark_id=mark_id))


# The committee --------------------------------------------------------------------------------------

@bp.get("/kapitula")
@role_required(*COMMITTEE_ROLES)
def committee():
    """Applications before the committee, with what the signed-in member has scored."""
    stmt = review.queue_query("in_review").options(selectinload(MarkApplication.offering),
                                                   selectinload(MarkApplication.pes),
                                                   selectinload(MarkApplication.scores))
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("mark/committee.html", page=page)


def _render_committee(application: MarkApplication, score_form=None, decision_form=None, status: int = 200):
    mine = review.member_scores(application, current_user.id)
    own = services.is_member(current_user, application.pes_id)
    if score_form is None:
        score_form = ScoreForm(formdata=None)
        for criterion, score, comment in score_form.criteria():
            if criterion in mine:
                score.data, comment.data = str(mine[criterion].score), mine[criterion].comment
    # A member of the applying PES sees the application, but not what the others scored and wrote about it.
    scores = [] if own else sorted(application.scores, key=lambda s: (s.member_id or 0, CRITERIA.index(s.criterion)))
    members = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({s.member_id for s in scores if s.member_id})))} if scores else {}
    return render_template(
        "mark/committee_detail.html", application=application, own=own, own_message=review.own_pes_message(),
        score_form=score_form, scored=bool(mine), decision_form=decision_form or DecisionForm(formdata=None),
        averages=None if own else review.averages(application), criteria=CRITERIA, members=members,
        scores=scores, is_chair=current_user.role == "committee_chair",
        quorum=(review.scorers(application), review.min_scorers())), status


def _committee_application(app_id: int, lock: bool = False) -> MarkApplication:
    application = _application(app_id, lock=lock)
    if application.status not in services.COMMITTEE_STATUSES:
        abort(404)
    return application


@bp.get("/kapitula/<int:app_id>")
@role_required(*COMMITTEE_ROLES)
def committee_detail(app_id: int):
    """An application before the committee: the criteria, attachments, scores so far and their averages."""
    return _render_committee(_committee_application(app_id))


@bp.post("/kapitula/<int:app_id>/ocena")
@role_required(*COMMITTEE_ROLES)
def committee_score(app_id: int):
    """A committee member scores (or re-scores) every criterion; not for applications of their own PES."""
    application = _committee_application(app_id, lock=True)
    if services.is_member(current_user, application.pes_id):
        forbidden(review.own_pes_message())
    form = ScoreForm()
    if not form.validate_on_submit():
        return _render_committee(application, score_form=form, status=UNPROCESSABLE)
    if _run(review.score, application, form.scores()):
        flash(_("Twoja ocena została zapisana. Możesz ją zmienić do czasu decyzji."), "success")
    return redirect(url_for("mark.committee_detail", app_id=app_id))


@bp.post("/kapitula/<int:app_id>/decyzja")
@role_required("committee_chair")
def committee_decide(app_id: int):
    """The chair grants or refuses the mark, with reasons."""
    application = _committee_application(app_id, lock=True)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_committee(application, decision_form=form, status=UNPROCESSABLE)
    if _run(review.decide, application, form.decision.data, form.reason.data):
        if form.decision.data == "grant":
            flash(_("Znak przyznany; podmiot dostał wiadomość z numerem certyfikatu."), "success")
        else:
            flash(_("Odmowę zapisano; podmiot dostał wiadomość z uzasadnieniem."), "success")
    return redirect(url_for("mark.committee_detail", app_id=app_id))
