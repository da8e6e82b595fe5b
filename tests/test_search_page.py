"""The search page (/szukaj) as a visitor meets it, on the project's test catalogue (tests/fixtures): results as cards, text in Polish
without diacritics, facets as checkboxes with counts, filters combined and removed, pages, sorting, the
"did you mean" link, help when nothing is found, bad parameters, the index out of service, the suggestions
of the search box, and user content that must stay text."""
import html
import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from catalog.models import Offering
from marketplace.extensions import db
from search import service
from search.index import IndexUnavailable
from tests.factories import make_pes
from tests.test_search_service import sample  # noqa: F401 (fixture)

_seq = itertools.count(1)

def page(client, query_string=None, status=200) -> str:
    resp = client.get("/szukaj", query_string=query_string)
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    return resp.get_data(as_text=True)


def titles(body: str) -> list[str]:
    """The result cards' titles, in order."""
    return [html.unescape(t) for t in re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]*)</a>', body)]


def count(body: str) -> str:
    return re.search(r'role="status" data-search-count>([^<]*)<', body).group(1)


def checkbox(body: str, name: str, value: str) -> tuple[bool, str] | None:
    """(checked, label text) of a facet's checkbox, or None when the page does not offer it."""
    box = re.search(rf'<input type="checkbox" id="f-{name}-{value}"[^>]*>\s*<label[^>]*>(.*?)</label>', body,
                    re.DOTALL)
    if not box:
        return None
    return "checked" in box.group(0).split(">")[0], re.sub(r"<[^>]+>", "", box.group(1)).strip()


def removal_links(body: str) -> dict[str, str]:
    """The active filters' labels and the links that remove them."""
    block = re.search(r'<div class="active-filters">(.*?)</div>', body, re.DOTALL)
    links = re.findall(r'<a href="([^"]+)"><span class="visually-hidden">Usuń filtr: </span>([^<]*) <span',
                       block.group(1) if block else "")
    return {html.unescape(label): html.unescape(href) for href, label in links}


def parse_params(**values):
    """The engine's parameters for a search the page would make."""
    from werkzeug.datastructures import MultiDict

    from catalog.search_params import parse

    state, notes, _problem = parse(MultiDict(values))
    assert not notes
    return state.params()


def make_offering(pes, title: str, **fields) -> Offering:
    fields = {"kind": "product", "category": "zywnosc", "status": "published", "vat_rate": "5",
              "description": "Wyrób domowy.", "published_at": datetime.now(UTC), **fields}
    offering = Offering(ref=f"off-p{next(_seq)}", pes=pes, title=title, **fields)
    db.session.add(offering)
    db.session.flush()
    return offering


# Results -------------------------------------------------------------------------------------------------

def test_a_query_shows_its_results_as_cards(client, sample):
    body = page(client, {"q": "pierogi"})
    assert set(titles(body)) == {"Pierogi z kapustą i grzybami", "Warsztaty pieczenia dla dzieci"}
    assert count(body) == "Znalezione oferty: 2."
    assert "<h1>Wyniki wyszukiwania: „pierogi”</h1>" in body
    assert "<title>„pierogi” – wyniki wyszukiwania – " in body
    assert '<meta name="robots" content="noindex">' in body
    pierogi = db.session.query(Offering).filter_by(ref="of-03").one()
    assert f'href="/oferta/{pierogi.id}-pierogi-z-kapusta-i-grzybami"' in body
    assert "Spółdzielnia Socjalna Dobry Kęs" in body  # the PES
    assert "<mark>" in body  # the query's words in the passage of the description
    assert "brutto" in body


def test_price_on_request_and_the_quality_mark_badge(client, sample):
    body = page(client, {"q": "drukowanie zaproszeń"})
    assert titles(body)[0] == "Drukowanie zaproszeń i wizytówek"
    assert "cena do uzgodnienia" in body
    assert "mark-badge" in body  # of-22 has a mark valid today
    expired = page(client, {"q": "anioły"})
    assert titles(expired) == ["Gliniane anioły malowane"] and "mark-badge" not in expired


def test_a_query_without_diacritics_finds_words_with_them(client, sample):
    found = titles(page(client, {"q": "sprzatanie"}))
    assert {"Sprzątanie biur i hal magazynowych", "Sprzątanie po budowie i remoncie"} <= set(found)
    assert "Sprzątanie klatek schodowych" not in found  # its PES is not verified


def test_no_query_and_no_filters_show_every_offering_newest_first(client, sample):
    body = page(client)
    assert count(body) == f"Znalezione oferty: {len(sample)}."
    assert "<h1>Wyszukiwarka ofert</h1>" in body and 'name="robots"' not in body
    assert '<option value="relevance"' not in body  # nothing to be relevant to
    assert re.search(r'<option value="newest" selected>', body)
    newest = make_offering(make_pes(name="Piekarnia Społeczna"), "Chleb na zakwasie")
    db.session.commit()
    assert titles(page(client))[0] == newest.title


# Facets -----------------------------------------------------------------------------------------------

def test_facets_list_values_with_counts_and_keep_the_chosen_ones_ticked(client, sample):
    body = page(client, {"category": "sprzatanie"})
    assert checkbox(body, "category", "sprzatanie") == (True, "Sprzątanie i utrzymanie czystości (3)")
    assert checkbox(body, "category", "catering") == (False, "Catering i gastronomia (3)")  # if added
    assert checkbox(body, "kind", "service") == (False, "usługa (3)")
    assert checkbox(body, "kind", "product") is None  # no product among the results
    assert checkbox(body, "powiat", "0407") == (False, "powiat inowrocławski (2)")
    assert checkbox(body, "legal_form", "cis") == (False, "Centrum Integracji Społecznej (CIS) (2)")
    assert checkbox(body, "quality_mark", "1") == (False, "ze Znakiem Jakości (1)")
    assert checkbox(body, "reserved_eligible", "1") == (False, "kwalifikuje się do zamówień zastrzeżonych")
    assert "Zastosuj filtry" in body


def test_a_chosen_value_stays_ticked_even_with_no_results(client, sample):
    body = page(client, {"q": "pierogi", "powiat": "0418"})
    assert count(body) == "Nie znaleziono ofert."
    assert checkbox(body, "powiat", "0418") == (True, "powiat włocławski (0)")


def test_two_facets_combine_and_each_can_be_removed(client, sample):
    body = page(client, {"category": "sprzatanie", "powiat": "0407"})
    assert set(titles(body)) == {"Sprzątanie biur i hal magazynowych", "Mycie okien i przeszkleń"}
    assert count(body) == "Znalezione oferty: 2."
    links = removal_links(body)
    assert links == {"Kategoria: Sprzątanie i utrzymanie czystości": "/szukaj?powiat=0407",
                     "Powiat: powiat inowrocławski": "/szukaj?category=sprzatanie"}
    assert count(page(client, links["Powiat: powiat inowrocławski"].split("?")[1])) == "Znalezione oferty: 3."
    both_ticked = page(client, {"category": ["sprzatanie", "pralnia"]})  # OR within a facet
    assert count(both_ticked) == "Znalezione oferty: 4."
    assert "Usuń wszystkie filtry" in both_ticked


def test_the_flags_filter_and_show_as_active(client, sample):
    body = page(client, {"quality_mark": "1", "reserved_eligible": "1"})
    # Marks valid today whose PES is eligible (of-22's PES employs 20%, of-19's WTZ has no integration mission).
    assert set(titles(body)) == {"Obiady dla przedszkoli i żłobków", "Sprzątanie biur i hal magazynowych",
                                 "Fartuchy kuchenne z haftem", "Serwety haftowane ręcznie"}
    assert checkbox(body, "quality_mark", "1")[0] and checkbox(body, "reserved_eligible", "1")[0]
    assert removal_links(body) == {"ze Znakiem Jakości": "/szukaj?reserved_eligible=1",
                                   "kwalifikuje się do zamówień zastrzeżonych": "/szukaj?quality_mark=1"}


def test_forms_carry_the_rest_of_the_state(client, sample):
    body = page(client, {"q": "sprzątanie", "category": "sprzatanie", "sort": "newest"})
    query_form = re.search(r'<form class="search-form".*?</form>', body, re.DOTALL).group(0)
    assert '<input type="hidden" name="category" value="sprzatanie">' in query_form
    assert '<input type="hidden" name="sort" value="newest">' in query_form
    facets_form = re.search(r"<form [^>]*data-autosubmit>.*?</form>", body, re.DOTALL).group(0)
    assert '<input type="hidden" name="q" value="sprzątanie">' in facets_form
    assert 'type="hidden" name="category"' not in facets_form  # the checkboxes say it


# Pages and order ----------------------------------------------------------------------------------------

def test_results_come_a_page_at_a_time_with_the_filters_kept(client, sample):
    pes = make_pes(name="Piekarnia Społeczna", service_area=["0463"])
    for n in range(30):
        make_offering(pes, f"Chleb żytni numer {n}", published_at=datetime.now(UTC) - timedelta(minutes=n))
    db.session.commit()
    first = page(client, {"q": "chleb", "category": "zywnosc"})
    assert count(first) == "Znalezione oferty: 30." and len(titles(first)) == 24
    assert 'href="/szukaj?page=2&amp;q=chleb&amp;category=zywnosc"' in first
    assert '<span aria-current="page">Strona 1</span>' in first
    second = page(client, {"q": "chleb", "category": "zywnosc", "page": "2"})
    assert len(titles(second)) == 6 and not set(titles(first)) & set(titles(second))
    assert "<title>„chleb” – wyniki wyszukiwania – znalezione oferty: 30 – strona 2 – " in second
    past = page(client, {"q": "chleb", "page": "9"})
    assert titles(past) == [] and "Na tej stronie nie ma już wyników." in past


def test_sorting_by_price(client, sample):
    cheap = titles(page(client, {"category": "sprzatanie", "sort": "price_asc"}))
    assert cheap == ["Sprzątanie biur i hal magazynowych", "Sprzątanie po budowie i remoncie",
                     "Mycie okien i przeszkleń"]
    dear = page(client, {"category": "sprzatanie", "sort": "price_desc"})
    assert titles(dear) == ["Sprzątanie po budowie i remoncie", "Sprzątanie biur i hal magazynowych",
                            "Mycie okien i przeszkleń"]  # price on request last in both orders
    assert '<option value="price_desc" selected>' in dear
    assert re.search(r'<option value="relevance" selected>', page(client, {"q": "sprzątanie"}))


# When nothing is found -----------------------------------------------------------------------------------

def test_a_misspelt_query_shows_the_corrected_results_and_the_words_as_typed_the_suggestion(client, sample):
    body = page(client, {"q": "piergoi"})
    assert "Wyniki dla: <strong>pierogi</strong>" in body
    assert "Pierogi z kapustą i grzybami" in titles(body)
    as_typed = page(client, {"q": "piergoi", "exact": "1"})
    assert count(as_typed) == "Nie znaleziono ofert."
    assert 'Czy chodziło Ci o: <a href="/szukaj?q=pierogi">pierogi</a>?' in as_typed


def test_no_results_offer_each_filter_removed_with_its_count_and_related_categories(client, sample):
    body = page(client, {"q": "sprzątanie", "legal_form": "kgw", "kind": "service"})
    assert count(body) == "Nie znaleziono ofert."
    without_form = service.search(parse_params(q="sprzątanie", kind="service")).total
    assert without_form > 0
    assert re.search(r"Forma prawna: koło gospodyń wiejskich <span aria-hidden=\"true\">×</span></a> "
                     rf"<span class=\"count\">\(bez tego filtra: {without_form}\)</span>", body)
    assert "Rodzaj: usługa" in body and "bez tego filtra: 0" in body
    assert 'href="/szukaj?q=sprz%C4%85tanie"' in body  # the query in all offerings
    assert "Kategorie, które mogą Cię zainteresować" in body
    assert '<a href="/kategoria/sprzatanie">Sprzątanie i utrzymanie czystości</a>' in body


def test_no_results_for_an_unknown_word_point_to_the_largest_categories(client, sample):
    body = page(client, {"q": "hulajnoga"})
    assert count(body) == "Nie znaleziono ofert." and "Czy chodziło Ci o" not in body
    assert "Kategorie z największą liczbą ofert" in body
    assert ('<a href="/kategoria/sprzatanie">Sprzątanie i utrzymanie czystości</a> '
            '<span class="count">(oferty: 3)') in body


# Bad input ---------------------------------------------------------------------------------------------

def test_bad_parameters_are_ignored_and_named(client, sample):
    body = page(client, {"category": ["catering", "nie-ma-takiej"], "powiat": "9999", "sort": "najtaniej",
                         "page": "pierwsza", "quality_mark": "może", "kind": "usluga", "per_page": "1000"})
    assert count(body) == "Znalezione oferty: 3."  # catering alone
    for note in ("Pominięto nieznane wartości filtra „Kategoria”: „nie-ma-takiej”.",
                 "Pominięto nieznane wartości filtra „Powiat”: „9999”.",
                 "Pominięto nieznane wartości filtra „Rodzaj”: „usluga”.",
                 "Pominięto niezrozumiałą wartość pola „ze Znakiem Jakości”: „może”.",
                 "Nieznany sposób sortowania „najtaniej”: wyniki są w domyślnej kolejności.",
                 "Numer strony „pierwsza” jest nieprawidłowy: pokazano pierwszą stronę."):
        assert note in body
    assert checkbox(body, "category", "catering")[0]
    assert "nie-ma-takiej" not in removal_links(body)


def test_an_ignored_value_is_shown_as_text(client, sample):
    body = page(client, {"category": '<script>alert("x")</script>'})
    assert "<script>alert" not in body and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


def test_a_huge_page_number_and_a_long_query_do_not_fail(client, sample):
    assert "Na tej stronie nie ma już wyników." in page(client, {"page": "9" * 40})
    long = page(client, {"q": "sprzątanie " * 100}, status=400)
    assert "Zapytanie jest za długie" in long  # said, not silently cut
    assert len(re.search(r'id="search-q" name="q" value="([^"]*)"', long).group(1)) <= 200


# The index out of service ---------------------------------------------------------------------------------

def test_an_unusable_index_gets_a_polish_503_page(client, sample, monkeypatch):
    def broken(*args, **kwargs):
        raise IndexUnavailable("index missing")

    monkeypatch.setattr(service, "search", broken)
    monkeypatch.setattr(service, "suggest", broken)
    resp = client.get("/szukaj", query_string={"q": "pierogi"})
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    body = resp.get_data(as_text=True)
    assert "Wyszukiwarka jest chwilowo niedostępna" in body
    assert 'href="/oferty"' in body and "Spróbuj ponownie wyszukać „pierogi”" in body
    resp = client.get("/szukaj/podpowiedzi", query_string={"q": "pie"})
    assert resp.status_code == 503 and resp.get_json() == []


# Search as you type ---------------------------------------------------------------------------------------

def test_suggestions_for_the_search_box(client, sample):
    resp = client.get("/szukaj/podpowiedzi", query_string={"q": "pie"})
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert set(resp.get_json()[:2]) == {"Pierogi z kapustą i grzybami", "Pielęgnacja ogrodów przydomowych"}
    assert "Access-Control-Allow-Origin" not in resp.headers  # for the portal's own pages
    assert client.get("/szukaj/podpowiedzi", query_string={"q": "  "}).get_json() == []
    assert client.get("/szukaj/podpowiedzi").get_json() == []
    assert client.get("/szukaj/podpowiedzi", query_string={"q": "catering "}).get_json() == [
        "Catering na konferencje i szkolenia"]  # a trailing space: a whole word
    long = client.get("/szukaj/podpowiedzi", query_string={"q": "pie" + "x" * 5000})
    assert long.status_code == 200 and long.get_json() == []


def test_every_page_has_the_search_box_in_its_header(client, sample):
    body = client.get("/").get_data(as_text=True)
    header = body.split("<header")[1].split("</header>")[0]
    assert re.search(r'<form class="site-search" method="get" action="/szukaj" role="search"', header)
    assert '<label for="site-search-q">Szukaj produktów i usług</label>' in header
    assert re.search(r'<input type="search" id="site-search-q" name="q"', header)
    assert '<script src="/static/js/search-box.js" defer></script>' in body


# User content stays text ------------------------------------------------------------------------------------

def test_titles_descriptions_and_the_query_are_escaped(client, sample):
    pes = make_pes(name="Cukiernia <b>Słodka</b>")
    make_offering(pes, '<script>alert("tytuł")</script> Sernik', price_net=Decimal("20.00"),
                  description='Sernik <img src=x onerror="alert(1)"> & makowiec')
    db.session.commit()
    body = page(client, {"q": "sernik <i>"})
    main = body.split("<main")[1]
    assert "<script>alert" not in main and "<img src=x" not in main and "<b>Słodka" not in main
    assert "&lt;script&gt;alert(&#34;tytuł&#34;)&lt;/script&gt; Sernik" in main
    assert "Cukiernia &lt;b&gt;Słodka&lt;/b&gt;" in main
    assert "<mark>Sernik</mark> &lt;img" in main and "&amp; makowiec" in main
    assert "Wyniki wyszukiwania: „sernik &lt;i&gt;”" in main and "<i>" not in main
