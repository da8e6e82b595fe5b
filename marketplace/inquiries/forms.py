"""Forms of inquiries: the inquiry itself, the choice of recipients, replies, quotes and the small actions."""
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from catalog.mark import uploads
from catalog.pricing import PriceError, parse_net, vat_choices
from marketplace import clock
from marketplace.inquiries.services import MAX_BODY, MAX_SUBJECT

MAX_FILES = 5
MAX_AMOUNT = Decimal(100_000_000)


def attachment_limit() -> int:
    return int(current_app.config.get("INQUIRY_ATTACHMENT_MAX_BYTES") or uploads.MAX_BYTES)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AttachmentsMixin:
    """Up to MAX_FILES PDF or image files, checked by content (the mark's checks) and kept in checked_files."""

    checked_files: tuple = ()

    def validate_attachments(self, field):
        files = [f for f in (field.data or []) if getattr(f, "filename", "")]
        if len(files) > MAX_FILES:
            raise ValidationError(_("Można dołączyć najwyżej %(n)s plików.", n=MAX_FILES))
        checked, errors = [], []
        for upload in files:
            try:
                checked.append(uploads.check(upload, attachment_limit()))
            except uploads.UploadError as exc:
                errors.append(str(exc))
        if errors:
            raise ValidationError(" ".join(errors))
        self.checked_files = checked


def _not_past(form, field):
    if field.data is not None and field.data < clock.today():
        raise ValidationError(_("Ta data nie może być w przeszłości."))


def _amount(text: str | None) -> Decimal | None:
    if not (text or "").strip():
        return None
    return parse_net(text, MAX_AMOUNT)


class InquiryForm(AttachmentsMixin, FlaskForm):
    subject = StringField(_l("Temat"), validators=[DataRequired(_l("Podaj temat zapytania.")),
                                                   Length(max=MAX_SUBJECT)], filters=[_strip])
    body = TextAreaField(_l("Treść zapytania"), validators=[
        DataRequired(_l("Napisz treść zapytania.")),
        Length(max=MAX_BODY, message=_l("Treść może mieć najwyżej %(max)d znaków."))], filters=[_strip])
    quantity = StringField(_l("Ilość lub zakres (opcjonalnie)"), validators=[Optional(), Length(max=100)],
                           filters=[_strip])
    wanted_by = DateField(_l("Termin realizacji (opcjonalnie)"), validators=[Optional(), _not_past])
    delivery_powiat = SelectField(_l("Miejsce realizacji – powiat (opcjonalnie)"), validators=[Optional()])
    budget = StringField(_l("Budżet netto w zł (opcjonalnie)"), validators=[Optional(), Length(max=30)])
    attachments = MultipleFileField(_l("Załączniki (PDF, PNG, JPEG lub WebP, najwyżej 5 plików)"),
                                    render_kw={"accept": "application/pdf,image/png,image/jpeg,image/webp"})
    name = StringField(_l("Imię i nazwisko"), validators=[Length(max=120)], filters=[_strip])
    email = EmailField(_l("Adres e-mail"), validators=[Length(max=254)], filters=[_strip])
    phone = TelField(_l("Telefon (opcjonalnie)"), validators=[Optional(), Length(max=40)], filters=[_strip])
    organisation = StringField(_l("Firma, instytucja lub organizacja (opcjonalnie)"),
                               validators=[Optional(), Length(max=250)], filters=[_strip])
    consent = BooleanField(validators=[DataRequired(_l("Bez tej zgody nie możemy przekazać zapytania."))])
    # A field people do not see (hidden with CSS and from assistive technology): bots fill it in.
    website = StringField(_l("Nie wypełniaj tego pola"), validators=[Optional()])
    pes = HiddenField()
    offering = HiddenField()

    def __init__(self, *args, guest: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        from marketplace.region import powiat_choices

        self.guest = guest
        self.delivery_powiat.choices = [("", _("— nie podano —"))] + powiat_choices()
        self.budget_value = None

    def validate_budget(self, field):
        try:
            self.budget_value = _amount(field.data)
        except PriceError as exc:
            messages = {"not_a_number": _("Budżet musi być liczbą, np. 12 000 (przecinek lub kropka oddziela grosze)."),
                        "too_large": _("Budżet jest za duży."),
                        "too_many_decimals": _("Budżet może mieć najwyżej dwa miejsca po przecinku.")}
            raise ValidationError(messages.get(exc.code, _("Budżet musi być większy od zera."))) from None

    def validate_name(self, field):
        if self.guest and not field.data:
            raise ValidationError(_("Podaj imię i nazwisko."))

    def validate_email(self, field):
        if not self.guest:
            return
        if not field.data:
            raise ValidationError(_("Podaj adres e-mail: wyślemy na niego link potwierdzający."))
        Email(_("To nie jest poprawny adres e-mail."))(self, field)


class CriteriaForm(FlaskForm):
    """Recipients by criteria (a GET form: the result can be linked and reloaded)."""

    class Meta:
        csrf = False

    category = SelectField(_l("Kategoria"), validators=[Optional()])
    cpv = StringField(_l("Kod CPV"), validators=[Optional(), Length(max=12)], filters=[_strip])
    powiat = SelectField(_l("Obsługiwany powiat"), validators=[Optional()])
    reserved = BooleanField(_l("Tylko uprawnione do zamówień zastrzeżonych (art. 94 Pzp)"))
    mark = BooleanField(_l("Tylko z ważnym znakiem jakości"))
    q = StringField(_l("Słowa w ofercie (opcjonalnie)"), validators=[Optional(), Length(max=200)], filters=[_strip])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from catalog import categories
        from marketplace.region import powiat_choices

        self.category.choices = [("", _("— dowolna —"))] + categories.choices()
        self.powiat.choices = [("", _("— dowolny —"))] + powiat_choices()


class ReplyForm(AttachmentsMixin, FlaskForm):
    body = TextAreaField(_l("Wiadomość"), validators=[
        DataRequired(_l("Napisz treść wiadomości.")),
        Length(max=MAX_BODY, message=_l("Wiadomość może mieć najwyżej %(max)d znaków."))], filters=[_strip])
    attachments = MultipleFileField(_l("Załączniki (PDF lub obrazy, opcjonalnie)"),
                                    render_kw={"accept": "application/pdf,image/png,image/jpeg,image/webp"})


class QuoteForm(FlaskForm):
    net = StringField(_l("Cena netto w zł"), validators=[DataRequired(_l("Podaj cenę netto."))])
    vat_rate = SelectField(_l("Stawka VAT"), validators=[DataRequired()])
    valid_until = DateField(_l("Oferta ważna do"), validators=[DataRequired(_l("Podaj datę ważności oferty.")),
                                                                _not_past])
    delivery_date = DateField(_l("Termin realizacji (opcjonalnie)"), validators=[Optional(), _not_past])
    delivery_terms = TextAreaField(_l("Warunki realizacji (dostawa, płatność, zakres)"),
                                   validators=[Optional(), Length(max=2000)], filters=[_strip])
    message = TextAreaField(_l("Wiadomość do pytającego (opcjonalnie)"),
                            validators=[Optional(), Length(max=MAX_BODY)], filters=[_strip])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vat_rate.choices = vat_choices()
        self.net_value = None

    def validate_net(self, field):
        try:
            self.net_value = parse_net(field.data, MAX_AMOUNT)
        except PriceError as exc:
            raise ValidationError(str(exc)) from None


class AcceptForm(FlaskForm):
    quote_id = HiddenField(validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (close, block, unsubscribe)."""


class PesCloseForm(FlaskForm):
    body = TextAreaField(_l("Krótka informacja dla pytającego (opcjonalnie)"),
                         validators=[Optional(), Length(max=2000)], filters=[_strip])


class ReportThreadForm(FlaskForm):
    reason = TextAreaField(_l("Co jest nie tak z tą rozmową?"),
                           validators=[DataRequired(_l("Napisz, co jest nie tak z tą rozmową.")),
                                       Length(max=2000)], filters=[_strip])


class MailPreferenceForm(FlaskForm):
    inquiry_mail = RadioField(_l("Powiadomienia o zapytaniach"), choices=[
        SelectChoice("instant", _l("od razu – każde zapytanie i odpowiedź w osobnej wiadomości")),
        SelectChoice("digest", _l("raz dziennie – zestawienie z ostatniej doby")),
        SelectChoice("none", _l("nie wysyłaj – sprawdzam skrzynkę w portalu"))],
        validators=[DataRequired()])

