"""Prices of offerings: parsing what people type, gross from net and VAT, and Polish formatting.

Money is Decimal throughout. Gross = net × (100 + rate) / 100, rounded half-up to grosze; for "zw"
(exempt from VAT) and "0" the gross price equals the net one.
"""
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from catalog.models import VAT_RATES

MAX_PRICE = Decimal(1_000_000)
GROSZ = Decimal("0.01")
VAT_LABELS = {"23": _l("23%"), "8": _l("8%"), "5": _l("5%"), "0": _l("0%"), "zw": _l("zw. (zwolnione z VAT)")}
# Digits with at most one decimal separator (comma or dot), optionally signed; spaces between groups allowed.
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


class PriceError(ValueError):
    """The price cannot be used: str() is the message for the person (in the current language), `code` says
    which rule it broke, for callers that word their own messages (the import reports in English)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code  # "empty", "not_a_number", "negative", "zero", "too_large" or "too_many_decimals"


def parse_net(text: str | None, maximum: Decimal = MAX_PRICE) -> Decimal:
    """The one parser of net prices, for the editor and the import alike.

    Accepts what people type: "18,50", "18.5", "1 200,00", "+7"; a comma or a dot separates the grosze,
    spaces (also non-breaking ones) may group the digits. The price must be above zero, at most `maximum`,
    with at most two decimal places; further digits are allowed only when they are zeros ("18.500" is
    18.50, "18.505" is refused). Returns the amount quantized to grosze; raises PriceError otherwise.
    """
    raw = re.sub(r"[\s\u00a0\u202f]", "", text or "")
    if not raw:
        raise PriceError(_("Podaj cenę netto albo zaznacz „cena do uzgodnienia”."), "empty")
    if not _NUMBER.fullmatch(raw):
        raise PriceError(_("Cena musi być liczbą, np. 18,50 (przecinek lub kropka oddziela grosze)."),
                         "not_a_number")
    value = Decimal(raw.replace(",", "."))  # the pattern admits only plain decimal numbers
    if value < 0:
        raise PriceError(_("Cena nie może być ujemna."), "negative")
    if value == 0:
        raise PriceError(_("Cena musi być większa od zera. Jeśli ustalacie ją indywidualnie, zaznacz "
                           "„cena do uzgodnienia”."), "zero")
    # Compared before rounding: rounding a number of 30 digits to grosze is beyond Decimal's precision.
    if value > maximum:
        raise PriceError(_("Cena nie może przekraczać %(max)s zł netto.", max=format_amount(maximum)),
                         "too_large")
    try:
        rounded = value.quantize(GROSZ)
    except InvalidOperation:  # pragma: no cover - below MAX_PRICE the quantized value always fits
        rounded = None
    if rounded != value:
        raise PriceError(_("Cena może mieć najwyżej dwa miejsca po przecinku (grosze)."), "too_many_decimals")
    return rounded


def gross(net: Decimal | None, rate: str) -> Decimal | None:
    """The gross price for a net price and a VAT rate code ("23", "8", "5", "0", "zw")."""
    if net is None:
        return None
    if rate not in VAT_RATES:
        raise ValueError(f"unknown VAT rate {rate!r}")
    net = Decimal(net)
    if rate in ("zw", "0"):
        return net.quantize(GROSZ, rounding=ROUND_HALF_UP)
    return (net * (100 + int(rate)) / 100).quantize(GROSZ, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal | None) -> str:
    """"1 234,50" in Polish (the separators of the current language), always with grosze."""
    if value is None:
        return ""
    return format_decimal(Decimal(value), format="#,##0.00")


def format_plain(value: Decimal | None) -> str:
    """"1234,50" (the current language's decimal sign, no grouping): what the editor shows to be typed over."""
    if value is None:
        return ""
    return format_decimal(Decimal(value), format="0.00")


def format_price(value: Decimal | None) -> str:
    """"18,50 zł"."""
    if value is None:
        return ""
    return _("%(amount)s zł", amount=format_amount(value))


def vat_label(rate: str) -> str:
    return str(VAT_LABELS.get(rate, rate))


def vat_choices() -> list[tuple[str, str]]:
    return [(rate, vat_label(rate)) for rate in VAT_RATES]


def summary(net: Decimal | None, rate: str) -> str:
    """The one-line price: "18,50 zł netto + 8% VAT = 19,98 zł brutto", or "cena do uzgodnienia"."""
    if net is None:
        return _("cena do uzgodnienia")
    if rate == "zw":
        return _("%(net)s netto, zwolnione z VAT (zw.) = %(gross)s brutto",
                 net=format_price(net), gross=format_price(gross(net, rate)))
    return _("%(net)s netto + %(rate)s%% VAT = %(gross)s brutto",
             net=format_price(net), rate=rate, gross=format_price(gross(net, rate)))


def register(app) -> None:
    """Template filters {{ value|zl }}, {{ offering|price_summary }}, {{ offering|gross }} and the global
    vat_label(rate), for the public pages and the moderators' alike."""
    app.jinja_env.globals["vat_label"] = vat_label
    app.jinja_env.filters["zl"] = format_price
    app.jinja_env.filters["price_summary"] = lambda offering: summary(offering.price_net, offering.vat_rate)
    app.jinja_env.filters["gross"] = lambda offering: gross(offering.price_net, offering.vat_rate)
