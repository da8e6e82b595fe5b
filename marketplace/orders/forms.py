"""Forms of the cart, the checkout and the order pages."""
import hashlib
import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum.pl import nip as nip_check
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError

from marketplace.orders import statuses

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PAYMENT_LABELS = {"stripe": _l("online – karta, BLIK lub Przelewy24 (przez Stripe)"),
                  "transfer": _l("przelew na podstawie faktury, z terminem płatności")}
FULFILMENT_LABELS = {"pickup": _l("odbiór osobisty"), "delivery": _l("dostawa")}


def _clean(value):
    return CONTROL.sub("", value).strip() if isinstance(value, str) else value


class AddToCartForm(FlaskForm):
    offering_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField(_l("Liczba"), default=1, validators=[
        DataRequired(_l("Podaj liczbę sztuk.")),
        NumberRange(1, 999, _l("Liczba sztuk musi być od 1 do 999."))])
    next = HiddenField()


class QuantityForm(FlaskForm):
    offering_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField(_l("Liczba"), validators=[
        Optional(), NumberRange(0, 999, _l("Liczba sztuk musi być od 0 do 999 (0 usuwa pozycję)."))])


def _nip(form, field) -> None:
    if field.data and not nip_check.is_valid(field.data):
        raise ValidationError(_l("Ten NIP jest niepoprawny – sprawdź cyfry (10 cyfr)."))


class CheckoutForm(FlaskForm):
    """The buyer's data; the choices for each PES are added by `checkout_form()`."""

    name = StringField(_l("Imię i nazwisko"), filters=[_clean], validators=[
        DataRequired(_l("Podaj imię i nazwisko.")), Length(max=200)])
    email = StringField(_l("E-mail"), filters=[_clean], validators=[
        DataRequired(_l("Podaj adres e-mail.")), Email(_l("Podaj poprawny adres e-mail.")), Length(max=254)])
    phone = StringField(_l("Telefon"), filters=[_clean], validators=[Optional(), Length(max=40)])
    company_name = StringField(_l("Nazwa firmy lub instytucji (do faktury)"), filters=[_clean],
                               validators=[Optional(), Length(max=250)])
    nip = StringField(_l("NIP (do faktury)"), filters=[_clean, lambda v: re.sub(r"[\s-]", "", v or "") or None],
                      validators=[Optional(), _nip])
    street = StringField(_l("Ulica i numer"), filters=[_clean], validators=[
        DataRequired(_l("Podaj ulicę i numer.")), Length(max=200)])
    postal_code = StringField(_l("Kod pocztowy"), filters=[_clean], validators=[
        DataRequired(_l("Podaj kod pocztowy.")),
        Regexp(r"^\d{2}-\d{3}$", message=_l("Kod pocztowy ma postać 00-000."))])
    city = StringField(_l("Miejscowość"), filters=[_clean], validators=[
        DataRequired(_l("Podaj miejscowość.")), Length(max=120)])
    wants_invoice = BooleanField(_l("Chcę fakturę"))
    note = TextAreaField(_l("Uwagi do zamówienia"), filters=[_clean], validators=[Optional(), Length(max=2000)])
    accept = BooleanField(_l("Akceptuję regulamin portalu i zapoznałem(-am) się z informacjami o prawie "
                             "odstąpienia od umowy"),
                          validators=[DataRequired(_l("Zaakceptuj regulamin, aby złożyć zamówienie."))])

    def validate_company_name(self, field) -> None:
        if self.nip.data and not field.data:
            raise ValidationError(_l("Do faktury z NIP-em podaj nazwę firmy lub instytucji."))


def cart_signature(groups) -> str:
    """What the buyer saw on the checkout page: each orderable line's offering, quantity, price and VAT, and
    each seller's terms (delivery and its cost, pickup, VAT exemption)."""
    lines = [f"{line.offering.id}x{line.quantity}@{line.offering.price_net}/{line.vat_rate}"
             for g in groups for line in g.ok_lines]
    terms = [f"{g.pes.id}:{g.sales.pickup}/{g.sales.delivery}/{g.sales.delivery_net}/{g.sales.vat_exempt}"
             for g in groups]
    return hashlib.sha256(",".join(sorted(lines) + sorted(terms)).encode()).hexdigest()[:32]


def checkout_form(groups, methods, fulfilments, **kwargs) -> CheckoutForm:
    """The checkout form with a payment, a hand-over and a delivery address question for each PES, and the
    lines it was shown with: if the cart changed meanwhile (an item sold out), the buyer sees it again first."""

    class Form(CheckoutForm):
        seen = HiddenField()
        attempt = HiddenField()  # one id per opened form: a second submit of it places nothing twice

    for group in groups:
        pid = group.pes.id
        pay = methods(group.sales)
        ship = fulfilments(group.sales)
        setattr(Form, f"pay_{pid}", RadioField(
            _l("Płatność – %(pes)s", pes=group.pes.name), default=pay[0] if len(pay) == 1 else None,
            choices=[SelectChoice(m, PAYMENT_LABELS[m]) for m in pay],
            validators=[DataRequired(_l("Wybierz sposób płatności."))]))
        setattr(Form, f"ship_{pid}", RadioField(
            _l("Odbiór – %(pes)s", pes=group.pes.name), default=ship[0] if len(ship) == 1 else None,
            choices=[SelectChoice(f, FULFILMENT_LABELS[f]) for f in ship],
            validators=[DataRequired(_l("Wybierz sposób odbioru."))]))
        setattr(Form, f"address_{pid}", StringField(
            _l("Adres dostawy (jeśli inny niż powyżej) – %(pes)s", pes=group.pes.name), filters=[_clean],
            validators=[Optional(), Length(max=400)]))
    return Form(**kwargs)


class StatusForm(FlaskForm):
    status = SelectField(_l("Nowy status"), validators=[DataRequired()])
    reason = StringField(_l("Komentarz dla kupującego (opcjonalnie)"), filters=[_clean],
                         validators=[Optional(), Length(max=500)])

    def set_choices(self, order) -> "StatusForm":
        self.status.choices = [SelectChoice(s, statuses.label(s)) for s in statuses.pes_choices(order)]
        return self


class MarkPaidForm(FlaskForm):
    pass


def _amount(form, field) -> None:
    try:
        value = Decimal((field.data or "").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationError(_l("Podaj kwotę w złotych, np. 25,00 (większą od zera, z groszami)."))
    field.amount = value


class RefundForm(FlaskForm):
    amount = StringField(_l("Kwota zwrotu (zł brutto)"), filters=[_clean], validators=[
        DataRequired(_l("Podaj kwotę zwrotu, np. 25,00.")), _amount])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Wiadomość"), filters=[_clean], validators=[
        DataRequired(_l("Napisz wiadomość.")), Length(max=2000, message=_l("Najwyżej 2000 znaków."))])


class WithdrawalForm(FlaskForm):
    statement = BooleanField(_l("Oświadczam, że odstępuję od umowy zawartej w tym zamówieniu"),
                             validators=[DataRequired(_l("Zaznacz oświadczenie, aby je wysłać."))])
    details = TextAreaField(_l("Których pozycji dotyczy i numer konta do zwrotu, jeśli płaciłeś(-aś) przelewem"),
                            filters=[_clean], validators=[Optional(), Length(max=1000)])
