"""The clause builder's rules, table-driven at the boundaries the law draws: the national threshold before and
after 1 January 2026, the EU thresholds in PLN to the grosz, and the art. 361 list of CPV codes."""
from datetime import date
from decimal import Decimal

import pytest

from marketplace.procurement import rules
from marketplace.procurement.legal_data import shipped_state
from marketplace.procurement.legal_state import MissingValue

IN_2026 = date(2026, 3, 2)
IN_2025 = date(2025, 6, 2)


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def inputs(value, start=IN_2026, kind="supplies", purchaser="local", cpv=(), aims=("social_economy",)):
    return rules.Inputs(value=Decimal(value), kind=kind, purchaser=purchaser, start=start, cpv=tuple(cpv),
                        aims=frozenset(aims))


@pytest.mark.parametrize(("value", "start", "expected", "threshold"), [
    ("169999.99", IN_2026, "below", "170000"),
    ("170000.00", IN_2026, "national", "170000"),
    ("129999.99", IN_2025, "below", "130000"),
    ("130000.00", IN_2025, "national", "130000"),
    ("150000.00", date(2025, 12, 31), "national", "130000"),  # started the day before the change
    ("150000.00", date(2026, 1, 1), "below", "170000"),       # started on the day of the change
])
def test_national_threshold_follows_the_day_the_procedure_starts(ctx, value, start, expected, threshold):
    reg = rules.regime(inputs(value, start), shipped_state())
    assert reg.code == expected
    assert reg.national_threshold == Decimal(threshold)


@pytest.mark.parametrize(("kind", "purchaser", "cpv", "start", "eu_pln", "key"), [
    ("supplies", "local", (), IN_2026, "930960.00", "eu_threshold_other"),       # 216 000 EUR × 4,31
    ("services", "central", (), IN_2026, "603400.00", "eu_threshold_central"),   # 140 000 EUR × 4,31
    ("works", "local", (), IN_2026, "23291240.00", "eu_threshold_works"),        # 5 404 000 EUR × 4,31
    ("services", "local", ("85311000-2",), IN_2026, "3232500.00", "eu_threshold_social"),  # 750 000 × 4,31
    ("supplies", "local", (), IN_2025, "1024799.10", "eu_threshold_other"),      # 221 000 EUR × 4,6371
])
def test_eu_threshold_in_pln_to_the_grosz(ctx, kind, purchaser, cpv, start, eu_pln, key):
    below = Decimal(eu_pln) - Decimal("0.01")
    reg = rules.regime(inputs(below, start, kind, purchaser, cpv), shipped_state())
    assert (reg.code, reg.eu_key, reg.eu_threshold_pln) == ("national", key, Decimal(eu_pln))
    assert rules.regime(inputs(eu_pln, start, kind, purchaser, cpv), shipped_state()).code == "eu"


@pytest.mark.parametrize(("codes", "fits"), [
    (("85311000-2",), True),                 # inside the range 85000000-9 .. 85323000-9
    (("85323000-9",), True),                 # the range's last code
    (("85324000-6",), False),                # just past it
    (("80110000-8", "92500000-6"), True),    # two listed codes
    (("85311000-2", "90910000-9"), False),   # one listed, one not: every code must be listed
    (("79622000-0",), True),
    (("79621000-3",), False),
    ((), False),                             # no codes at all
])
def test_art361_only_when_every_cpv_code_is_on_its_list(ctx, codes, fits):
    legal = shipped_state()
    _reg, found = rules.evaluate(inputs("500000", kind="services", cpv=codes), legal)
    art361 = next(f for f in found if f.code == "art361")
    assert art361.fits is fits
    if not fits and codes:
        assert any("90910000-9" in r or "8532400" in r or "79621000" in r for r in art361.reasons)


def test_art361_needs_services(ctx):
    _reg, found = rules.evaluate(inputs("500000", kind="supplies", cpv=("85311000-2",)), shipped_state())
    assert not next(f for f in found if f.code == "art361").fits


@pytest.mark.parametrize(("kind", "fits"), [("supplies", False), ("services", True), ("works", True)])
def test_art95_is_required_for_services_and_works(ctx, kind, fits):
    _reg, found = rules.evaluate(inputs("300000", kind=kind), shipped_state())
    art95 = next(f for f in found if f.code == "art95")
    assert (art95.fits, art95.mandatory) == (fits, fits)


@pytest.mark.parametrize(("purchaser", "aims", "mentions_15a"), [
    ("local", ("social_economy",), True),
    ("local", ("accessibility",), False),
    ("other", ("social_economy",), False),
])
def test_below_the_threshold_art15a_is_offered_to_public_finance_units(ctx, purchaser, aims, mentions_15a):
    legal = shipped_state()
    reg, found = rules.evaluate(inputs("50000", purchaser=purchaser, aims=aims), legal)
    assert reg.code == "below"
    below = found[0]
    assert below.code == "below_threshold" and below.fits
    offers = any("może zastrzec" in r and "15a" in r for r in below.reasons)
    assert offers is mentions_15a
    # Below the threshold no instrument of the Pzp fits.
    assert [f.code for f in found if f.fits] == ["below_threshold"]
    assert (("art15a_follows_threshold", date(2021, 1, 1)) in legal.used) is mentions_15a


def test_instruments_follow_the_aims(ctx):
    _reg, found = rules.evaluate(inputs("400000", kind="services", aims=("employ",)), shipped_state())
    fitting = {f.code for f in found if f.fits}
    assert fitting == {"art94", "art95", "art96", "art100", "art242"}
    _reg, found = rules.evaluate(inputs("400000", kind="supplies", aims=("accessibility",)), shipped_state())
    assert {f.code for f in found if f.fits} == {"art100", "art242"}


def test_the_result_names_the_legal_state_it_used(ctx):
    legal = shipped_state()
    rules.evaluate(inputs("200000"), legal)
    used = {e.key for e in legal.used_entries()}
    assert {"pzp_threshold", "eur_rate", "eu_threshold_other", "reserved_min_share"} <= used
    assert legal.as_of() == date(2026, 1, 6)


def test_a_day_before_any_known_threshold_is_refused(ctx):
    with pytest.raises(MissingValue):
        rules.regime(inputs("200000", start=date(2023, 12, 31)), shipped_state())


def test_money_is_written_the_polish_way():
    assert rules.money(Decimal(930960)) == "930\u00a0960,00\u00a0zł"


def test_art15a_follows_the_data(ctx):
    """When moderators record that art. 15a does not reach the Pzp threshold, the builder stops offering it."""
    from dataclasses import replace

    from marketplace.procurement.legal_state import LegalState

    legal = shipped_state()
    off = LegalState([replace(e, value="0") if e.key == "art15a_follows_threshold" else e for e in legal.entries])
    _reg, found = rules.evaluate(inputs("50000"), off)
    assert not any("15a" in r and "może zastrzec" in r for r in found[0].reasons)


def test_values_past_their_period_are_not_used(ctx):
    """The EU thresholds and the rate for 2026–2027 end on 31 December 2027: a later start has no data."""
    with pytest.raises(MissingValue):
        rules.regime(inputs("200000", start=date(2028, 1, 1)), shipped_state())
    assert rules.regime(inputs("200000", start=date(2027, 12, 31)), shipped_state()).eur_rate == Decimal("4.31")
