"""The form of a search synonym group: the words of the group, checked as the search will use them."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from search import synonyms
from search.models import MAX_MEMBERS, MAX_WORD_CHARS, NOTE_MAX_CHARS


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _quoted(members) -> str:
    return ", ".join(f"„{m}”" for m in members)


class SynonymGroupForm(FlaskForm):
    """Adding or editing a group; after validation `members` holds its words, normalised."""

    words = StringField(_l("Słowa grupy"), filters=[_strip], validators=[
        DataRequired(message=_l("Wpisz słowa grupy oddzielone przecinkami."))])
    note = TextAreaField(_l("Notatka (nieobowiązkowa)"), filters=[_strip], validators=[
        Optional(), Length(max=NOTE_MAX_CHARS, message=_l("Notatka może mieć najwyżej %(max)d znaków."))])

    def __init__(self, *args, group_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_id = group_id  # the group being edited: not a duplicate of itself
        self.members: list[str] = []

    def validate_words(self, field) -> None:
        members = synonyms.split_words(field.data)
        problems = []
        by_kind: dict[str, list[str]] = {}
        for word in dict.fromkeys(members):
            kind = synonyms.word_problem(word)
            if kind:
                by_kind.setdefault(kind, []).append(word)
        if "too_long" in by_kind:
            problems.append(_("Słowo może mieć najwyżej %(max)d znaków: %(words)s.", max=MAX_WORD_CHARS,
                              words=_quoted(w[:MAX_WORD_CHARS] + "…" for w in by_kind["too_long"])))
        if "not_one_word" in by_kind:
            problems.append(_("Każde słowo musi być jednym wyrazem z liter lub cyfr, bez spacji i znaków "
                              "interpunkcyjnych; słowa oddzielaj przecinkami. Popraw: %(words)s.",
                              words=_quoted(by_kind["not_one_word"])))
        if "hyphen" in by_kind:
            problems.append(_("Wyszukiwarka dzieli słowa z łącznikiem na części, więc nie mogą one być "
                              "synonimami. Wpisz części osobno albo pomiń: %(words)s.",
                              words=_quoted(by_kind["hyphen"])))
        if "stop_word" in by_kind:
            problems.append(_("Wyszukiwarka pomija krótkie słowa pomocnicze, takie jak spójniki i przyimki, "
                              "więc nie mogą one być synonimami: %(words)s.", words=_quoted(by_kind["stop_word"])))
        repeated = [w for w in dict.fromkeys(members) if members.count(w) > 1]
        if repeated:
            problems.append(_("Każde słowo wpisz tylko raz. Powtórzone: %(words)s.", words=_quoted(repeated)))
        distinct = list(dict.fromkeys(members))
        if len(distinct) < 2:
            problems.append(_("Grupa musi mieć co najmniej dwa różne słowa, oddzielone przecinkami."))
        elif len(distinct) > MAX_MEMBERS:
            problems.append(_("Grupa może mieć najwyżej %(max)d słów (wpisano %(n)d). Podziel ją na kilka "
                              "węższych grup.", max=MAX_MEMBERS, n=len(distinct)))
        if problems:
            raise ValidationError(" ".join(problems))
        same = synonyms.identical_group(distinct, exclude_id=self.group_id)
        if same == "shipped":
            raise ValidationError(_("Taka grupa jest już wbudowana w portal – nie trzeba jej dodawać."))
        if same is not None:
            raise ValidationError(_("Taka grupa już istnieje (dodana przez moderatora): %(words)s.",
                                    words=same.words))
        self.members = distinct
