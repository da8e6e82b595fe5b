"""Names, in the current language, of the mark's statuses, criteria and the eligible legal forms."""
from flask_babel import lazy_gettext as _l

from marketplace.pes.models import LEGAL_FORMS

# Why every PES legal form is eligible: the mark is for products and services of social economy entities,
# and the regional rules ask for "an eligible legal form" without excluding any form of a PES. A PES is
# already one of the forms the law on social economy lists (LEGAL_FORMS, including "inna" for the other
# forms it names), and a PES is only public once staff have verified that, so the legal form criterion is
# met by being a verified PES. The committee still scores the form as one of the criteria. Should the rules
# ever exclude a form, list the eligible ones here: the application page and the checks read this tuple.
ELIGIBLE_LEGAL_FORMS = LEGAL_FORMS
MIN_MONTHS = 6
# The regional committee looks for at least this share of own revenue; a lower share is not refused
# (the application form's hint says so).
OWN_REVENUE_GUIDE = 30

APPLICATION_LABELS = {
    "submitted": _l("złożony – czeka na sprawdzenie"),
    "returned": _l("zwrócony do uzupełnienia"),
    "in_review": _l("u kapituły"),
    "granted": _l("znak przyznany"),
    "refused": _l("odmowa przyznania znaku"),
    "withdrawn": _l("wycofany"),
}

CRITERION_LABELS = {
    "legal_form": _l("Forma prawna"),
    "operating_time": _l("Okres działalności"),
    "own_revenue": _l("Udział przychodów własnych"),
    "quality": _l("Jakość produktu lub usługi"),
    "recommendations": _l("Rekomendacje kupujących"),
}

# The state of a mark on a given day, computed from its dates and status.
MARK_STATE_LABELS = {
    "valid": _l("ważny"),
    "upcoming": _l("ważny od przyszłej daty"),
    "expired": _l("wygasł"),
    "suspended": _l("zawieszony"),
    "revoked": _l("cofnięty"),
}

ACTION_LABELS = {
    "mark.apply": _l("złożenie wniosku o znak jakości"),
    "mark.resubmit": _l("ponowne złożenie poprawionego wniosku o znak jakości"),
    "mark.withdraw": _l("wycofanie wniosku o znak jakości"),
    "mark.return": _l("zwrot wniosku o znak jakości"),
    "mark.to_committee": _l("przekazanie wniosku o znak do kapituły"),
    "mark.score": _l("ocena wniosku o znak jakości"),
    "mark.grant": _l("przyznanie znaku jakości"),
    "mark.award": _l("nadanie numeru certyfikatu znaku jakości"),
    "mark.refuse": _l("odmowa przyznania znaku jakości"),
    "mark.suspend": _l("zawieszenie znaku jakości"),
    "mark.revoke": _l("cofnięcie znaku jakości"),
    "mark.reinstate": _l("przywrócenie znaku jakości"),
}


def application_label(code: str) -> str:
    return str(APPLICATION_LABELS.get(code, code))


def criterion_label(code: str) -> str:
    return str(CRITERION_LABELS.get(code, code))


def mark_state_label(code: str) -> str:
    return str(MARK_STATE_LABELS.get(code, code))


def legal_form_eligible(code: str | None) -> bool:
    return code in ELIGIBLE_LEGAL_FORMS


def category_label(slug: str | None) -> str:
    from catalog import categories

    return categories.name(slug) if slug else ""


def category_choices() -> list[tuple[str, str]]:
    from catalog import categories

    return [(code, str(label)) for code, label in categories.choices()]
