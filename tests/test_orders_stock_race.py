"""Buyers racing for the last items: concurrent checkouts, each in a transaction of its own, never sell more
than there is. PostgreSQL only (concurrent writers are what it is about); the SQLite run skips it and CI runs
the suite again on PostgreSQL."""
import threading

import pytest
from sqlalchemy import func, select

from accounts.models import User
from catalog.models import Offering
from marketplace.extensions import db
from marketplace.orders import cart, checkout, stock
from marketplace.orders.models import Order, PesSales
from tests.factories import make_user
from tests.order_factories import product, selling_pes

BUYERS = 12
LEFT = 5


@pytest.fixture
def pg_only(pg_url):
    if not pg_url:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)")


def _one_checkout(app, offering_id: int, user_id: int, results: list, start: threading.Barrier) -> None:
    with app.test_request_context():
        offering = db.session.get(Offering, offering_id)
        user = db.session.get(User, user_id)
        group = cart.Group(offering.pes, db.session.get(PesSales, offering.pes_id), [cart.Line(offering, 1)])
        buyer = checkout.BuyerData("Kupujący", f"k{user_id}@example.org", None, None, None, "ul. Długa 5",
                                   "85-001", "Bydgoszcz", False)
        start.wait()
        try:
            checkout.place([group], user, buyer, {offering.pes_id: checkout.Choice("transfer", "pickup")})
            db.session.commit()
            results.append("ok")
        except stock.OutOfStock:
            db.session.rollback()
            results.append("out")
        finally:
            db.session.remove()


def test_concurrent_checkouts_for_the_last_items_never_oversell(app, pg_only):
    pes, _ = selling_pes()
    item = product(pes, stock=LEFT)
    users = [make_user(email=f"racer{i}@example.org") for i in range(BUYERS)]
    db.session.commit()
    results: list[str] = []
    start = threading.Barrier(BUYERS)
    threads = [threading.Thread(target=_one_checkout, args=(app, item.id, u.id, results, start)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["ok"] * LEFT + ["out"] * (BUYERS - LEFT)
    db.session.expire_all()
    assert db.session.get(Offering, item.id).stock == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == LEFT
    numbers = db.session.scalars(select(Order.number)).all()
    assert len(set(numbers)) == LEFT  # order numbers taken concurrently never repeat
