"""The consumer-law pages (the right of withdrawal with its model form, the platform's information) and what an
offering's page says about the seller, its stock and a missing right of withdrawal."""
import io
import re
from itertools import pairwise

import pytest
from pypdf import PdfReader

from marketplace.api.params import SORTS
from marketplace.extensions import db
from tests.factories import make_pes
from tests.order_factories import product, selling_pes

WITHDRAWAL = "/odstapienie-od-umowy"
PLATFORM = "/informacje-o-platformie"
PDF = "/odstapienie-od-umowy/formularz.pdf"
TRADER = "Sprzedawca: przedsiębiorca"
NOT_TRADER = "Sprzedawca nie jest przedsiębiorcą – przepisy o prawach konsumenta nie mają zastosowania do tej umowy"


def headings(html: str) -> list[int]:
    return [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]


def offering_page(client, offering) -> str:
    db.session.commit()
    resp = client.get(f"/oferta/{offering.id}", follow_redirects=True)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


# The pages ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["pl", "en"])
def test_both_pages_open_in_polish_and_english_with_one_h1_and_headings_in_order(client, lang):
    if lang == "en":
        client.get("/jezyk/en")
    for path in (WITHDRAWAL, PLATFORM):
        resp = client.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and f'<html lang="{lang}">' in html, path
        levels = headings(html)
        assert levels.count(1) == 1 and all(b - a <= 1 for a, b in pairwise(levels)), path
        assert f'href="{path}"' in html  # the footer leads to both pages


def test_the_withdrawal_page_states_the_rules_and_who_the_seller_is(client):
    html = client.get(WITHDRAWAL).get_data(as_text=True)
    for fact in ("w ciągu 14 dni bez podawania przyczyny", "objęła rzecz w posiadanie", "od dnia zawarcia umowy",
                 "w ciągu 14 dni od otrzymania oświadczenia", "w ciągu 14 dni od dnia odstąpienia od umowy",
                 "art. 38a", "jednoosobową działalność gospodarczą",
                 "wykonane według Twojej specyfikacji", "szybko się psują",
                 "usługi w pełni wykonane za Twoją wyraźną zgodą", "Sprzedawcą jest PES, nie portal",
                 "oświadczenie o odstąpieniu od umowy składasz sprzedawcy (PES)"):
        assert fact in html, fact
    assert 'href="/zamowienia"' in html and "Moich zamówień" in html
    assert f'href="{PDF}"' in html
    form = html.split('id="formularz"', 1)[1]
    assert "Wzór formularza odstąpienia od umowy" in form and "(*) Niepotrzebne skreślić." in form
    assert "Imię i nazwisko konsumenta(-ów)" in form and "Adres konsumenta(-ów)" in form


def test_the_model_form_downloads_as_a_pdf_with_polish_letters(client):
    resp = client.get(PDF)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    assert "Wzór formularza odstąpienia od umowy" in text
    assert "Załącznik nr 2 do ustawy z dnia 30 maja 2014 r. o prawach konsumenta" in text
    assert "Podpis konsumenta(-ów)" in text and "Niepotrzebne skreślić" in text


def test_the_platform_page_describes_the_ranking_the_sellers_and_the_duties(client):
    html = client.get(PLATFORM).get_data(as_text=True)
    for fact in ("Nikt nie płaci za miejsce na liście", "Najwięcej waży słowo w tytule oferty",
                 "wyżej są oferty podmiotów działających w tym miejscu", "od najnowszych",
                 "według ceny brutto", "Oferty z ceną do uzgodnienia są wtedy zawsze na końcu",
                 "Filtry zawężają wyniki, nie zmieniają ich kolejności",
                 "oświadcza, czy sprzedaje jako przedsiębiorca",
                 "stosuje się tylko do umów konsumenta z przedsiębiorcą",
                 "rozpatruje reklamacje", "wystawia faktury", "Stripe", "na własne konto sprzedawcy",
                 "Portal nie publikuje opinii ani ocen", "Regionalny Ośrodek Polityki Społecznej w Toruniu"):
        assert fact in html, fact
    assert 'href="/kontakt"' in html
    # The page describes these sort orders and no other: it must change when the search does.
    assert SORTS == ("relevance", "newest", "price_asc", "price_desc")


# The offering page --------------------------------------------------------------------------------------------

def test_a_selling_pes_shows_whether_it_is_a_trader(client):
    trader, _owner = selling_pes(name="Spółdzielnia Socjalna Pasieka")
    html = offering_page(client, product(trader))
    assert TRADER in html and NOT_TRADER not in html and f'href="{PLATFORM}#sprzedawcy"' in html
    association, _owner = selling_pes(name="Stowarzyszenie Sąsiedzi", is_trader=False, nip="7251801126")
    html = offering_page(client, product(association, title="Dżem truskawkowy"))
    assert NOT_TRADER in html and TRADER not in html


def test_a_pes_that_takes_no_orders_shows_no_sales_terms(client):
    pes = make_pes()
    html = offering_page(client, product(pes, withdrawal_exception="perishable"))
    for text in (TRADER, "Sprzedawca nie jest przedsiębiorcą", "Dostępne:", "Brak w magazynie",
                 "nie przysługuje prawo odstąpienia"):
        assert text not in html, text


def test_stock_is_shown_for_products_of_a_selling_pes(client):
    pes, _owner = selling_pes()
    assert "Dostępne: 10 szt." in offering_page(client, product(pes, stock=10))
    assert "Brak w magazynie" in offering_page(client, product(pes, title="Miód lipowy", stock=0))
    html = offering_page(client, product(pes, title="Miód spadziowy", stock=None))
    assert "Dostępne:" not in html and "Brak w magazynie" not in html


@pytest.mark.parametrize("exception, reason", [("made_to_order", "według wskazań kupującego"),
                                               ("perishable", "szybko się psuje")])
def test_an_offering_without_the_right_of_withdrawal_says_so_and_links_to_the_rules(client, exception, reason):
    pes, _owner = selling_pes()
    html = offering_page(client, product(pes, withdrawal_exception=exception))
    assert "Konsumentowi nie przysługuje prawo odstąpienia od tej umowy" in html and reason in html
    assert f'href="{WITHDRAWAL}#wyjatki"' in html
    assert "nie przysługuje prawo odstąpienia" not in offering_page(client, product(pes, title="Miód rzepakowy"))
