"""The administrator's form for a new version of a legal page, and the button that accepts new terms."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.legal.models import BODY_MAX, TITLE_MAX

NOTE_MAX = 500


def _text(value: str | None) -> str:
    """Text as a browser sends it, with Windows line ends and outer blank space removed."""
    return (value or "").replace("\r\n", "\n").strip()


def number(raw: str | None) -> int | None:
    """A version number from a hidden field, or None when it cannot be one."""
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


class DayField(DateField):
    """A date (an <input type="date">, or typed as YYYY-MM-DD) that says how to write it when it is wrong."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Podaj datę w formacie RRRR-MM-DD, np. 2026-05-01.")) from None


def _title(label, required: bool):
    checks = [DataRequired(_l("Wpisz tytuł dokumentu po polsku."))] if required else [Optional()]
    return StringField(label, filters=[_text], validators=[
        *checks, Length(max=TITLE_MAX, message=_l("Tytuł może mieć najwyżej %(max)d znaków."))])


def _body(label, required: bool):
    checks = [DataRequired(_l("Wpisz treść dokumentu po polsku."))] if required else [Optional()]
    return TextAreaField(label, filters=[_text], render_kw={"rows": 24}, validators=[
        *checks, Length(max=BODY_MAX, message=_l("Treść może mieć najwyżej %(max)d znaków."))])


class DocumentForm(FlaskForm):
    """A new version: the Polish text is required, the English one optional (Polish is shown instead)."""

    title_pl = _title(_l("Tytuł po polsku"), required=True)
    body_pl = _body(_l("Treść po polsku (Markdown)"), required=True)
    title_en = _title(_l("Tytuł po angielsku"), required=False)
    body_en = _body(_l("Treść po angielsku (Markdown)"), required=False)
    effective_on = DayField(_l("Obowiązuje od"), validators=[
        InputRequired(_l("Podaj datę, od której obowiązuje nowa wersja."))])
    note = StringField(_l("Co się zmieniło (do dziennika zdarzeń)"), filters=[_text], validators=[
        Length(max=NOTE_MAX, message=_l("Opis zmian może mieć najwyżej %(max)d znaków."))])
    base_version = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if bool(self.title_en.data) != bool(self.body_en.data):  # an empty field skips its own validators
            empty = self.body_en if self.title_en.data else self.title_en
            empty.errors = [*empty.errors, _l("Podaj tytuł i treść po angielsku albo zostaw oba pola puste.")]
            return False
        return ok

    def content(self) -> dict:
        return {"title_pl": self.title_pl.data, "title_en": self.title_en.data or None,
                "body_pl": self.body_pl.data, "body_en": self.body_en.data or None,
                "effective_on": self.effective_on.data}

    def based_on(self) -> int | None:
        return number(self.base_version.data)


class AcceptTermsForm(FlaskForm):
    """Accepts the terms version shown on the page (a newer one published meanwhile is refused)."""

    version = HiddenField(validators=[InputRequired()])

    def number(self) -> int | None:
        return number(self.version.data)
