"""Favourites: saving PES and offerings from their pages, the list page, its inquiry form and the limit."""
import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.models import Offering
from marketplace.extensions import db
from marketplace.favourites import services
from marketplace.favourites.models import Favourite
from tests.conftest import csrf_token
from tests.factories import make_pes, make_user
from tests.test_mark_helpers import make_offering
from tests.test_pes_support import sign_in


def saved(user) -> list[Favourite]:
    db.session.expire_all()
    return db.session.scalars(select(Favourite).where(Favourite.user_id == user.id)).all()


def page_of(offering) -> str:
    return f"/oferta/{offering.id}"


def toggle_form(html: str) -> tuple[str, str]:
    """The favourite form's action and the text of its button."""
    m = re.search(r'<form method="post" class="favourite-toggle" action="([^"]+)">.*?<button[^>]*>([^<]+)</button>',
                  html, re.DOTALL)
    assert m, "no favourite button"
    return m.group(1), m.group(2).strip()


def press(client, path: str, next_path: str, follow: bool = False):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), "next": next_path},
                       follow_redirects=follow)


@pytest.fixture
def buyer(client):
    user = make_user("kupujacy@example.org")
    sign_in(client, user)
    return user


def test_a_buyer_saves_an_offering_and_removes_it_again(client, buyer):
    offering = make_offering(make_pes(name="Spółdzielnia Smaki"), title="Obiady dla szkół")
    db.session.commit()
    html = client.get(page_of(offering), follow_redirects=True).get_data(as_text=True)
    action, label = toggle_form(html)
    assert (action, label) == (f"/ulubione/oferta/{offering.id}/dodaj", "Dodaj do ulubionych")

    resp = press(client, action, page_of(offering))
    assert resp.status_code == 302 and resp.headers["Location"] == page_of(offering)
    html = client.get(page_of(offering), follow_redirects=True).get_data(as_text=True)
    assert "Dodano „Obiady dla szkół” do ulubionych." in html
    assert [f.offering_id for f in saved(buyer)] == [offering.id]
    action, label = toggle_form(html)
    assert (action, label) == (f"/ulubione/oferta/{offering.id}/usun", "Usuń z ulubionych")
    assert "aria-pressed" not in html

    html = press(client, action, page_of(offering), follow=True).get_data(as_text=True)
    assert "Usunięto „Obiady dla szkół” z ulubionych." in html
    assert toggle_form(html)[1] == "Dodaj do ulubionych" and saved(buyer) == []


def test_a_pes_is_saved_from_its_profile_once(client, buyer):
    pes = make_pes(name="Spółdzielnia Przystań")
    db.session.commit()
    profile = f"/pes/{pes.id}"
    action, label = toggle_form(client.get(profile).get_data(as_text=True))
    assert (action, label) == (f"/ulubione/pes/{pes.id}/dodaj", "Dodaj do ulubionych")
    press(client, action, profile)
    html = press(client, action, profile, follow=True).get_data(as_text=True)
    assert "„Spółdzielnia Przystań” jest już w ulubionych." in html
    assert [f.pes_id for f in saved(buyer)] == [pes.id]
    assert toggle_form(html)[1] == "Usuń z ulubionych"


def test_a_post_without_the_csrf_token_is_refused(client, buyer):
    pes = make_pes()
    db.session.commit()
    assert client.post(f"/ulubione/pes/{pes.id}/dodaj").status_code == 400
    assert saved(buyer) == []


def test_what_is_not_public_cannot_be_saved(client, buyer):
    pending = make_pes(status="pending")
    draft = make_offering(make_pes(), status="draft")
    db.session.commit()
    for path in (f"/ulubione/pes/{pending.id}/dodaj", f"/ulubione/oferta/{draft.id}/dodaj",
                 "/ulubione/pes/999999/dodaj", "/ulubione/oferta/999999/dodaj"):
        assert press(client, path, "/ulubione").status_code == 404, path
    # Removing what was never saved and is not public says nothing about it either.
    assert press(client, f"/ulubione/pes/{pending.id}/usun", "/ulubione").status_code == 404
    assert client.get("/ulubione/inne/1/dodaj").status_code in (404, 405)
    assert saved(buyer) == []


def test_guests_get_a_link_to_log_in_and_back(client):
    offering = make_offering(make_pes())
    db.session.commit()
    resp = client.get(page_of(offering), follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert f'href="/konto/logowanie?next={resp.request.path}"' in html
    assert "Zaloguj się, aby dodać do ulubionych" in html and "Dodaj do ulubionych<" not in html
    resp = client.post(f"/ulubione/oferta/{offering.id}/dodaj",
                       data={"csrf_token": csrf_token(client, "/konto/logowanie")})
    assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"]
    assert client.get("/ulubione").status_code == 302


def test_the_way_back_stays_within_the_portal(client, buyer):
    pes = make_pes()
    db.session.commit()
    resp = press(client, f"/ulubione/pes/{pes.id}/dodaj", "https://example.com/")
    assert resp.headers["Location"] == f"/pes/{pes.id}"


def test_the_list_links_what_is_public_and_marks_the_rest_unavailable(client, buyer):
    open_pes = make_pes(name="Spółdzielnia Otwarta", ref="pes-otwarta")
    seller = make_pes(name="Spółdzielnia Smaki", ref="pes-smaki")
    closed_pes = make_pes(name="Spółdzielnia Zawieszona", ref="pes-zawieszona")
    lunch = make_offering(seller, title="Obiady dla szkół")
    old = make_offering(seller, title="Stara oferta")
    for target in ({"pes": open_pes}, {"pes": closed_pes}, {"offering": lunch}, {"offering": old},
                   {"pes": seller}):
        services.add(buyer, **target)
    closed_pes.status, old.status = "suspended", "archived"
    db.session.commit()

    html = client.get("/ulubione").get_data(as_text=True)
    assert f'href="/pes/{open_pes.id}">Spółdzielnia Otwarta</a>' in html
    assert f'href="/oferta/{lunch.id}-' in html
    assert html.count("niedostępne") == 2
    assert f'href="/pes/{closed_pes.id}"' not in html and f'href="/oferta/{old.id}-' not in html
    # The inquiry form: a GET form to the inquiry page, each public PES once (the seller of a saved offering too).
    form = re.search(r'<form method="get" action="([^"]+)">(.*?)</form>', html, re.DOTALL)
    assert form.group(1) == "/zapytania/nowe"
    refs = re.findall(r'<input[^>]*name="pes"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="pes"',
                      form.group(2))
    assert sorted(a or b for a, b in refs) == ["pes-otwarta", "pes-smaki"]
    assert "Wyślij zapytanie do zaznaczonych PES" in form.group(2)

    # An unavailable one is removed from the list with its own button.
    html = press(client, f"/ulubione/oferta/{old.id}/usun", "/ulubione", follow=True).get_data(as_text=True)
    assert "Usunięto „Stara oferta” z ulubionych." in html and "niedostępne" in html
    assert old.id not in {f.offering_id for f in saved(buyer)}


def test_an_empty_list_says_how_to_fill_it(client, buyer):
    html = client.get("/ulubione").get_data(as_text=True)
    assert "Nie masz jeszcze ulubionych" in html and 'method="get"' not in html.split("<main")[1]


def test_no_more_than_the_limit(client, buyer):
    pes = make_pes()
    offerings = [Offering(ref=f"off-limit-{n}", pes_id=pes.id, kind="product", title=f"Produkt {n}",
                          category="catering", status="published") for n in range(services.LIMIT)]
    db.session.add_all(offerings)
    db.session.flush()
    db.session.add_all([Favourite(user_id=buyer.id, offering_id=o.id) for o in offerings])
    db.session.commit()
    html = press(client, f"/ulubione/pes/{pes.id}/dodaj", f"/pes/{pes.id}", follow=True).get_data(as_text=True)
    assert "Możesz mieć najwyżej 200 ulubionych" in html
    assert len(saved(buyer)) == services.LIMIT


def test_the_table_keeps_one_target_per_row_and_one_row_per_target(app):
    user, pes = make_user(), make_pes()
    offering = make_offering(pes)
    db.session.commit()
    for bad in ({}, {"pes_id": pes.id, "offering_id": offering.id}):
        db.session.add(Favourite(user_id=user.id, **bad))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    db.session.add_all([Favourite(user_id=user.id, pes_id=pes.id), Favourite(user_id=user.id, offering_id=offering.id)])
    db.session.commit()
    db.session.add(Favourite(user_id=user.id, pes_id=pes.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(Offering, offering.id))
    db.session.commit()
    assert [f.pes_id for f in saved(user)] == [pes.id]  # the offering's row went with it
