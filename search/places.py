"""Places named in a query: a town or powiat of the region ("catering bydgoszcz", "sprzątanie toruński").

Such a word is not required of an offering (few offerings name a town in their text); instead, offerings
whose PES serves the place rank higher (search.query.PLACE_FACTOR). A place is known by its exact forms, in
any case and with or without diacritics, never by stem: stems of place names meet ordinary words ("świece",
candles, and Świecie). The forms are the powiat's name with its adjective endings ("toruński", "toruńskiej")
and the seat's forms listed in the region file (`seat_forms`: "Toruń", "Torunia", "Toruniu"; the seat's
first word when the file lists none), and the other words of a seat's name ("Kujawski").
"""
from __future__ import annotations

from functools import lru_cache

from marketplace import region
from search.analysis import QueryWord, fold, words

ADJECTIVE_ENDINGS = ("i", "iego", "iemu", "im", "a", "iej", "ą", "ie", "ich", "imi")


def _adjective_forms(name: str) -> set[str]:
    """"toruński" -> toruński, toruńskiego, …, toruńskie; a compound changes its last part only."""
    head, _sep, last = name.rpartition("-")
    if not last.endswith(("ski", "cki")):
        return {name}
    stem = last[:-1]
    prefix = head + "-" if head else ""
    return {prefix + stem + ending for ending in ADJECTIVE_ENDINGS}


@lru_cache(maxsize=8)
def _places(data_id: int) -> dict[str, frozenset[str]]:
    by_form: dict[str, set[str]] = {}
    for powiat in region.data()["powiats"]:
        forms = _adjective_forms(powiat["name"].lower())
        seat = words(powiat.get("seat") or "")
        forms |= {form.lower() for form in powiat.get("seat_forms") or seat[:1]}
        forms |= {w for w in seat[1:] if len(w) > 3}  # "Kujawski" of Aleksandrów Kujawski
        for form in forms:
            by_form.setdefault(fold(form), set()).add(powiat["code"])
    return {form: frozenset(codes) for form, codes in by_form.items()}


# Words that go with a place ("powiat toruński", "w gminie Lipno"): optional when the query names a place.
CONTEXT_WORDS = frozenset(fold(w) for w in (
    "powiat", "powiatu", "powiecie", "powiatem", "gmina", "gminy", "gminie", "gminą", "miasto", "miasta",
    "mieście", "okolice", "okolicy", "okolicach"))


def is_context(word: QueryWord) -> bool:
    return fold(word.text.lower()) in CONTEXT_WORDS


def powiats_named(word: QueryWord) -> frozenset[str]:
    """The codes of the powiats a query word names (empty when it names none)."""
    data = region.data()
    return _places(id(data)).get(fold(word.text.lower()), frozenset())
