"""Moderation as state changes: each function checks the transition, writes the audit log, queues the mail.

The functions take the acting user and the object, `flush()` and never commit; a wrong transition, a
missing reason or an actor without the right role raises ModerationError, and nothing is changed then.
Institutions and purchasers are moderated in `institutions.py`; the lists are built in `queries.py`.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts.models import ROLES, User, utcnow
from marketplace import audit, outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.pes.labels import status_label
from marketplace.pes.models import Pes

# The statuses each action may start from.
PES_TRANSITIONS = {
    "verify": ("pending", "rejected"),
    "reject": ("pending",),
    "suspend": ("verified",),
    "reinstate": ("suspended",),
}
PES_FIELDS = ("status", "status_reason", "verified_at")
REASON_MAX = 2000

ACTION_LABELS = {
    "pes.verify": _l("weryfikacja PES"),
    "pes.reject": _l("odrzucenie zgłoszenia PES"),
    "pes.suspend": _l("zawieszenie PES"),
    "pes.reinstate": _l("przywrócenie PES"),
    "institution.verify": _l("weryfikacja instytucji"),
    "institution.reject": _l("odrzucenie instytucji"),
    "institution.revoke": _l("cofnięcie weryfikacji instytucji"),
    "purchaser.verify": _l("potwierdzenie osoby z instytucji"),
    "purchaser.reject": _l("odrzucenie osoby z instytucji"),
    "user.role": _l("zmiana roli konta"),
    "pes.create": _l("utworzenie profilu PES"),
    "pes.update": _l("zmiana danych PES"),
    "pes.resubmit": _l("ponowne zgłoszenie PES do weryfikacji"),
    "pes.member_role": _l("zmiana roli w zespole PES"),
    "pes.import": _l("import PES z pliku"),
    "offering.import": _l("import oferty z pliku"),
    "offering.block": _l("ukrycie oferty"),
    "offering.unblock": _l("zniesienie blokady oferty"),
    "report.resolve": _l("zgłoszenie oferty rozpatrzone"),
    "report.dismiss": _l("zgłoszenie oferty odrzucone"),
    "offering.publish": _l("publikacja oferty"),
    "offering.unpublish": _l("wycofanie oferty z publikacji"),
    "offering.archive": _l("archiwizacja oferty"),
    "synonyms.create": _l("dodanie grupy synonimów wyszukiwarki"),
    "synonyms.update": _l("zmiana grupy synonimów wyszukiwarki"),
    "synonyms.delete": _l("usunięcie grupy synonimów wyszukiwarki"),
    "legal.publish": _l("nowa wersja dokumentu portalu"),
    "legal_value.change": _l("nowa wersja wartości prawnej"),
    "guidance.publish": _l("nowa wersja strony poradnika"),
    "thread_report.resolve": _l("zgłoszenie rozmowy w zapytaniach rozpatrzone"),
}


def action_labels() -> dict:
    """Every package's audit actions in words (the quality mark keeps its own)."""
    from catalog.mark.labels import ACTION_LABELS as MARK_ACTIONS

    return {**ACTION_LABELS, **MARK_ACTIONS}


class ModerationError(Exception):
    """A moderation action that is not allowed now; the message is shown to the moderator."""


class NotPermitted(ModerationError):
    """The actor's role does not allow this action."""


def action_label(code: str) -> str:
    return str(action_labels().get(code, code))


def require_role(actor: User, admin: bool = False) -> None:
    if actor is None or not (actor.is_admin if admin else actor.is_staff):
        raise NotPermitted(_("Nie masz uprawnień do tej czynności."))


def clean_reason(reason: str | None, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ModerationError(_("Podaj uzasadnienie."))
    if reason and len(reason) > REASON_MAX:
        raise ModerationError(_("Uzasadnienie może mieć najwyżej %(n)d znaków.", n=REASON_MAX))
    return reason


def can_change(pes: Pes, action: str) -> bool:
    return pes.status in PES_TRANSITIONS[action]


def _check_pes(actor: User, pes: Pes, action: str) -> None:
    """The actor is staff and not a member of the PES (nobody moderates their own), the status allows it."""
    require_role(actor)
    if actor.membership_of(pes.id) is not None:
        raise ModerationError(_("Nie możesz moderować podmiotu, którego jesteś członkiem. "
                                "Poproś o to innego moderatora."))
    if not can_change(pes, action):
        raise ModerationError(_("Tej czynności nie można wykonać, gdy podmiot ma status „%(status)s”.",
                                status=status_label(pes.status)))


def _apply_pes(actor: User, pes: Pes, action: str, reason: str | None, **changes) -> None:
    before = audit.snapshot(pes, PES_FIELDS)
    for name, value in changes.items():
        setattr(pes, name, value)
    db.session.flush()
    audit.record(actor, f"pes.{action}", pes, before=before, after=audit.snapshot(pes, PES_FIELDS),
                 reason=reason)


def verify_pes(actor: User, pes: Pes, reason: str | None = None) -> None:
    """Make a pending (or earlier rejected) PES public."""
    _check_pes(actor, pes, "verify")
    now = utcnow()
    _apply_pes(actor, pes, "verify", clean_reason(reason, False), status="verified", status_reason=None,
               verified_at=now, data_confirmed_at=now)
    link = external_url("pes.profile", pes_id=pes.id)
    for user in pes.owners():
        outbox.queue(user.email, _l("Podmiot %(name)s został zweryfikowany", name=pes.name),
                     "mail/moderation/pes_verified.txt", locale=user.locale, pes=pes, link=link)


def reject_pes(actor: User, pes: Pes, reason: str | None) -> None:
    """Refuse a PES application, telling its owners why."""
    _check_pes(actor, pes, "reject")
    reason = clean_reason(reason, True)
    _apply_pes(actor, pes, "reject", reason, status="rejected", status_reason=reason)
    link = external_url("pes.my_pes")
    for user in pes.owners():
        outbox.queue(user.email, _l("Zgłoszenie podmiotu %(name)s zostało odrzucone", name=pes.name),
                     "mail/moderation/pes_rejected.txt", locale=user.locale, pes=pes, reason=reason, link=link)


def suspend_pes(actor: User, pes: Pes, reason: str | None) -> None:
    """Take a verified PES off the public pages, telling its owners why."""
    _check_pes(actor, pes, "suspend")
    reason = clean_reason(reason, True)
    _apply_pes(actor, pes, "suspend", reason, status="suspended", status_reason=reason)
    link = external_url("pes.my_pes")
    for user in pes.owners():
        outbox.queue(user.email, _l("Profil podmiotu %(name)s został zawieszony", name=pes.name),
                     "mail/moderation/pes_suspended.txt", locale=user.locale, pes=pes, reason=reason, link=link)


def reinstate_pes(actor: User, pes: Pes, reason: str | None = None) -> None:
    """Make a suspended PES public again."""
    _check_pes(actor, pes, "reinstate")
    reason = clean_reason(reason, False)
    _apply_pes(actor, pes, "reinstate", reason, status="verified", status_reason=None,
               verified_at=pes.verified_at or utcnow())
    link = external_url("pes.profile", pes_id=pes.id)
    for user in pes.owners():
        outbox.queue(user.email, _l("Profil podmiotu %(name)s jest znów widoczny", name=pes.name),
                     "mail/moderation/pes_reinstated.txt", locale=user.locale, pes=pes, reason=reason, link=link)


def change_role(actor: User, user: User, role: str) -> None:
    """Give an account another global role; an admin cannot take the admin role away from themself."""
    require_role(actor, admin=True)
    if role not in ROLES:
        raise ModerationError(_("Nieznana rola."))
    if user.id == actor.id and role != "admin":
        raise ModerationError(_("Nie możesz odebrać sobie roli administratora. "
                                "Poproś o to innego administratora."))
    if user.role == role:
        raise ModerationError(_("To konto ma już tę rolę."))
    before = audit.snapshot(user, ("role",))
    user.role = role
    db.session.flush()
    audit.record(actor, "user.role", user, before=before, after=audit.snapshot(user, ("role",)))
