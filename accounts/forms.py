"""Forms for sign-up, login, password reset and the settings page (all with CSRF)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields import EmailField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from accounts.models import INSTITUTION_KINDS
from accounts.passwords import password_problems
from accounts.services import normalise_email
from marketplace.pes.labels import INSTITUTION_KIND_LABELS
from marketplace.pes.validation import nip

ACCOUNT_TYPES = [
    SelectChoice("buyer", _l("Kupujący – osoba, firma lub organizacja")),
    SelectChoice("purchaser", _l("Zamawiający publiczny – gmina, powiat lub ich jednostka")),
]
LOCALES = [SelectChoice("", _l("Automatycznie (według przeglądarki)")), SelectChoice("pl", "Polski"),
           SelectChoice("en", "English")]
INSTITUTION_KIND_CHOICES = [SelectChoice("", _l("– wybierz –"))] + [
    SelectChoice(k, INSTITUTION_KIND_LABELS[k]) for k in INSTITUTION_KINDS]


def _required(message):
    return DataRequired(message=message)


def _email_field(label=None):
    return EmailField(label or _l("Adres e-mail"), validators=[_required(_l("Podaj adres e-mail.")), Length(max=254)])


def _valid_email(form, field):
    try:
        field.data = normalise_email(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _strong_password(email_of):
    """A validator with the rules of accounts.passwords; `email_of(form)` gives the account's address."""
    def check(form, field):
        problems = password_problems(field.data or "", email_of(form) or "")
        if problems:
            raise ValidationError(" ".join(problems))
    return check


def _repeat(name):
    return PasswordField(_l("Powtórz hasło"), validators=[
        _required(_l("Powtórz hasło.")), EqualTo(name, message=_l("Hasła nie są takie same."))])


def consent_hint() -> Markup:
    """The consent box's hint: links to the terms and the privacy policy (they open in the same tab)."""
    link = Markup('<a href="{}">{}</a>')
    return Markup(escape(_("Przeczytaj %(terms)s i %(privacy)s."))) % {
        "terms": link.format(url_for("legal.page", slug="regulamin"), _("regulamin portalu")),
        "privacy": link.format(url_for("legal.page", slug="polityka-prywatnosci"), _("politykę prywatności"))}


class RegisterForm(FlaskForm):
    email = _email_field()
    name = StringField(_l("Imię i nazwisko"), validators=[_required(_l("Podaj imię i nazwisko.")), Length(max=120)])
    password = PasswordField(_l("Hasło"), validators=[
        _required(_l("Podaj hasło.")), _strong_password(lambda f: f.email.data)])
    password2 = _repeat("password")
    account_type = RadioField(_l("Rodzaj konta"), choices=ACCOUNT_TYPES, default="buyer",
                              validators=[InputRequired(message=_l("Wybierz rodzaj konta."))])
    institution_name = StringField(_l("Nazwa instytucji"), validators=[Length(max=250)])
    institution_nip = StringField(_l("NIP instytucji"), validators=[Length(max=20)])
    institution_kind = SelectField(_l("Rodzaj instytucji"), choices=INSTITUTION_KIND_CHOICES, validate_choice=False)
    consent = BooleanField(  # its hint links to both documents (consent_hint)
        _l("Akceptuję regulamin portalu i zapoznałem(-am) się z polityką prywatności (RODO)"),
        validators=[_required(_l("Zaznacz zgodę, aby założyć konto."))])

    validate_email = staticmethod(_valid_email)

    consent_hint = staticmethod(consent_hint)

    def _purchaser(self) -> bool:
        return self.account_type.data == "purchaser"

    def validate_institution_name(self, field):
        if self._purchaser() and not (field.data or "").strip():
            raise ValidationError(_l("Podaj nazwę instytucji, w imieniu której kupujesz."))

    def validate_institution_nip(self, field):
        if not self._purchaser():
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Podaj NIP instytucji."))
        try:
            field.data = nip(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_institution_kind(self, field):
        if self._purchaser() and field.data not in INSTITUTION_KINDS:
            raise ValidationError(_l("Wybierz rodzaj instytucji."))


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Hasło"), validators=[_required(_l("Podaj hasło."))])
    remember = BooleanField(_l("Zapamiętaj mnie na tym urządzeniu"))


class ResetRequestForm(FlaskForm):
    email = _email_field()


class NewPasswordForm(FlaskForm):
    """The view sets `account_email` so that the password may be checked against it."""

    account_email = ""
    password = PasswordField(_l("Nowe hasło"), validators=[
        _required(_l("Podaj nowe hasło.")), _strong_password(lambda f: f.account_email)])
    password2 = _repeat("password")


class ProfileForm(FlaskForm):
    name = StringField(_l("Imię i nazwisko"), validators=[_required(_l("Podaj imię i nazwisko.")), Length(max=120)])
    locale = SelectField(_l("Język portalu i wiadomości e-mail"), choices=LOCALES)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Obecne hasło"), validators=[_required(_l("Podaj obecne hasło."))])
    new_password = PasswordField(_l("Nowe hasło"), validators=[_required(_l("Podaj nowe hasło."))])
    new_password2 = _repeat("new_password")


class EmailChangeForm(FlaskForm):
    new_email = _email_field(_l("Nowy adres e-mail"))
    password = PasswordField(_l("Hasło"), validators=[_required(_l("Podaj hasło, aby potwierdzić zmianę."))])

    validate_new_email = staticmethod(_valid_email)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Hasło"), validators=[_required(_l("Podaj hasło, aby usunąć konto."))])
    confirm = BooleanField(_l("Rozumiem, że konto i moje dane zostaną trwale usunięte"),
                           validators=[_required(_l("Zaznacz, że chcesz trwale usunąć konto."))])


class ActionForm(FlaskForm):
    """A button with nothing but the CSRF token."""
