"""Demo data of orders: a few demo PES take orders on the portal (bank transfer and pickup; online payment
too once Stripe keys are set and a PES connects its account), and their priced products have stock."""
from sqlalchemy import select

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.orders.models import PesSales
from marketplace.pes.models import Pes

# The demo PES whose owner has a demo login, and PES with several priced products.
SELLERS = ("pes-demo-001", "pes-demo-015", "pes-demo-016", "pes-demo-031", "pes-demo-023")
DEMO_ACCOUNT = "PL61109010140000071219812874"  # a well-formed example account number, not a real one


def seed() -> int:
    """Sales settings for the demo sellers and stock for their priced products; returns the sellers' count."""
    sellers = db.session.scalars(select(Pes).where(Pes.ref.in_(SELLERS), Pes.nip.is_not(None))).all()
    for pes in sellers:
        address = ", ".join(p for p in (pes.street, f"{pes.postal_code or ''} {pes.city or ''}".strip()) if p)
        db.session.add(PesSales(pes_id=pes.id, enabled=True, accepts_transfer=True, bank_account=DEMO_ACCOUNT,
                                payment_term_days=14, pickup=True, pickup_address=address or pes.city,
                                delivery=pes.legal_form != "kgw", delivery_net=15,
                                vat_exempt=pes.legal_form in ("fundacja", "stowarzyszenie", "kgw")))
        products = db.session.scalars(select(Offering).where(
            Offering.pes_id == pes.id, Offering.kind == "product", Offering.price_net.is_not(None))
            .order_by(Offering.id)).all()
        for n, item in enumerate(products):
            item.stock = (5, 12, 0, 30)[n % 4]  # one of them sold out, to show how that looks
    db.session.commit()
    return len(sellers)
