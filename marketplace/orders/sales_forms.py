"""The form of a PES's sales settings: how buyers may pay and receive what they order, VAT and KSeF.

The rules that join fields (an account number for transfers, an address for pickup, a payment way and a way
to deliver before orders are taken) are checked here, each with its message at the field to correct.
"""
import re
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum import iban
from stdnum.exceptions import ValidationError as NumberError
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, StopValidation, ValidationError

from catalog.pricing import PriceError, format_amount, parse_net

MAX_DELIVERY = Decimal(10_000)
ZERO = Decimal("0.00")
# Settings that map one to one onto PesSales columns.
SALES_FIELDS = ("enabled", "accepts_transfer", "bank_account", "payment_term_days", "pickup",
                "pickup_address", "delivery", "delivery_net", "vat_exempt", "is_trader", "ksef_enabled")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def polish_iban(value: str) -> str:
    """A Polish account number as an IBAN without spaces; the 26 digits alone (NRB) are taken as PL."""
    compact = re.sub(r"[\s\u00a0-]", "", value or "").upper()
    if compact.isdigit() and len(compact) == 26:
        compact = "PL" + compact
    if compact[:2].isalpha() and compact[:2] != "PL":
        raise ValueError(_("Podaj rachunek w polskim banku: numer IBAN zaczynający się od PL "
                           "(albo samych 26 cyfr)."))
    try:
        return iban.validate(compact)
    except NumberError:
        raise ValueError(_("Numer rachunku jest nieprawidłowy – sprawdź, czy nie ma literówki. Polski "
                           "numer ma 26 cyfr, np. PL61 1090 1014 0000 0712 1981 2874.")) from None


def delivery_cost(text: str) -> Decimal:
    """The net cost of delivery typed as people write amounts ("15", "15,50"); 0 means free delivery."""
    messages = {
        "not_a_number": _("Podaj kwotę liczbą, np. 15,00 (przecinek lub kropka oddziela grosze)."),
        "negative": _("Koszt dostawy nie może być ujemny."),
        "too_large": _("Koszt dostawy nie może przekraczać %(max)s zł netto.",
                       max=format_amount(MAX_DELIVERY)),
        "too_many_decimals": _("Kwota może mieć najwyżej dwa miejsca po przecinku (grosze)."),
    }
    try:
        return parse_net(text, maximum=MAX_DELIVERY)
    except PriceError as exc:
        if exc.code == "zero":
            return ZERO
        raise ValueError(messages.get(exc.code, messages["not_a_number"])) from None


def whole_days(form, field):
    """One plain message for a term that is not a number, instead of WTForms' own followed by the range's."""
    if field.process_errors:
        field.errors.clear()
        raise StopValidation(_("Podaj termin zapłaty liczbą dni, od 1 do 60."))


class SalesForm(FlaskForm):
    enabled = BooleanField(_l("Przyjmujemy zamówienia przez portal"))
    accepts_transfer = BooleanField(_l("Kupujący mogą zapłacić przelewem na nasz rachunek"))
    bank_account = StringField(_l("Numer rachunku bankowego"), filters=[_strip], validators=[Length(max=40)])
    payment_term_days = IntegerField(
        _l("Termin zapłaty przelewem (dni)"),
        validators=[InputRequired(message=_l("Podaj termin zapłaty w dniach, od 1 do 60.")), whole_days,
                    NumberRange(min=1, max=60, message=_l("Termin zapłaty musi wynosić od 1 do 60 dni."))])
    pickup = BooleanField(_l("Odbiór osobisty"))
    pickup_address = StringField(_l("Adres odbioru osobistego"), filters=[_strip],
                                 validators=[Length(max=300)])
    delivery = BooleanField(_l("Dostawa do kupującego"))
    delivery_net = StringField(_l("Koszt dostawy netto (zł)"), filters=[_strip])
    vat_exempt = BooleanField(_l("Korzystamy ze zwolnienia z VAT (art. 113 ustawy o VAT)"))
    is_trader = BooleanField(_l("Sprzedajemy jako przedsiębiorca"))
    ksef_enabled = BooleanField(_l("Portal wystawia nasze faktury w KSeF w naszym imieniu"))

    def __init__(self, *args, online_ready: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.online_ready = online_ready  # Stripe is on for the portal and the PES's account is active

    @classmethod
    def for_sales(cls, sales, online_ready: bool) -> "SalesForm":
        """The form filled with the saved settings (or with the submitted ones on a POST)."""
        form = cls(obj=sales, online_ready=online_ready)
        if not form.is_submitted():
            form.delivery_net.data = format_amount(sales.delivery_net)
        return form

    def validate_bank_account(self, field):
        if field.data:
            try:
                field.data = polish_iban(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        elif self.accepts_transfer.data:
            raise ValidationError(_("Podaj numer rachunku, na który kupujący mają wpłacać należność."))

    def validate_pickup_address(self, field):
        if self.pickup.data and not field.data:
            raise ValidationError(_("Podaj adres, pod którym kupujący odbiorą zamówienie."))

    def validate_delivery_net(self, field):
        if not field.data:
            if self.delivery.data:
                raise ValidationError(_("Podaj koszt dostawy netto (0, jeśli dostawa jest bezpłatna)."))
            return
        try:
            self.delivery_net_value = delivery_cost(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_enabled(self, field):
        """Orders need a way to pay that works and a way to receive what was ordered."""
        if not field.data:
            return
        problems = []
        if not (self.accepts_transfer.data or self.online_ready):
            problems.append(_("Aby przyjmować zamówienia, włączcie płatność przelewem (z numerem rachunku) "
                              "albo dokończcie podłączenie konta Stripe."))
        if not (self.pickup.data or self.delivery.data):
            problems.append(_("Aby przyjmować zamówienia, wybierzcie co najmniej jeden sposób przekazania "
                              "zamówienia: odbiór osobisty albo dostawę."))
        if problems:
            raise ValidationError(" ".join(problems))

    def settings(self) -> dict:
        """The values to store, normalised: a compact IBAN, an amount in złoty, no empty strings."""
        data = {name: self[name].data for name in SALES_FIELDS}
        data["bank_account"] = data["bank_account"] or None
        data["pickup_address"] = data["pickup_address"] or None
        data["delivery_net"] = getattr(self, "delivery_net_value", ZERO)
        return data
