"""Names, in the page's language, for the builder's codes: instruments, regimes, kinds, aims, legal values."""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import region
from marketplace.core.reports import day_text
from marketplace.procurement.legal_state import Entry

INSTRUMENTS = {
    "below_threshold": _l("Zakup poniżej progu Pzp"),
    "art94": _l("Zamówienie zastrzeżone (art. 94 Pzp)"),
    "art95": _l("Umowa o pracę (art. 95 Pzp)"),
    "art96": _l("Zatrudnienie osób z grup społecznych (art. 96 ust. 2 pkt 2 Pzp)"),
    "art100": _l("Dostępność (art. 100 Pzp)"),
    "art242": _l("Kryterium społeczne (art. 242 ust. 2 Pzp)"),
    "art361": _l("Usługi społeczne zastrzeżone (art. 361 Pzp)"),
}
REGIMES = {"below": _l("poniżej progu stosowania Pzp"), "national": _l("Pzp, poniżej progów unijnych"),
           "eu": _l("Pzp, od progów unijnych")}
KINDS = {"supplies": _l("dostawy"), "services": _l("usługi"), "works": _l("roboty budowlane")}
PURCHASERS = {"local": _l("samorząd lub jego jednostka"), "central": _l("administracja rządowa centralna"),
              "other_public": _l("inna jednostka sektora finansów publicznych"), "other": _l("inny zamawiający")}
AIMS = {"employ": _l("zatrudnienie osób w trudnej sytuacji"),
        "social_economy": _l("zakup od podmiotów ekonomii społecznej"),
        "accessibility": _l("dostępność dla osób z niepełnosprawnościami")}
LISTS = {"all": _l("wszystkie pasujące PES"), "art94": _l("uprawnione do zamówień zastrzeżonych (art. 94)"),
         "art15a": _l("spółdzielnie socjalne (art. 15a)")}
BASIS = {"cooperative": _l("spółdzielnia socjalna (art. 94 ust. 1 Pzp)"),
         "share": _l("misja integracyjna i %(share)s%% zatrudnionych z grup art. 94")}
VALUES = {
    "pzp_threshold": _l("Próg stosowania Pzp"), "eur_rate": _l("Kurs euro do przeliczania progów"),
    "eu_threshold_works": _l("Próg unijny: roboty budowlane"),
    "eu_threshold_central": _l("Próg unijny: dostawy i usługi administracji centralnej"),
    "eu_threshold_other": _l("Próg unijny: dostawy i usługi pozostałych zamawiających"),
    "eu_threshold_social": _l("Próg unijny: usługi społeczne"),
    "reserved_min_share": _l("Minimalny odsetek zatrudnionych (art. 94 ust. 2)"),
    "art361_cpv": _l("Kody CPV usług z art. 361"), "art361_max_years": _l("Najdłuższy okres umowy (art. 361)"),
    "art94_groups": _l("Grupy osób (art. 94 ust. 1 pkt 1–7)"),
    "art94_groups_more": _l("Grupy osób (art. 94 ust. 1 pkt 8–10)"),
    "art96_groups": _l("Grupy osób (art. 96 ust. 2 pkt 2)"),
    "art15a_follows_threshold": _l("Art. 15a ustawy o spółdzielniach socjalnych sięga progu Pzp"),
}


def _label(table: dict, code: str) -> str:
    return str(table.get(code, code))


def instrument_label(code: str) -> str:
    return _label(INSTRUMENTS, code)


def regime_label(code: str) -> str:
    return _label(REGIMES, code)


def value_name(key: str) -> str:
    return _label(VALUES, key)


def _number(value: Decimal) -> str:
    text = f"{value:,}".replace(",", "\u00a0")
    return text.replace(".", ",")


def value_text(entry: Entry, lang: str = "pl") -> str:
    """A legal value as the page shows it: "170 000 zł", "4,31 zł/EUR", "30%" or a list."""
    if entry.unit in ("groups",):
        return "; ".join(g.get(lang) or g["pl"] for g in entry.value)
    if entry.unit == "cpv":
        return ", ".join(str(code).replace("..", " – ") for code in entry.value)
    if entry.unit == "tak/nie":
        return _("tak") if str(entry.value) == "1" else _("nie")
    amount = Decimal(str(entry.value))
    units = {"PLN": " zł", "EUR": " EUR", "PLN/EUR": " zł/EUR", "%": "%", "lata": " " + _("lata")}
    return _number(amount) + units.get(entry.unit, " " + entry.unit)


def input_rows(result) -> list[tuple[str, str]]:
    from catalog import categories
    from marketplace.procurement.rules import money

    i = result.inputs
    return [(_("Szacunkowa wartość netto"), money(i.value)), (_("Data wszczęcia postępowania"), day_text(i.start)),
            (_("Rodzaj zamówienia"), _label(KINDS, i.kind)), (_("Zamawiający"), _label(PURCHASERS, i.purchaser)),
            (_("Kody CPV"), ", ".join(i.cpv) or "–"),
            (_("Kategorie"), ", ".join(categories.name(c) for c in i.categories) or "–"),
            (_("Miejsce realizacji"), ", ".join(region.powiat_label(p) for p in i.powiats) or "–"),
            (_("Cel społeczny"), ", ".join(_label(AIMS, a) for a in sorted(i.aims)) or "–")]
