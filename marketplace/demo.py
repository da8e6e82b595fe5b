"""Demo accounts, one per role, for trying the portal out; created only by `flask demo`."""
import json
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from accounts.models import Institution, User
from accounts.passwords import hash_password
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesMembership

DEMO_PASSWORD = "Demo-Portal-2026"
ACCOUNTS = (
    ("admin@demo.example.org", "admin", "Administrator portalu"),
    ("moderator@demo.example.org", "moderator", "Moderatorka ROPS"),
    ("kupujacy@demo.example.org", "buyer", "Jan Kupujący"),
    ("zamawiajacy@demo.example.org", "purchaser", "Ewa Zamawiająca"),
    ("pes@demo.example.org", "buyer", "Maria Właścicielka"),
    ("redaktor@demo.example.org", "buyer", "Piotr Redaktor"),
    ("kapitula@demo.example.org", "committee", "Tomasz Członek Kapituły"),
    ("przewodniczaca@demo.example.org", "committee_chair", "Halina Przewodnicząca"),
)
DEMO_PES_REF = "pes-demo-001"
# The day the demo data set was written for: its quality marks' dates move with today's date, so that the
# demo always shows marks valid today, some close to expiry (reminders) and one expired.
REFERENCE_DAY = date(2026, 11, 22)


def shift_mark_dates(lines: list[str], today: date) -> list[str]:
    """The demo's JSON lines with every quality mark's dates moved by (today - REFERENCE_DAY)."""
    delta = today - REFERENCE_DAY
    if not delta:
        return lines
    out = []
    for line in lines:
        record = json.loads(line) if line.strip() else None
        mark = record.get("quality_mark") if record else None
        if mark:
            for key in ("valid_from", "valid_until"):
                mark[key] = (date.fromisoformat(mark[key]) + delta).isoformat()
            line = json.dumps(record, ensure_ascii=False)
        out.append(line)
    return out


def has_data() -> bool:
    users = db.session.scalar(select(func.count()).select_from(User))
    pes = db.session.scalar(select(func.count()).select_from(Pes))
    return bool(users or pes)


def create_accounts() -> None:
    now = datetime.now(timezone.utc)
    institution = Institution(name="Gmina Miasta Toruń – Wydział Zamówień", nip="8790017162", kind="gmina",
                              status="verified", verified_at=now)
    db.session.add(institution)
    users = {}
    for email, role, name in ACCOUNTS:
        users[email] = User(email=email, role=role, name=name, email_confirmed_at=now,
                            password_hash=hash_password(DEMO_PASSWORD),
                            institution=institution if role == "purchaser" else None,
                            institution_status="verified" if role == "purchaser" else None,
                            institution_checked_at=now if role == "purchaser" else None)
        db.session.add(users[email])
    pes = db.session.scalar(select(Pes).where(Pes.ref == DEMO_PES_REF))
    if pes is not None:
        db.session.add(PesMembership(pes=pes, user=users["pes@demo.example.org"], role="owner"))
        db.session.add(PesMembership(pes=pes, user=users["redaktor@demo.example.org"], role="editor"))
    db.session.commit()


def logins_table() -> str:
    rows = ["Demo accounts (password for all: %s):" % DEMO_PASSWORD]
    labels = {"admin": "admin", "moderator": "moderator", "buyer": "buyer",
              "purchaser": "public purchaser (verified institution)", "committee": "quality mark committee member",
              "committee_chair": "quality mark committee chair"}
    for email, role, _name in ACCOUNTS:
        label = labels[role]
        if email.startswith("pes@"):
            label = f"PES owner ({DEMO_PES_REF})"
        elif email.startswith("redaktor@"):
            label = f"PES editor ({DEMO_PES_REF})"
        rows.append(f"  {label:<40} {email}")
    return "\n".join(rows)
