"""Money of orders: Decimal amounts rounded half-up to the grosz, VAT computed per line, integer grosze only
at the border with Stripe.

A line's VAT is its net amount times the rate, rounded once; the order's totals are sums of its lines, so the
totals on the order, the invoice and the Stripe charge agree to the grosz.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

GROSZ = Decimal("0.01")
ZERO = Decimal("0.00")


def rounded(value) -> Decimal:
    return Decimal(value).quantize(GROSZ, rounding=ROUND_HALF_UP)


def rate_percent(rate: str) -> int:
    """The percentage of a VAT rate code: "23" is 23, "zw" (exempt) and "0" are 0."""
    return 0 if rate in ("zw", "0") else int(rate)


@dataclass(frozen=True)
class Amounts:
    net: Decimal
    vat: Decimal
    gross: Decimal


def line_amounts(unit_net: Decimal, quantity: int, rate: str) -> Amounts:
    """Net, VAT and gross of `quantity` units at `unit_net` each."""
    net = rounded(Decimal(unit_net) * quantity)
    vat = rounded(net * rate_percent(rate) / 100)
    return Amounts(net, vat, net + vat)


def total(lines: Iterable) -> Amounts:
    """The sums of objects with .net, .vat and .gross (order lines or Amounts)."""
    net = vat = ZERO
    for line in lines:
        net += Decimal(line.net)
        vat += Decimal(line.vat)
    return Amounts(rounded(net), rounded(vat), rounded(net + vat))


def by_rate(lines: Iterable) -> dict[str, Amounts]:
    """Net, VAT and gross per VAT rate code, as an invoice states them."""
    groups: dict[str, list] = {}
    for line in lines:
        groups.setdefault(line.vat_rate, []).append(line)
    return {rate: total(items) for rate, items in groups.items()}


def to_grosze(amount: Decimal) -> int:
    """An amount in złote as integer grosze (Stripe's smallest currency unit for PLN)."""
    value = rounded(amount) * 100
    if value != value.to_integral_value():  # pragma: no cover - rounded() leaves two decimal places
        raise ValueError(f"{amount} is not a whole number of grosze")
    return int(value)


def from_grosze(grosze: int) -> Decimal:
    return (Decimal(int(grosze)) / 100).quantize(GROSZ)


def fee(gross: Decimal, percent: Decimal | str) -> Decimal:
    """The platform's fee on an order: `percent` of its gross total, rounded half-up to the grosz."""
    return rounded(Decimal(gross) * Decimal(percent) / 100)
