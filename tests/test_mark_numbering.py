"""Certificate numbers: the configured format, one sequence per year, no gaps or duplicates under concurrency."""
import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from catalog.mark import numbering, review
from catalog.mark.models import MarkApplication, MarkNumberCounter, QualityMark
from marketplace import clock
from marketplace.extensions import db
from tests.test_mark_helpers import make_mark, make_offering, people


def test_validity_is_twelve_months_less_a_day():
    assert numbering.validity(date(2026, 3, 15), 12) == (date(2026, 3, 15), date(2027, 3, 14))
    assert numbering.validity(date(2026, 1, 1), 12) == (date(2026, 1, 1), date(2026, 12, 31))
    assert numbering.validity(date(2028, 2, 29), 12) == (date(2028, 2, 29), date(2029, 2, 28))
    assert numbering.validity(date(2026, 1, 31), 1) == (date(2026, 1, 31), date(2026, 2, 28))


@pytest.mark.parametrize("app_config", [{"MARK_NUMBER_FORMAT": "KP-ZJ-{seq:03d}/{year}",
                                         "MARK_VALIDITY_MONTHS": 24}])
def test_format_and_validity_come_from_the_configuration(app):
    crew = people(app)
    application = _application(crew, crew["offering"])
    mark = review.award(application)
    year = clock.today().year
    assert mark.number == f"KP-ZJ-001/{year}"
    assert mark.valid_until == numbering.validity(clock.today(), 24)[1]


def _application(crew, offering) -> MarkApplication:
    application = MarkApplication(offering_id=offering.id, pes_id=offering.pes_id, status="in_review",
                                  months_operating=12, own_revenue_share=40, quality_statement="x",
                                  recommendations=[])
    db.session.add(application)
    db.session.flush()
    return application


def test_numbers_run_per_year_and_pass_over_imported_ones(app):
    crew = people(app)
    year = clock.today().year
    make_mark(crew["offering"], f"ZJ/{year}/0002", clock.today(), clock.today() + timedelta(days=30))
    assert [numbering.allocate(year) for _ in range(3)] == [f"ZJ/{year}/0001", f"ZJ/{year}/0003",
                                                            f"ZJ/{year}/0004"]
    assert numbering.allocate(year + 1) == f"ZJ/{year + 1}/0001"
    db.session.rollback()  # an award that fails gives its numbers back
    assert numbering.allocate(year) == f"ZJ/{year}/0001"


def _award_in_thread(app, application_id: int, barrier: threading.Barrier, results: list, errors: list):
    with app.app_context():
        try:
            application = db.session.get(MarkApplication, application_id)
            barrier.wait(timeout=10)
            mark = review.award(application)
            db.session.commit()
            results.append(mark.number)
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            db.session.rollback()
            errors.append(exc)
        finally:
            db.session.remove()


@pytest.mark.parametrize("existing_counter", [False, True])
def test_two_awards_at_once_get_two_consecutive_numbers(app, existing_counter):
    """Four awards in four threads, each with its own session, released together: on PostgreSQL the counter
    row lock orders them (and a missing row is inserted by one, the others' inserts fail and retry); SQLite
    serialises the writers."""
    crew = people(app)
    year = clock.today().year
    if existing_counter:
        db.session.add(MarkNumberCounter(year=year, last=7))
    ids = [_application(crew, make_offering(crew["pes"], title=f"Oferta {i}")).id for i in range(4)]
    db.session.commit()
    barrier = threading.Barrier(len(ids))
    results, errors = [], []
    threads = [threading.Thread(target=_award_in_thread, args=(app, i, barrier, results, errors)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    first = 8 if existing_counter else 1
    assert sorted(results) == [f"ZJ/{year}/{n:04d}" for n in range(first, first + len(ids))]
    db.session.expire_all()
    assert db.session.scalar(select(MarkNumberCounter.last).where(MarkNumberCounter.year == year)) \
        == first + len(ids) - 1
    assert len(set(db.session.scalars(select(QualityMark.number)))) == len(ids)


@pytest.mark.parametrize("changes, words", [
    ({"MARK_NUMBER_FORMAT": "ZJ/{year}"}, "must contain {year} and {seq}"),
    ({"MARK_NUMBER_FORMAT": "ZJ/{seq:04d}"}, "must contain {year} and {seq}"),
    ({"MARK_NUMBER_FORMAT": "ZJ/{year}/{seq:x4}"}, "cannot be formatted"),
    ({"MARK_NUMBER_FORMAT": "ZJ/{year}/{seq}/" + "X" * 40}, "longer than 40"),
    ({"MARK_VALIDITY_MONTHS": 0}, "MARK_VALIDITY_MONTHS must be a whole number"),
])
def test_a_configuration_that_cannot_work_stops_the_portal_at_start(tmp_path, changes, words):
    from app import create_app
    from tests.conftest import make_test_config

    with pytest.raises(numbering.MarkConfigError, match=re.escape(words)):
        create_app(make_test_config(tmp_path, None, **changes))


def test_a_format_without_the_sequence_is_refused_on_use_too(app):
    crew = people(app)
    application = _application(crew, crew["offering"])
    app.config["MARK_NUMBER_FORMAT"] = "ZJ/{year}"  # changed after the start: no endless search for a number
    with pytest.raises(numbering.MarkConfigError, match="must contain"):
        review.award(application)
    db.session.rollback()
    assert db.session.scalar(select(QualityMark)) is None
