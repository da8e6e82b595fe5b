"""Search synonyms that moderators edit in the panel: a group added, changed or deleted changes what the
search finds at once in this process and within seconds in the others; bad groups are refused with a reason;
only staff may change them, with a CSRF token, and every change is in the audit log."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update

from catalog.models import Offering
from marketplace.api.params import SearchParams
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from search import service, synonyms
from search.models import SynonymGroup
from tests.conftest import csrf_token
from tests.factories import login, make_pes, make_user

PAGE = "/moderacja/synonimy"


@pytest.fixture
def setup(app):
    moderator = make_user("moderator@example.org", role="moderator")
    admin = make_user("admin@example.org", role="admin")
    buyer = make_user("kupujacy@example.org")
    owner = make_user("wlasciciel@example.org")
    pes = make_pes(owner=owner, name="Spółdzielnia Socjalna Wiklina")
    baskets = Offering(ref="off-kosze", pes=pes, kind="product", title="Kosze piknikowe",
                       description="Ręcznie plecione kosze z wikliny, z pokrywą.", category="rekodzielo",
                       status="published", vat_rate="23", published_at=datetime.now(UTC))
    db.session.add(baskets)
    db.session.commit()
    return {"moderator": moderator, "admin": admin, "buyer": buyer, "owner": owner, "baskets": baskets.id}


def sign_in(client, user):
    assert login(client, user.email).status_code == 302, "login failed"


def found(q: str) -> set[int]:
    return {offering_id for offering_id, _snippet in service.search(SearchParams(q=q, per_page=100)).hits}


def groups() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(select(SynonymGroup.words).order_by(SynonymGroup.id)).all()


def entries() -> list[AuditEntry]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def add(client, words: str, note: str = "", follow: bool = True):
    token = csrf_token(client, PAGE)
    return client.post(PAGE, data={"csrf_token": token, "words": words, "note": note},
                       follow_redirects=follow)


def edit(client, group_id: int, words: str, note: str = ""):
    url = f"{PAGE}/{group_id}/edycja"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "words": words, "note": note},
                       follow_redirects=True)


def delete(client, group_id: int):
    url = f"{PAGE}/{group_id}/usun"
    return client.post(url, data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)


def only_group() -> SynonymGroup:
    db.session.expire_all()
    return db.session.scalars(select(SynonymGroup)).one()


# -- the search sees the change ----------------------------------------------------------------------------


def test_a_group_a_moderator_adds_is_used_by_the_next_search(client, setup):
    assert found("kobiałka") == set()  # warms the cache: the new group must get past it
    sign_in(client, setup["moderator"])
    resp = add(client, " Kosz, KOBIAŁKA ,, ", note="Kupujący z gmin wiejskich piszą „kobiałka”.")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Dodano grupę synonimów: kosz, kobiałka" in html
    assert "moderator@example.org" in html and "Kupujący z gmin wiejskich" in html
    assert groups() == ["kosz, kobiałka"]  # lowercase, trimmed, diacritics kept
    assert found("kobiałka") == {setup["baskets"]}
    assert found("kobiałki") == {setup["baskets"]}  # an inflected form finds the group by its stem
    assert found("kobialka") == {setup["baskets"]}  # and so does one typed without diacritics
    data = client.get("/api/v1/search", query_string={"q": "kobiałkę"}).get_json()
    assert [item["ref"] for item in data["items"]] == ["off-kosze"]


def test_editing_and_deleting_a_group_take_effect_at_once(client, setup):
    sign_in(client, setup["moderator"])
    add(client, "kosz, kobiałka")
    group_id = only_group().id
    assert found("kobiałka") == {setup["baskets"]}

    form = client.get(f"{PAGE}/{group_id}/edycja").get_data(as_text=True)
    assert 'value="kosz, kobiałka"' in form
    html = edit(client, group_id, "kosz, łubianka", note="Kobiałka myliła się z koszykiem.").get_data(as_text=True)
    assert "Zapisano grupę synonimów: kosz, łubianka" in html
    assert groups() == ["kosz, łubianka"]
    assert found("kobiałka") == set()
    assert found("łubianki") == {setup["baskets"]}

    confirm = client.get(f"{PAGE}/{group_id}/usun").get_data(as_text=True)
    assert "Usunąć grupę synonimów?" in confirm and "kosz, łubianka" in confirm
    assert groups() == ["kosz, łubianka"]  # asking is not deleting
    html = delete(client, group_id).get_data(as_text=True)
    assert "Usunięto grupę synonimów: kosz, łubianka" in html
    assert groups() == []
    assert found("łubianka") == set()
    assert found("kosze") == {setup["baskets"]}


def test_an_admin_may_edit_synonyms_too(client, setup):
    sign_in(client, setup["admin"])
    add(client, "kosz, kobiałka")
    assert groups() == ["kosz, kobiałka"]
    assert found("kobiałka") == {setup["baskets"]}


def test_the_page_explains_groups_and_shows_the_shipped_ones_read_only(client, setup):
    sign_in(client, setup["moderator"])
    html = client.get("/moderacja/").get_data(as_text=True)
    assert f'href="{PAGE}"' in html  # the panel's navigation leads here
    html = client.get(PAGE).get_data(as_text=True)
    assert "druk, poligrafia, drukarnia" in html  # the example
    assert "Odmienionych form nie trzeba wpisywać" in html
    assert "Grupy wbudowane w portal" in html and "druk, poligrafia, drukarnia, drukowanie, wydruk" in html
    assert "wbudowana" in html
    assert "Moderatorzy nie dodali jeszcze żadnej grupy." in html
    assert "/edycja" not in html and "/usun" not in html  # nothing to edit or delete yet


# -- bad groups ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("words, message", [
    ("", "Wpisz słowa grupy oddzielone przecinkami."),
    ("kosz", "co najmniej dwa różne słowa"),
    ("kosz kobiałka", "musi być jednym wyrazem"),
    ("kosz, kobiałka!", "musi być jednym wyrazem"),
    ("kosz, Kosz", "Powtórzone: „kosz”"),
    ("kosz, kobiałka, kosz", "Powtórzone: „kosz”"),
    ("kosz, " + ", ".join(f"slowo{n}" for n in range(20)), "najwyżej 20 słów (wpisano 21)"),
    ("kosz, " + "k" * 41, "najwyżej 40 znaków"),
    ("kosz, e-kosz", "słowa z łącznikiem"),
    ("kosz, dla", "pomija krótkie słowa pomocnicze"),
    ("Wydruk, drukowanie, drukarnia, poligrafia, druk", "jest już wbudowana w portal"),
])
def test_a_bad_group_is_refused_with_the_reason_and_nothing_is_saved(client, setup, words, message):
    sign_in(client, setup["moderator"])
    resp = add(client, words)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html
    assert "Popraw błędy w formularzu" in html
    assert groups() == [] and entries() == []


def test_what_was_typed_stays_in_the_form_after_an_error(client, setup):
    sign_in(client, setup["moderator"])
    html = add(client, "kosz, kobiałka!", note="Moja notatka").get_data(as_text=True)
    assert 'value="kosz, kobiałka!"' in html and "Moja notatka" in html


def test_a_group_identical_to_a_moderators_group_is_refused(client, setup):
    sign_in(client, setup["moderator"])
    add(client, "kosz, kobiałka")
    resp = add(client, "Kobiałka, kosz")
    assert resp.status_code == 422
    assert "Taka grupa już istnieje" in resp.get_data(as_text=True)
    assert groups() == ["kosz, kobiałka"]
    assert resp.status_code == 422 and len(entries()) == 1
    add(client, "kosz, kobiałka, łubianka")  # a wider group is another group
    assert groups() == ["kosz, kobiałka", "kosz, kobiałka, łubianka"]


def test_a_too_long_note_is_refused(client, setup):
    sign_in(client, setup["moderator"])
    resp = add(client, "kosz, kobiałka", note="n" * 501)
    assert resp.status_code == 422
    assert "Notatka może mieć najwyżej 500 znaków." in resp.get_data(as_text=True)
    assert groups() == []


def test_a_bad_edit_changes_nothing(client, setup):
    sign_in(client, setup["moderator"])
    add(client, "kosz, kobiałka")
    add(client, "kosz, łubianka")
    first = db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)).first()
    stamp = first.updated_at
    resp = edit(client, first.id, "kosz")
    assert resp.status_code == 422 and "co najmniej dwa różne słowa" in resp.get_data(as_text=True)
    resp = edit(client, first.id, "łubianka, kosz")  # the same as the other group
    assert resp.status_code == 422 and "Taka grupa już istnieje" in resp.get_data(as_text=True)
    assert groups() == ["kosz, kobiałka", "kosz, łubianka"]
    assert only_updated_at(first.id) == stamp
    assert [e.action for e in entries()] == ["synonyms.create"] * 2
    assert found("kobiałka") == {setup["baskets"]}


def only_updated_at(group_id: int):
    db.session.expire_all()
    return db.session.get(SynonymGroup, group_id).updated_at


def test_saving_a_group_unchanged_writes_nothing(client, setup):
    sign_in(client, setup["moderator"])
    add(client, "kosz, kobiałka", note="Notatka")
    group = only_group()
    stamp = group.updated_at
    html = edit(client, group.id, "Kosz, kobiałka", note=" Notatka ").get_data(as_text=True)
    assert "Nic nie zmieniono" in html
    assert only_updated_at(group.id) == stamp and len(entries()) == 1


def test_an_unknown_group_is_not_found(client, setup):
    sign_in(client, setup["moderator"])
    assert client.get(f"{PAGE}/999/edycja").status_code == 404
    assert client.get(f"{PAGE}/999/usun").status_code == 404


# -- who may, and how ------------------------------------------------------------------------------------


def _urls(group_id):
    return [("get", PAGE), ("post", PAGE), ("get", f"{PAGE}/{group_id}/edycja"),
            ("post", f"{PAGE}/{group_id}/edycja"), ("get", f"{PAGE}/{group_id}/usun"),
            ("post", f"{PAGE}/{group_id}/usun")]


def _existing_group(setup) -> int:
    group = SynonymGroup(words="kosz, kobiałka", created_by_id=setup["moderator"].id,
                         updated_by_id=setup["moderator"].id)
    db.session.add(group)
    db.session.commit()
    return group.id


@pytest.mark.parametrize("who", ["buyer", "owner"])
def test_buyers_and_pes_members_are_forbidden(app, client, setup, who):
    group_id = _existing_group(setup)
    sign_in(client, setup[who])
    app.config["WTF_CSRF_ENABLED"] = False  # so that a post is refused for the role, not for the token
    for method, url in _urls(group_id):
        resp = getattr(client, method)(url, data={"words": "kosz, łubianka"} if method == "post" else None)
        assert resp.status_code == 403, (method, url)
    assert groups() == ["kosz, kobiałka"] and entries() == []


def test_anonymous_visitors_are_sent_to_log_in(app, client, setup):
    group_id = _existing_group(setup)
    app.config["WTF_CSRF_ENABLED"] = False
    for method, url in _urls(group_id):
        resp = getattr(client, method)(url)
        assert resp.status_code == 302 and "/konto/logowanie" in resp.headers["Location"], (method, url)
    assert groups() == ["kosz, kobiałka"]


def test_posts_without_a_csrf_token_are_refused(client, setup):
    group_id = _existing_group(setup)
    sign_in(client, setup["moderator"])
    for url in (PAGE, f"{PAGE}/{group_id}/edycja", f"{PAGE}/{group_id}/usun"):
        resp = client.post(url, data={"words": "kosz, łubianka"})
        assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True), url
    assert groups() == ["kosz, kobiałka"] and entries() == []


def test_every_change_is_in_the_audit_log(client, setup):
    sign_in(client, setup["moderator"])
    add(client, "kosz, kobiałka", note="Pierwsza wersja")
    group_id = only_group().id
    edit(client, group_id, "kosz, łubianka")
    delete(client, group_id)
    created, updated, deleted = entries()
    assert [e.action for e in (created, updated, deleted)] == [
        "synonyms.create", "synonyms.update", "synonyms.delete"]
    for e in (created, updated, deleted):
        assert e.actor_id == setup["moderator"].id and e.actor_role == "moderator"
        assert e.object_type == "synonymgroup" and e.object_id == group_id
    assert created.before is None and created.after == {"words": "kosz, kobiałka", "note": "Pierwsza wersja"}
    assert updated.before == {"words": "kosz, kobiałka", "note": "Pierwsza wersja"}
    assert updated.after == {"words": "kosz, łubianka", "note": None}
    assert deleted.before == {"words": "kosz, łubianka", "note": None} and deleted.after is None


def test_the_audit_log_shows_synonym_changes_in_words(client, setup):
    sign_in(client, setup["admin"])
    add(client, "kosz, kobiałka")
    group_id = only_group().id
    html = client.get("/moderacja/dziennik").get_data(as_text=True)
    assert "dodanie grupy synonimów wyszukiwarki" in html and "słowa: — → kosz, kobiałka" in html
    assert f"grupa synonimów nr {group_id}</a><br>kosz, kobiałka" in html and "(usunięty)" not in html
    delete(client, group_id)
    html = client.get("/moderacja/dziennik").get_data(as_text=True)
    assert "usunięcie grupy synonimów wyszukiwarki" in html
    assert f"grupa synonimów nr {group_id} (usunięty)" in html


def test_the_list_says_who_changed_a_group_last(app, client, setup):
    sign_in(client, setup["moderator"])
    add(client, "kosz, kobiałka")
    other = app.test_client()
    sign_in(other, setup["admin"])
    edit(other, only_group().id, "kosz, łubianka")
    group = only_group()
    assert group.created_by_id == setup["moderator"].id and group.updated_by_id == setup["admin"].id
    html = client.get(PAGE).get_data(as_text=True)
    assert "moderator@example.org" in html and "admin@example.org" in html


# -- other processes -------------------------------------------------------------------------------------


class Clock:
    """The cache's clock, moved on by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(synonyms, "monotonic", fake)
    return fake


def _from_another_process(statement) -> None:
    """A change committed on a connection of its own, as another worker would, past this process's cache."""
    with db.engine.begin() as conn:
        conn.execute(statement)


def test_a_change_made_by_another_process_is_seen_after_the_check_interval(client, setup, clock):
    group_id = _existing_group(setup)
    synonyms.invalidate()
    assert found("kobiałka") == {setup["baskets"]}

    _from_another_process(update(SynonymGroup).where(SynonymGroup.id == group_id).values(
        words="kosz, łubianka", updated_at=datetime.now(UTC) + timedelta(seconds=1)))
    clock.now += synonyms.CHECK_EVERY / 2
    assert found("łubianka") == set()  # this process has not looked yet
    clock.now += synonyms.CHECK_EVERY
    assert found("łubianka") == {setup["baskets"]}
    assert found("kobiałka") == set()

    _from_another_process(SynonymGroup.__table__.delete())
    clock.now += synonyms.CHECK_EVERY + 0.1
    assert found("łubianka") == set()

    _from_another_process(SynonymGroup.__table__.insert().values(
        words="kosz, kobiałka", created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    clock.now += synonyms.CHECK_EVERY + 0.1
    assert found("kobiałka") == {setup["baskets"]}


def test_between_checks_the_search_asks_the_database_nothing_about_synonyms(app, setup, clock):
    _existing_group(setup)
    synonyms.invalidate()
    first = synonyms.current_synonyms()
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for _ in range(50):
            assert synonyms.current_synonyms() is first
            clock.now += 0.05
        assert statements == []
        clock.now += synonyms.CHECK_EVERY
        assert synonyms.current_synonyms() is first  # one cheap look, nothing changed, nothing rebuilt
        assert len(statements) == 1 and "count(" in statements[0].lower()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert "kobiałka" in first.expand("kosz")


def test_without_the_table_the_search_uses_the_shipped_list(app, setup, clock):
    synonyms.invalidate()
    SynonymGroup.__table__.drop(db.engine)
    try:
        assert "poligrafia" in synonyms.current_synonyms().expand("druk")
    finally:
        SynonymGroup.__table__.create(db.engine)
    assert db.session.scalar(select(func.count()).select_from(SynonymGroup)) == 0
