"""Checks of PES identifiers and contact data, shared by the web forms and the importer.

Each check takes the raw value and returns it normalised, or raises ValueError with a message in the
current language that names the problem plainly.
"""
import re

from flask_babel import gettext as _
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.pl import nip as stdnip
from stdnum.pl import regon as stdregon

from marketplace import region


def _explain(exc: ValidationError, what: str) -> str:
    if isinstance(exc, InvalidLength):
        return _("%(what)s ma nieprawidłową liczbę cyfr.", what=what)
    if isinstance(exc, InvalidChecksum):
        return _("%(what)s ma błędną cyfrę kontrolną – sprawdź, czy nie ma literówki.", what=what)
    if isinstance(exc, InvalidFormat):
        return _("%(what)s może zawierać tylko cyfry.", what=what)
    return _("%(what)s jest nieprawidłowy.", what=what)


def nip(value: str) -> str:
    """NIP: 10 digits with a checksum; dashes, spaces and a PL prefix are accepted."""
    try:
        return stdnip.validate(value)
    except ValidationError as exc:
        raise ValueError(_explain(exc, "NIP")) from None


def regon(value: str) -> str:
    """REGON: 9 or 14 digits with a checksum."""
    try:
        return stdregon.validate(value)
    except ValidationError as exc:
        raise ValueError(_explain(exc, "REGON")) from None


def krs(value: str) -> str:
    """KRS number: 10 digits (leading zeros kept); it has no checksum."""
    digits = re.sub(r"[\s-]", "", str(value))
    if not digits.isdigit():
        raise ValueError(_("Numer KRS może zawierać tylko cyfry."))
    if len(digits) > 10 or len(digits) < 1 or int(digits) == 0:
        raise ValueError(_("Numer KRS ma 10 cyfr (np. 0000123456)."))
    return digits.zfill(10)


def postal_code(value: str) -> str:
    v = str(value).strip()
    if re.fullmatch(r"\d{5}", v):
        v = v[:2] + "-" + v[2:]
    if not re.fullmatch(r"\d{2}-\d{3}", v):
        raise ValueError(_("Kod pocztowy ma postać 00-000."))
    return v


def phone(value: str) -> str:
    v = re.sub(r"\s+", " ", str(value).strip())
    if not re.fullmatch(r"\+?[\d ()-]{9,20}", v) or len(re.sub(r"\D", "", v)) < 9:
        raise ValueError(_("Podaj numer telefonu, np. +48 56 000 00 00."))
    return v


def website(value: str) -> str:
    v = str(value).strip()
    if not re.match(r"^https?://", v):
        v = "https://" + v
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*\.[^\s]{2,}", v) or len(v) > 300:
        raise ValueError(_("Podaj adres strony, np. https://example.org."))
    return v


def powiat(value: str) -> str:
    v = str(value).strip()
    if not region.is_powiat(v):
        raise ValueError(_("Nieznany kod powiatu: %(code)s.", code=v))
    return v


def share(value) -> int:
    """Percentage of employees from the groups of art. 94 ust. 1 Pzp."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValueError(_("Podaj liczbę od 0 do 100.")) from None
    if isinstance(value, float) and value != n or not 0 <= n <= 100:
        raise ValueError(_("Podaj liczbę od 0 do 100."))
    return n
