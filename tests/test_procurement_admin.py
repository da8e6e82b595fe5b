"""The moderators' panel for the legal values and the guidance pages: who may open it, confirming values known
from secondary sources, new versions of a value (and what the builder then computes), refused input, stale
forms, new guidance versions and the flags that tell moderators which pages to look at."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.procurement import guidance, legal_data
from marketplace.procurement.models import GuidancePage, LegalValue
from tests.conftest import csrf_token
from tests.factories import login, make_user

PANEL = "/moderacja/prawo"
BUILDER = "/zamowienia-publiczne/kreator?value=930000&start=2026-03-02&kind=supplies&purchaser=local"
ART94 = "art-94-zamowienia-zastrzezone"
SHIPPED_UNVERIFIED = 9


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("&nbsp;", " ").replace("\u00a0", " "))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def newest(key: str, day: str) -> LegalValue:
    db.session.expire_all()
    return legal_data.versions(key, date.fromisoformat(day))[0]


def row_of(html: str, marker: str) -> str:
    """The table row (<tr>…</tr>) that contains `marker`."""
    for row in re.findall(r"<tr>.*?</tr>", html, re.DOTALL):
        if marker in row:
            return row
    raise AssertionError(f"no row with {marker}")


@pytest.fixture
def moderator(client):
    user = make_user("moderator@example.org", role="moderator")
    db.session.commit()
    assert login(client, user.email).status_code == 302
    client.get(PANEL)  # the first visit seeds the shipped values and pages
    return user


def value_data(client, row: LegalValue, **fields) -> dict:
    """The form as it comes filled with the newest version, with `fields` changed."""
    from marketplace.procurement.admin_forms import value_as_text

    data = {"csrf_token": csrf_token(client, f"{PANEL}/wartosci/{row.id}"), "base_version": str(row.version),
            "value": value_as_text(row.value, row.unit), "source_title": row.source_title,
            "source_url": row.source_url, "legal_state_on": row.legal_state_on.isoformat(), "note": row.note,
            "reason": ""}
    if row.verified:
        data["verified"] = "y"
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def guidance_data(client, slug: str, **fields) -> dict:
    page = guidance.latest(slug)
    data = {"csrf_token": csrf_token(client, f"{PANEL}/poradniki/{slug}"), "base_version": str(page.version),
            "title_pl": page.title_pl, "summary_pl": page.summary_pl, "body_pl": page.body_pl,
            "title_en": page.title_en or "", "summary_en": page.summary_en or "", "body_en": page.body_en or "",
            "sources": "\n".join(f"{s['title']} | {s['url']}" for s in page.sources),
            "legal_state_on": clock.today().isoformat()}
    data.update(fields)
    return data


# Who may open the panel ------------------------------------------------------------------------------

def test_buyers_get_403_and_visitors_are_sent_to_log_in(client):
    response = client.get(PANEL)
    assert response.status_code == 302 and "/konto/logowanie" in response.headers["Location"]
    buyer = make_user("kupujacy@example.org")
    db.session.commit()
    login(client, buyer.email)
    for path in (PANEL, f"{PANEL}/wartosci/1", f"{PANEL}/poradniki/{ART94}", f"{PANEL}/poradniki/{ART94}/wersje/1"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")
    assert client.post(f"{PANEL}/wartosci/1/potwierdz", data={"csrf_token": token}).status_code == 403
    assert count(LegalValue) == 0 and count(AuditEntry) == 0


def test_the_panel_is_linked_from_the_moderators_navigation(client, moderator):
    html = client.get("/moderacja/dokumenty").get_data(as_text=True)
    assert f'<a href="{PANEL}">Prawo zamówień publicznych</a>' in html


# Values known from secondary sources ------------------------------------------------------------------

def test_unverified_values_are_flagged_and_a_moderator_confirms_one(client, moderator):
    html = client.get(PANEL).get_data(as_text=True)
    assert f"{SHIPPED_UNVERIFIED} wartości czeka na potwierdzenie" in html
    threshold = newest("pzp_threshold", "2026-01-01")
    row = row_of(html, f'{PANEL}/wartosci/{threshold.id}"')
    assert "170\u00a0000 zł" in row and "do potwierdzenia" in row and "Potwierdź" in row
    assert "Próg stosowania Pzp" in row and 'href="https://www.gazetaprawna.pl/"' in row
    older = row_of(html, f'{PANEL}/wartosci/{newest("pzp_threshold", "2021-01-01").id}"')
    assert "130\u00a0000 zł" in older and "do potwierdzenia" not in older and "Potwierdź" not in older

    token = csrf_token(client, PANEL)
    response = client.post(f"{PANEL}/wartosci/{threshold.id}/potwierdz", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(PANEL)
    confirmed = newest("pzp_threshold", "2026-01-01")
    assert (confirmed.version, confirmed.verified, confirmed.value, confirmed.created_by_id) == (
        2, True, "170000", moderator.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "legal_value.change"))
    assert (entry.actor_id, entry.object_id, entry.reason) == (moderator.id, confirmed.id, "confirmed")
    assert entry.before["verified"] is False and entry.after["verified"] is True
    html = client.get(PANEL).get_data(as_text=True)
    assert "Potwierdzono wartość „Próg stosowania Pzp”" in html
    assert f"{SHIPPED_UNVERIFIED - 1} wartości czeka na potwierdzenie" in html
    assert "do potwierdzenia" not in row_of(html, f'{PANEL}/wartosci/{confirmed.id}"')

    # The button of the old version (another tab) confirms nothing more.
    again = client.post(f"{PANEL}/wartosci/{threshold.id}/potwierdz", data={"csrf_token": token})
    assert again.status_code == 302 and count(LegalValue) == 20 and count(AuditEntry) == 1


def test_confirming_needs_the_csrf_token(client, moderator):
    row = newest("eur_rate", "2026-01-01")
    assert client.post(f"{PANEL}/wartosci/{row.id}/potwierdz").status_code == 400
    assert newest("eur_rate", "2026-01-01").version == 1


# New versions of a value -------------------------------------------------------------------------------

def test_a_new_eur_rate_is_a_new_version_and_the_builder_uses_it(client, moderator):
    assert "próg unijny 930 960,00 zł" in text_of(client.get(BUILDER).get_data(as_text=True))
    rate = newest("eur_rate", "2026-01-01")
    form = client.get(f"{PANEL}/wartosci/{rate.id}").get_data(as_text=True)
    assert '<label for="value">Wartość</label>' in form and 'name="base_version" type="hidden" value="1"' in form
    data = value_data(client, rate, value="4,40", source_title="Obwieszczenie Prezesa UZP (M.P. 2026 poz. 1)",
                      source_url="https://www.uzp.gov.pl/obwieszczenie", verified="y", reason="Nowe obwieszczenie.")
    response = client.post(f"{PANEL}/wartosci/{rate.id}", data=data)
    new = newest("eur_rate", "2026-01-01")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{PANEL}/wartosci/{new.id}")
    assert (new.version, new.value, new.verified, new.created_by_id) == (2, "4.4", True, moderator.id)
    assert db.session.get(LegalValue, rate.id).value == "4.31"  # the old version is never edited
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "legal_value.change"))
    assert (entry.object_id, entry.reason, entry.before["value"], entry.after["value"]) == (
        new.id, "Nowe obwieszczenie.", "4.31", "4.4")

    page = client.get(f"{PANEL}/wartosci/{new.id}").get_data(as_text=True)
    assert "Zapisano wersję 2 wartości" in page
    assert "4,31 zł/EUR" in row_of(page, "Wersja 1") and "4,4 zł/EUR" in row_of(page, "Wersja 2")
    assert moderator.email in row_of(page, "Wersja 2")
    old = client.get(f"{PANEL}/wartosci/{rate.id}")  # an older version's address leads to the newest
    assert old.status_code == 302 and old.headers["Location"].endswith(f"/wartosci/{new.id}")

    builder = text_of(client.get(BUILDER).get_data(as_text=True))
    assert "próg unijny 950 400,00 zł" in builder and "930 960,00" not in builder


def test_lists_of_codes_and_groups_and_yes_no_values_are_read_back(client, moderator):
    cpv = newest("art361_cpv", "2021-01-01")
    client.post(f"{PANEL}/wartosci/{cpv.id}", data=value_data(client, cpv, value="85311000-2\n\n 75121000-0..75123000-4 "))
    assert newest("art361_cpv", "2021-01-01").value == ["85311000-2", "75121000-0..75123000-4"]
    groups = newest("art94_groups_more", "2021-01-01")
    client.post(f"{PANEL}/wartosci/{groups.id}", data=value_data(
        client, groups, value="refugees | uchodźcy | refugees\nage | osoby 50+", verified="y"))
    saved = newest("art94_groups_more", "2021-01-01")
    assert saved.value == [{"code": "refugees", "pl": "uchodźcy", "en": "refugees"}, {"code": "age", "pl": "osoby 50+"}]
    assert saved.verified
    flag = newest("art15a_follows_threshold", "2021-01-01")
    client.post(f"{PANEL}/wartosci/{flag.id}", data=value_data(client, flag, value="0"))
    assert newest("art15a_follows_threshold", "2021-01-01").value == "0"
    assert count(LegalValue) == 22


@pytest.mark.parametrize("key, day, fields, message", [
    ("eur_rate", "2026-01-01", {"value": "-4,31"}, "Wartość musi być większa od zera."),
    ("pzp_threshold", "2026-01-01", {"value": "sto tysięcy"}, "Podaj liczbę"),
    ("reserved_min_share", "2021-01-01", {"value": "120"}, "Wartość jest zbyt duża."),
    ("eur_rate", "2026-01-01", {"source_url": "http://www.uzp.gov.pl/"}, "Podaj adres zaczynający się od https://"),
    ("eur_rate", "2026-01-01", {"source_title": " "}, "Podaj źródło."),
    ("eur_rate", "2026-01-01", {"legal_state_on": "2 stycznia"}, "Podaj datę w formacie RRRR-MM-DD"),
    ("art361_cpv", "2021-01-01", {"value": "85311000-2\n85311000-3"}, "„85311000-3” nie jest kodem CPV"),
    ("art361_cpv", "2021-01-01", {"value": "85323000-9..85000000-9"}, "początek zakresu jest dalej"),
    ("art94_groups", "2021-01-01", {"value": "disabled | osoby niepełnosprawne\nbezdomni"}, "Wiersz 2: wpisz"),
    ("art94_groups", "2021-01-01", {"value": "homeless | bezdomni\nhomeless | bezdomne"}, "już jest na liście"),
    ("eur_rate", "2026-01-01", {}, "Nic się nie zmieniło"),
])
def test_bad_input_is_explained_and_writes_nothing(client, moderator, key, day, fields, message):
    row = newest(key, day)
    response = client.post(f"{PANEL}/wartosci/{row.id}", data=value_data(client, row, **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'class="error-summary"' in html
    assert count(LegalValue) == 19 and count(AuditEntry) == 0


def test_a_form_opened_before_another_save_is_refused(client, moderator):
    rate = newest("eur_rate", "2026-01-01")
    stale = value_data(client, rate, value="4,35")
    other = make_user("druga@example.org", role="moderator")
    legal_data.change(other, rate, {"value": "4.33"})
    db.session.commit()
    response = client.post(f"{PANEL}/wartosci/{rate.id}", data=stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "W międzyczasie zapisano wersję 2 tej wartości" in html
    assert newest("eur_rate", "2026-01-01").value == "4.33" and count(LegalValue) == 20
    assert "4,33 zł/EUR" in row_of(html, "Wersja 2")  # the page shows what was saved meanwhile


def test_an_unknown_value_is_not_found(client, moderator):
    assert client.get(f"{PANEL}/wartosci/9999").status_code == 404


# Guidance pages ------------------------------------------------------------------------------------------

def test_publishing_a_new_guidance_version_keeps_the_old_one(client, moderator):
    first = guidance.latest(ART94)
    form = client.get(f"{PANEL}/poradniki/{ART94}").get_data(as_text=True)
    assert '<label for="body_pl">Treść po polsku (Markdown)</label>' in form and "Opublikuj wersję 2" in form
    body = "## Nowa sekcja\n\nZastrzeżenie wymaga co najmniej {reserved_min_share} zatrudnionych z grup art. 94."
    data = guidance_data(client, ART94, body_pl=body, sources="Pzp, art. 94 | https://isap.sejm.gov.pl/pzp")
    response = client.post(f"{PANEL}/poradniki/{ART94}", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{PANEL}/poradniki/{ART94}")
    new = guidance.latest(ART94)
    assert (new.version, new.created_by_id, new.body_pl) == (2, moderator.id, body)
    assert new.sources == [{"title": "Pzp, art. 94", "url": "https://isap.sejm.gov.pl/pzp"}]
    assert db.session.scalar(select(AuditEntry.object_id).where(AuditEntry.action == "guidance.publish")) == new.id

    panel = client.get(f"{PANEL}/poradniki/{ART94}").get_data(as_text=True)
    assert "Opublikowano wersję 2 strony" in panel
    public = text_of(client.get(f"/zamowienia-publiczne/{ART94}").get_data(as_text=True))
    assert "Zastrzeżenie wymaga co najmniej 30% zatrudnionych z grup art. 94." in public and "Wersja 2" in public
    assert f'href="{PANEL}/poradniki/{ART94}/wersje/1"' in panel and f'href="{PANEL}/poradniki/{ART94}/wersje/2"' in panel
    old = client.get(f"{PANEL}/poradniki/{ART94}/wersje/1")
    assert old.status_code == 200 and "Najnowsza jest wersja 2" in old.get_data(as_text=True)
    assert ">Kiedy ma zastosowanie</h2>" in old.get_data(as_text=True) and "Kiedy ma zastosowanie" in first.body_pl
    assert "Nowa sekcja" not in old.get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"body_pl": "  "}, "Wpisz treść po polsku."),
    ({"title_pl": ""}, "Wpisz tytuł po polsku."),
    ({"sources": "Pzp | http://isap.sejm.gov.pl"}, "Wiersz 1: wpisz „tytuł | https://adres”"),
    ({"legal_state_on": ""}, "Podaj datę stanu prawnego."),
    ({"base_version": "0"}, "W międzyczasie opublikowano wersję 1"),
    ({"legal_state_on": "2026-01-06"}, "Nic się nie zmieniło"),
])
def test_bad_guidance_input_is_explained_and_publishes_nothing(client, moderator, fields, message):
    response = client.post(f"{PANEL}/poradniki/{ART94}", data=guidance_data(client, ART94, **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'class="error-summary"' in html
    assert count(GuidancePage) == 7 and count(AuditEntry) == 0


def test_unknown_guidance_pages_and_versions_are_not_found(client, moderator):
    assert client.get(f"{PANEL}/poradniki/art-1000").status_code == 404
    assert client.get(f"{PANEL}/poradniki/{ART94}/wersje/5").status_code == 404


def test_a_page_with_an_old_legal_state_is_flagged(client, moderator):
    old = (clock.today() - timedelta(days=400)).isoformat()
    client.post(f"{PANEL}/poradniki/{ART94}", data=guidance_data(client, ART94, legal_state_on=old))
    client.post(f"{PANEL}/poradniki/art-95-umowa-o-prace", data=guidance_data(client, "art-95-umowa-o-prace"))
    html = client.get(PANEL).get_data(as_text=True)
    assert "stan prawny starszy niż 12 miesięcy" in row_of(html, f'{PANEL}/poradniki/{ART94}"')
    fresh = row_of(html, f'{PANEL}/poradniki/art-95-umowa-o-prace"')
    assert "aktualna" in fresh and "starszy" not in fresh
    assert "stan prawny starszy niż 12 miesięcy" in client.get(f"{PANEL}/poradniki/{ART94}").get_data(as_text=True)


def test_a_page_is_flagged_when_a_value_it_shows_changes(client, moderator):
    share = newest("reserved_min_share", "2021-01-01")
    assert "zmieniła się wartość" not in client.get(PANEL).get_data(as_text=True)
    client.post(f"{PANEL}/wartosci/{share.id}", data=value_data(client, share, value="35"))
    html = client.get(PANEL).get_data(as_text=True)
    flag = "zmieniła się wartość: Minimalny odsetek zatrudnionych (art. 94 ust. 2)"
    assert flag in row_of(html, f'{PANEL}/poradniki/{ART94}"')
    assert flag not in row_of(html, f'{PANEL}/poradniki/art-95-umowa-o-prace"')  # it does not show that value
    assert flag in client.get(f"{PANEL}/poradniki/{ART94}").get_data(as_text=True)
    # A new version written after the change (the moderator checked the text) clears the flag.
    client.post(f"{PANEL}/poradniki/{ART94}", data=guidance_data(client, ART94))
    assert flag not in row_of(client.get(PANEL).get_data(as_text=True), f'{PANEL}/poradniki/{ART94}"')
