"""The mark's pages as a whole: the PES panel's cost does not grow with its offerings, the office's queue sits
in the moderation panel, tables are captioned, and the form's hints follow the rules' numbers."""
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from catalog.mark import labels
from catalog.mark.models import MarkApplication
from marketplace import clock
from marketplace.extensions import db
from tests.test_mark_helpers import client_for, in_review, make_mark, make_offering, people


@contextmanager
def _statements():
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _add_offerings(crew, first: int, n: int) -> None:
    today = clock.today()
    for i in range(first, first + n):
        offering = make_offering(crew["pes"], title=f"Oferta dodatkowa {i}")
        make_mark(offering, f"P/{i}", today - timedelta(days=100), today + timedelta(days=200 + i))
        db.session.add(MarkApplication(offering_id=offering.id, pes_id=crew["pes"].id, status="returned",
                                       quality_statement="x", recommendations=[], submitted_at=clock.now()))
    db.session.commit()


def test_the_panel_asks_the_same_number_of_queries_for_one_offering_or_many(app):
    crew = people(app)
    owner = client_for(app, crew["owner"])
    _add_offerings(crew, 0, 1)
    with _statements() as few:
        page = owner.get("/panel/znak").get_data(as_text=True)
    assert "Dla tej oferty jest już otwarty wniosek" in page
    _add_offerings(crew, 1, 5)
    with _statements() as many:
        page = owner.get("/panel/znak").get_data(as_text=True)
    assert page.count("Dla tej oferty jest już otwarty wniosek") == 6
    assert page.count("Złóż wniosek o znak") == 1  # the crew's own offering has neither mark nor application
    assert len(many) == len(few)


def test_the_office_queue_is_part_of_the_moderation_panel_and_tables_have_captions(app):
    crew = people(app)
    in_review(app, crew)
    make_mark(crew["offering"], "ZJ/2020/0001", clock.today(), clock.today())
    db.session.commit()
    office = client_for(app, crew["moderator"])
    for tab in ("in_review", "marks"):
        html = office.get(f"/moderacja/znak?tab={tab}").get_data(as_text=True)
        assert 'aria-label="Panel moderacji"' in html
        assert 'href="/moderacja/znak" aria-current="page"' in html
        assert '<caption class="visually-hidden">' in html
    html = client_for(app, crew["member1"]).get("/kapitula").get_data(as_text=True)
    assert '<caption class="visually-hidden">Wnioski czekające na ocenę kapituły</caption>' in html


def test_the_form_hints_follow_the_rules(app, monkeypatch):
    crew = people(app)
    owner = client_for(app, crew["owner"])
    assert "co najmniej 30%." in owner.get(f"/panel/znak/wniosek?oferta={crew['offering'].id}").get_data(
        as_text=True)
    monkeypatch.setattr(labels, "OWN_REVENUE_GUIDE", 40)
    page = owner.get(f"/panel/znak/wniosek?oferta={crew['offering'].id}").get_data(as_text=True)
    assert "co najmniej 40%." in page and "co najmniej 6 miesięcy" in page
