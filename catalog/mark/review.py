"""The office's and the committee's steps on an application: return or pass on, score, decide, award.

Every step checks the actor's role and that the actor is not a member of the applying PES (nobody judges
their own), writes the audit log and mails the PES's owners. Functions flush and never commit.
"""
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User, utcnow
from catalog.mark import numbering
from catalog.mark.labels import application_label
from catalog.mark.models import CRITERIA, MarkApplication, MarkScore, QualityMark
from catalog.mark.services import MarkError, NotPermitted, date_snapshot, is_member, mail_owners
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


def _change(actor: User, application: MarkApplication, action: str, reason: str | None, **changes) -> None:
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
    _change(actor, application, "mark.return", comment, status="returned", return_comment=comment)
    mail_owners(application.pes, _l("Wniosek o znak jakości wymaga uzupełnienia"),
                "mail/mark/returned.txt", application=application, comment=comment, link=_panel_link())


def send_to_committee(actor: User, application: MarkApplication) -> None:
    """The office found the application complete and passes it to the committee."""
    _check(actor, application, actor.is_staff, "submitted")
    _change(actor, application, "mark.to_committee", None, status="in_review")
    mail_owners(application.pes, _l("Wniosek o znak jakości trafił do kapituły"),
                "mail/mark/in_review.txt", application=application, link=_panel_link())


def member_scores(application: MarkApplication, member_id: int) -> dict[str, MarkScore]:
    return {s.criterion: s for s in application.scores if s.member_id == member_id}


def score(actor: User, application: MarkApplication, scores: dict[str, tuple[int, str]]) -> None:
    """A committee member scores every criterion 0–5 with a comment; scores may change until the decision."""
    _check(actor, application, actor.is_committee, "in_review")
    if set(scores) != set(CRITERIA) or any(not 0 <= value <= 5 for value, _c in scores.values()):
        raise MarkError(_("Oceń każde kryterium w skali od 0 do 5."))
    mine = member_scores(application, actor.id)
    before = {c: [s.score, s.comment] for c, s in mine.items()} or None
    for criterion, (value, comment) in scores.items():
        row = mine.get(criterion)
        if row is None:
            row = MarkScore(member_id=actor.id, criterion=criterion)
            application.scores.append(row)
        row.score, row.comment = value, (comment or "")[:2000]
    db.session.flush()
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
    return len({s.member_id for s in application.scores})


def award(application: MarkApplication) -> QualityMark:
    """Create the mark with the next certificate number; a renewal starts the day after the old mark ends."""
    today = clock.today()
    start = today
    renewed = db.session.get(QualityMark, application.renews_mark_id) if application.renews_mark_id else None
    if renewed is not None and renewed.valid_until >= today:
        start = renewed.valid_until + timedelta(days=1)
    valid_from, valid_until = numbering.validity(start)
    mark = QualityMark(number=numbering.allocate(today.year), offering_id=application.offering_id,
                       pes_id=application.pes_id, application_id=application.id, valid_from=valid_from,
                       valid_until=valid_until, status="active")
    db.session.add(mark)
    db.session.flush()
    return mark


def decide(actor: User, application: MarkApplication, decision: str, reason: str | None) -> QualityMark | None:
    """The committee's chair grants or refuses the mark, with reasons; returns the new mark when granted."""
    _check(actor, application, actor.role == "committee_chair", "in_review")
    if decision not in ("grant", "refuse"):
        raise MarkError(_("Wybierz decyzję."))
    reason = clean_reason(reason, _("Podaj uzasadnienie decyzji."))
    if scorers(application) == 0:
        raise MarkError(_("Żaden członek kapituły nie ocenił jeszcze tego wniosku."))
    status = "granted" if decision == "grant" else "refused"
    _change(actor, application, f"mark.{decision}", reason, status=status, decision_reason=reason,
            decided_by_id=actor.id, decided_at=utcnow())
    if decision == "refuse":
        mail_owners(application.pes, _l("Odmowa przyznania znaku jakości"), "mail/mark/refused.txt",
                    application=application, reason=reason, link=_panel_link())
        return None
    mark = award(application)
    audit.record(actor, "mark.award", mark, after=date_snapshot(mark, MARK_AUDIT), reason=reason)
    link = external_url("mark.verify", number=mark.number)
    mail_owners(application.pes, _l("Przyznano znak jakości %(number)s", number=mark.number),
                "mail/mark/granted.txt", application=application, mark=mark, reason=reason, link=link)
    return mark


def queue_query(status: str):
    return (select(MarkApplication).where(MarkApplication.status == status)
            .order_by(MarkApplication.submitted_at, MarkApplication.id))
