"""Builders and form posts shared by the inquiry tests."""
import re
from datetime import timedelta
from decimal import Decimal

from catalog.models import Offering
from marketplace import clock
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import login, make_pes, make_user


def make_offering(pes, title: str = "Obiady dla szkół", ref: str | None = None, **fields) -> Offering:
    values = {"kind": "service", "description": "Dwudaniowe obiady z dowozem.", "category": "catering",
              "price_net": Decimal("18.50"), "vat_rate": "8", "unit": "porcja", "tags": ["obiady"]}
    values.update(fields)
    item = Offering(ref=ref or f"of-{pes.ref}-{len(title)}", pes=pes, title=title, status="published",
                    published_at=clock.now(), **values)
    db.session.add(item)
    db.session.flush()
    return item


def pes_with_owner(name: str, email: str | None = None, **fields):
    owner = make_user(email=email, name=f"Właściciel {name}")
    pes = make_pes(owner=owner, name=name, **fields)
    return pes, owner


def signed_in(client, user):
    response = login(client, user.email)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return user


def inquiry_form(client, query: str, **overrides) -> dict:
    """The fields a person fills in, with the page's CSRF token."""
    data = {"csrf_token": csrf_token(client, "/zapytania/nowe?" + query), "subject": "Catering dla 120 uczniów",
            "body": "Czy możecie dostarczać obiady dla 120 uczniów od marca?", "quantity": "120 porcji dziennie",
            "wanted_by": (clock.today() + timedelta(days=30)).isoformat(), "delivery_powiat": "0463",
            "budget": "12 000", "consent": "y", "website": ""}
    data.update(overrides)
    return data


def link_in(body: str, path_part: str) -> str:
    """The first link in a mail body whose path contains path_part, as a path for the test client."""
    match = re.search(r"https?://[^/\s]+(\S*?" + re.escape(path_part) + r"\S*)", body)
    assert match, f"no link with {path_part} in: {body}"
    return match.group(1)
