"""Versions of the legal pages: reading, seeding version 1 from the shipped texts, publishing a new version,
rendering one for a page, and the terms version each account accepted.

Functions flush but never commit; a refused change raises LegalError with a message and its form field.
"""
import re
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import User, utcnow
from catalog.markdown import render as render_markdown
from marketplace import audit, clock, region
from marketplace.extensions import db
from marketplace.legal.models import SLUGS, TERMS, LegalDocument

DATA_DIR = Path(__file__).parent / "data"
CONTENT_FIELDS = ("title_pl", "title_en", "body_pl", "body_en", "effective_on")
AUDITED = ("version", "title_pl", "effective_on")
PLACEHOLDER = re.compile(r"\{(operator|region|portal_url|retention_months|version_date)\}")


class LegalError(Exception):
    """A new version the rules refuse; str() is the message, `field` the form field it concerns (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# Reading --------------------------------------------------------------------------------------------

def latest(slug: str) -> LegalDocument | None:
    """The newest version of a document, or None before it has any."""
    return db.session.scalar(select(LegalDocument).where(LegalDocument.slug == slug)
                             .order_by(LegalDocument.version.desc()).limit(1))


def get_version(slug: str, number: int) -> LegalDocument | None:
    return db.session.scalar(select(LegalDocument).where(LegalDocument.slug == slug,
                                                         LegalDocument.version == number))


def versions(slug: str) -> list[LegalDocument]:
    """Every version of a document, newest first."""
    return list(db.session.scalars(select(LegalDocument).where(LegalDocument.slug == slug)
                                   .order_by(LegalDocument.version.desc())))


def in_force(slug: str, today: date | None = None) -> LegalDocument | None:
    """The version that applies today: the newest whose effective date has come (else the oldest)."""
    today = today or clock.today()
    found = db.session.scalar(select(LegalDocument).where(LegalDocument.slug == slug,
                                                          LegalDocument.effective_on <= today)
                              .order_by(LegalDocument.version.desc()).limit(1))
    return found or db.session.scalar(select(LegalDocument).where(LegalDocument.slug == slug)
                                      .order_by(LegalDocument.version).limit(1))


# Seeding --------------------------------------------------------------------------------------------

def _read(path: Path) -> tuple[dict, str]:
    """A data file's front matter (`key: value` lines between two `---` lines) and its Markdown body."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        head, _sep, text = text[4:].partition("\n---\n")
        for line in head.splitlines():
            key, _colon, value = line.partition(":")
            if key.strip():
                meta[key.strip()] = value.strip()
    return meta, text.strip()


def shipped_text(slug: str) -> dict:
    """Version 1 of a document as shipped with the portal: `<slug>.pl.md` and, when present, `<slug>.en.md`."""
    meta_pl, body_pl = _read(DATA_DIR / f"{slug}.pl.md")
    english = DATA_DIR / f"{slug}.en.md"
    meta_en, body_en = _read(english) if english.exists() else ({}, None)
    effective = meta_pl.get("effective")
    return {"title_pl": meta_pl["title"], "title_en": meta_en.get("title"), "body_pl": body_pl,
            "body_en": body_en, "effective_on": date.fromisoformat(effective) if effective else clock.today()}


def seed(slug: str) -> LegalDocument:
    """Version 1 from the shipped text, unless some version exists already (another request may have just
    written it: the unique (slug, version) pair makes the second insert fail, and that version is used)."""
    existing = latest(slug)
    if existing is not None:
        return existing
    doc = LegalDocument(slug=slug, version=1, **shipped_text(slug))
    try:
        with db.session.begin_nested():
            db.session.add(doc)
    except IntegrityError:
        return latest(slug)
    return doc


def seed_all() -> list[LegalDocument]:
    """Version 1 of every document that has none yet (`flask demo`, the panel's list); returns those added."""
    added = []
    for slug in SLUGS:
        if latest(slug) is None:
            added.append(seed(slug))
    return added


def current(slug: str) -> LegalDocument:
    """The newest version, seeding version 1 first on a fresh install."""
    return latest(slug) or seed(slug)


# Publishing -----------------------------------------------------------------------------------------

def _snapshot(doc: LegalDocument | None) -> dict | None:
    if doc is None:
        return None
    return {"version": doc.version, "title_pl": doc.title_pl, "effective_on": doc.effective_on.isoformat()}


def _same(old, new) -> bool:
    """Whether a field keeps its value (texts compared without outer blank space)."""
    if isinstance(old, str) or isinstance(new, str):
        return (old or "").strip() == (new or "").strip()
    return old == new


def _check(previous: LegalDocument | None, data: dict, base_version: int | None) -> None:
    if previous is not None and base_version != previous.version:
        raise LegalError(_("W międzyczasie opublikowano wersję %(n)d tego dokumentu. Sprawdź ją i wprowadź "
                           "swoje zmiany jeszcze raz.", n=previous.version))
    if previous is None:
        return
    if data["effective_on"] < previous.effective_on:
        raise LegalError(_("Nowa wersja nie może obowiązywać wcześniej niż poprzednia (od %(day)s).",
                           day=format_date(previous.effective_on)), "effective_on")
    if all(_same(getattr(previous, k), data[k]) for k in CONTENT_FIELDS):
        raise LegalError(_("Nic się nie zmieniło w porównaniu z wersją %(n)d – nowej wersji nie utworzono.",
                           n=previous.version))


def publish(actor: User, slug: str, data: dict, base_version: int | None, note: str = "") -> LegalDocument:
    """A new version of a document (the previous ones stay as they were), written to the audit log.

    `data` holds CONTENT_FIELDS; `base_version` is the version the editor started from, so that a version
    someone else published meanwhile is not silently replaced.
    """
    previous = latest(slug)
    _check(previous, data, base_version)
    doc = LegalDocument(slug=slug, version=(previous.version if previous else 0) + 1, created_by_id=actor.id,
                        **{k: data[k] or None for k in CONTENT_FIELDS})
    try:
        with db.session.begin_nested():
            db.session.add(doc)
    except IntegrityError:
        raise LegalError(_("W międzyczasie opublikowano inną wersję tego dokumentu. Otwórz formularz "
                           "ponownie.")) from None
    audit.record(actor, "legal.publish", doc, before=_snapshot(previous), after=_snapshot(doc),
                 reason=note or None)
    return doc


# Rendering ------------------------------------------------------------------------------------------

def _operator(lang: str) -> str:
    office = region.data()["voivodeship"]
    return office.get(f"office_{lang}") or office.get("office_pl") or _("[UZUPEŁNIJ: nazwa operatora]")


def fill(text: str, doc: LegalDocument, lang: str) -> str:
    """The text with its placeholders filled from the configuration and the region's data."""
    values = {"operator": _operator(lang), "region": region.name(),
              "portal_url": current_app.config["PORTAL_URL"],
              "retention_months": str(current_app.config["INQUIRY_RETENTION_MONTHS"]),
              "version_date": format_date(doc.effective_on, "long")}
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render(doc: LegalDocument, lang: str, top: int = 2) -> Markup:
    """A version's body in `lang` (Polish when it has no such text) as safe HTML, its headings from <h`top`>."""
    return render_markdown(fill(doc.body(lang), doc, lang), top=top)


# Terms acceptance -----------------------------------------------------------------------------------

def terms_version() -> int:
    return current(TERMS).version


def accepted_version(user: User) -> int | None:
    """The terms version the account accepted; an account that accepted before versions were counted
    accepted version 1 (the text it was shown then)."""
    if user.terms_version is not None:
        return user.terms_version
    return 1 if user.terms_accepted_at is not None else None


def needs_terms(user: User) -> bool:
    """Whether a newer terms version waits for this account's acceptance (never asked of accounts that did
    not accept any, such as staff accounts made from the command line)."""
    accepted = accepted_version(user)
    if accepted is None:
        return False
    newest = db.session.scalar(select(func.max(LegalDocument.version)).where(LegalDocument.slug == TERMS))
    return newest is not None and accepted < newest


def accept_terms(user: User, version: int) -> None:
    """Record that the account accepted this terms version (the newest; an older one is refused)."""
    if version != terms_version():
        raise LegalError(_("Regulamin zmienił się w międzyczasie. Przeczytaj najnowszą wersję i zaakceptuj ją."))
    user.terms_version = version
    user.terms_accepted_at = utcnow()
    db.session.flush()
