"""Forms of the public catalogue: the CPV search (a GET form) and "report this offer"."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Form, RadioField, SearchField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

REPORT_REASONS = {
    "misleading": _l("wprowadza w błąd"),
    "not_pes": _l("oferta nie pochodzi od PES"),
    "offensive": _l("treści obraźliwe"),
    "illegal": _l("niezgodna z prawem"),
    "other": _l("inny powód"),
}


class CpvSearchForm(Form):
    q = SearchField(_l("Szukaj kodu CPV (numer lub nazwa)"), validators=[Optional(), Length(max=100)])


class ReportForm(FlaskForm):
    reason = RadioField(_l("Co jest nie tak z tą ofertą?"), validators=[DataRequired(_l("Wybierz powód."))])
    message = TextAreaField(_l("Opis"), validators=[Length(max=2000)])
    email = EmailField(_l("Twój adres e-mail (opcjonalnie, jeśli moderator ma odpowiedzieć)"),
                       validators=[Optional(), Email(), Length(max=254)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [(k, str(v)) for k, v in REPORT_REASONS.items()]

    def validate_message(self, field):
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_("Opisz, co jest nie tak, gdy wybierasz „inny powód”."))
