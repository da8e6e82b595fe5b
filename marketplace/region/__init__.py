"""The region the portal serves, read from one data file so that another voivodeship can deploy.

The default file lists Kujawsko-Pomorskie's 23 powiats with their TERYT codes; set REGION_FILE to
another file of the same shape to serve another region.
"""
import json
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import get_locale

DEFAULT_FILE = Path(__file__).parent / "data" / "kujawsko-pomorskie.json"


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    data["by_code"] = {p["code"]: p for p in data["powiats"]}
    return data


def data(path: str | None = None) -> dict:
    """The region's data; the file named by REGION_FILE, else the default region."""
    if path is None:
        try:
            path = current_app.config.get("REGION_FILE")
        except RuntimeError:  # outside an application context
            path = None
    return _load(str(path or DEFAULT_FILE))


def powiat_codes() -> list[str]:
    return [p["code"] for p in data()["powiats"]]


def is_powiat(code: str) -> bool:
    return code in data()["by_code"]


def _lang() -> str:
    try:
        return str(get_locale() or "pl")[:2]
    except RuntimeError:
        return "pl"


def powiat_label(code: str) -> str:
    """The powiat's name in the current language, or the bare code when it is not the region's."""
    p = data()["by_code"].get(code)
    if not p:
        return code
    return p.get("label_" + _lang()) or p["label_pl"]


def powiat_choices() -> list[tuple[str, str]]:
    return [(p["code"], powiat_label(p["code"])) for p in data()["powiats"]]


def name() -> str:
    v = data()["voivodeship"]
    return v.get("name_" + _lang()) or v["name_pl"]
