"""Forms of the quality mark: the application, the office's and the committee's decisions, the register filters."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import Form, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from catalog.mark import uploads
from catalog.mark.labels import MIN_MONTHS, category_choices, criterion_label
from catalog.mark.models import CRITERIA
from marketplace import region
from marketplace.core.fields import MultiCheckboxField

RECOMMENDATION_ROWS = 3
MIN_RECOMMENDATIONS = 2
RECOMMENDATION_PARTS = {  # part -> (label, max length)
    "name": (_l("Imię i nazwisko osoby polecającej"), 120),
    "organisation": (_l("Instytucja lub firma"), 200),
    "contact": (_l("Kontakt (e-mail lub telefon)"), 200),
    "text": (_l("Treść rekomendacji"), 2000),
}
REASON_MAX = 5000


def _required(message):
    return InputRequired(message=message)


class ApplicationForm(FlaskForm):
    months_operating = IntegerField(
        _l("Okres działalności (pełne miesiące)"),
        validators=[_required(_l("Podaj, ile miesięcy działa podmiot.")),
                    NumberRange(min=MIN_MONTHS, max=1200, message=_l(
                        "Znak mogą otrzymać podmioty działające co najmniej %(n)d miesięcy.", n=MIN_MONTHS))],
        render_kw={"min": MIN_MONTHS, "inputmode": "numeric"})
    own_revenue_share = IntegerField(
        _l("Udział przychodów własnych w ostatnim roku (%)"),
        validators=[_required(_l("Podaj udział przychodów własnych.")),
                    NumberRange(min=0, max=100, message=_l("Podaj liczbę od 0 do 100."))],
        render_kw={"min": 0, "max": 100, "inputmode": "numeric"})
    quality_statement = TextAreaField(
        _l("Dlaczego ten produkt lub ta usługa są wysokiej jakości"),
        validators=[_required(_l("Opisz jakość produktu lub usługi.")),
                    Length(min=200, max=5000, message=_l("Opis powinien mieć od 200 do 5000 znaków."))])
    attachments = MultipleFileField(_l("Załączniki (PDF, PNG, JPEG lub WebP)"),
                                    render_kw={"accept": "application/pdf,image/png,image/jpeg,image/webp"})
    remove_attachments = MultiCheckboxField(_l("Usuń dołączone wcześniej pliki"), choices=[])

    def __init__(self, *args, existing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.existing = list(existing)
        self.remove_attachments.choices = [SelectChoice(str(a.id), a.original_name) for a in self.existing]
        self.checked_files: list[uploads.CheckedFile] = []

    def rows(self):
        """The recommendation rows: [(number, {part: field})]."""
        return [(i, {part: self[f"rec{i}_{part}"] for part in RECOMMENDATION_PARTS})
                for i in range(1, RECOMMENDATION_ROWS + 1)]

    def fill_from(self, application) -> None:
        """Show a stored application in the form, to be corrected."""
        self.months_operating.data = application.months_operating
        self.own_revenue_share.data = application.own_revenue_share
        self.quality_statement.data = application.quality_statement
        for (_i, fields), rec in zip(self.rows(), application.recommendations or []):
            for part, f in fields.items():
                f.data = rec.get(part, "")

    def recommendations(self) -> list[dict]:
        """The complete rows, as stored on the application."""
        out = []
        for _i, fields in self.rows():
            values = {part: (f.data or "").strip() for part, f in fields.items()}
            if all(values.values()):
                out.append(values)
        return out

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self._check_recommendations() and ok

    def _check_recommendations(self) -> bool:
        ok, complete, first_gap = True, 0, None
        for i, fields in self.rows():
            values = {part: (f.data or "").strip() for part, f in fields.items()}
            if all(values.values()):
                complete += 1
            elif any(values.values()):
                ok = False
                for part, f in fields.items():
                    if not values[part]:
                        f.errors.append(str(_l("Uzupełnij to pole albo wyczyść całą rekomendację nr %(n)d.", n=i)))
            elif first_gap is None:
                first_gap = fields["name"]
        if ok and complete < MIN_RECOMMENDATIONS:
            target = first_gap or self["rec1_name"]
            target.errors.append(str(_l("Dołącz co najmniej 2 rekomendacje od kupujących "
                                        "(osoba, instytucja, kontakt i treść).")))
            ok = False
        return ok

    def validate_attachments(self, field):
        files = [f for f in (field.data or []) if getattr(f, "filename", "")]
        removed = set(self.remove_attachments.data or [])
        kept = [a for a in self.existing if str(a.id) not in removed]
        if len(kept) + len(files) > uploads.MAX_FILES:
            raise ValidationError(_l("Można dołączyć najwyżej %(n)d plików.", n=uploads.MAX_FILES))
        checked, errors = [], []
        for upload in files:
            try:
                checked.append(uploads.check(upload))
            except uploads.UploadError as exc:
                errors.append(str(exc))
        if errors:
            raise ValidationError(" ".join(errors))
        self.checked_files = checked


for _i in range(1, RECOMMENDATION_ROWS + 1):
    for _part, (_label, _max) in RECOMMENDATION_PARTS.items():
        _cls = TextAreaField if _part == "text" else StringField
        setattr(ApplicationForm, f"rec{_i}_{_part}",
                _cls(_label, validators=[Optional(), Length(max=_max)], filters=[lambda v: v.strip() if v else v]))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("Co trzeba uzupełnić lub poprawić"),
                            validators=[_required(_l("Napisz, co trzeba uzupełnić.")), Length(max=REASON_MAX)])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decyzja kapituły"), choices=[SelectChoice("grant", _l("przyznać znak")),
                                                           SelectChoice("refuse", _l("odmówić przyznania znaku"))],
                          validators=[_required(_l("Wybierz decyzję."))])
    reason = TextAreaField(_l("Uzasadnienie decyzji"),
                           validators=[_required(_l("Podaj uzasadnienie decyzji.")), Length(max=REASON_MAX)])


class ReasonForm(FlaskForm):
    """Suspension or revocation of a mark: the reason is required and is mailed to the PES."""

    reason = TextAreaField(_l("Uzasadnienie"), validators=[_required(_l("Podaj uzasadnienie.")),
                                                            Length(max=REASON_MAX)])


class ReinstateForm(FlaskForm):
    reason = TextAreaField(_l("Uzasadnienie (nieobowiązkowe)"), validators=[Optional(), Length(max=REASON_MAX)])


class ScoreForm(FlaskForm):
    """One committee member's scores, 0–5, and comments for every criterion."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for c, score, comment in self.criteria():  # labels in the language of the request
            score.label.text = str(_l("Ocena: %(criterion)s", criterion=criterion_label(c)))
            comment.label.text = str(_l("Komentarz: %(criterion)s", criterion=criterion_label(c)))

    def criteria(self):
        return [(c, self[f"score_{c}"], self[f"comment_{c}"]) for c in CRITERIA]

    def scores(self) -> dict[str, tuple[int, str]]:
        return {c: (int(score.data), (comment.data or "").strip()) for c, score, comment in self.criteria()}


for _c in CRITERIA:
    setattr(ScoreForm, f"score_{_c}", RadioField(
        _l("Ocena"),
        choices=[SelectChoice(str(n), str(n)) for n in range(6)],
        validators=[_required(_l("Wybierz ocenę od 0 do 5."))]))
    setattr(ScoreForm, f"comment_{_c}", TextAreaField(
        _l("Komentarz"),
        validators=[Optional(), Length(max=2000)]))


STATE_FILTERS = ("valid", "expired", "suspended", "revoked")


class RegisterFilterForm(Form):
    """The register's filters: a GET form, so its state lives in the URL and it needs no token."""

    category = MultiCheckboxField(_l("Kategoria"))
    powiat = MultiCheckboxField(_l("Powiat (siedziba lub obszar działania)"))
    state = SelectField(_l("Stan znaku"), choices=[])

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        from catalog.mark.labels import mark_state_label

        self.category.choices = [SelectChoice(code, label) for code, label in category_choices()]
        self.powiat.choices = [SelectChoice(code, label) for code, label in region.powiat_choices()]
        self.state.choices = [SelectChoice("", str(_l("wszystkie")))] + [
            SelectChoice(s, mark_state_label(s)) for s in STATE_FILTERS]

    def filters(self) -> dict:
        categories = {c.value for c in self.category.choices}
        powiats = {c.value for c in self.powiat.choices}
        state = self.state.data if self.state.data in STATE_FILTERS else None
        return {"categories": [c for c in self.category.data or [] if c in categories],
                "powiats": [c for c in self.powiat.data or [] if c in powiats], "state": state}

    def url_args(self) -> dict:
        f = self.filters()
        return {"category": f["categories"], "powiat": f["powiats"], "state": f["state"]}
