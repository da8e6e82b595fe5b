"""The clause builder's form: a GET form, so that a result is a link that can be reloaded, printed or sent."""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from marketplace.core.fields import MultiCheckboxField
from marketplace.procurement import clauses

MAX_VALUE = Decimal(100000000000)
MAX_CODES = 20


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(value):
    """Text without outer blank space and without control characters (a .docx cannot hold them)."""
    return CONTROL.sub("", value).strip() if isinstance(value, str) else value


def parse_value(text: str) -> Decimal:
    """An amount as people type it ("170 000", "169999,99", "1.5"); ValueError with a message otherwise."""
    raw = re.sub(r"[\s\u00a0\u202f]", "", text or "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_("Podaj kwotę liczbą, np. 170000 albo 169 999,99.")) from None
    if not value.is_finite() or value <= 0:
        raise ValueError(_("Wartość musi być większa od zera."))
    if value > MAX_VALUE:
        raise ValueError(_("Wartość jest zbyt duża."))
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(_("Kwota może mieć najwyżej dwa miejsca po przecinku (grosze)."))
    return value.quantize(Decimal("0.01"))


def parse_codes(text: str) -> list[str]:
    """CPV codes separated by commas, spaces or new lines, normalised; ValueError naming a wrong one."""
    from catalog import cpv

    codes = []
    for token in re.split(r"[\s,;]+", text or ""):
        if not token:
            continue
        try:
            codes.append(cpv.normalise(token))
        except ValueError as error:
            raise ValueError(_("%(code)s: %(reason)s", code=token[:20], reason=error)) from None
    if len(codes) > MAX_CODES:
        raise ValueError(_("Podaj najwyżej %(max)d kodów CPV.", max=MAX_CODES))
    return list(dict.fromkeys(codes))


class BuilderForm(FlaskForm):
    class Meta:
        csrf = False

    value = StringField(_l("Szacunkowa wartość zamówienia netto (zł)"), validators=[
        DataRequired(_l("Podaj szacunkową wartość zamówienia."))], filters=[_strip])
    start = DateField(_l("Data wszczęcia postępowania"), validators=[InputRequired(_l("Podaj datę."))])
    kind = RadioField(_l("Rodzaj zamówienia"), validators=[InputRequired(_l("Wybierz rodzaj zamówienia."))],
                      choices=[SelectChoice("supplies", _l("dostawy")), SelectChoice("services", _l("usługi")),
                               SelectChoice("works", _l("roboty budowlane"))])
    purchaser = SelectField(_l("Rodzaj zamawiającego"), choices=[
        SelectChoice("local", _l("gmina, powiat, województwo lub ich jednostka (szkoła, ośrodek)")),
        SelectChoice("central", _l("organ administracji rządowej centralnej")),
        SelectChoice("other_public", _l("inna jednostka sektora finansów publicznych")),
        SelectChoice("other", _l("inny zamawiający (np. spółka komunalna)"))])
    cpv = StringField(_l("Kody CPV przedmiotu (opcjonalnie)"), validators=[Optional(), Length(max=400)],
                      filters=[_strip])
    category = MultiCheckboxField(_l("Kategorie katalogu (opcjonalnie)"))
    powiat = MultiCheckboxField(_l("Miejsce realizacji (powiaty)"))
    aims = MultiCheckboxField(_l("Cel społeczny"), choices=[
        SelectChoice("employ", _l("zatrudnienie osób w trudnej sytuacji")),
        SelectChoice("social_economy", _l("zakup od podmiotów ekonomii społecznej")),
        SelectChoice("accessibility", _l("dostępność dla osób z niepełnosprawnościami"))])
    social_services = BooleanField(_l("To usługi społeczne lub inne szczególne usługi (art. 359 Pzp)"))
    groups = MultiCheckboxField(_l("Grupy osób"))
    share = IntegerField(_l("Minimalny odsetek zatrudnionych z tych grup (%)"), default=30,
                         validators=[Optional(), NumberRange(max=100, message=_l("Najwyżej 100%%."))])
    persons = IntegerField(_l("Liczba osób do zatrudnienia"), default=1,
                           validators=[Optional(), NumberRange(min=1, max=1000, message=_l("Od 1 do 1000."))])
    months = IntegerField(_l("Okres zatrudnienia lub umowy (miesiące)"), default=12,
                          validators=[Optional(), NumberRange(min=1, max=120, message=_l("Od 1 do 120."))])
    verification = MultiCheckboxField(_l("Jak zamawiający sprawdzi wykonanie"), default=["statement", "documents"],
                                      choices=[SelectChoice("statement", _l("oświadczenie i wykaz osób")),
                                               SelectChoice("documents", _l("dokumenty (zanonimizowane umowy, "
                                                                            "zaświadczenia)")),
                                               SelectChoice("inspection", _l("kontrola na miejscu"))])
    penalty = StringField(_l("Kara umowna za naruszenie (zł)"), default="1000", filters=[_strip])
    activities = StringField(_l("Czynności wykonywane na umowę o pracę (art. 95)"),
                             validators=[Optional(), Length(max=300)], filters=[_strip])
    accessibility = TextAreaField(_l("Wymagania dostępności (art. 100)"), validators=[Optional(), Length(max=1000)],
                                  filters=[_strip])
    weight = IntegerField(_l("Waga kryterium społecznego (%)"), default=20,
                          validators=[Optional(), NumberRange(min=1, max=60, message=_l("Od 1 do 60%%."))])

    def __init__(self, formdata=None, groups=(), min_share: int = 30, span: tuple = (None, None), **kwargs):
        super().__init__(formdata, **kwargs)
        from catalog import categories
        from marketplace.region import powiat_choices

        self.category.choices = categories.choices()
        self.powiat.choices = powiat_choices()
        self.groups.choices = list(groups)
        self.min_share = min_share
        self.span = span  # the first and last start day the legal data covers
        if formdata is None:  # a fresh form: the groups most clauses name
            self.groups.data = [code for code in ("disabled", "unemployed") if code in dict(groups)]

    def validate_value(self, field):
        try:
            self.parsed_value = parse_value(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_start(self, field):
        first, last = self.span
        if field.data and first and field.data < first:
            raise ValidationError(_("Kreator ma dane prawne dla postępowań wszczętych od %(day)s.",
                                    day=first.strftime("%d.%m.%Y")))
        if field.data and last and field.data > last:
            raise ValidationError(_("Kreator nie ma jeszcze progów unijnych i kursu euro dla postępowań "
                                    "wszczętych po %(day)s.", day=last.strftime("%d.%m.%Y")))

    def validate_cpv(self, field):
        try:
            self.codes = parse_codes(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_share(self, field):
        if field.data is not None and field.data < self.min_share:
            raise ValidationError(_("Art. 94 ust. 2 Pzp wymaga co najmniej %(share)s%%.", share=self.min_share))

    def validate_penalty(self, field):
        if not field.data:
            return  # the clauses use the default sum
        try:
            self.parsed_penalty = parse_value(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def params(self) -> clauses.Params:
        defaults = clauses.Params()
        return clauses.Params(
            groups=tuple(self.groups.data or defaults.groups), share=self.share.data or self.min_share,
            persons=self.persons.data or 1, months=self.months.data or 12,
            verification=tuple(self.verification.data or defaults.verification),
            penalty=getattr(self, "parsed_penalty", Decimal(1000)), activities=self.activities.data or "",
            accessibility=self.accessibility.data or "", weight=self.weight.data or 20)
