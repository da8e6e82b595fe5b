"""Moderation as state changes: each function checks the transition, writes the audit log, queues the mail.

The functions take the acting user and the object, `flush()` and never commit; a wrong transition, a
missing reason or an actor without the right role raises ModerationError, and nothing is changed then.
"""
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from accounts.models import ROLES, Institution, User, utcnow
from marketplace import audit, outbox
from marketplace.extensions import db
from marketplace.pes.labels import status_label
from marketplace.audit import AuditEntry
from marketplace.pes.models import Pes, PesMembership

# The statuses each action may start from.
PES_TRANSITIONS = {
    "verify": ("pending", "rejected"),
    "reject": ("pending",),
    "suspend": ("verified",),
    "reinstate": ("suspended",),
}
INSTITUTION_TRANSITIONS = {"verify": ("pending", "rejected"), "reject": ("pending",)}
PES_FIELDS = ("status", "status_reason", "verified_at")
INSTITUTION_FIELDS = ("status", "status_reason", "verified_at")
REASON_MAX = 2000

ACTION_LABELS = {
    "pes.verify": _l("weryfikacja PES"),
    "pes.reject": _l("odrzucenie zgłoszenia PES"),
    "pes.suspend": _l("zawieszenie PES"),
    "pes.reinstate": _l("przywrócenie PES"),
    "institution.verify": _l("weryfikacja instytucji"),
    "institution.reject": _l("odrzucenie instytucji"),
    "user.role": _l("zmiana roli konta"),
}


class ModerationError(Exception):
    """A moderation action that is not allowed now; the message is shown to the moderator."""


class NotPermitted(ModerationError):
    """The actor's role does not allow this action."""


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def _require(actor: User, admin: bool = False) -> None:
    if actor is None or not (actor.is_admin if admin else actor.is_staff):
        raise NotPermitted(_("Nie masz uprawnień do tej czynności."))


def _clean_reason(reason: str | None, required: bool) -> str | None:
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
    _require(actor)
    if actor.membership_of(pes.id) is not None:
        raise ModerationError(_("Nie możesz moderować podmiotu, którego jesteś członkiem. "
                                "Poproś o to innego moderatora."))
    if not can_change(pes, action):
        raise ModerationError(_("Tej czynności nie można wykonać, gdy podmiot ma status „%(status)s”.",
                                status=status_label(pes.status)))


def _mail_users(users, subject, template: str, **context) -> None:
    """Queue one mail per user, each in the user's language (`subject` is a lazy string)."""
    for user in users:
        with force_locale(user.locale or "pl"):
            text = str(subject)
        outbox.queue(user.email, text, template, locale=user.locale, user=user, **context)


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
    _apply_pes(actor, pes, "verify", _clean_reason(reason, False), status="verified", status_reason=None,
               verified_at=now, data_confirmed_at=now)
    _mail_users(pes.owners(), _l("Podmiot %(name)s został zweryfikowany", name=pes.name),
                "mail/moderation/pes_verified.txt", pes=pes,
                link=url_for("pes.profile", pes_id=pes.id, _external=True))


def reject_pes(actor: User, pes: Pes, reason: str | None) -> None:
    """Refuse a PES application, telling its owners why."""
    _check_pes(actor, pes, "reject")
    reason = _clean_reason(reason, True)
    _apply_pes(actor, pes, "reject", reason, status="rejected", status_reason=reason)
    _mail_users(pes.owners(), _l("Zgłoszenie podmiotu %(name)s zostało odrzucone", name=pes.name),
                "mail/moderation/pes_rejected.txt", pes=pes, reason=reason,
                link=url_for("pes.my_pes", _external=True))


def suspend_pes(actor: User, pes: Pes, reason: str | None) -> None:
    """Take a verified PES off the public pages, telling its owners why."""
    _check_pes(actor, pes, "suspend")
    reason = _clean_reason(reason, True)
    _apply_pes(actor, pes, "suspend", reason, status="suspended", status_reason=reason)
    _mail_users(pes.owners(), _l("Profil podmiotu %(name)s został zawieszony", name=pes.name),
                "mail/moderation/pes_suspended.txt", pes=pes, reason=reason,
                link=url_for("pes.my_pes", _external=True))


def reinstate_pes(actor: User, pes: Pes, reason: str | None = None) -> None:
    """Make a suspended PES public again."""
    _check_pes(actor, pes, "reinstate")
    reason = _clean_reason(reason, False)
    _apply_pes(actor, pes, "reinstate", reason, status="verified", status_reason=None,
               verified_at=pes.verified_at or utcnow())
    _mail_users(pes.owners(), _l("Profil podmiotu %(name)s jest znów widoczny", name=pes.name),
                "mail/moderation/pes_reinstated.txt", pes=pes, reason=reason,
                link=url_for("pes.profile", pes_id=pes.id, _external=True))


def can_change_institution(inst: Institution, action: str) -> bool:
    return inst.status in INSTITUTION_TRANSITIONS[action]


def _check_institution(actor: User, inst: Institution, action: str) -> None:
    """The actor is staff and does not work for the institution, and its status allows the action."""
    _require(actor)
    if actor.institution_id == inst.id:
        raise ModerationError(_("Nie możesz weryfikować instytucji, do której należy Twoje konto."))
    if not can_change_institution(inst, action):
        raise ModerationError(_("Tej czynności nie można wykonać, gdy instytucja ma status „%(status)s”.",
                                status=status_label(inst.status)))


def _apply_institution(actor: User, inst: Institution, action: str, reason: str | None, **changes) -> None:
    before = audit.snapshot(inst, INSTITUTION_FIELDS)
    for name, value in changes.items():
        setattr(inst, name, value)
    db.session.flush()
    audit.record(actor, f"institution.{action}", inst, before=before,
                 after=audit.snapshot(inst, INSTITUTION_FIELDS), reason=reason)


def verify_institution(actor: User, inst: Institution) -> None:
    """Confirm that the institution is a public purchaser, so its users may use the purchasers' tools."""
    _check_institution(actor, inst, "verify")
    _apply_institution(actor, inst, "verify", None, status="verified", status_reason=None,
                       verified_at=utcnow())
    _mail_users(inst.users, _l("Instytucja %(name)s została zweryfikowana", name=inst.name),
                "mail/moderation/institution_verified.txt", institution=inst)


def reject_institution(actor: User, inst: Institution, reason: str | None) -> None:
    """Refuse an institution's application, telling its users why."""
    _check_institution(actor, inst, "reject")
    reason = _clean_reason(reason, True)
    _apply_institution(actor, inst, "reject", reason, status="rejected", status_reason=reason)
    _mail_users(inst.users, _l("Zgłoszenie instytucji %(name)s zostało odrzucone", name=inst.name),
                "mail/moderation/institution_rejected.txt", institution=inst, reason=reason)


def change_role(actor: User, user: User, role: str) -> None:
    """Give an account another global role; an admin cannot take the admin role away from themself."""
    _require(actor, admin=True)
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


def queue_counts() -> dict[str, int]:
    """How many items wait in each section of the queue."""
    rows = db.session.execute(select(Pes.status, func.count()).group_by(Pes.status)).all()
    counts = {status: n for status, n in rows}
    pending_inst = db.session.scalar(
        select(func.count()).select_from(Institution).where(Institution.status == "pending"))
    return {"pes": counts.get("pending", 0), "institutions": pending_inst or 0,
            "suspended": counts.get("suspended", 0), "rejected": counts.get("rejected", 0)}


def queue_query(tab: str):
    """The statement listing one section of the queue: applications oldest first, others latest first."""
    if tab == "institutions":
        return (select(Institution).where(Institution.status == "pending")
                .options(selectinload(Institution.users)).order_by(Institution.created_at, Institution.id))
    if tab in ("suspended", "rejected"):
        return select(Pes).where(Pes.status == tab).order_by(Pes.updated_at.desc(), Pes.id.desc())
    return (select(Pes).where(Pes.status == "pending")
            .options(selectinload(Pes.members).selectinload(PesMembership.user))
            .order_by(Pes.created_at, Pes.id))


def user_query(search: str | None):
    """Accounts whose e-mail contains the searched text, in alphabetical order."""
    query = select(User).options(selectinload(User.institution)).order_by(User.email)
    if search:
        query = query.where(func.lower(User.email).contains(search.lower(), autoescape=True))
    return query


def audit_query(action: str = "", actor: str = "", object_type: str | None = None,
                object_id: int | None = None):
    """The audit log, newest first, narrowed by action, actor ("deleted": removed accounts) and object."""
    query = (select(AuditEntry).options(selectinload(AuditEntry.actor))
             .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()))
    if action:
        query = query.where(AuditEntry.action == action)
    if actor == "deleted":
        query = query.where(AuditEntry.actor_id.is_(None))
    elif actor.isdigit():
        query = query.where(AuditEntry.actor_id == int(actor))
    if object_type and object_id is not None:
        query = query.where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
    return query


def audit_action_choices() -> list[tuple[str, str]]:
    """The actions one can filter by: the known ones and any other action found in the log."""
    found = db.session.scalars(select(AuditEntry.action).distinct()).all()
    codes = list(ACTION_LABELS) + sorted(set(found) - set(ACTION_LABELS))
    return [(code, action_label(code)) for code in codes]


def audit_actor_choices() -> list[tuple[str, str]]:
    """The accounts that appear in the log as actors, and the entries of deleted accounts."""
    actors = db.session.execute(
        select(User.id, User.email).where(User.id.in_(select(AuditEntry.actor_id).distinct()))
        .order_by(User.email)).all()
    return [(str(uid), email) for uid, email in actors] + [("deleted", str(_l("konto usunięte")))]


def object_names(entries) -> dict[tuple[str, int], str]:
    """Names of the PES, institutions and accounts that a page of the log refers to."""
    names = {}
    for kind, model, column in (("pes", Pes, Pes.name), ("institution", Institution, Institution.name),
                                ("user", User, User.email)):
        ids = {e.object_id for e in entries if e.object_type == kind and e.object_id is not None}
        if ids:
            rows = db.session.execute(select(model.id, column).where(model.id.in_(ids))).all()
            names.update({(kind, oid): name for oid, name in rows})
    return names
