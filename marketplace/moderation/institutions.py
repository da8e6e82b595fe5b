"""Moderation of public purchasers: the institution, and each person's tie to it, are checked separately.

Purchaser tools unlock only when both are verified, so that knowing a verified institution's NIP is not
enough. Like the other services these functions flush, never commit, and raise ModerationError.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts.models import Institution, User, utcnow
from marketplace import audit, outbox
from marketplace.core.urls import external_url
from marketplace.extensions import db
from marketplace.moderation.services import ModerationError, clean_reason, require_role
from marketplace.pes.labels import status_label

INSTITUTION_TRANSITIONS = {"verify": ("pending", "rejected"), "reject": ("pending",), "revoke": ("verified",)}
# A person's tie to the institution; None means that nobody has checked it yet, like "pending".
UNCHECKED = (None, "pending")
PERSON_TRANSITIONS = {"verify": (*UNCHECKED, "rejected"), "reject": (*UNCHECKED, "verified")}
INSTITUTION_FIELDS = ("status", "status_reason", "verified_at")
PERSON_FIELDS = ("institution_status", "institution_checked_at")


def can_change_institution(inst: Institution, action: str) -> bool:
    return inst.status in INSTITUTION_TRANSITIONS[action]


def can_change_person(user: User, action: str) -> bool:
    """Whether the person's tie allows the action; nobody is confirmed for a rejected institution."""
    if user.institution is None or (action == "verify" and user.institution.status == "rejected"):
        return False
    return user.institution_status in PERSON_TRANSITIONS[action]


def unchecked_people(inst: Institution) -> list[User]:
    """The institution's people whose tie nobody has checked yet, in the order they signed up."""
    return sorted((u for u in inst.users if u.institution_status in UNCHECKED), key=lambda u: u.id)


def _check_actor(actor: User, inst: Institution) -> None:
    """The actor is staff and does not work for the institution (nobody verifies their own office)."""
    require_role(actor)
    if actor.institution_id == inst.id:
        raise ModerationError(_("Nie możesz weryfikować instytucji, do której należy Twoje konto."))


def _check_institution(actor: User, inst: Institution, action: str) -> None:
    _check_actor(actor, inst)
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


def _set_person(actor: User, user: User, action: str, status: str, reason: str | None) -> None:
    before = audit.snapshot(user, PERSON_FIELDS)
    user.institution_status = status
    user.institution_checked_at = utcnow()
    db.session.flush()
    audit.record(actor, f"purchaser.{action}", user, before=before, after=audit.snapshot(user, PERSON_FIELDS),
                 reason=reason)


def verify_institution(actor: User, inst: Institution, people_ids=()) -> list[User]:
    """Confirm that the institution is a public purchaser, and the tie of the listed people who wait.

    Only the people the moderator saw (`people_ids`) are confirmed with it: someone who signed up in the
    meantime still waits for their own check. Everyone confirmed is told that the tools are open.
    """
    _check_institution(actor, inst, "verify")
    _apply_institution(actor, inst, "verify", None, status="verified", status_reason=None,
                       verified_at=utcnow())
    listed = set(people_ids)
    confirmed = [u for u in unchecked_people(inst) if u.id in listed]
    for user in confirmed:
        _set_person(actor, user, "verify", "verified", None)
    link = external_url("accounts.settings")
    for user in inst.users:
        if user.institution_status == "verified":
            outbox.queue(user.email, _l("Instytucja %(name)s została zweryfikowana", name=inst.name),
                         "mail/moderation/institution_verified.txt", locale=user.locale, institution=inst,
                         link=link)
    return confirmed


def reject_institution(actor: User, inst: Institution, reason: str | None) -> None:
    """Refuse an institution's application, telling its people why."""
    _check_institution(actor, inst, "reject")
    reason = clean_reason(reason, True)
    _apply_institution(actor, inst, "reject", reason, status="rejected", status_reason=reason)
    link = external_url("accounts.settings")
    for user in inst.users:
        outbox.queue(user.email, _l("Zgłoszenie instytucji %(name)s zostało odrzucone", name=inst.name),
                     "mail/moderation/institution_rejected.txt", locale=user.locale, institution=inst,
                     reason=reason, link=link)


def revoke_institution(actor: User, inst: Institution, reason: str | None) -> None:
    """Withdraw a verification given by mistake: the institution's people lose the purchaser tools."""
    _check_institution(actor, inst, "revoke")
    reason = clean_reason(reason, True)
    _apply_institution(actor, inst, "revoke", reason, status="rejected", status_reason=reason, verified_at=None)
    link = external_url("accounts.settings")
    for user in inst.users:
        outbox.queue(user.email, _l("Weryfikacja instytucji %(name)s została cofnięta", name=inst.name),
                     "mail/moderation/institution_revoked.txt", locale=user.locale, institution=inst,
                     reason=reason, link=link)


def _check_person(actor: User, user: User, action: str) -> Institution:
    inst = user.institution
    if inst is None:
        raise ModerationError(_("To konto nie jest powiązane z żadną instytucją."))
    _check_actor(actor, inst)
    if not can_change_person(user, action):
        raise ModerationError(_("Tej czynności nie można wykonać dla tej osoby przy obecnym statusie "
                                "jej lub instytucji."))
    return inst


def verify_person(actor: User, user: User) -> None:
    """Confirm that the person acts for their institution; with a verified institution the tools open."""
    inst = _check_person(actor, user, "verify")
    _set_person(actor, user, "verify", "verified", None)
    outbox.queue(user.email, _l("Potwierdzono Twoje powiązanie z instytucją %(name)s", name=inst.name),
                 "mail/moderation/purchaser_verified.txt", locale=user.locale, institution=inst,
                 ready=inst.status == "verified", link=external_url("accounts.settings"))


def reject_person(actor: User, user: User, reason: str | None) -> None:
    """Refuse (or withdraw) a person's tie to the institution, telling them why."""
    inst = _check_person(actor, user, "reject")
    reason = clean_reason(reason, True)
    _set_person(actor, user, "reject", "rejected", reason)
    outbox.queue(user.email, _l("Nie potwierdzono Twojego powiązania z instytucją %(name)s", name=inst.name),
                 "mail/moderation/purchaser_rejected.txt", locale=user.locale, institution=inst,
                 reason=reason, link=external_url("accounts.settings"))
