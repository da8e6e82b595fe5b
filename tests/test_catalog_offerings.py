"""Offerings in the members' panel: create, edit, publish, unpublish, archive, duplicate; who may do it;
prices, CPV codes, tags and categories as people type them."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog import cpv, pricing
from catalog.models import Offering
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from tests.conftest import csrf_token
from tests.factories import login, make_pes, make_user

NEW = "/panel/oferty/nowa"


# Helpers shared by the catalogue's tests ------------------------------------------------------------

def sign_in(client, user) -> None:
    """Log in through the real form; the test's data is committed first."""
    db.session.commit()
    resp = login(client, user.email)
    assert resp.status_code == 302 and "/konto/logowanie" not in resp.headers["Location"]


def member(client, status: str = "verified", **pes_fields):
    """A signed-in owner of a PES."""
    user = make_user()
    pes = make_pes(owner=user, status=status, **pes_fields)
    sign_in(client, user)
    return user, pes


def make_offering(pes, title: str = "Obiady z dowozem", status: str = "published", **fields) -> Offering:
    values = {"kind": "service", "description": "Dwudaniowe obiady z dowozem.", "category": "catering",
              "price_net": Decimal("18.50"), "vat_rate": "8", "unit": "porcja", "tags": ["obiady"]}
    values.update(fields)
    cpv_codes = values.pop("cpv", [])
    offering = Offering(ref=values.pop("ref", f"off-t{pes.id}-{title[:20]}"), pes=pes, title=title, status=status,
                        **values)
    offering.cpv = cpv_codes
    if status == "published" and "published_at" not in fields:
        from marketplace import clock

        offering.published_at = clock.now()
    db.session.add(offering)
    db.session.flush()
    return offering


def offering_form(**overrides) -> dict:
    """A complete, valid offering as the editor posts it."""
    data = {"kind": "service", "title": "Catering dla szkół i przedszkoli",
            "description": "Obiady **dwudaniowe** z dowozem.", "category": "catering", "subcategory": "",
            "cpv": "55524000-9", "price_net": "18,50", "vat_rate": "8", "unit": "porcja", "min_order": "20 porcji",
            "lead_time": "3 dni robocze", "service_area": ["0463", "0415"], "tags": "Obiady, dowóz, OBIADY",
            "status": "draft"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_new(client, pes, path=None, **overrides):
    path = path or f"{NEW}?pes={pes.id}"
    form = offering_form(csrf_token=csrf_token(client, path), **overrides)
    return client.post(path, data=form, content_type="multipart/form-data")


def all_offerings() -> list[Offering]:
    db.session.expire_all()
    return db.session.scalars(select(Offering).order_by(Offering.id)).all()


def error_of(html: str, field_id: str) -> str:
    """The message shown next to a field (the macro's <p id="<field>-error">)."""
    assert f'id="{field_id}-error"' in html, f"no error next to {field_id}"
    return html.split(f'id="{field_id}-error">', 1)[1].split("</p>", 1)[0]


@pytest.fixture
def cpv_codes(app):
    cpv.ensure_loaded()
    db.session.commit()


# Create and edit ------------------------------------------------------------------------------------

def test_member_creates_a_draft_with_every_field(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes)
    assert resp.status_code == 302
    [offering] = all_offerings()
    assert resp.headers["Location"].endswith(f"/panel/oferty/{offering.id}/edytuj")
    assert offering.ref == f"off-{offering.id}" and offering.pes_id == pes.id and offering.status == "draft"
    assert offering.price_net == Decimal("18.50") and offering.vat_rate == "8"
    assert offering.cpv == ["55524000-9"] and offering.tags == ["obiady", "dowóz"]
    assert [a.powiat for a in offering.areas] == ["0415", "0463"]
    assert (offering.unit, offering.min_order, offering.lead_time) == ("porcja", "20 porcji", "3 dni robocze")
    assert "została zapisana" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/oferta/{offering.id}").status_code in (301, 302)  # members may preview a draft


def test_empty_service_area_means_the_pes_area_and_price_on_request_has_no_price(client, cpv_codes):
    _user, pes = member(client, service_area=["0463", "0461"])
    post_new(client, pes, service_area=None, price_net="", price_on_request="y", cpv="")
    [offering] = all_offerings()
    assert offering.areas == [] and offering.service_area == ["0461", "0463"]
    assert offering.price_net is None and offering.price_on_request


def test_member_edits_and_the_form_shows_the_saved_values(client, cpv_codes):
    _user, pes = member(client)
    offering = make_offering(pes, status="draft", cpv=["55524000-9"], tags=["obiady", "dowóz"])
    path = f"/panel/oferty/{offering.id}/edytuj"
    page = client.get(path).get_data(as_text=True)
    assert 'value="18,50"' in page and 'value="55524000-9"' in page and 'value="obiady, dowóz"' in page
    form = offering_form(csrf_token=csrf_token(client, path), title="Obiady szkolne", price_net="20.00",
                         vat_rate="zw")
    resp = client.post(path, data=form, content_type="multipart/form-data")
    assert resp.status_code == 302
    [saved] = all_offerings()
    assert saved.title == "Obiady szkolne" and saved.price_net == Decimal("20.00") and saved.vat_rate == "zw"
    assert saved.ref == offering.ref


@pytest.mark.parametrize("overrides, field, message", [
    ({"cpv": "1234, 55524000-1"}, "cpv", "„1234” (kod CPV ma postać 12345678-9); „55524000-1”"),
    ({"cpv": "99999999-8"}, "cpv", "Tych kodów nie ma w słowniku CPV: 99999999-8."),
    ({"subcategory": "sprzatanie-biur"}, "subcategory", "Ta podkategoria nie należy do wybranej kategorii."),
    ({"tags": ",".join(f"tag{i}" for i in range(11))}, "tags", "Podaj najwyżej 10 tagów (podano 11)."),
    ({"title": ""}, "title", ""),
    ({"category": "nie-ma-takiej"}, "category", ""),
])
def test_wrong_fields_are_refused_with_a_message_and_nothing_is_saved(client, cpv_codes, overrides, field, message):
    _user, pes = member(client)
    resp = post_new(client, pes, **overrides)
    assert resp.status_code == 422
    assert message in error_of(resp.get_data(as_text=True), field)
    assert all_offerings() == []


def test_cpv_codes_are_normalised(client, cpv_codes):
    _user, pes = member(client)
    post_new(client, pes, cpv="555240009;  55520000")
    [offering] = all_offerings()
    assert offering.cpv == ["55524000-9", "55520000-1"]


# Prices -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, message", [
    ("-5", "Cena nie może być ujemna."),
    ("0", "Cena musi być większa od zera."),
    ("0,00", "Cena musi być większa od zera."),
    ("12.345", "Cena może mieć najwyżej dwa miejsca po przecinku"),
    ("1e5", "Cena musi być liczbą"),
    ("abc", "Cena musi być liczbą"),
    ("2 000 000", "Cena nie może przekraczać 1\u00a0000\u00a0000,00 zł netto."),
    ("", "Podaj cenę netto albo zaznacz „cena do uzgodnienia”."),
])
def test_bad_prices_get_a_clear_polish_message(client, cpv_codes, typed, message):
    _user, pes = member(client)
    resp = post_new(client, pes, price_net=typed)
    assert resp.status_code == 422
    assert message in error_of(resp.get_data(as_text=True), "price_net")
    assert all_offerings() == []


def test_a_price_together_with_price_on_request_is_refused(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, price_on_request="y")
    assert "usuń cenę netto albo odznacz" in error_of(resp.get_data(as_text=True), "price_net")
    assert all_offerings() == []


@pytest.mark.parametrize("typed, value", [("18,50", "18.50"), ("18.5", "18.50"), ("1 200", "1200.00"),
                                          ("1000000", "1000000.00"), ("7.100", "7.10")])
def test_prices_with_comma_or_dot_are_accepted(client, cpv_codes, typed, value):
    _user, pes = member(client)
    assert post_new(client, pes, price_net=typed).status_code == 302
    assert all_offerings()[0].price_net == Decimal(value)


@pytest.mark.parametrize("rate, gross", [("23", "22.76"), ("8", "19.98"), ("5", "19.43"), ("0", "18.50"),
                                         ("zw", "18.50")])
def test_gross_price_for_every_vat_rate(rate, gross):
    assert pricing.gross(Decimal("18.50"), rate) == Decimal(gross)
    assert pricing.gross(None, rate) is None


def test_prices_are_shown_the_polish_way(app):
    with app.test_request_context():
        assert pricing.format_price(Decimal("18.5")) == "18,50 zł"
        assert pricing.format_price(Decimal("1234.5")) == "1\u00a0234,50 zł"
        assert pricing.summary(Decimal("18.50"), "8") == "18,50 zł netto + 8% VAT = 19,98 zł brutto"
        assert pricing.summary(Decimal("18.50"), "zw") == "18,50 zł netto, zwolnione z VAT (zw.) = 18,50 zł brutto"
        assert pricing.summary(None, "23") == "cena do uzgodnienia"


# Status changes --------------------------------------------------------------------------------------

def _act(client, offering, action: str):
    token = csrf_token(client, "/panel/oferty")
    return client.post(f"/panel/oferty/{offering.id}/{action}", data={"csrf_token": token})


def test_publish_unpublish_and_archive_change_what_the_public_sees(app, client, cpv_codes):
    _user, pes = member(client)
    offering = make_offering(pes, status="draft")
    db.session.commit()

    assert _act(client, offering, "publikuj").status_code == 302
    assert all_offerings()[0].status == "published" and all_offerings()[0].published_at is not None
    public = app.test_client()
    assert public.get(f"/oferta/{offering.id}", follow_redirects=True).status_code == 200

    _act(client, offering, "wycofaj")
    assert all_offerings()[0].status == "draft"
    assert public.get(f"/oferta/{offering.id}", follow_redirects=True).status_code == 404

    _act(client, offering, "archiwizuj")
    assert all_offerings()[0].status == "archived"
    assert public.get(f"/oferta/{offering.id}", follow_redirects=True).status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["offering.publish", "offering.unpublish", "offering.archive"]


def test_the_editor_can_publish_when_saving(app, client, cpv_codes):
    _user, pes = member(client)
    post_new(client, pes, status="published")
    [offering] = all_offerings()
    assert offering.status == "published" and offering.is_public


def test_publishing_needs_a_description(client, cpv_codes):
    _user, pes = member(client)
    resp = post_new(client, pes, status="published", description="")
    assert resp.status_code == 422
    assert "Do publikacji potrzebny jest opis oferty." in error_of(resp.get_data(as_text=True), "status")
    assert all_offerings() == []


def test_an_unverified_pes_can_neither_add_nor_publish(client, cpv_codes):
    _user, pes = member(client, status="pending")
    resp = client.get(f"{NEW}?pes={pes.id}")
    assert resp.status_code == 403 and "tylko zweryfikowany podmiot" in resp.get_data(as_text=True)
    offering = make_offering(pes, status="draft")  # e.g. imported before verification
    db.session.commit()
    resp = _act(client, offering, "publikuj")
    assert resp.status_code == 302
    assert all_offerings()[0].status == "draft"
    page = client.get("/panel/oferty").get_data(as_text=True)
    assert "Publikować mogą tylko zweryfikowane podmioty" in page


def test_an_offering_blocked_by_a_moderator_cannot_be_published_again(client, cpv_codes):
    from marketplace import clock

    _user, pes = member(client)
    offering = make_offering(pes, status="draft", blocked_at=clock.now(), blocked_reason="Zdjęcia z internetu.")
    db.session.commit()
    _act(client, offering, "publikuj")
    assert all_offerings()[0].status == "draft"
    page = client.get("/panel/oferty").get_data(as_text=True)
    assert "Moderator ukrył tę ofertę (powód: Zdjęcia z internetu.)" in page


def test_duplicate_is_a_draft_copy(client, cpv_codes):
    _user, pes = member(client)
    offering = make_offering(pes, cpv=["55524000-9"], tags=["obiady"], min_order="10 porcji")
    offering.service_area = ["0463"]
    db.session.commit()
    resp = _act(client, offering, "kopiuj")
    original, copy = all_offerings()
    assert resp.headers["Location"].endswith(f"/panel/oferty/{copy.id}/edytuj")
    assert copy.title == "Obiady z dowozem (kopia)" and copy.status == "draft" and copy.ref == f"off-{copy.id}"
    assert (copy.cpv, copy.tags, copy.min_order, copy.price_net) == (["55524000-9"], ["obiady"], "10 porcji",
                                                                     Decimal("18.50"))
    assert [a.powiat for a in copy.areas] == ["0463"]
    assert original.status == "published" and original.title == "Obiady z dowozem"


def test_my_offerings_lists_the_pes_offerings_filtered_by_status(client, cpv_codes):
    _user, pes = member(client)
    make_offering(pes, title="Opublikowana oferta")
    make_offering(pes, title="Szkic oferty", status="draft")
    other = make_pes()
    make_offering(other, title="Cudza oferta")
    db.session.commit()
    page = client.get("/panel/oferty").get_data(as_text=True)
    assert "Opublikowana oferta" in page and "Szkic oferty" in page and "Cudza oferta" not in page
    drafts = client.get("/panel/oferty?status=draft").get_data(as_text=True)
    assert "Szkic oferty" in drafts and "Opublikowana oferta" not in drafts


# Who may do it ---------------------------------------------------------------------------------------

def test_a_member_of_another_pes_cannot_touch_the_offering(client, cpv_codes):
    _user, _mine = member(client)
    theirs = make_pes(owner=make_user())
    offering = make_offering(theirs, status="draft")
    db.session.commit()
    edit = f"/panel/oferty/{offering.id}/edytuj"
    assert client.get(edit).status_code == 403
    token = csrf_token(client, "/panel/oferty")
    form = offering_form(csrf_token=token, title="Przejęta")
    assert client.post(edit, data=form, content_type="multipart/form-data").status_code == 403
    for action in ("publikuj", "wycofaj", "archiwizuj", "kopiuj"):
        assert client.post(f"/panel/oferty/{offering.id}/{action}", data={"csrf_token": token}).status_code == 403
    assert client.get(f"{NEW}?pes={theirs.id}").status_code == 403
    assert client.post(f"{NEW}?pes={theirs.id}", data=offering_form(csrf_token=token),
                       content_type="multipart/form-data").status_code == 403
    [unchanged] = all_offerings()
    assert (unchanged.title, unchanged.status) == ("Obiady z dowozem", "draft")


def test_someone_without_a_pes_cannot_add_offerings(client, cpv_codes):
    sign_in(client, make_user())
    pes = make_pes()
    db.session.commit()
    assert client.get(f"{NEW}?pes={pes.id}").status_code == 403
    assert client.get(NEW).status_code == 404
    assert "Nie należysz do zespołu" in client.get("/panel/oferty").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client, cpv_codes):
    pes = make_pes()
    offering = make_offering(pes)
    db.session.commit()
    for path in ("/panel/oferty", f"{NEW}?pes={pes.id}", f"/panel/oferty/{offering.id}/edytuj"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"]


def test_a_post_without_csrf_token_is_refused(client, cpv_codes):
    _user, pes = member(client)
    offering = make_offering(pes, status="draft")
    db.session.commit()
    resp = client.post(f"{NEW}?pes={pes.id}", data=offering_form(), content_type="multipart/form-data")
    assert resp.status_code == 400
    assert client.post(f"/panel/oferty/{offering.id}/publikuj").status_code == 400
    assert [o.status for o in all_offerings()] == ["draft"]


@pytest.mark.parametrize("lang, shown", [("pl", "1234,50"), ("en", "1234.50")])
def test_a_saved_price_is_shown_so_that_saving_again_keeps_it(client, cpv_codes, lang, shown):
    _user, pes = member(client)
    offering = make_offering(pes, status="draft", price_net=Decimal("1234.50"))
    db.session.commit()
    client.get(f"/jezyk/{lang}")
    path = f"/panel/oferty/{offering.id}/edytuj"
    assert f'value="{shown}"' in client.get(path).get_data(as_text=True)
    resp = client.post(path, data=offering_form(csrf_token=csrf_token(client, path), price_net=shown),
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and all_offerings()[0].price_net == Decimal("1234.50")
