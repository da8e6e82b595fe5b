"""Whether an offering may be applied for now, worked out in memory from its marks and its open application.

The database is asked twice for any number of offerings (`load`), so that the PES panel listing many
offerings does not ask per offering; the rules themselves (`refusal`, `renewal_state`) only read what was
loaded. Services raise the refusals as errors; the panel shows them next to each offering.
"""
from collections import defaultdict
from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from catalog.mark.labels import ELIGIBLE_LEGAL_FORMS, application_label
from catalog.mark.models import MarkApplication, QualityMark
from marketplace.extensions import db

OPEN_STATUSES = ("submitted", "returned", "in_review")
RENEWAL_DAYS = 60  # a PES may apply for renewal from this many days before its mark expires
# A suspended or revoked mark blocks new marks for its offering until its own dates have run out.
BLOCKING_STATUSES = ("suspended", "revoked")


def load(offering_ids) -> tuple[dict[int, list[QualityMark]], dict[int, MarkApplication]]:
    """({offering id: its marks}, {offering id: its open application}) in two queries."""
    ids = sorted(set(offering_ids))
    marks: dict[int, list[QualityMark]] = defaultdict(list)
    if not ids:
        return marks, {}
    for mark in db.session.scalars(select(QualityMark).where(QualityMark.offering_id.in_(ids))
                                   .order_by(QualityMark.id)):
        marks[mark.offering_id].append(mark)
    open_apps = {a.offering_id: a for a in db.session.scalars(
        select(MarkApplication).where(MarkApplication.offering_id.in_(ids),
                                      MarkApplication.status.in_(OPEN_STATUSES)).order_by(MarkApplication.id))}
    return marks, open_apps


def blocking_mark(marks, today: date) -> QualityMark | None:
    """A suspended or revoked mark of the offering whose dates still run (a new mark would get round it)."""
    blocking = [m for m in marks if m.status in BLOCKING_STATUSES and m.valid_until >= today]
    return max(blocking, key=lambda m: (m.valid_until, m.id)) if blocking else None


def renewal_state(marks, today: date) -> tuple[str, QualityMark | None]:
    """("new", None), ("renewal", mark), ("too_early", mark) with a mark valid for more than RENEWAL_DAYS,
    ("renewed", mark) when a later mark already follows, or ("suspended"/"revoked", mark) while such a
    mark's dates still run."""
    blocking = blocking_mark(marks, today)
    if blocking is not None:
        return blocking.status, blocking
    active = [m for m in marks if m.status == "active"]
    upcoming = [m for m in active if m.valid_from > today]
    if upcoming:
        return "renewed", min(upcoming, key=lambda m: (m.valid_from, m.id))
    current = [m for m in active if m.is_valid_on(today)]
    if not current:
        return "new", None
    mark = max(current, key=lambda m: (m.valid_until, m.id))  # the one lasting longest, as queries.current_mark
    return ("too_early" if (mark.valid_until - today).days > RENEWAL_DAYS else "renewal"), mark


def renewal_opens(mark: QualityMark) -> date:
    return mark.valid_until - timedelta(days=RENEWAL_DAYS)


def blocking_message(mark: QualityMark) -> str:
    if mark.status == "suspended":
        return _("Znak tej oferty (certyfikat %(number)s) jest zawieszony. O nowy znak można wystąpić po jego "
                 "przywróceniu i w terminie przedłużenia.", number=mark.number)
    return _("Znak tej oferty (certyfikat %(number)s) został cofnięty. O nowy znak można wystąpić po "
             "%(date)s, gdy minie okres, na który go przyznano.", number=mark.number,
             date=format_date(mark.valid_until, "long"))


def offering_refusal(offering, marks, today: date) -> str | None:
    """Why no application for this offering may be made or resubmitted now (the PES, the offering, the
    legal form, a suspended or revoked mark), or None."""
    if offering.pes.status != "verified":
        return _("O znak mogą ubiegać się tylko zweryfikowane podmioty.")
    if not offering.is_public:
        return _("O znak można ubiegać się tylko dla opublikowanej oferty.")
    if offering.pes.legal_form not in ELIGIBLE_LEGAL_FORMS:
        return _("Forma prawna podmiotu nie uprawnia do ubiegania się o znak.")
    blocking = blocking_mark(marks, today)
    return blocking_message(blocking) if blocking is not None else None


def refusal(offering, marks, open_application: MarkApplication | None, today: date) -> str | None:
    """Why a new application for this offering may not be made now, or None when it may."""
    message = offering_refusal(offering, marks, today)
    if message:
        return message
    if open_application is not None:
        return _("Dla tej oferty jest już otwarty wniosek (status: %(status)s).",
                 status=application_label(open_application.status))
    state, mark = renewal_state(marks, today)
    if state == "too_early":
        return _("Ta oferta ma znak ważny do %(until)s. O przedłużenie można wystąpić od %(opens)s.",
                 until=format_date(mark.valid_until, "long"), opens=format_date(renewal_opens(mark), "long"))
    if state == "renewed":
        return _("Znak tej oferty został już przedłużony (certyfikat %(number)s).", number=mark.number)
    return None
