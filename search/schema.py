"""The search index of offerings: its Whoosh schema and the document of one offering.

The texts of an offering are indexed in four groups (TEXT_FIELDS): its title; its keywords (tags, category
and CPV names); its description; and its seller (the PES's name and town). Each group is indexed in a
``*_stem`` field (stem candidates, see search.analysis) and, but the description, also in a *surface* field
(lowercased words, diacritics folded). The analysis runs in search.analysis.index_terms, once per distinct
word; the index receives its terms as space-separated keywords. A query word matches either field; a document
that has the very word scores in both and so ranks above one that only shares its stem. Field weights are applied
at query time (TEXT_WEIGHTS, see search.query), so they can be tuned without rebuilding the index.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from whoosh import columns, fields

from search.analysis import cpv_significant, index_terms

SCHEMA_VERSION = 5  # raise it whenever the fields or the analysis change: the index must then be rebuilt

# The text groups, each with a surface field and its stem field, but the description: stems only (it holds
# most of the words; a word typed as written has the same stem candidates, so nothing is lost but the
# preference for exact words within descriptions, which titles and keywords keep).
TEXT_FIELDS = ("title", "keywords", "body", "seller")
SURFACE_FIELDS = ("title", "keywords", "seller")
# Stored copies of texts as written: snippets, suggestions, and how a corrected word is spelt.
DISPLAY_FIELDS = {"title": "title_text", "keywords": "keywords_text", "seller": "seller_text"}
SNIPPET_FIELD = "body_text"

# Query-time weight of a match in each field: title, tags, category and CPV names above the description.
TEXT_WEIGHTS = {
    "title": 6.0, "title_stem": 3.0,
    "keywords": 3.5, "keywords_stem": 1.75,
    "seller": 1.5, "seller_stem": 0.75,
    "body_stem": 0.75,
}
SYNONYM_FACTOR = 0.5  # a synonym's match weighs this much of the word's own

PRICE_ON_REQUEST = 2**53  # sort key of "price on request": after every real price, in both directions


def build_schema() -> fields.Schema:
    """A new schema instance for the offerings index."""
    spec = {
        "id": fields.ID(stored=True, unique=True),
        "ref": fields.ID(stored=True),
        "stamp": fields.STORED(),
        "kind": fields.ID(stored=True),
        "category": fields.ID(stored=True),
        "subcategory": fields.STORED(),
        "legal_form": fields.ID(stored=True),
        "reserved_eligible": fields.ID(stored=True),  # "1" or "0"
        "pes_id": fields.ID(stored=True),
        "powiats": fields.KEYWORD(stored=True),  # TERYT codes served, space-separated
        "cpv": fields.STORED(),  # CPV codes, space-separated (their names and codes are in "keywords")
        "price": fields.STORED(),  # net, in grosze; absent: on request
        # Sort keys are columns only: never searched, so no terms (a 64-bit NUMERIC indexes 16 terms a value).
        "sort_price_asc": fields.COLUMN(columns.NumericColumn("q")),
        "sort_price_desc": fields.COLUMN(columns.NumericColumn("q")),
        "sort_gross_asc": fields.COLUMN(columns.NumericColumn("q")),  # the gross price the cards show
        "sort_gross_desc": fields.COLUMN(columns.NumericColumn("q")),
        "cpv_tree": fields.KEYWORD(),  # each CPV code's significant digits and every shorter prefix (cpv_terms)
        "published_at": fields.COLUMN(columns.NumericColumn("q")),  # Unix seconds
        "mark_number": fields.STORED(),
        "mark_from": fields.NUMERIC(int, stored=True, sortable=True),  # YYYYMMDD, both days included
        "mark_until": fields.NUMERIC(int, stored=True, sortable=True),
        "mark_next_from": fields.NUMERIC(int, sortable=True),  # the period after a gap, if any
        "mark_next_until": fields.NUMERIC(int, sortable=True),
    }
    for name in TEXT_WEIGHTS:
        spec[name] = fields.KEYWORD()  # term frequencies kept; no field lengths (see search.index)
    for name in (*DISPLAY_FIELDS.values(), SNIPPET_FIELD):
        spec[name] = fields.STORED()
    return fields.Schema(**spec)


def cpv_terms(codes: Iterable[str]) -> list[str]:
    """The cpv_tree terms of an offering's codes: each code's significant digits and all their prefixes of
    two digits or more, so that a code finds every code below it in the tree."""
    terms: set[str] = set()
    for code in codes:
        significant = cpv_significant(code)
        terms.update(significant[:n] for n in range(2, len(significant) + 1))
    return sorted(terms)


def day_number(day: date) -> int:
    """A day as the integer YYYYMMDD used by the mark fields."""
    return day.year * 10000 + day.month * 100 + day.day


def price_grosze(value) -> int | None:
    """A net price (Decimal, str or number) in whole grosze; None stays None (price on request)."""
    if value is None or value == "":
        return None
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def gross_grosze(net_grosze: int | None, vat_rate: str | None) -> int | None:
    """The gross price in grosze for a net one and a VAT rate code, as the cards show it (catalog.pricing);
    no rate counts as none added."""
    if net_grosze is None:
        return None
    from catalog.pricing import gross

    return price_grosze(gross(Decimal(net_grosze) / 100, vat_rate or "0"))


def unix_seconds(moment: datetime | None) -> int:
    """A moment as Unix seconds; a naive datetime is taken as UTC (as SQLite returns them)."""
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_URL = re.compile(r"<?(?:https?://|mailto:|www\.)\S+>?")
_MD_MARKS = re.compile(r"(?m)^\s{0,3}(?:#{1,6}|>|[-*+]|\d+[.)])\s+|[*_`~]+|^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")


def markdown_text(text: str | None) -> str:
    """Markdown as plain words for the index and its snippets: links keep their text, marks go."""
    if not text:
        return ""
    text = _MD_IMAGE_OR_LINK.sub(r"\1", text)
    text = _MD_URL.sub(" ", text)
    text = _MD_MARKS.sub(" ", text)
    return " ".join(text.split())


def offering_document(offering: Mapping, pes: Mapping, category_names: Iterable[str],
                      cpv_names: Iterable[str], *, mark: Mapping | None = None) -> dict:
    """The index document of one offering, from plain values.

    ``offering``: id, ref, kind, title, description (Markdown), category, subcategory, tags (list), cpv
    (codes), service_area (the powiat codes served, already resolved), price_net, published_at.
    ``offering`` may also give vat_rate (the gross price sorts the search page).
    ``pes``: id, name, legal_form, city, reserved_eligible. ``category_names``: the names of its category
    and subcategory; ``cpv_names``: the names of its CPV codes (the powiats served are matched by code, see
    search.places); ``mark``: the offering's active quality mark (number, valid_from, valid_until) or None.
    """
    codes = list(offering.get("cpv") or [])
    description = markdown_text(offering.get("description"))
    seller = ". ".join(t for t in (pes["name"], pes.get("city") or "") if t)
    texts = {
        "title": offering["title"],
        "keywords": ". ".join(t for t in (", ".join(offering.get("tags") or []), *category_names, *codes,
                                          *cpv_names) if t),
        "body": description,
        "seller": seller,
    }
    grosze = price_grosze(offering.get("price_net"))
    gross = gross_grosze(grosze, offering.get("vat_rate"))
    doc = {
        "id": str(offering["id"]), "ref": offering["ref"], "kind": offering["kind"],
        "category": offering["category"], "subcategory": offering.get("subcategory") or None,
        "legal_form": pes["legal_form"], "reserved_eligible": "1" if pes.get("reserved_eligible") else "0",
        "pes_id": str(pes["id"]), "powiats": " ".join(offering.get("service_area") or []),
        "cpv": " ".join(codes), "price": grosze,
        "sort_price_asc": PRICE_ON_REQUEST if grosze is None else grosze,
        "sort_price_desc": PRICE_ON_REQUEST if grosze is None else -grosze,
        "sort_gross_asc": PRICE_ON_REQUEST if gross is None else gross,
        "sort_gross_desc": PRICE_ON_REQUEST if gross is None else -gross,
        "cpv_tree": " ".join(cpv_terms(codes)) or None,
        "published_at": unix_seconds(offering.get("published_at")),
        **_mark_values(mark),
    }
    for name, text in texts.items():
        doc[name], doc[name + "_stem"] = index_terms(text)
    del doc["body"]  # stems only (see SURFACE_FIELDS)
    doc.update(title_text=offering["title"], keywords_text=texts["keywords"], body_text=description,
               seller_text=seller)
    doc = {k: v for k, v in doc.items() if v is not None}
    doc["stamp"] = document_stamp(doc)
    return doc


def _mark_values(mark: Mapping | None) -> dict:
    if not mark or mark.get("status", "active") != "active":
        return {}
    values = {"mark_number": mark["number"], "mark_from": day_number(mark["valid_from"]),
              "mark_until": day_number(mark["valid_until"])}
    if mark.get("next_from"):
        values.update(mark_next_from=day_number(mark["next_from"]), mark_next_until=day_number(mark["next_until"]))
    return values


def document_stamp(doc: Mapping) -> str:
    """A fingerprint of a document's values: an indexed document is stale when the database gives another."""
    body = repr(sorted((k, v) for k, v in doc.items() if k != "stamp"))
    return hashlib.sha1(body.encode("utf-8")).hexdigest()[:16]
