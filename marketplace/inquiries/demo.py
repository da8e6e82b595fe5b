"""Demo inquiries, so that a fresh demo shows every side of the feature: the public purchaser's inquiry to
three catering PES with two quotes to compare, and a buyer's question to the demo PES waiting for an answer.
They go through the same services as the pages (their mail lands in the outbox like any other)."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from accounts.models import User
from catalog.models import Offering
from marketplace import clock
from marketplace.extensions import db
from marketplace.inquiries import services, threads
from marketplace.pes.models import Pes

DEMO_PES_REF = "pes-demo-001"


def _catering_pes(limit: int) -> list[Pes]:
    """The demo PES first, then other verified PES with published catering offerings."""
    rows = db.session.scalars(select(Pes).join(Offering, Offering.pes_id == Pes.id).where(
        Pes.status == "verified", Offering.category == "catering", Offering.status == "published")
        .distinct().order_by(Pes.id)).all()
    rows.sort(key=lambda p: p.ref != DEMO_PES_REF)
    return rows[:limit]


def _sender(user: User) -> services.Sender:
    org = user.institution.name if user.institution is not None else None
    return services.Sender(name=user.name, email=user.email, user=user, organisation=org)


def seed() -> int:
    """Create the demo inquiries; returns how many. Does nothing without the demo accounts."""
    purchaser = db.session.scalar(select(User).where(User.email == "zamawiajacy@demo.example.org"))
    buyer = db.session.scalar(select(User).where(User.email == "kupujacy@demo.example.org"))
    recipients = _catering_pes(3)
    if purchaser is None or buyer is None or len(recipients) < 3:
        return 0
    today = clock.today()
    survey = services.create(_sender(purchaser), services.Draft(
        subject="Catering na konferencję dla 60 osób",
        body="Prosimy o ofertę na przerwę kawową i obiad dla 60 uczestników konferencji o ekonomii społecznej. "
             "Potrzebujemy też jednej diety bezglutenowej i pięciu wegetariańskich.",
        quantity="60 osób, 1 dzień", wanted_by=today + timedelta(days=40), delivery_powiat="0463",
        budget=Decimal("6000.00")), [p.id for p in recipients])
    prices = (Decimal("5200.00"), Decimal("4890.00"))
    for thread, net in zip(survey.threads[1:], prices):
        threads.pes_quote(thread, None, threads.QuoteDraft(
            net=net, vat_rate="8", valid_until=today + timedelta(days=21), delivery_date=today + timedelta(days=40),
            delivery_terms="Dowóz i obsługa kelnerska w cenie; płatność przelewem 14 dni."),
            "Dziękujemy za zapytanie, w załączeniu nasza oferta.")
    services.create(_sender(buyer), services.Draft(
        subject="Obiady dla świetlicy od lutego",
        body="Czy możecie dowozić 25 obiadów dziennie do świetlicy środowiskowej w Toruniu od lutego?",
        quantity="25 obiadów dziennie", wanted_by=today + timedelta(days=60), delivery_powiat="0463"),
        [recipients[0].id])
    db.session.commit()
    return 2
