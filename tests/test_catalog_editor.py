"""The offering editor's edges: prices nobody should type, the PES chooser, CPV codes choosing the category,
photo slots, and refusals of the save shown where people look."""
from decimal import Decimal

import pytest
from flask import render_template

from catalog import pricing
from catalog.forms import OfferingForm
from tests.factories import make_pes, make_user
from tests.test_catalog_offerings import (  # noqa: F401
    NEW,
    all_offerings,
    cpv_codes,
    error_of,
    member,
    post_new,
    sign_in,
)

# Prices --------------------------------------------------------------------------------------------------


def test_a_huge_price_is_refused_with_a_message_not_an_error_page(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, price_net="12345678901234567890123456789,123")
    assert resp.status_code == 422
    assert "Cena jest za długa" in error_of(resp.get_data(as_text=True), "price_net")
    assert all_offerings() == []


@pytest.mark.parametrize("typed, code", [
    ("12345678901234567890123456789,123", "too_large"),
    ("1000000,001", "too_large"),
    ("18,505", "too_many_decimals"),
    ("0,001", "too_many_decimals"),
    ("-0,50", "negative"),
    ("0,000", "zero"),
    ("1e5", "not_a_number"),
    ("18,50,1", "not_a_number"),
    (" ", "empty"),
    (None, "empty"),
])
def test_parse_net_names_the_rule_a_price_breaks(app, typed, code):
    with app.test_request_context(), pytest.raises(pricing.PriceError) as caught:
        pricing.parse_net(typed)
    assert caught.value.code == code and str(caught.value)


@pytest.mark.parametrize("typed, value", [("18.500", "18.50"), ("18,5000", "18.50"), ("1\u00a0000 000", "1000000.00"),
                                          ("+7", "7.00"), ("0,01", "0.01")])
def test_parse_net_allows_trailing_zeros_beyond_the_grosze(app, typed, value):
    with app.test_request_context():
        parsed = pricing.parse_net(typed)
    assert parsed == Decimal(value) and parsed.as_tuple().exponent == -2


# Which PES adds the offering ---------------------------------------------------------------------------

def test_someone_in_several_pes_chooses_which_one_adds_the_offering(client, cpv_codes):
    user = make_user()
    first = make_pes(owner=user, name="Spółdzielnia Socjalna Alfa")
    waiting = make_pes(owner=user, name="Fundacja Beta", status="pending")
    sign_in(client, user)
    resp = client.get(NEW)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<h1>Nowa oferta: wybierz podmiot</h1>" in page
    assert f'href="/panel/oferty/nowa?pes={first.id}"' in page
    assert f"?pes={waiting.id}" not in page and "Fundacja Beta – oferty można dodawać po weryfikacji" in page
    assert 'name="title"' in client.get(f"{NEW}?pes={first.id}").get_data(as_text=True)


def test_someone_in_one_pes_goes_straight_to_the_form(client, cpv_codes):
    _user, pes = member(client)
    resp = client.get(NEW)
    assert resp.status_code == 200 and 'name="title"' in resp.get_data(as_text=True)
    assert f"Podmiot: {pes.name}." in resp.get_data(as_text=True)


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "0", "-1", "abc"])
def test_a_pes_number_no_row_can_have_is_not_found(client, cpv_codes, value):
    member(client)
    assert client.get(f"{NEW}?pes={value}").status_code == 404


# CPV codes choose the category -----------------------------------------------------------------------------

def test_cpv_codes_choose_the_category_when_none_is_chosen(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, category="", cpv="55524000-9")
    assert resp.status_code == 302
    [offering] = all_offerings()
    assert offering.category == "catering"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "dobrano na podstawie kodów CPV" in page and '<option selected value="catering">' in page


def test_without_category_and_cpv_codes_the_category_is_still_required(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, category="", cpv="")
    assert resp.status_code == 422 and error_of(resp.get_data(as_text=True), "category")
    assert all_offerings() == []


# Photos -----------------------------------------------------------------------------------------------------

def test_four_photos_can_be_added_in_one_save(client, cpv_codes):
    from tests.test_pes_support import image_bytes, upload

    _user, pes = member(client)
    page = client.get(f"{NEW}?pes={pes.id}").get_data(as_text=True)
    assert 'name="new_images-3-file"' in page and 'name="new_images-4-file"' not in page
    assert "Najwyżej 8 zdjęć" in page and "Naraz możesz dodać 4 zdjęcia" in page
    photos = {}
    for n in range(4):
        photos[f"new_images-{n}-file"] = upload(image_bytes(size=(60 + n, 40)), f"{n}.png")
        photos[f"new_images-{n}-alt"] = f"Zdjęcie numer {n + 1}"
    assert post_new(client, pes, **photos).status_code == 302
    assert [i.alt for i in all_offerings()[0].images] == [f"Zdjęcie numer {n}" for n in range(1, 5)]


def test_a_refusal_about_new_photos_shows_in_the_summary_and_at_the_field(app, cpv_codes):
    """The save itself may refuse photos (another member added some meanwhile): the page says so."""
    pes = make_pes()
    message = "Oferta może mieć najwyżej 8 zdjęć."
    with app.test_request_context("/panel/oferty/nowa", method="POST", data={"title": "Obiady"}):
        form = OfferingForm()
        form.add_refusal("new_images", message)
        html = render_template("catalog/form.html", form=form, pes=pes, offering=None)
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#new_images-0-file">Nowe zdjęcie 1 – Plik zdjęcia (PNG, JPEG lub WebP): {message}</a>' in summary
    assert message in error_of(html, "new_images-0-file")
