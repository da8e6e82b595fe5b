"""Human names, in the current language, for the codes of legal forms and statuses."""
from flask_babel import lazy_gettext as _l

LEGAL_FORM_LABELS = {
    "spoldzielnia_socjalna": _l("spółdzielnia socjalna"),
    "cis": _l("Centrum Integracji Społecznej (CIS)"),
    "kis": _l("Klub Integracji Społecznej (KIS)"),
    "zaz": _l("Zakład Aktywności Zawodowej (ZAZ)"),
    "wtz": _l("Warsztat Terapii Zajęciowej (WTZ)"),
    "spoldzielnia_pracy": _l("spółdzielnia pracy"),
    "spoldzielnia_inwalidow": _l("spółdzielnia inwalidów lub niewidomych"),
    "fundacja": _l("fundacja"),
    "stowarzyszenie": _l("stowarzyszenie"),
    "kgw": _l("koło gospodyń wiejskich"),
    "spolka_non_profit": _l("spółka non-profit"),
    "inna": _l("inna forma"),
}

STATUS_LABELS = {
    "pending": _l("czeka na weryfikację"),
    "verified": _l("zweryfikowany"),
    "rejected": _l("odrzucony"),
    "suspended": _l("zawieszony"),
}

INSTITUTION_KIND_LABELS = {
    "gmina": _l("gmina"),
    "powiat": _l("powiat"),
    "jednostka_gminy": _l("jednostka organizacyjna gminy (szkoła, ośrodek, zakład)"),
    "jednostka_powiatu": _l("jednostka organizacyjna powiatu"),
    "wojewodztwo": _l("samorząd województwa lub jego jednostka"),
    "inna_publiczna": _l("inny podmiot publiczny"),
}


def legal_form_label(code: str) -> str:
    return str(LEGAL_FORM_LABELS.get(code, code))


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def legal_form_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in LEGAL_FORM_LABELS.items()]
