"""The office's and the committee's steps on an application: return or pass on, score, decide, award.

Every step checks the actor's role and that the actor is not a member of the applying PES (nobody judges
their own), writes the audit log and mails the PES. Functions flush and never commit. The views load the
application with its row locked (services.locked_application), so the status checks here see the latest
state even when a form is sent twice at once.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from catalog.mark import eligibility, numbering
from catalog.mark.labels import application_label
from catalog.mark.models import CRITERIA, MarkApplication, MarkScore, QualityMark
from catalog.mark.services import MarkError, NotPermitted, date_snapshot, is_member, mail_application
from marketplace import audit, clock
from marketplace.core.urls import external_url
from marketplace.extensions import db

APPLICATION_AUDIT = ("status", "return_comment", "decision_reason")
MARK_AUDIT = ("number", "offering_id", "valid_from", "valid_until", "status", "status_reason")
REASON_MAX = 5000


def clean_reason(text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise MarkError(message)
    if len(text) > REASON_MAX:
        raise MarkError(_("Tekst może mieć najwyżej %(n)d znaków.", n=REASON_MAX))
    return text


def own_pes_message() -> str:
    return _("Jesteś członkiem podmiotu, który złożył ten wniosek, więc nie możesz go oceniać ani o nim "
             "decydować. Zrobi to inna osoba.")


def _check(actor: User, application: MarkApplication, allowed: bool, status: str) -> None:
    if not allowed:
        raise NotPermitted(_("Nie masz uprawnień do tej czynności."))
    if is_member(actor, application.pes_id):
        raise NotPermitted(own_pes_message())
    if application.status != status:
        raise MarkError(_("Tej czynności nie można wykonać, gdy wniosek ma status „%(status)s”.",
                          status=application_label(application.status)))


def change(actor: User, application: MarkApplication, action: str, reason: str | None, **changes) -> None:
    """Set fields of an application and write the audit entry with the state before and after."""
    before = audit.snapshot(application, APPLICATION_AUDIT)
    for name, value in changes.items():
        setattr(application, name, value)
    db.session.flush()
    audit.record(actor, action, application, before=before,
                 after=audit.snapshot(application, APPLICATION_AUDIT), reason=reason)


def _panel_link() -> str:
    return external_url("mark.panel")


def return_application(actor: User, application: MarkApplication, comment: str | None) -> None:
    """The office returns an incomplete application with comments; the PES corrects and resubmits it."""
    _check(actor, application, actor.is_staff, "submitted")
    comment = clean_reason(comment, _("Napisz, co trzeba uzupełnić."))
    change(actor, application, "mark.return", comment, status="returned", return_comment=comment)
    mail_application(application, _l("Wniosek o znak jakości wymaga uzupełnienia"), "mail/mark/returned.txt",
                     comment=comment, link=_panel_link())


def send_to_committee(actor: User, application: MarkApplication) -> None:
    """The office found the application complete and passes it to the committee."""
    _check(actor, application, actor.is_staff, "submitted")
    change(actor, application, "mark.to_committee", None, status="in_review")
    mail_application(application, _l("Wniosek o znak jakości trafił do kapituły"), "mail/mark/in_review.txt",
                     link=_panel_link())


def member_scores(application: MarkApplication, member_id: int) -> dict[str, MarkScore]:
    return {s.criterion: s for s in application.scores if s.member_id == member_id}


def _save_score(application: MarkApplication, member_id: int, criterion: str, value: int, comment: str) -> None:
    """Insert the member's score, or update it when it is there already, even when a twin request has just
    inserted it: the insert runs in a savepoint and a clash with the unique key becomes an update."""
    row = member_scores(application, member_id).get(criterion)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(MarkScore(application_id=application.id, member_id=member_id, criterion=criterion,
                                         score=value, comment=comment, created_at=clock.now()))
            return
        except IntegrityError:
            row = db.session.scalar(select(MarkScore).where(
                MarkScore.application_id == application.id, MarkScore.member_id == member_id,
                MarkScore.criterion == criterion))
    row.score, row.comment = value, comment


def score(actor: User, application: MarkApplication, scores: dict[str, tuple[int, str]]) -> None:
    """A committee member scores every criterion 0–5 with a comment; scores may change until the decision."""
    _check(actor, application, actor.is_committee, "in_review")
    if set(scores) != set(CRITERIA) or any(not 0 <= value <= 5 for value, _c in scores.values()):
        raise MarkError(_("Oceń każde kryterium w skali od 0 do 5."))
    before = {c: [s.score, s.comment] for c, s in member_scores(application, actor.id).items()} or None
    for criterion, (value, comment) in scores.items():
        _save_score(application, actor.id, criterion, value, (comment or "")[:2000])
    db.session.flush()
    db.session.expire(application, ["scores"])  # the new rows were added by key, not through the collection
    audit.record(actor, "mark.score", application, before=before,
                 after={c: [v, comment] for c, (v, comment) in scores.items()})


def averages(application: MarkApplication) -> dict[str, tuple[float | None, int]]:
    """The average score and the number of scores per criterion (for the chair's decision)."""
    out = {}
    for criterion in CRITERIA:
        values = [s.score for s in application.scores if s.criterion == criterion]
        out[criterion] = (round(sum(values) / len(values), 2) if values else None, len(values))
    return out


def scorers(application: MarkApplication) -> int:
    """How many committee members have scored every criterion."""
    done: dict[int | None, set[str]] = {}
    for s in application.scores:
        done.setdefault(s.member_id, set()).add(s.criterion)
    return sum(1 for member, criteria in done.items() if member is not None and criteria >= set(CRITERIA))


def min_scorers() -> int:
    return max(1, int(current_app.config.get("MARK_MIN_SCORERS", 2)))


def _check_quorum(application: MarkApplication) -> None:
    needed, done = min_scorers(), scorers(application)
    if done == 0 and not application.scores:
        raise MarkError(_("Żaden członek kapituły nie ocenił jeszcze tego wniosku."))
    if done < needed:
        raise MarkError(ngettext(
            "Decyzję można podjąć, gdy wszystkie kryteria oceni co najmniej %(num)d członek kapituły "
            "(komplet ocen: %(done)d).",
            "Decyzję można podjąć, gdy wszystkie kryteria oceni co najmniej %(num)d członków kapituły "
            "(komplet ocen: %(done)d).", needed, done=done))


def _check_not_blocked(application: MarkApplication) -> None:
    """No new mark while a suspended or revoked mark of the offering still runs. The offering's marks are
    locked first, so a suspension being saved at this moment is waited for and seen."""
    marks = db.session.scalars(select(QualityMark).where(QualityMark.offering_id == application.offering_id)
                               .order_by(QualityMark.id).with_for_update()
                               .execution_options(populate_existing=True)).all()
    blocking = eligibility.blocking_mark(marks, clock.today())
    if blocking is not None:
        raise MarkError(_("Nie można przyznać znaku: %(why)s", why=eligibility.blocking_message(blocking)))


def award(application: MarkApplication) -> QualityMark:
    """Create the mark with the next certificate number; a renewal starts the day after the old mark ends.
    The mark keeps the offering's title and the PES's name of the day, as printed on the certificate."""
    today = clock.today()
    start = today
    renewed = db.session.get(QualityMark, application.renews_mark_id) if application.renews_mark_id else None
    if renewed is not None and renewed.valid_until >= today:
        start = renewed.valid_until + timedelta(days=1)
    valid_from, valid_until = numbering.validity(start)
    mark = QualityMark(number=numbering.allocate(today.year), offering_id=application.offering_id,
                       pes_id=application.pes_id, application_id=application.id,
                       offering_title=application.offering.title[:200], pes_name=application.pes.name[:250],
                       valid_from=valid_from, valid_until=valid_until, status="active", created_at=clock.now())
    db.session.add(mark)
    db.session.flush()
    return mark


def decide(actor: User, application: MarkApplication, decision: str, reason: str | None) -> QualityMark | None:
    """The committee's chair grants or refuses the mark, with reasons; returns the new mark when granted."""
    _check(actor, application, actor.role == "committee_chair", "in_review")
    if decision not in ("grant", "refuse"):
        raise MarkError(_("Wybierz decyzję."))
    reason = clean_reason(reason, _("Podaj uzasadnienie decyzji."))
    _check_quorum(application)
    if decision == "grant":
        _check_not_blocked(application)
    status = "granted" if decision == "grant" else "refused"
    change(actor, application, f"mark.{decision}", reason, status=status, decision_reason=reason,
           decided_by_id=actor.id, decided_at=clock.now())
    if decision == "refuse":
        mail_application(application, _l("Odmowa przyznania znaku jakości"), "mail/mark/refused.txt",
                         reason=reason, link=_panel_link())
        return None
    mark = award(application)
    audit.record(actor, "mark.award", mark, after=date_snapshot(mark, MARK_AUDIT), reason=reason)
    link = external_url("mark.verify", number=mark.number)
    mail_application(application, _l("Przyznano znak jakości %(number)s", number=mark.number),
                     "mail/mark/granted.txt", mark=mark, reason=reason, link=link)
    return mark


def queue_query(status: str):
    return (select(MarkApplication).where(MarkApplication.status == status)
            .order_by(MarkApplication.submitted_at, MarkApplication.id))
