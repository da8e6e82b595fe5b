"""The lists of the moderation panel: the queue, the accounts and the audit log, as SQL statements."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from accounts.models import Institution, User
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.moderation.services import action_label, action_labels
from marketplace.pes.models import Pes, PesMembership

# At most this many people of verified institutions are listed at once in the queue (oldest first).
WAITING_PEOPLE_LIMIT = 100


def _waiting_people():
    """Purchasers of verified institutions whose own tie to the institution nobody has checked yet."""
    return (select(User).join(User.institution)
            .where(Institution.status == "verified", User.role == "purchaser",
                   or_(User.institution_status.is_(None), User.institution_status == "pending")))


def waiting_people() -> tuple[list[User], int]:
    """The oldest waiting people (up to the limit) and how many wait in all."""
    people = db.session.scalars(_waiting_people().options(contains_eager(User.institution))
                                .order_by(User.created_at, User.id).limit(WAITING_PEOPLE_LIMIT)).all()
    total = db.session.scalar(select(func.count()).select_from(_waiting_people().subquery()))
    return list(people), total or 0


def queue_counts() -> dict[str, int]:
    """How many items wait in each section of the queue."""
    rows = db.session.execute(select(Pes.status, func.count()).group_by(Pes.status)).all()
    counts = {status: n for status, n in rows}
    pending_inst = db.session.scalar(
        select(func.count()).select_from(Institution).where(Institution.status == "pending")) or 0
    people = db.session.scalar(select(func.count()).select_from(_waiting_people().subquery())) or 0
    return {"pes": counts.get("pending", 0), "institutions": pending_inst + people,
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
    known = action_labels()
    codes = list(known) + sorted(set(found) - set(known))
    return [(code, action_label(code)) for code in codes]


def audit_actor_choices() -> list[tuple[str, str]]:
    """The accounts that appear in the log as actors, and the entries of deleted accounts."""
    actors = db.session.execute(
        select(User.id, User.email).where(User.id.in_(select(AuditEntry.actor_id).distinct()))
        .order_by(User.email)).all()
    return [(str(uid), email) for uid, email in actors] + [("deleted", str(_l("konto usunięte")))]


def named_objects():
    """(object type, model, column naming it) of the objects whose log entries show a name."""
    from catalog.mark.models import QualityMark
    from catalog.models import Offering
    from marketplace.legal.models import LegalDocument
    from search.models import SynonymGroup

    return (("pes", Pes, Pes.name), ("institution", Institution, Institution.name), ("user", User, User.email),
            ("offering", Offering, Offering.title), ("qualitymark", QualityMark, QualityMark.number),
            ("synonymgroup", SynonymGroup, SynonymGroup.words),
            ("legaldocument", LegalDocument, LegalDocument.title_pl))


def object_names(entries) -> dict[tuple[str, int], str]:
    """Names of the objects a page of the log refers to (those of named_objects() that still exist)."""
    names = {}
    for kind, model, column in named_objects():
        ids = {e.object_id for e in entries if e.object_type == kind and e.object_id is not None}
        if ids:
            rows = db.session.execute(select(model.id, column).where(model.id.in_(ids))).all()
            names.update({(kind, oid): name for oid, name in rows})
    return names
