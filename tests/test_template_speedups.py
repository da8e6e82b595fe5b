"""What templates get from the per-process shortcuts (addresses built once, the request's catalogue looked up
once) is what Flask and Flask-Babel give: per root path and blueprint, outside requests, after a language
change in the middle of a request."""
import flask_babel
from flask import render_template_string, session, url_for


def render(source: str, **context) -> str:
    return render_template_string(source, **context)


def test_template_addresses_equal_flasks_for_each_root_path_and_blueprint(app):
    source = ("{{ url_for('core.home') }}|{{ url_for('pes.profile', pes_id=20) }}|{{ url_for('static', "
              "filename='css/portal.css') }}|{{ url_for('catalog.search', q='obiady i zupy') }}")
    for root in ("", "/portal", ""):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            expected = "|".join((url_for("core.home"), url_for("pes.profile", pes_id=20),
                                 url_for("static", filename="css/portal.css"),
                                 url_for("catalog.search", q="obiady i zupy")))
            assert render(source) == expected
            assert render(source).startswith(root + "/")
    with app.test_request_context("/"):  # query arguments in the order given, as Flask writes them
        assert render("{{ url_for('core.home', b='1', a='2') }}") == "/?b=1&amp;a=2"
        assert render("{{ url_for('core.home', a='2', b='1') }}") == "/?a=2&amp;b=1"
    with app.test_request_context("/pes/20"):  # a blueprint-relative endpoint follows the request's blueprint
        assert render("{{ url_for('.profile', pes_id=3) }}") == "/pes/3"
    with app.test_request_context("/oferty"):
        assert render("{{ url_for('.index') }}") == url_for("catalog.index")


def test_template_addresses_with_options_and_outside_requests(app):
    with app.test_request_context("/", base_url="https://portal.example.org"):
        assert render("{{ url_for('core.home', _external=True) }}") == url_for("core.home", _external=True)
        assert render("{{ url_for('core.home', _external=True) }}").startswith("https://")
        assert render("{{ url_for('core.home', _anchor='menu') }}") == "/#menu"
        assert render("{{ url_for('pes.profile', pes_id=n) }}", n=True) == url_for("pes.profile", pes_id=True)
    with app.app_context():  # mail rendered by a command: no request, so built as Flask builds it
        assert render("{{ url_for('core.home') }}") == url_for("core.home")


def test_a_language_change_within_a_request_changes_the_templates_words(app):
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        assert render("{{ _('Szukaj') }}") == "Szukaj"
        assert render("{{ _('Szukaj') }} {{ _('Oferty') }}") == "Szukaj Oferty"
        session["lang"] = "en"
        flask_babel.refresh()
        assert render("{{ _('Szukaj') }}") == "Search"
        assert render("{{ ngettext('%(num)d oferta', '%(num)d oferty', 2) }}") in ("2 oferty", "2 offerings")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render("{{ _('Szukaj') }}") == "Search"
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        assert render("{{ _('Szukaj') }}") == "Szukaj"


def test_pages_in_both_languages_after_switching(client):
    """The layout's parts rendered once per process (menu, footer) follow the visitor's language."""
    page = client.get("/").get_data(as_text=True)
    assert ">Szukaj<" in page and ">Strona główna</a>" in page and ">Regulamin</a>" in page
    assert 'href="/static/css/portal.css"' in page
    client.get("/jezyk/en")
    page = client.get("/").get_data(as_text=True)
    assert ">Search<" in page and ">Home</a>" in page and ">Terms of service</a>" in page
    assert ">Strona główna<" not in page and ">Regulamin<" not in page
    client.get("/jezyk/pl")
    page = client.get("/").get_data(as_text=True)
    assert ">Szukaj<" in page and ">Strona główna</a>" in page and ">Regulamin</a>" in page


def test_layout_parts_follow_the_portals_address(app):
    from flask import render_template

    with app.test_request_context("/", base_url="http://localhost/portal/"):
        page = render_template("core/home.html", pes_count=0, latest=[])
        assert 'href="/portal/static/css/portal.css"' in page and 'href="/portal/oferty"' in page
    with app.test_request_context("/"):
        page = render_template("core/home.html", pes_count=0, latest=[])
        assert 'href="/static/css/portal.css"' in page and 'href="/oferty"' in page
