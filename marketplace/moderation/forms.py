"""Forms of the moderation panel: the actions (CSRF-protected posts) and the GET filters of the lists."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SearchField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from accounts.models import ROLES
from marketplace.core.urls import MAX_INT
from marketplace.moderation.services import REASON_MAX

ROLE_LABELS = {
    "buyer": _l("kupujący"),
    "purchaser": _l("zamawiający publiczny"),
    "moderator": _l("moderator"),
    "admin": _l("administrator"),
    "committee": _l("członek Kapituły"),
    "committee_chair": _l("przewodniczący Kapituły"),
}


def role_label(code: str | None) -> str:
    return str(ROLE_LABELS.get(code, code or ""))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _reason(label, required: bool = True) -> TextAreaField:
    checks = [DataRequired(message=_l("Podaj uzasadnienie."))] if required else [Optional()]
    return TextAreaField(label, filters=[_strip], validators=[
        *checks, Length(max=REASON_MAX, message=_l("Uzasadnienie może mieć najwyżej %(max)d znaków."))])


class ConfirmForm(FlaskForm):
    """An action that needs nothing but the button (and the CSRF token)."""


class RejectForm(FlaskForm):
    reason = _reason(_l("Powód odrzucenia"))


class SuspendForm(FlaskForm):
    reason = _reason(_l("Powód zawieszenia"))


class RevokeForm(FlaskForm):
    reason = _reason(_l("Powód cofnięcia weryfikacji"))


class InstitutionVerifyForm(FlaskForm):
    """Verifying an institution also confirms the waiting people the moderator saw on the page."""

    people = HiddenField()

    @property
    def people_ids(self) -> list[int]:
        """The account ids from the space-separated list; anything else in it is ignored."""
        parts = self.people.data.split() if isinstance(self.people.data, str) else []
        return [int(p) for p in parts if p.isascii() and p.isdigit() and int(p) <= MAX_INT]


class ReinstateForm(FlaskForm):
    reason = _reason(_l("Notatka do dziennika (nieobowiązkowa)"), required=False)


class RoleForm(FlaskForm):
    role = SelectField(_l("Rola"), validate_choice=False, validators=[
        AnyOf(ROLES, message=_l("Wybierz jedną z ról z listy."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(code, role_label(code)) for code in ROLES]


class UserSearchForm(Form):
    """Searching does not change anything, so it is a GET form without a CSRF token."""

    q = SearchField(_l("Adres e-mail lub jego część"), filters=[_strip],
                    validators=[Optional(), Length(max=254)])


class AuditFilterForm(Form):
    """Filters of the audit log, read from the query string."""

    action = SelectField(_l("Czynność"), validate_choice=False)
    actor = SelectField(_l("Kto"), validate_choice=False)

    def set_choices(self, actions: list[tuple[str, str]], actors: list[tuple[str, str]]) -> None:
        self.action.choices = [("", _l("wszystkie"))] + actions
        self.actor.choices = [("", _l("wszyscy"))] + actors
        if self.action.data not in {c for c, _ in self.action.choices}:
            self.action.data = ""
        if self.actor.data not in {c for c, _ in self.actor.choices}:
            self.actor.data = ""
