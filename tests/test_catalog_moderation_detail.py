"""The moderator's page of one offering shows what the public sees: the price in the same words, the VAT rate
with the editor's label, and the photos (with their alt text), so that reports about them can be judged."""
from decimal import Decimal

from marketplace.extensions import db
from tests.factories import make_pes, make_user
from tests.test_catalog_images import _offering_with_photos, _url
from tests.test_catalog_moderation import BASE, make_offering, sign_in


def _detail(client, offering) -> str:
    resp = client.get(f"{BASE}/{offering.id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_price_and_vat_are_shown_as_on_the_public_page(app, client):
    pes = make_pes()
    priced = make_offering(pes, "Obiady", price_net=Decimal("18.50"), vat_rate="8", unit="porcja")
    exempt = make_offering(pes, "Korepetycje", price_net=Decimal("1234.5"), vat_rate="zw")
    on_request = make_offering(pes, "Catering weselny", price_net=None, vat_rate="23")
    moderator = make_user(role="moderator")
    db.session.commit()
    sign_in(client, moderator)
    html = _detail(client, priced)
    assert "<dd>18,50 zł netto + 8% VAT = 19,98 zł brutto</dd>" in html and "<dd>porcja</dd>" in html
    assert "<dd>8%</dd>" in html
    html = _detail(client, exempt)
    assert "1\u00a0234,50 zł netto, zwolnione z VAT (zw.)" in html and "<dd>zw. (zwolnione z VAT)</dd>" in html
    html = _detail(client, on_request)
    assert "<dd>cena do uzgodnienia</dd>" in html and "cena na zapytanie" not in html


def test_photos_are_shown_with_their_alt_text_even_of_a_draft(app, client):
    offering = _offering_with_photos(app, make_pes(), 2)  # a draft: its photos are not public
    moderator = make_user(role="moderator")
    db.session.commit()
    sign_in(client, moderator)
    html = _detail(client, offering)
    assert "Zdjęcia (2)" in html
    for image in offering.images:
        assert f'<img src="{_url(image.thumb_path)}" alt="{image.alt}"' in html
        assert f'href="{_url(image.path)}"' in html and f"Tekst alternatywny: {image.alt}" in html
        with client.get(_url(image.thumb_path)) as served:
            assert served.status_code == 200
    assert "Oferta nie ma zdjęć." in _detail(client, make_offering(offering.pes, "Bez zdjęć"))
