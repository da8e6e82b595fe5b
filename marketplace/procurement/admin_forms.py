"""Moderators' forms for a new version of a legal value or of a guidance page. A value is typed as text in
the shape its unit needs (an amount, CPV codes, groups of people) and read back into what the rules use."""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.legal.forms import DayField, _text, number

NUMBER_UNITS = ("PLN", "EUR", "PLN/EUR", "%", "lata")
GROUP_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_AMOUNT = Decimal(10) ** 12


def parse_amount(text: str, unit: str) -> str:
    """A positive number as people type it ("170 000", "4,31"), kept as plain digits like the data file."""
    raw = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_("Podaj liczbę, np. 170000 albo 4,31.")) from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(_("Wartość musi być większa od zera."))
    if amount >= MAX_AMOUNT or (unit == "%" and amount > 100):
        raise ValueError(_("Wartość jest zbyt duża."))
    return format(amount.normalize(), "f")


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def parse_cpv(text: str) -> list[str]:
    """One CPV code, or a range "A..B" (both ends included), per line."""
    from catalog import cpv

    codes = []
    for n, line in _lines(text):
        ends = [part.strip() for part in line.split("..")]
        wrong = [code for code in ends if not cpv.is_valid_format(code)]
        if len(ends) > 2 or wrong:
            raise ValueError(_("Wiersz %(n)d: „%(code)s” nie jest kodem CPV (12345678-9 z poprawną cyfrą kontrolną) "
                               "ani zakresem „A..B”.", n=n, code=(wrong or [line])[0][:40]))
        if len(ends) == 2 and ends[0] > ends[1]:
            raise ValueError(_("Wiersz %(n)d: początek zakresu jest dalej niż jego koniec.", n=n))
        codes.append("..".join(ends))
    if not codes:
        raise ValueError(_("Podaj co najmniej jeden kod CPV."))
    return list(dict.fromkeys(codes))


def parse_groups(text: str) -> list[dict]:
    """One group per line: `code | Polish name | English name` (the English name may be left out)."""
    groups: list[dict] = []
    for n, line in _lines(text):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) not in (2, 3) or not GROUP_CODE.fullmatch(parts[0]) or not parts[1]:
            raise ValueError(_("Wiersz %(n)d: wpisz „kod | nazwa po polsku | nazwa po angielsku”; kod to małe "
                               "litery, cyfry i podkreślenia.", n=n))
        if any(g["code"] == parts[0] for g in groups):
            raise ValueError(_("Wiersz %(n)d: kod „%(code)s” już jest na liście.", n=n, code=parts[0]))
        group = {"code": parts[0], "pl": parts[1]}
        if len(parts) == 3 and parts[2]:
            group["en"] = parts[2]
        groups.append(group)
    if not groups:
        raise ValueError(_("Podaj co najmniej jedną grupę."))
    return groups


def parse_value(text: str, unit: str):
    """The value in the form stored for its unit; ValueError with a message when it cannot be."""
    if unit in NUMBER_UNITS:
        return parse_amount(text, unit)
    if unit == "cpv":
        return parse_cpv(text)
    if unit == "groups":
        return parse_groups(text)
    return text


def value_as_text(value, unit: str) -> str:
    """The stored value written back the way the form reads it."""
    if unit in NUMBER_UNITS:
        return str(value).replace(".", ",")
    if unit == "cpv":
        return "\n".join(value)
    if unit == "groups":
        return "\n".join(" | ".join(filter(None, (g["code"], g["pl"], g.get("en")))) for g in value)
    return str(value)


def _https(form, field):
    if field.data and not re.fullmatch(r"https://[^\s/]+\.[^\s]+", field.data):
        raise ValidationError(_("Podaj adres zaczynający się od https://"))


class ValueForm(FlaskForm):
    """A new version of a legal value; the unit (set by the view) decides how the value is read."""

    value = StringField(_l("Wartość"), filters=[_text], validators=[DataRequired(_l("Podaj wartość."))])
    source_title = StringField(_l("Źródło (tytuł aktu lub publikacji)"), filters=[_text], validators=[
        DataRequired(_l("Podaj źródło.")), Length(max=400, message=_l("Najwyżej %(max)d znaków."))])
    source_url = StringField(_l("Adres źródła"), filters=[_text], validators=[
        DataRequired(_l("Podaj adres źródła.")), Length(max=500, message=_l("Najwyżej %(max)d znaków.")), _https])
    legal_state_on = DayField(_l("Stan prawny na dzień"), validators=[InputRequired(_l("Podaj datę stanu prawnego."))])
    verified = BooleanField(_l("Potwierdzone w tekście źródła (nie tylko w źródłach wtórnych)"))
    note = TextAreaField(_l("Uwaga (widoczna przy wartości)"), filters=[_text], render_kw={"rows": 2},
                         validators=[Length(max=1000, message=_l("Najwyżej %(max)d znaków."))])
    reason = StringField(_l("Powód zmiany (do dziennika zdarzeń)"), filters=[_text], validators=[
        Length(max=500, message=_l("Najwyżej %(max)d znaków."))])
    base_version = HiddenField()
    unit = "PLN"

    def validate_value(self, field):
        try:
            self.parsed_value = parse_value(field.data, self.unit)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def fill(self, row) -> None:
        """The form as the newest version stands, ready to become the next one."""
        for name in ("source_title", "source_url", "legal_state_on", "verified", "note"):
            getattr(self, name).data = getattr(row, name)
        self.value.data = value_as_text(row.value, row.unit)
        self.base_version.data = str(row.version)

    def content(self) -> dict:
        return {"value": self.parsed_value, "source_title": self.source_title.data,
                "source_url": self.source_url.data, "legal_state_on": self.legal_state_on.data,
                "verified": bool(self.verified.data), "note": self.note.data or ""}

    def based_on(self) -> int | None:
        return number(self.base_version.data)


class ListValueForm(ValueForm):
    value = TextAreaField(_l("Wartość"), filters=[_text], render_kw={"rows": 10},
                          validators=[DataRequired(_l("Podaj wartość."))])


class YesNoValueForm(ValueForm):
    value = SelectField(_l("Wartość"), choices=[SelectChoice("1", _l("tak")), SelectChoice("0", _l("nie"))])


def value_form(unit: str, **kwargs) -> ValueForm:
    """The form whose value field fits the unit: a number, a list (one item a line) or yes/no."""
    kind = {"tak/nie": YesNoValueForm, "cpv": ListValueForm, "groups": ListValueForm}.get(unit, ValueForm)
    form = kind(**kwargs)
    form.unit = unit
    return form


def parse_sources(text: str) -> list[dict]:
    """One source per line: `title | https://address`."""
    sources = []
    for n, line in _lines(text):
        title, _sep, url = (part.strip() for part in line.rpartition("|"))
        if not title or not re.fullmatch(r"https://[^\s/]+\.\S+", url):
            raise ValueError(_("Wiersz %(n)d: wpisz „tytuł | https://adres”.", n=n))
        sources.append({"title": title, "url": url})
    return sources


def _optional(label, max_len: int, area: bool = False):
    kind = TextAreaField if area else StringField
    return kind(label, filters=[_text], render_kw={"rows": 16} if area else {},
                validators=[Optional(), Length(max=max_len, message=_l("Najwyżej %(max)d znaków."))])


class GuidanceForm(FlaskForm):
    """A new version of a guidance page: the Polish title and text are required, English optional."""

    title_pl = StringField(_l("Tytuł po polsku"), filters=[_text], validators=[
        DataRequired(_l("Wpisz tytuł po polsku.")), Length(max=200, message=_l("Najwyżej %(max)d znaków."))])
    summary_pl = _optional(_l("Streszczenie po polsku"), 400)
    body_pl = TextAreaField(_l("Treść po polsku (Markdown)"), filters=[_text], render_kw={"rows": 24},
                            validators=[DataRequired(_l("Wpisz treść po polsku.")),
                                        Length(max=50000, message=_l("Najwyżej %(max)d znaków."))])
    title_en = _optional(_l("Tytuł po angielsku"), 200)
    summary_en = _optional(_l("Streszczenie po angielsku"), 400)
    body_en = _optional(_l("Treść po angielsku (Markdown)"), 50000, area=True)
    sources = TextAreaField(_l("Źródła"), filters=[_text], render_kw={"rows": 4})
    legal_state_on = DayField(_l("Stan prawny na dzień"), validators=[InputRequired(_l("Podaj datę stanu prawnego."))])
    base_version = HiddenField()

    def validate_sources(self, field):
        try:
            self.parsed_sources = parse_sources(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def fill(self, page) -> None:
        for name in ("title_pl", "summary_pl", "body_pl", "title_en", "summary_en", "body_en", "legal_state_on"):
            getattr(self, name).data = getattr(page, name)
        self.sources.data = "\n".join(f"{s['title']} | {s['url']}" for s in page.sources or [])
        self.base_version.data = str(page.version)

    def content(self) -> dict:
        data = {name: getattr(self, name).data or None for name in ("title_en", "summary_en", "body_en")}
        data.update(title_pl=self.title_pl.data, summary_pl=self.summary_pl.data or "", body_pl=self.body_pl.data,
                    sources=self.parsed_sources, legal_state_on=self.legal_state_on.data)
        return data

    def based_on(self) -> int | None:
        return number(self.base_version.data)
