"""Price history and the Omnibus rule: every price an offering had is kept, and a reduced price is shown with
the price it replaced and the lowest price of the 30 days before the reduction; the editor's stock and
withdrawal fields."""
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog import price_history
from catalog.models import Offering, OfferingPrice
from marketplace import clock
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.test_catalog_offerings import (  # noqa: F401
    all_offerings,
    cpv_codes,
    error_of,
    make_offering,
    member,
    offering_form,
    post_new,
)
from tests.test_catalog_transfer import PES, write

IMPORTED = {"type": "offering", "ref": "off-hist-1", "pes_ref": PES["ref"], "kind": "product",
            "title": "Miód gryczany 1 kg", "description": "Miód z pasieki spółdzielni.", "category": "zywnosc",
            "cpv": [], "price_net": "40.00", "vat_rate": "5", "unit": "szt."}
_seq = itertools.count(1)


def prices(offering) -> list[tuple]:
    """The offering's history, oldest first, as (net, VAT rate)."""
    db.session.expire_all()
    rows = db.session.scalars(select(OfferingPrice).where(OfferingPrice.offering_id == offering.id)
                              .order_by(OfferingPrice.valid_from, OfferingPrice.id))
    return [(row.price_net, row.vat_rate) for row in rows]


def priced(pes, history, now, vat="23", **fields) -> Offering:
    """An offering whose net prices were set `days` before `now`, for each (days, net) of `history`."""
    (first_days, first_net), *changes = history
    offering = Offering(ref=f"off-ph-{next(_seq)}", pes=pes, title="Ławka ogrodowa", kind="product",
                        category="zywnosc", description="Ławka z drewna sosnowego.", status="published",
                        published_at=now - timedelta(days=first_days), price_net=Decimal(first_net),
                        vat_rate=vat, **fields)
    price_history.record(offering, at=now - timedelta(days=first_days))
    for days, net in changes:
        offering.price_net = Decimal(net)
        price_history.record(offering, at=now - timedelta(days=days))
        db.session.flush()
    return offering


def edit(client, offering, **overrides):
    path = f"/panel/oferty/{offering.id}/edytuj"
    return client.post(path, data=offering_form(csrf_token=csrf_token(client, path), **overrides),
                       content_type="multipart/form-data")


# History rows ---------------------------------------------------------------------------------------------

def test_the_editor_records_a_price_on_create_and_on_change_but_not_on_an_unchanged_save(client, cpv_codes):
    _user, pes = member(client)
    assert post_new(client, pes, price_net="18,50", vat_rate="8").status_code == 302
    [offering] = all_offerings()
    assert prices(offering) == [(Decimal("18.50"), "8")]
    assert edit(client, offering, price_net="18.50", vat_rate="8", title="Nowy tytuł").status_code == 302
    assert prices(offering) == [(Decimal("18.50"), "8")]
    assert edit(client, offering, price_net="17,00", vat_rate="8").status_code == 302
    assert edit(client, offering, price_net="17,00", vat_rate="23").status_code == 302
    assert prices(offering) == [(Decimal("18.50"), "8"), (Decimal("17.00"), "8"), (Decimal("17.00"), "23")]


def test_an_offering_created_with_price_on_request_has_no_history_until_it_gets_a_price(client, cpv_codes):
    _user, pes = member(client)
    post_new(client, pes, price_net="", price_on_request="y")
    [offering] = all_offerings()
    assert prices(offering) == []
    edit(client, offering, price_net="25,00", vat_rate="23")
    assert prices(offering) == [(Decimal("25.00"), "23")]


def test_an_older_offering_keeps_its_price_since_publication_when_it_first_changes(client, cpv_codes):
    _user, pes = member(client)
    published = clock.now() - timedelta(days=90)
    offering = make_offering(pes, published_at=published)  # from before the history: no row
    assert prices(offering) == [] and price_history.reduction(offering) is None
    edit(client, offering, price_net="15,00", vat_rate="8")
    rows = db.session.scalars(select(OfferingPrice).order_by(OfferingPrice.valid_from)).all()
    assert [(r.price_net, r.vat_rate) for r in rows] == [(Decimal("18.50"), "8"), (Decimal("15.00"), "8")]
    assert abs(price_history._utc(rows[0].valid_from) - published) < timedelta(seconds=1)
    cut = price_history.reduction(db.session.get(Offering, offering.id))
    assert (cut.previous, cut.lowest, cut.current) == (Decimal("19.98"), Decimal("19.98"), Decimal("16.20"))


def test_the_import_records_new_and_changed_prices_only(runner, tmp_path):
    def run(*records):
        result = runner.invoke(args=["import", write(tmp_path, [PES, *records], f"in-{next(_seq)}.jsonl")])
        assert result.exit_code == 0, result.output

    run(IMPORTED)
    offering = db.session.scalar(select(Offering).where(Offering.ref == IMPORTED["ref"]))
    assert prices(offering) == [(Decimal("40.00"), "5")]
    run(dict(IMPORTED, title="Miód gryczany, słoik 1 kg"))
    assert prices(offering) == [(Decimal("40.00"), "5")]
    run(dict(IMPORTED, price_net="36.00"))
    assert prices(offering) == [(Decimal("40.00"), "5"), (Decimal("36.00"), "5")]


# The reduction rule ----------------------------------------------------------------------------------------

def test_no_reduction_without_history_or_on_an_increase(app):
    from tests.factories import make_pes

    now = clock.now()
    pes = make_pes()
    assert price_history.reduction(make_offering(pes), now) is None
    single = priced(pes, [(50, "100.00")], now)
    assert price_history.reduction(single, now) is None
    raised = priced(pes, [(60, "100.00"), (2, "120.00")], now)
    assert price_history.reduction(raised, now) is None


def test_a_reduction_shows_the_lowest_gross_price_of_the_30_days_before_it(app):
    from tests.factories import make_pes

    now = clock.now()
    # 50 net was asked from 41 to 36 days ago: more than 30 days before the reduction (a day ago), so it does
    # not count; 80 net, 21 to 18 days ago, does.
    offering = priced(make_pes(), [(100, "100.00"), (41, "50.00"), (36, "100.00"), (21, "80.00"), (18, "100.00"),
                                   (1, "90.00")], now)
    cut = price_history.reduction(offering, now)
    assert cut.current == Decimal("110.70") and cut.previous == Decimal("123.00")
    assert cut.lowest == Decimal("98.40")  # 80 net + 23% VAT
    assert cut.since == (now - timedelta(days=1)).astimezone(clock.WARSAW).date()


def test_a_price_in_effect_when_the_30_days_began_counts(app):
    from tests.factories import make_pes

    now = clock.now()
    offering = priced(make_pes(), [(100, "100.00"), (45, "50.00"), (20, "100.00"), (1, "90.00")], now)
    assert price_history.reduction(offering, now).lowest == Decimal("61.50")


def test_a_lower_vat_rate_is_a_reduction_of_the_gross_price(app):
    from tests.factories import make_pes

    now = clock.now()
    offering = priced(make_pes(), [(60, "100.00")], now)
    offering.vat_rate = "8"
    price_history.record(offering, at=now - timedelta(days=3))
    db.session.flush()
    cut = price_history.reduction(offering, now)
    assert (cut.previous, cut.current, cut.lowest) == (Decimal("123.00"), Decimal("108.00"), Decimal("123.00"))


def test_a_reduction_is_announced_for_30_days_and_until_the_price_changes(app):
    from tests.factories import make_pes

    now = clock.now()
    offering = priced(make_pes(), [(80, "100.00"), (29, "90.00")], now)
    assert price_history.reduction(offering, now) is not None
    assert price_history.reduction(offering, now + timedelta(days=1)) is None
    offering.price_net = Decimal("95.00")  # up again: no longer a reduction
    price_history.record(offering, at=now - timedelta(days=1))
    db.session.flush()
    assert price_history.reduction(offering, now) is None


def test_the_offering_page_shows_the_previous_price_and_the_30_day_lowest(client):
    from tests.factories import make_pes

    offering = priced(make_pes(), [(100, "100.00"), (21, "80.00"), (18, "100.00"), (1, "90.00")], clock.now())
    db.session.commit()
    html = client.get(f"/oferta/{offering.id}", follow_redirects=True).get_data(as_text=True)
    assert "Poprzednia cena: <del>123,00 zł</del> brutto" in html
    assert "Najniższa cena z 30 dni przed obniżką: 98,40 zł brutto" in html
    assert "90,00 zł netto + 23% VAT = 110,70 zł brutto" in html


@pytest.mark.parametrize("app_config", [{"CLOCK_OFFSET_DAYS": 30}])
def test_a_reduction_is_no_longer_shown_30_days_later_by_the_portals_clock(client):
    from tests.factories import make_pes

    offering = priced(make_pes(), [(100, "100.00"), (1, "90.00")], datetime.now(UTC))
    db.session.commit()
    html = client.get(f"/oferta/{offering.id}", follow_redirects=True).get_data(as_text=True)
    assert "90,00 zł netto" in html and "Poprzednia cena" not in html and "Najniższa cena" not in html


# The editor's stock and withdrawal fields ---------------------------------------------------------------------

def test_the_editor_saves_stock_and_the_withdrawal_exception(client, cpv_codes):
    _user, pes = member(client)
    assert post_new(client, pes, kind="product", stock="25", withdrawal_exception="perishable").status_code == 302
    [offering] = all_offerings()
    assert (offering.stock, offering.withdrawal_exception) == (25, "perishable")
    page = client.get(f"/panel/oferty/{offering.id}/edytuj").get_data(as_text=True)
    assert 'value="25"' in page and '<option selected value="perishable">' in page and "14 dni" in page
    assert edit(client, offering, kind="product", stock="", withdrawal_exception="").status_code == 302
    assert (all_offerings()[0].stock, all_offerings()[0].withdrawal_exception) == (None, None)


def test_a_service_has_no_stock(client, cpv_codes):
    _user, pes = member(client)
    post_new(client, pes, kind="service", stock="12")
    assert all_offerings()[0].stock is None


@pytest.mark.parametrize("typed, message", [
    ("-3", "nie może być ujemny"),
    ("dużo", "liczba całych sztuk"),
    ("2,5", "liczba całych sztuk"),
    ("99999999999", "najwyżej 1000000 sztuk"),
])
def test_bad_stock_is_refused_with_a_message_and_nothing_is_written(client, cpv_codes, typed, message):
    _user, pes = member(client)
    resp = post_new(client, pes, kind="product", stock=typed)
    assert resp.status_code == 422 and message in error_of(resp.get_data(as_text=True), "stock")
    assert all_offerings() == []
    offering = make_offering(pes, kind="product", stock=4)
    db.session.commit()
    resp = edit(client, offering, kind="product", stock=typed, price_net="10,00")
    assert resp.status_code == 422 and message in error_of(resp.get_data(as_text=True), "stock")
    assert all_offerings()[0].stock == 4 and prices(offering) == []


def test_an_unknown_withdrawal_exception_is_refused(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, kind="product", withdrawal_exception="bo-tak")
    assert resp.status_code == 422 and error_of(resp.get_data(as_text=True), "withdrawal_exception")
    assert all_offerings() == []
