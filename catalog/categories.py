"""The catalogue's categories and subcategories, read once from catalog/data/categories.json.

The top-level slugs are part of the public contract (import format, API filters); their names,
descriptions, subcategories and CPV prefixes are data, edited in the file.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

from flask_babel import get_locale

DATA_FILE = Path(__file__).parent / "data" / "categories.json"


@lru_cache(maxsize=1)
def _data() -> dict:
    with open(DATA_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    data["by_slug"] = {c["slug"]: c for c in data["categories"]}
    # Longest prefixes first, so that "553" (catering) wins over "55" for a restaurant code.
    data["prefixes"] = sorted(((p, c["slug"]) for c in data["categories"] for p in c.get("cpv_prefixes", [])),
                              key=lambda item: -len(item[0]))
    return data


def _lang() -> str:
    """The current language's code; Polish outside a request (command line, mail)."""
    try:
        locale = get_locale()
    except RuntimeError:
        return "pl"
    return str(locale or "pl")[:2]


def _localised(item: dict, key: str) -> str:
    return item.get(f"{key}_{_lang()}") or item[f"{key}_pl"]


def all_categories() -> list[dict]:
    """Every top-level category as stored (both languages), in the file's order."""
    return _data()["categories"]


def get(slug: str) -> dict | None:
    return _data()["by_slug"].get(slug)


def slugs() -> list[str]:
    return [c["slug"] for c in all_categories()]


def is_category(slug) -> bool:
    return isinstance(slug, str) and slug in _data()["by_slug"]


def _subcategory(category: str, sub: str) -> dict | None:
    cat = get(category) if isinstance(category, str) else None
    return next((s for s in cat["subcategories"] if s["slug"] == sub), None) if cat else None


def is_subcategory(category, sub) -> bool:
    """True when `sub` is one of the subcategories of `category`."""
    return isinstance(sub, str) and _subcategory(category, sub) is not None


def name(slug: str) -> str:
    """The category's name in the current language; the bare slug when it is unknown."""
    cat = get(slug)
    return _localised(cat, "name") if cat else slug


def description(slug: str) -> str:
    cat = get(slug)
    return _localised(cat, "description") if cat else ""


def subcategory_name(category: str, sub: str) -> str:
    """The subcategory's name in the current language; the bare slug when it is unknown."""
    item = _subcategory(category, sub)
    return _localised(item, "name") if item else (sub or "")


def choices() -> list[tuple[str, str]]:
    """(slug, name) of every category, for a form's select, in the file's order."""
    return [(c["slug"], _localised(c, "name")) for c in all_categories()]


def subcategory_choices(slug: str) -> list[tuple[str, str]]:
    """(slug, name) of the category's subcategories; empty for an unknown category."""
    cat = get(slug)
    return [(s["slug"], _localised(s, "name")) for s in cat["subcategories"]] if cat else []


def category_for_cpv(code: str) -> str | None:
    """The category whose CPV prefix is the longest match for the code ("55524000-9" -> catering); the
    editor chooses it when an offering is saved with CPV codes and no category."""
    digits = re.sub(r"\D", "", code or "")[:8]
    if not digits:
        return None
    return next((slug for prefix, slug in _data()["prefixes"] if digits.startswith(prefix)), None)
