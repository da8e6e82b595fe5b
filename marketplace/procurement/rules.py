"""The clause builder's rules: which regime a purchase falls under on the day its procedure starts, and
which social-clause instruments fit it, each with the reasons a purchaser can check.

Pure functions of the inputs and a LegalState; the legal values themselves live in data (legal_data).
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from marketplace.procurement.legal_state import LegalState

KINDS = ("supplies", "services", "works")
# Purchaser types: which EU threshold applies and whether it is a public-finance unit (art. 15a).
PURCHASERS = {
    "local": ("other", True),       # gmina, powiat, województwo and their units (schools, centres)
    "central": ("central", True),   # central government bodies
    "other_public": ("other", True),  # other public-finance units
    "other": ("other", False),      # other purchasers under Pzp (e.g. municipal companies)
}
AIMS = ("employ", "social_economy", "accessibility")
# The values every result needs, whatever the inputs: their common span is the range of start days served.
REQUIRED = ("pzp_threshold", "eur_rate", "eu_threshold_works", "eu_threshold_central", "eu_threshold_other",
            "eu_threshold_social", "reserved_min_share")
INSTRUMENTS = ("below_threshold", "art94", "art95", "art96", "art100", "art242", "art361")
RESERVING = ("art94", "art361", "below_threshold")  # instruments that narrow who may bid
GROSZ = Decimal("0.01")
NBSP = "\u00a0"


@dataclass(frozen=True)
class Inputs:
    value: Decimal
    kind: str
    purchaser: str
    start: date
    cpv: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    powiats: tuple[str, ...] = ()
    aims: frozenset = frozenset()
    social_services: bool = False  # social and other specific services (art. 359 Pzp, Annex XIV)


@dataclass
class Regime:
    code: str  # "below", "national" or "eu"
    national_threshold: Decimal
    eu_threshold_eur: Decimal
    eur_rate: Decimal
    eu_threshold_pln: Decimal
    eu_key: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class Fit:
    code: str
    fits: bool
    reasons: list[str] = field(default_factory=list)
    mandatory: bool = False


def cpv_number(code: str) -> int:
    return int(code[:8])


def on_art361_list(code: str, listed) -> bool:
    """Whether a CPV code is on the art. 361 list, whose entries are codes or ranges "A..B" (inclusive)."""
    number = cpv_number(code)
    for item in listed:
        low, _sep, high = item.partition("..")
        if cpv_number(low) <= number <= cpv_number(high or low):
            return True
    return False


def all_on_art361_list(codes, legal: LegalState, day: date) -> bool:
    listed = legal.entry("art361_cpv", day).value
    return bool(codes) and all(on_art361_list(c, listed) for c in codes)


def money(value: Decimal) -> str:
    """A sum in Polish notation with a space between thousands and a decimal comma (170 000,00 zł)."""
    whole, _dot, cents = f"{value.quantize(GROSZ):,.2f}".partition(".")
    return whole.replace(",", NBSP) + "," + cents + NBSP + "zł"


def _euros(value: Decimal) -> str:
    return f"{value:,.0f}".replace(",", NBSP)


def _rate(value: Decimal) -> str:
    return str(value).replace(".", ",")


def _eu_key(inputs: Inputs, legal: LegalState) -> str:
    if inputs.kind == "works":
        return "eu_threshold_works"
    if inputs.kind == "services" and (inputs.social_services or all_on_art361_list(inputs.cpv, legal, inputs.start)):
        return "eu_threshold_social"  # the art. 361 codes are all social services; the purchaser may say so
    return f"eu_threshold_{PURCHASERS[inputs.purchaser][0]}"


def regime(inputs: Inputs, legal: LegalState) -> Regime:
    """Below the national threshold, national, or EU: thresholds and the EUR rate of the procedure's start."""
    national = legal.amount("pzp_threshold", inputs.start)
    key = _eu_key(inputs, legal)
    eur, rate = legal.amount(key, inputs.start), legal.amount("eur_rate", inputs.start)
    eu_pln = (eur * rate).quantize(GROSZ, rounding=ROUND_HALF_UP)
    result = Regime("national", national, eur, rate, eu_pln, key)
    day = inputs.start.isoformat()
    if inputs.value < national:
        result.code = "below"
        result.reasons.append(_("Wartość %(value)s jest niższa niż próg stosowania Pzp %(threshold)s, "
                                "obowiązujący dla postępowań wszczętych %(day)s.",
                                value=money(inputs.value), threshold=money(national), day=day))
    elif inputs.value < eu_pln:
        result.reasons.append(_("Wartość %(value)s osiąga próg stosowania Pzp %(threshold)s, ale jest niższa niż "
                                "próg unijny %(eu)s (%(eur)s EUR × %(rate)s zł/EUR).",
                                value=money(inputs.value), threshold=money(national), eu=money(eu_pln),
                                eur=_euros(eur), rate=_rate(rate)))
    else:
        result.code = "eu"
        result.reasons.append(_("Wartość %(value)s osiąga próg unijny %(eu)s (%(eur)s EUR × %(rate)s zł/EUR): "
                                "obowiązują procedury unijne.",
                                value=money(inputs.value), eu=money(eu_pln),
                                eur=_euros(eur), rate=_rate(rate)))
    return result


def _social(inputs: Inputs) -> bool:
    return bool(inputs.aims & {"employ", "social_economy"})


def art15a_offered(inputs: Inputs, reg: Regime, legal: LegalState) -> bool:
    """Below the threshold a public-finance unit may reserve a purchase to social cooperatives (art. 15a), as
    long as the data says that article reaches up to the Pzp threshold."""
    if reg.code != "below" or not PURCHASERS[inputs.purchaser][1] or not _social(inputs):
        return False
    return str(legal.entry("art15a_follows_threshold", inputs.start).value) == "1"


def _below(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    fit = Fit("below_threshold", reg.code == "below")
    if not fit.fits:
        fit.reasons.append(_("Wartość osiąga próg stosowania Pzp, więc zamówienie udziela się według ustawy."))
        return fit
    fit.reasons.append(_("Pzp nie stosuje się: zamawiający stosuje swój regulamin i może zapytać PES wprost."))
    public_unit = PURCHASERS[inputs.purchaser][1]
    if art15a_offered(inputs, reg, legal):
        fit.reasons.append(_("Jednostka sektora finansów publicznych może zastrzec taki zakup dla spółdzielni "
                             "socjalnych (art. 15a ustawy o spółdzielniach socjalnych); zastrzeżenie wpisuje się "
                             "do wniosku o zakup i dokumentów zakupu."))
    elif not public_unit:
        fit.reasons.append(_("Zastrzeżenie z art. 15a ustawy o spółdzielniach socjalnych przysługuje tylko "
                             "jednostkom sektora finansów publicznych."))
    return fit


def _art94(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    share = legal.amount("reserved_min_share", inputs.start)
    if reg.code == "below":
        return Fit("art94", False, [_("Art. 94 Pzp dotyczy postępowań prowadzonych według ustawy.")])
    if not _social(inputs):
        return Fit("art94", False, [_("Wybierz cel „zatrudnienie osób w trudnej sytuacji” lub „zakup od "
                                      "ekonomii społecznej”, aby zastrzec zamówienie.")])
    return Fit("art94", True, [_("Zamówienie można zastrzec dla wykonawców, u których co najmniej %(share)s%% "
                                 "zatrudnionych to osoby z grup wskazanych w art. 94 ust. 1; zastrzeżenie nie "
                                 "wymaga uzasadnienia.", share=share)])


def _art95(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    if reg.code == "below":
        return Fit("art95", False, [_("Art. 95 Pzp dotyczy postępowań prowadzonych według ustawy.")])
    if inputs.kind == "supplies":
        return Fit("art95", False, [_("Wymóg zatrudnienia na umowę o pracę dotyczy usług i robót budowlanych, "
                                      "nie dostaw.")])
    return Fit("art95", True, [_("Przy usługach i robotach budowlanych zamawiający musi wymagać umowy o pracę "
                                 "dla czynności, które polegają na wykonywaniu pracy (art. 22 § 1 Kodeksu pracy).")],
               mandatory=True)


def _art96(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    if reg.code == "below":
        return Fit("art96", False, [_("Art. 96 Pzp dotyczy postępowań prowadzonych według ustawy.")])
    if "employ" not in inputs.aims:
        return Fit("art96", False, [_("Wybierz cel „zatrudnienie osób w trudnej sytuacji”, aby wymagać "
                                      "zatrudnienia przy realizacji zamówienia.")])
    legal.entry("art96_groups", inputs.start)
    return Fit("art96", True, [_("Można wymagać zatrudnienia przy realizacji zamówienia osób z grup "
                                 "art. 96 ust. 2 pkt 2, podając ich liczbę i okres zatrudnienia (ust. 3).")])


def _art100(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    if reg.code == "below":
        return Fit("art100", False, [_("Art. 100 Pzp dotyczy postępowań prowadzonych według ustawy; "
                                       "dostępność warto jednak opisać także poniżej progu.")])
    return Fit("art100", True, [_("Gdy z przedmiotu zamówienia będą korzystać osoby fizyczne, opis przedmiotu "
                                  "musi uwzględniać wymagania dostępności, chyba że nie uzasadnia tego jego "
                                  "charakter.")], mandatory=True)


def _art242(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    if reg.code == "below":
        return Fit("art242", False, [_("Kryteria oceny ofert z art. 242 Pzp dotyczą postępowań według ustawy.")])
    if not inputs.aims:
        return Fit("art242", False, [_("Wybierz cel zamówienia, aby dobrać kryterium społeczne.")])
    return Fit("art242", True, [_("Kryterium jakościowe może dotyczyć aspektów społecznych, w tym integracji "
                                  "osób z art. 94 ust. 1, albo dostępności (art. 242 ust. 2 pkt 1 i 2).")])


def _art361(inputs: Inputs, reg: Regime, legal: LegalState) -> Fit:
    if reg.code == "below":
        return Fit("art361", False, [_("Art. 361 Pzp dotyczy postępowań prowadzonych według ustawy.")])
    if inputs.kind != "services":
        return Fit("art361", False, [_("Art. 361 dotyczy tylko usług społecznych i innych szczególnych usług.")])
    if not inputs.cpv:
        return Fit("art361", False, [_("Podaj kody CPV: art. 361 obejmuje tylko usługi z zamkniętej listy kodów.")])
    listed = legal.entry("art361_cpv", inputs.start).value
    outside = [c for c in inputs.cpv if not on_art361_list(c, listed)]
    if outside:
        return Fit("art361", False, [_("Kody spoza listy art. 361: %(codes)s. Zastrzec można tylko zamówienie, "
                                       "którego każdy kod jest na liście.", codes=", ".join(outside))])
    years = legal.amount("art361_max_years", inputs.start)
    return Fit("art361", True, [_("Każdy kod CPV jest na liście art. 361: zamówienie można zastrzec dla "
                                  "wykonawców realizujących misję publiczną związaną z tymi usługami, na "
                                  "najwyżej %(years)s lata.", years=years)])


CHECKS = (_below, _art94, _art95, _art96, _art100, _art242, _art361)


def instruments(inputs: Inputs, reg: Regime, legal: LegalState) -> list[Fit]:
    """Every instrument with whether it fits and why, fitting ones first, in the order of INSTRUMENTS."""
    found = [check(inputs, reg, legal) for check in CHECKS]
    return sorted(found, key=lambda f: not f.fits)


def evaluate(inputs: Inputs, legal: LegalState) -> tuple[Regime, list[Fit]]:
    reg = regime(inputs, legal)
    return reg, instruments(inputs, reg, legal)
