"""Places named in a query: a town or powiat of the region ("catering bydgoszcz", "sprzątanie toruński").

Such a word is not required of an offering (few offerings name a town in their text); instead, offerings
whose PES serves the place rank higher (search.query.PLACE_FACTOR). A place is known by the single-word name of
its powiat ("toruński", "Bydgoszcz") and the first word of its seat ("Toruń", "Aleksandrów" of Aleksandrów
Kujawski), in any case and with or without diacritics: words meet as synonyms do, by surface form or stem.
"""
from __future__ import annotations

from functools import lru_cache

from marketplace import region
from search.analysis import QueryWord, fold, is_stopword, stems, words


def _keys(word: str) -> set[str]:
    return {"s:" + fold(word)} | {"t:" + s for s in stems(word)}


@lru_cache(maxsize=8)
def _places(path_key: int) -> dict[str, frozenset[str]]:
    by_key: dict[str, set[str]] = {}
    for powiat in region.data()["powiats"]:
        names = [powiat["name"]]
        seat = words(powiat.get("seat") or "")
        if seat:
            names.append(seat[0])
        for name in names:
            name = name.lower()
            if len(name) < 4 or is_stopword(name):
                continue
            for key in _keys(name):
                by_key.setdefault(key, set()).add(powiat["code"])
    return {key: frozenset(codes) for key, codes in by_key.items()}


def powiats_named(word: QueryWord) -> frozenset[str]:
    """The codes of the powiats a query word names (empty when it names none)."""
    places = _places(id(region.data()))
    found: set[str] = set()
    for key in _keys(word.text):
        found |= places.get(key, frozenset())
    return frozenset(found)
