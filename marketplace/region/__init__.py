"""The region the portal serves, read from one data file so that another voivodeship can deploy.

The default file lists Kujawsko-Pomorskie's 23 powiats with their TERYT codes; set REGION_FILE to
another file of the same shape to serve another region. A powiat may give its seat's approximate position as
"seat_lat" and "seat_lon" (decimal degrees, WGS 84); with them `nearest` orders powiats by distance, without
them (a file may leave them out) the order given is kept.
"""
import json
import math
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import get_locale

DEFAULT_FILE = Path(__file__).parent / "data" / "kujawsko-pomorskie.json"
EARTH_RADIUS_KM = 6371.0


class RegionFileError(ValueError):
    """A region file whose content cannot be used."""


def _coordinate(powiat: dict, key: str, limit: float) -> float | None:
    value = powiat.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > limit:
        raise RegionFileError(f"powiat {powiat.get('code')}: {key} must be a number of degrees "
                              f"between -{limit:g} and {limit:g}, not {value!r}")
    return float(value)


def _seats(powiats: list[dict]) -> dict[str, tuple[float, float]]:
    """{code: (latitude, longitude)} of the powiats whose seat has both coordinates; a powiat may have
    neither, but not only one of them."""
    seats = {}
    for powiat in powiats:
        lat, lon = _coordinate(powiat, "seat_lat", 90), _coordinate(powiat, "seat_lon", 180)
        if (lat is None) != (lon is None):
            raise RegionFileError(f"powiat {powiat.get('code')}: give both seat_lat and seat_lon, or neither")
        if lat is not None:
            seats[powiat["code"]] = (lat, lon)
    return seats


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    powiats = data.get("powiats") if isinstance(data, dict) else None
    if not isinstance(powiats, list) or not all(isinstance(p, dict) and p.get("code") for p in powiats):
        raise RegionFileError(f"{path}: \"powiats\" must be a list of powiats, each with its \"code\"")
    try:
        data["seats"] = _seats(powiats)
    except RegionFileError as exc:
        raise RegionFileError(f"{path}: {exc}") from None
    data["by_code"] = {p["code"]: p for p in powiats}
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


def _great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The haversine distance between two (latitude, longitude) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(a: str, b: str) -> float:
    """The great-circle distance in km between the seats of powiats `a` and `b` (0 for the same powiat);
    ValueError when either is not the region's or the region file gives no coordinates for it."""
    seats = data()["seats"]
    for code in (a, b):
        if code not in seats:
            raise ValueError(f"no seat coordinates for powiat {code!r}")
    return 0.0 if a == b else _great_circle_km(seats[a], seats[b])


def nearest(code: str, among: Iterable[str], limit: int | None = None) -> list[str]:
    """The region's powiats of `among`, nearest to powiat `code` first (by the distance between seats): `code`
    itself first when it is among them, ties and powiats without coordinates (last) in the order given. Codes
    that are not the region's, and repeats, are left out; when `code` has no coordinates (or is unknown) the
    order given is kept (after `code` itself). At most `limit` codes when it is given."""
    region = data()
    known = [c for c in dict.fromkeys(among) if c in region["by_code"]]
    origin = region["seats"].get(code)

    def key(other: str) -> tuple[int, float]:
        if other == code:
            return (0, 0.0)
        seat = region["seats"].get(other)
        if origin is None or seat is None:
            return (2, 0.0)
        return (1, _great_circle_km(origin, seat))

    ordered = sorted(known, key=key)  # stable: equal keys keep the order given
    return ordered if limit is None else ordered[:max(limit, 0)]


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
