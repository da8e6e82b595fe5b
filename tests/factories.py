"""Builders for test data; each flushes so that ids are set, and the test commits when it needs to."""
import itertools
from datetime import datetime, timezone

from accounts.models import Institution, User
from accounts.passwords import hash_password
from marketplace.extensions import db
from marketplace.pes.models import Pes, PesMembership

PASSWORD = "Bezpieczne-Haslo-2026"
_seq = itertools.count(1)


def make_user(email: str | None = None, role: str = "buyer", password: str = PASSWORD, confirmed: bool = True,
              name: str = "Anna Testowa", **fields) -> User:
    n = next(_seq)
    user = User(email=email or f"user{n}@example.org", password_hash=hash_password(password), role=role,
                name=name, email_confirmed_at=datetime.now(timezone.utc) if confirmed else None, **fields)
    db.session.add(user)
    db.session.flush()
    return user


def make_institution(name: str = "Gmina Lubicz", nip: str = "8790176802", kind: str = "gmina",
                     status: str = "verified") -> Institution:
    inst = Institution(name=name, nip=nip, kind=kind, status=status,
                       verified_at=datetime.now(timezone.utc) if status == "verified" else None)
    db.session.add(inst)
    db.session.flush()
    return inst


def make_pes(owner: User | None = None, status: str = "verified", name: str | None = None,
             legal_form: str = "spoldzielnia_socjalna", powiat: str = "0463", service_area=None,
             **fields) -> Pes:
    n = next(_seq)
    pes = Pes(ref=fields.pop("ref", f"pes-t{n}"), name=name or f"Spółdzielnia Socjalna Testowa {n}",
              legal_form=legal_form, powiat=powiat, status=status,
              verified_at=datetime.now(timezone.utc) if status == "verified" else None,
              description=fields.pop("description", "Opis podmiotu."), **fields)
    pes.service_area = service_area or [powiat]
    db.session.add(pes)
    if owner is not None:
        db.session.add(PesMembership(pes=pes, user=owner, role="owner"))
    db.session.flush()
    return pes


def login(client, email: str, password: str = PASSWORD, remember: bool = False):
    """Log in through the real form (with its CSRF token)."""
    from tests.conftest import csrf_token

    token = csrf_token(client, "/konto/logowanie")
    data = {"csrf_token": token, "email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/konto/logowanie", data=data, follow_redirects=False)


def make_legal_version(slug: str = "regulamin", version: int | None = None, body_pl: str = "Treść dokumentu.",
                       title_pl: str | None = None, effective_on=None, **fields):
    """A version of a legal page (the next number unless `version` is given), as an admin would publish it."""
    from sqlalchemy import func, select

    from marketplace import clock
    from marketplace.legal.models import LegalDocument

    if version is None:
        newest = db.session.scalar(select(func.max(LegalDocument.version)).where(LegalDocument.slug == slug))
        version = (newest or 0) + 1
    doc = LegalDocument(slug=slug, version=version, title_pl=title_pl or f"Dokument {slug}, wersja {version}",
                        body_pl=body_pl, effective_on=effective_on or clock.today(), **fields)
    db.session.add(doc)
    db.session.flush()
    return doc
