"""The guidance pages: seeding version 1 from the shipped texts, filling their legal values from data,
publishing a new version (audit-logged), and what moderators must look at (stale pages, changed values).
Functions flush, never commit; a refused change raises GuidanceError.
"""
import json
import re
from datetime import date, timedelta
from pathlib import Path

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from catalog.markdown import render as render_markdown
from marketplace import audit
from marketplace.extensions import db
from marketplace.procurement.labels import value_name, value_text
from marketplace.procurement.legal_state import LegalState, MissingValue
from marketplace.procurement.models import GuidancePage, LegalValue
from marketplace.procurement.rules import GROSZ, money

DATA_DIR = Path(__file__).parent / "data" / "guidance"
PLACEHOLDER = re.compile(r"\{(pzp_threshold(?:_previous|_from)?|eur_rate|eu_threshold_(?:works|central|other|social)"
                         r"|reserved_min_share)\}")
# The legal values each placeholder reads, for telling moderators which pages a changed value touches.
READS = {"pzp_threshold": ("pzp_threshold",), "pzp_threshold_previous": ("pzp_threshold",),
         "pzp_threshold_from": ("pzp_threshold",), "eur_rate": ("eur_rate",),
         "reserved_min_share": ("reserved_min_share",)}
STALE_AFTER = timedelta(days=365)
CONTENT = ("title_pl", "title_en", "summary_pl", "summary_en", "body_pl", "body_en", "sources", "legal_state_on")


class GuidanceError(Exception):
    """A change the rules refuse; str() is the message."""


def _index() -> list[dict]:
    return json.loads((DATA_DIR / "index.json").read_text(encoding="utf-8"))


def _read(slug: str, lang: str) -> tuple[str | None, str | None]:
    path = DATA_DIR / f"{slug}.{lang}.md"
    if not path.exists():
        return None, None
    first, _sep, body = path.read_text(encoding="utf-8").partition("\n")
    return first.lstrip("# ").strip(), body.strip()


def seed() -> int:
    """Version 1 of every shipped page that has none yet; a concurrent seed loses quietly."""
    have = set(db.session.scalars(select(GuidancePage.slug).distinct()))
    added = 0
    for position, item in enumerate(_index()):
        if item["slug"] in have:
            continue
        (title_pl, body_pl), (title_en, body_en) = _read(item["slug"], "pl"), _read(item["slug"], "en")
        page = GuidancePage(slug=item["slug"], version=1, instrument=item["instrument"], position=position,
                            title_pl=title_pl, title_en=title_en, summary_pl=item["summary_pl"],
                            summary_en=item.get("summary_en"), body_pl=body_pl, body_en=body_en,
                            sources=item["sources"], legal_state_on=date.fromisoformat(item["legal_state_on"]))
        try:
            with db.session.begin_nested():
                db.session.add(page)
            added += 1
        except IntegrityError:
            continue
    return added


def _newest():
    newest = select(GuidancePage.slug, func.max(GuidancePage.version).label("version")).group_by(GuidancePage.slug)
    return newest.subquery()


def pages() -> list[GuidancePage]:
    """The newest version of every page, in the order they were shipped; seeded on a fresh install."""
    newest = _newest()
    stmt = (select(GuidancePage).join(newest, (GuidancePage.slug == newest.c.slug)
                                      & (GuidancePage.version == newest.c.version))
            .order_by(GuidancePage.position, GuidancePage.slug))
    found = list(db.session.scalars(stmt))
    if not found and seed():
        found = list(db.session.scalars(stmt))
    return found


def latest(slug: str) -> GuidancePage | None:
    return db.session.scalar(select(GuidancePage).where(GuidancePage.slug == slug)
                             .order_by(GuidancePage.version.desc()).limit(1))


def versions(slug: str) -> list[GuidancePage]:
    return list(db.session.scalars(select(GuidancePage).where(GuidancePage.slug == slug)
                                   .order_by(GuidancePage.version.desc())))


def get_version(slug: str, number: int) -> GuidancePage | None:
    return db.session.scalar(select(GuidancePage).where(GuidancePage.slug == slug, GuidancePage.version == number))


# Legal values in the text -----------------------------------------------------------------------------

def _eu(legal: LegalState, key: str, day: date) -> str:
    return money((legal.amount(key, day) * legal.amount("eur_rate", day)).quantize(GROSZ))


def values(legal: LegalState, day: date, lang: str = "pl") -> dict[str, str]:
    """What each placeholder stands for on `day`."""
    current = legal.entry("pzp_threshold", day)
    try:
        previous = legal.entry("pzp_threshold", current.valid_from - timedelta(days=1))
    except MissingValue:
        previous = current
    out = {"pzp_threshold": value_text(current, lang), "pzp_threshold_previous": value_text(previous, lang),
           "pzp_threshold_from": current.valid_from.strftime("%d.%m.%Y"),
           "eur_rate": value_text(legal.entry("eur_rate", day), lang),
           "reserved_min_share": value_text(legal.entry("reserved_min_share", day), lang)}
    for kind in ("works", "central", "other", "social"):
        out[f"eu_threshold_{kind}"] = _eu(legal, f"eu_threshold_{kind}", day)
    return out


def render(page: GuidancePage, lang: str, legal: LegalState, day: date) -> Markup:
    filled = values(legal, day, lang)
    return render_markdown(PLACEHOLDER.sub(lambda m: filled[m.group(1)], page.text("body", lang)), top=2)


def keys_read(page: GuidancePage) -> set[str]:
    """The legal values a page's texts show."""
    found = set()
    for text in (page.body_pl, page.body_en or ""):
        for name in PLACEHOLDER.findall(text):
            found.update(READS.get(name, (name, "eur_rate")))
    return found


# Moderators ------------------------------------------------------------------------------------------

def flags(page: GuidancePage, today: date) -> list[str]:
    """Why a page needs a moderator's look: its legal state is over a year old, or a value it shows changed
    (a new version: a new source, a new amount, a confirmation) after the page's version was written."""
    out = []
    if today - page.legal_state_on > STALE_AFTER:
        out.append(_("stan prawny starszy niż 12 miesięcy"))
    keys = keys_read(page)
    if keys:
        changed = db.session.scalars(select(LegalValue.key).where(
            LegalValue.key.in_(keys), LegalValue.version > 1, LegalValue.created_at > page.created_at).distinct())
        out += [_("zmieniła się wartość: %(key)s", key=value_name(key)) for key in changed]
    return out


def publish(actor: User, previous: GuidancePage, data: dict, base_version: int) -> GuidancePage:
    """A new version of a page; refused when another was published since the editor opened it, or when
    nothing changed."""
    if base_version != previous.version:
        raise GuidanceError(_("W międzyczasie opublikowano wersję %(n)d tej strony. Otwórz ją i wprowadź zmiany "
                              "jeszcze raz.", n=previous.version))
    if all((getattr(previous, k) or None) == (data[k] or None) for k in CONTENT):
        raise GuidanceError(_("Nic się nie zmieniło – nowej wersji nie utworzono."))
    page = GuidancePage(slug=previous.slug, version=previous.version + 1, instrument=previous.instrument,
                        position=previous.position, created_by_id=actor.id, **data)
    try:
        with db.session.begin_nested():
            db.session.add(page)
    except IntegrityError:
        raise GuidanceError(_("W międzyczasie opublikowano inną wersję tej strony. Otwórz formularz ponownie.")) \
            from None
    audit.record(actor, "guidance.publish", page, before={"version": previous.version},
                 after={"version": page.version, "legal_state_on": page.legal_state_on.isoformat()})
    return page
