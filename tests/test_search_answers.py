"""What the search answers when a query is not what the catalogue says: misspelt words are corrected and their
results shown at once, a query whose words no offering has all together gets the offerings with most of them,
the kind of offering asked for comes first, a CPV code finds the codes below it, a place nobody serves is
named with the places the results do serve, the page sorts by the gross price its cards show, and text that
cannot be searched is refused with a reason (a message on the page, a 400 in the API)."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalog.models import Offering
from marketplace.extensions import db
from tests.factories import make_pes

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def offer(pes, ref, title, kind="service", category="inne", description="", price=None, vat="23", cpv=(),
          tags=(), age=0):
    o = Offering(ref=ref, pes=pes, kind=kind, title=title, description=description, category=category,
                 status="published", vat_rate=vat, price_net=Decimal(price) if price else None,
                 tags=list(tags), published_at=NOW - timedelta(days=age))
    o.cpv = list(cpv)
    db.session.add(o)
    return o


@pytest.fixture
def catalogue(app):
    torun = make_pes(name="Spółdzielnia Socjalna Kujawianka", powiat="0463", service_area=["0463"])
    chelmno = make_pes(name="Fundacja Zielony Warsztat", legal_form="fundacja", powiat="0404",
                       service_area=["0404", "0414"])
    offer(torun, "catering", "Catering dla szkół", category="catering", price="18.50", vat="8",
          cpv=["55524000-9"], description="Obiady dla uczniów z dowozem.")
    offer(torun, "obiady", "Obiady domowe na wynos", category="catering", price="22.00", vat="8",
          description="Zupa i drugie danie codziennie.")
    offer(torun, "swiece-sojowe", "Świece sojowe", kind="product", category="rekodzielo", price="30.00",
          description="Ręcznie lane świece z wosku sojowego.")
    offer(torun, "swiece-woskowe", "Świece z wosku pszczelego", kind="product", category="rekodzielo",
          price="45.00", description="Świece z pasieki spółdzielni.")
    offer(chelmno, "warsztaty", "Warsztaty rękodzieła dla dzieci", category="edukacja", price="300.00",
          vat="zw", description="Na zajęciach robimy świece, mydła i kartki.")
    offer(chelmno, "pranie", "Usługi pralnicze dla pensjonatów", category="pralnia", price="100.00",
          description="Pranie i maglowanie pościeli z odbiorem.")
    offer(chelmno, "worki", "Worki pralnicze", kind="product", category="tekstylia", price="110.00", vat="zw",
          description="Siatkowe worki do pralek.")
    offer(chelmno, "sprzatanie", "Sprzątanie biur", category="sprzatanie", price="90.00",
          cpv=["90911200-8"], description="Sprzątanie biur i klatek schodowych.")
    offer(chelmno, "koszenie", "Koszenie trawników", category="zielen", cpv=["77314000-4"],
          description="Koszenie i grabienie liści.")
    db.session.commit()


def api(client, **params):
    return client.get("/api/v1/search", query_string={"per_page": 100, **params})


def refs(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [item["ref"] for item in resp.get_json()["items"]]


def page(client, **params):
    return client.get("/szukaj", query_string=params)


# Misspelt words ---------------------------------------------------------------------------------------------

def test_a_misspelt_query_is_answered_with_the_corrected_results_in_the_api(client, catalogue):
    resp = api(client, q="kateringg")
    data = resp.get_json()
    assert refs(resp) == ["catering", "obiady"]  # "obiady" through the synonym list, below the word itself
    assert data["query"] == "kateringg" and data["answered_query"] == "catering" and data["corrected"] is True
    assert data["suggestion"] == "catering"


def test_two_letters_wrong_in_several_words_are_all_corrected(client, catalogue):
    data = api(client, q="swiecee sojowwe").get_json()  # an extra letter in each word
    assert data["items"][0]["ref"] == "swiece-sojowe" and data["complete"] == 1
    assert data["corrected"] is True and data["answered_query"] == "świece sojowe"
    data = api(client, q="kataring").get_json()  # two letters wrong in one word
    assert data["answered_query"] == "catering" and data["items"][0]["ref"] == "catering"


def test_the_words_as_typed_can_still_be_searched(client, catalogue):
    data = api(client, q="kateringg", exact="1").get_json()
    assert data["total"] == 0 and data["items"] == []
    assert data["corrected"] is False and data["answered_query"] == "kateringg"
    assert data["suggestion"] == "catering"  # offered, not applied


def test_the_page_shows_the_corrected_results_and_a_link_to_search_as_typed(client, catalogue):
    html = page(client, q="kateringg").get_data(as_text=True)
    assert "Wyniki dla: <strong>catering</strong>" in html
    assert "Catering dla szkół" in html
    assert 'href="/szukaj?q=kateringg&amp;exact=1"' in html
    html = page(client, q="kateringg", exact="1").get_data(as_text=True)
    assert "Nie znaleziono ofert." in html and "Czy chodziło Ci o:" in html


def test_a_correct_word_is_never_corrected_into_another(client, catalogue):
    data = api(client, q="pralnicze").get_json()
    assert data["corrected"] is False and {i["ref"] for i in data["items"]} == {"pranie", "worki"}


# Some of the words --------------------------------------------------------------------------------------------

def test_words_no_offering_has_together_give_those_with_most_of_them_and_say_so(client, catalogue):
    data = api(client, q="świece z filcu").get_json()
    assert data["partial"] is True and data["complete"] == 0
    assert {i["ref"] for i in data["items"][:2]} == {"swiece-sojowe", "swiece-woskowe"}
    html = page(client, q="świece z filcu").get_data(as_text=True)
    assert "Żadna oferta nie ma wszystkich wpisanych słów" in html and "Świece sojowe" in html


def test_offerings_with_all_the_words_come_before_those_with_some(client, catalogue):
    data = api(client, q="świece sojowe filc").get_json()
    assert data["partial"] is True
    assert data["items"][0]["ref"] == "swiece-sojowe"


def test_a_word_that_only_names_a_kind_does_not_make_a_partial_answer(client, catalogue):
    data = api(client, q="usługi ślusarskie").get_json()  # nothing is locksmithing; "usługi" alone is no answer
    assert data["total"] == 0 and data["partial"] is False


def test_a_query_that_finds_enough_is_not_widened(client, catalogue):
    data = api(client, q="świece").get_json()
    assert data["partial"] is False and data["corrected"] is False


# Kind ------------------------------------------------------------------------------------------------------

def test_a_product_query_puts_products_before_services_that_mention_the_word(client, catalogue):
    found = refs(api(client, q="świece"))
    assert found[:2] in (["swiece-sojowe", "swiece-woskowe"], ["swiece-woskowe", "swiece-sojowe"])
    assert found[-1] == "warsztaty"


def test_a_service_query_puts_services_first(client, catalogue):
    assert refs(api(client, q="usługi pralnicze"))[0] == "pranie"
    found = refs(api(client, q="pralnicze"))
    assert set(found) == {"pranie", "worki"}


# CPV -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["90900000-6", "90910000-9", "90911200-8", "90911200"])
def test_a_cpv_code_finds_its_offerings_and_those_below_it(client, catalogue, code):
    assert refs(api(client, q=code)) == ["sprzatanie"]


def test_a_cpv_code_does_not_find_other_branches(client, catalogue):
    assert refs(api(client, q="55524000-9")) == ["catering"]
    assert refs(api(client, q="77300000-3")) == ["koszenie"]


# Places ----------------------------------------------------------------------------------------------------

def test_a_place_nobody_serves_is_named_with_the_nearest_places_served(client, catalogue):
    data = api(client, q="catering bydgoszcz").get_json()
    assert [i["ref"] for i in data["items"]][:1] == ["catering"]
    assert set(data["places"]) == {"0403", "0461"} and data["served_elsewhere"] == ["0463"]
    html = page(client, q="catering bydgoszcz").get_data(as_text=True)
    assert "Żadna ze znalezionych ofert nie obejmuje miejsca, które podano" in html
    assert "powiat bydgoski" in html
    assert 'href="/szukaj?q=catering+bydgoszcz&amp;powiat=0463"' in html


def test_a_place_that_is_served_gets_no_such_note(client, catalogue):
    data = api(client, q="catering toruń").get_json()
    assert data["served_elsewhere"] == [] and "0463" in data["places"]
    assert "nie obejmuje miejsca" not in page(client, q="catering toruń").get_data(as_text=True)


# Prices ----------------------------------------------------------------------------------------------------

def test_the_page_sorts_by_the_gross_price_its_cards_show(client, catalogue):
    # "Worki pralnicze": 110.00 net, VAT exempt = 110.00 gross; "Usługi pralnicze": 100.00 net + 23% = 123.00.
    html = page(client, q="pralnicze", sort="price_asc").get_data(as_text=True)
    assert html.index("Worki pralnicze") < html.index("Usługi pralnicze dla pensjonatów")
    html = page(client, q="pralnicze", sort="price_desc").get_data(as_text=True)
    assert html.index("Usługi pralnicze dla pensjonatów") < html.index("Worki pralnicze")


def test_the_api_sorts_by_the_net_price_as_its_contract_says(client, catalogue):
    assert refs(api(client, q="pralnicze", sort="price_asc")) == ["pranie", "worki"]


def test_price_on_request_is_last_in_both_gross_orders(client, catalogue):
    for sort in ("price_asc", "price_desc"):
        html = page(client, sort=sort).get_data(as_text=True)
        assert html.index("Koszenie trawników") > html.index("Sprzątanie biur")


# Text that cannot be searched -----------------------------------------------------------------------------

BAD = [
    ("a" * 500, "za długie"),
    ("i w dla", "tylko ze słów zbyt pospolitych"),
    ("!!! ??? …", "nie zawiera żadnego słowa"),
    ("90900000-5", "błędną cyfrę kontrolną"),
]


@pytest.mark.parametrize(("q", "says"), BAD)
def test_text_that_cannot_be_searched_gets_a_400_naming_q(client, catalogue, q, says):
    resp = api(client, q=q)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["field"] == "q" and says in error["message"]


@pytest.mark.parametrize(("q", "says"), BAD)
def test_text_that_cannot_be_searched_gets_a_clear_message_on_the_page(client, catalogue, q, says):
    resp = page(client, q=q)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'role="alert"' in html and says in html
    assert 'name="q"' in html  # the box is there to correct the text
    assert "Catering dla szkół" not in html


def test_a_wrong_check_digit_names_the_right_code(client, catalogue):
    message = api(client, q="90900000-5").get_json()["error"]["message"]
    assert "90900000-6" in message


def test_an_unknown_sort_is_refused_by_the_api_and_ignored_with_a_note_by_the_page(client, catalogue):
    resp = api(client, q="świece", sort="cheapest")
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "sort"
    html = page(client, q="świece", sort="cheapest").get_data(as_text=True)
    assert "Nieznany sposób sortowania" in html and "Świece sojowe" in html


# Found in review ------------------------------------------------------------------------------------------

def test_a_hyphenated_query_finds_the_words_written_apart(client, catalogue):
    data = api(client, q="świece-sojowe").get_json()
    assert data["complete"] == 1 and data["items"][0]["ref"] == "swiece-sojowe"  # then the other candles


def test_half_of_three_words_is_two(client, catalogue):
    data = api(client, q="świece sojowe xylofon").get_json()  # only one offering has two of the three
    assert data["partial"] is True and [i["ref"] for i in data["items"]] == ["swiece-sojowe"]


def test_searching_as_typed_once_does_not_stick_to_the_next_query(client, catalogue):
    html = page(client, q="kateringg", exact="1").get_data(as_text=True)
    box_form = html.split('class="search-form"')[1].split("</form>")[0]
    assert 'name="exact"' not in box_form
    assert 'name="exact"' in html  # the filters keep it: they refine the same search


def test_a_filter_removed_counts_what_the_corrected_query_finds(client, catalogue):
    html = page(client, q="kateringg", category="pralnia").get_data(as_text=True)
    assert "Nie znaleziono ofert." in html
    assert "bez tego filtra: 2" in html  # catering and obiady, as the link shows


def test_a_query_of_nothing_but_a_place_nobody_serves_names_the_places_served(client, catalogue):
    data = api(client, q="brodnica").get_json()
    assert data["total"] == 0 and data["places"] == ["0402"]
    assert data["served_elsewhere"][:1] == ["0463"]  # Toruń is nearer to Brodnica than Chełmno or Świecie
    assert set(data["served_elsewhere"]) == {"0463", "0404", "0414"}
