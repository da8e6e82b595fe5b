"""Forms of the offerings' moderation: the actions (CSRF-protected posts) and the title search (a GET)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, SearchField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.moderation.services import REASON_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, required: bool, message=None) -> TextAreaField:
    checks = [DataRequired(message=message)] if required else [Optional()]
    return TextAreaField(label, filters=[_strip], validators=[
        *checks, Length(max=REASON_MAX, message=_l("Tekst może mieć najwyżej %(max)d znaków."))])


class BlockForm(FlaskForm):
    reason = _text(_l("Powód ukrycia oferty"), True,
                   _l("Podaj powód ukrycia oferty – podmiot zobaczy go w wiadomości i przy ofercie."))


class RestoreForm(FlaskForm):
    note = _text(_l("Uwagi dla podmiotu (nieobowiązkowe)"), False)


class ReportForm(FlaskForm):
    """Resolving or dismissing one report; built with a per-report prefix so that ids stay unique."""

    note = _text(_l("Notatka do dziennika (nieobowiązkowa)"), False)


class OfferingSearchForm(Form):
    """Searching changes nothing, so it is a GET form without a CSRF token."""

    q = SearchField(_l("Tytuł oferty lub jego część"), filters=[_strip], validators=[Optional(), Length(max=200)])
