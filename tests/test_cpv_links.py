"""CPV codes lead to the catalogue's offerings with that code: from the CPV finder and from an offering's page."""
import re

from flask import url_for

from marketplace.extensions import db
from tests.factories import make_pes
from tests.test_catalog_offerings import cpv_codes, make_offering  # noqa: F401

LINK_TEXT = "Oferty z tym kodem"


def search_href(app, code: str) -> str:
    with app.test_request_context():
        return url_for("catalog.search", q=code)


def links_to_search(html: str) -> dict[str, str]:
    """{the code searched for: the link's text} of every link to the catalogue search with a query."""
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
            for m in re.finditer(r'<a href="/szukaj\?q=([^"&]+)">(.*?)</a>', html, re.DOTALL)}


def test_the_search_address_is_the_catalogue_search_with_the_code(app):
    assert search_href(app, "90911200-8") == "/szukaj?q=90911200-8"


def test_every_result_of_the_cpv_finder_links_to_offerings_with_its_code(app, client, cpv_codes):
    html = client.get("/cpv?q=5552").get_data(as_text=True)
    rows = re.findall(r'<td class="cpv-code">(\d{8}-\d)</td>(.*?)</tr>', html, re.DOTALL)
    assert len(rows) > 1 and "55524000-9" in [code for code, _rest in rows]
    for code, rest in rows:
        assert f'<a href="{search_href(app, code)}">' in rest
    links = links_to_search(html)
    assert set(links) == {code for code, _rest in rows}
    # The visible text is the same for all; the code, for screen readers, tells the links apart.
    assert all(text.startswith(LINK_TEXT) and text.endswith(code) for code, text in links.items())


def test_the_cpv_finder_is_a_page_of_its_own_whose_links_need_no_new_tab(client, cpv_codes):
    html = client.get("/cpv?q=90911200-8").get_data(as_text=True)
    assert '<a href="/szukaj?q=90911200-8">' in html
    table = html.split("<table", 1)[1].split("</table>", 1)[0]
    assert "<form" not in table and 'target="_blank"' not in table  # a plain link, outside any form


def test_the_cpv_finder_without_results_or_query_has_no_such_links(client, cpv_codes):
    for path in ("/cpv", "/cpv?q=kosmodrom", "/cpv?q=00000"):
        html = client.get(path).get_data(as_text=True)
        assert not links_to_search(html)


def test_the_offering_page_links_each_cpv_code_to_the_search(app, client, cpv_codes):
    codes = ["55524000-9", "90911200-8"]
    offering = make_offering(make_pes(), cpv=codes)
    db.session.commit()
    resp = client.get(f"/oferta/{offering.id}", follow_redirects=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    items = re.findall(r'<li><span class="cpv-code">(\d{8}-\d)</span>(.*?)</li>', html, re.DOTALL)
    assert [code for code, _rest in items] == codes
    for code, rest in items:
        assert f'<a href="{search_href(app, code)}">{LINK_TEXT}' in rest
    assert set(links_to_search(html)) == set(codes)


def test_an_offering_without_cpv_codes_has_no_such_links(client, cpv_codes):
    offering = make_offering(make_pes(), cpv=[])
    db.session.commit()
    html = client.get(f"/oferta/{offering.id}", follow_redirects=True).get_data(as_text=True)
    assert 'class="cpv-list"' not in html and not links_to_search(html)
