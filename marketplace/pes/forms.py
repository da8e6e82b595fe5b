"""Forms of PES profiles: the profile itself, the directory filters, team invitations and bare buttons."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Email, Length, NumberRange, Optional, ValidationError

from marketplace import region
from marketplace.core.fields import MultiCheckboxField
from marketplace.pes import images, validation
from marketplace.pes.labels import legal_form_choices
from marketplace.pes.models import INTEGRATION_FORMS, MEMBER_ROLES
from marketplace.pes.services import ROLE_LABELS

# Profile fields that map one to one onto Pes columns.
PROFILE_FIELDS = ("name", "legal_form", "krs", "nip", "regon", "street", "postal_code", "city", "powiat",
                  "email", "phone", "website", "description", "mission", "contact_person",
                  "social_enterprise_status", "disadvantaged_share", "integration_mission")


def checked_by(check):
    """Wrap a check of marketplace.pes.validation into a validator that also stores the normalised value."""
    def validator(form, field):
        try:
            field.data = check(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    return validator


class PesForm(FlaskForm):
    name = StringField(_l("Nazwa podmiotu"), validators=[DataRequired(), Length(max=250)])
    legal_form = SelectField(_l("Forma prawna"), validators=[DataRequired()])
    krs = StringField(_l("Numer KRS"), validators=[Optional(), checked_by(validation.krs)])
    nip = StringField(_l("NIP"), validators=[Optional(), checked_by(validation.nip)])
    regon = StringField(_l("REGON"), validators=[Optional(), checked_by(validation.regon)])
    street = StringField(_l("Ulica i numer"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Kod pocztowy"), validators=[Optional(), checked_by(validation.postal_code)])
    city = StringField(_l("Miejscowość"), validators=[Optional(), Length(max=120)])
    powiat = SelectField(_l("Powiat siedziby"), validators=[DataRequired()])
    service_area = MultiCheckboxField(_l("Obszar działania (powiaty, w których świadczycie usługi)"))
    email = EmailField(_l("Adres e-mail"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_l("Telefon"), validators=[Optional(), checked_by(validation.phone)])
    website = StringField(_l("Strona internetowa"), validators=[Optional(), checked_by(validation.website)])
    description = TextAreaField(_l("Opis działalności"), validators=[Optional(), Length(max=5000)])
    mission = TextAreaField(_l("Misja społeczna"), validators=[Optional(), Length(max=3000)])
    contact_person = StringField(_l("Osoba do kontaktu"), validators=[Optional(), Length(max=120)])
    social_enterprise_status = BooleanField(_l("Mamy status przedsiębiorstwa społecznego (PS)"))
    disadvantaged_share = IntegerField(
        _l("Odsetek zatrudnionych z grup wymienionych w art. 94 ust. 1 Pzp (%)"),
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("Podaj liczbę od 0 do 100."))],
        render_kw={"min": 0, "max": 100, "inputmode": "numeric"})
    integration_mission = BooleanField(
        _l("Głównym celem jest integracja społeczna i zawodowa osób zagrożonych wykluczeniem"))
    logo = FileField(_l("Logo (PNG, JPEG lub WebP)"), render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_logo = BooleanField(_l("Usuń obecne logo"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.legal_form.choices = legal_form_choices()
        powiats = region.powiat_choices()
        self.powiat.choices = [("", str(_l("– wybierz powiat –")))] + powiats
        self.service_area.choices = powiats
        self.prepared_logo = None
        if not self.is_submitted() and kwargs.get("obj") is None:
            # A new profile: the usual integration mission of the preselected legal form.
            self.integration_mission.data = (self.legal_form.data or self.legal_form.choices[0][0]) \
                in INTEGRATION_FORMS

    def validate_service_area(self, field):
        field.data = [c for c in (field.data or []) if region.is_powiat(c)]

    def validate_logo(self, field):
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            field.data = None
            return
        try:
            self.prepared_logo = images.prepare(upload.stream, current_app.config["LOGO_MAX_BYTES"])
        except images.LogoError as exc:
            raise ValidationError(str(exc)) from None

    def profile_data(self) -> dict:
        """The submitted profile as column values; blank text becomes None, an empty area the seat's powiat."""
        data = {}
        for name in PROFILE_FIELDS:
            value = self[name].data
            if isinstance(value, str):
                value = value.strip() or None
            data[name] = value
        data["description"] = data["description"] or ""
        data["mission"] = data["mission"] or ""
        data["service_area"] = self.service_area.data or [data["powiat"]]
        return data


class DirectoryFilterForm(Form):
    """The directory's filters: a GET form, so its state lives in the URL and it needs no token."""

    q = SearchField(_l("Nazwa zawiera"), validators=[Optional(), Length(max=100)])
    powiat = MultiCheckboxField(_l("Działa w powiecie"))
    legal_form = MultiCheckboxField(_l("Forma prawna"))
    reserved_eligible = BooleanField(_l("Tylko podmioty uprawnione do zamówień zastrzeżonych (art. 94 Pzp)"),
                                     false_values=("", "0", "false", "n", "no"))

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.powiat.choices = region.powiat_choices()
        self.legal_form.choices = legal_form_choices()

    def filters(self) -> dict:
        """The filters to apply, with unknown codes dropped instead of failing the whole page."""
        powiats = {c for c, _label in self.powiat.choices}
        forms = {c for c, _label in self.legal_form.choices}
        return {
            "q": (self.q.data or "").strip()[:100],
            "powiats": [c for c in self.powiat.data or [] if c in powiats],
            "legal_forms": [c for c in self.legal_form.data or [] if c in forms],
            "reserved": bool(self.reserved_eligible.data),
        }

    def url_args(self) -> dict:
        """The filters as query arguments, for pagination links."""
        f = self.filters()
        args = {"q": f["q"] or None, "powiat": f["powiats"], "legal_form": f["legal_forms"]}
        if f["reserved"]:
            args["reserved_eligible"] = "y"
        return args


class InviteForm(FlaskForm):
    email = EmailField(_l("Adres e-mail osoby zapraszanej"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Rola"), choices=[], default="editor")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hints = {"owner": _l("zarządza też zespołem"), "editor": _l("edytuje profil")}
        self.role.choices = [(r, f"{ROLE_LABELS[r]} ({hints[r]})") for r in MEMBER_ROLES]


class RoleForm(FlaskForm):
    """A button on the team page that gives a member another role."""

    role = HiddenField(validators=[DataRequired(), AnyOf(MEMBER_ROLES)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
