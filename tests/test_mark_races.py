"""Forms sent twice at once: the second request waits for the first one's row lock and then sees its result.

Each race runs two requests in two threads, each with its own app context and database session. The test
itself holds the application's row lock until both requests wait for it, then lets go, so the two really
meet at the lock every time. PostgreSQL only: SQLite lets one writer in at a time and has no row locks.
"""
import threading
import time

import pytest
from sqlalchemy import func, select, text

from catalog.mark import review
from catalog.mark.models import MarkApplication, MarkScore, QualityMark
from marketplace.extensions import db
from tests.test_mark_helpers import client_for, in_review, people, score_data, token


@pytest.fixture
def postgres(pg_url):
    if not pg_url:
        pytest.skip("row locks need PostgreSQL (set TEST_DATABASE_URL); SQLite serialises writers instead")


def _waiting_for_locks() -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar()


def _race(application_id: int, posts) -> list:
    """Hold the application's row lock, start every post in its own thread, wait until they queue behind the
    lock (or a few seconds), let go; returns [(status, page)] or the exceptions raised."""
    db.session.execute(select(MarkApplication.id).where(MarkApplication.id == application_id).with_for_update())
    results = []

    def run(post):
        try:
            response = post()
            results.append((response.status_code, response.get_data(as_text=True)))
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            results.append(exc)

    threads = [threading.Thread(target=run, args=(post,)) for post in posts]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while _waiting_for_locks() < len(posts) and time.monotonic() < deadline:
        time.sleep(0.05)
    db.session.rollback()  # let go of the lock
    for t in threads:
        t.join(30)
    return results


def test_a_double_submitted_grant_awards_one_mark(app, postgres, mailbox):
    crew = people(app)
    application = in_review(app, crew, scored_by=("member1", "member2"))
    chairs = [client_for(app, crew["chair"]) for _ in range(2)]
    forms = [{"csrf_token": token(c), "decision": "grant", "reason": "Produkt wysokiej jakości."} for c in chairs]
    posts = [lambda c=c, f=f: c.post(f"/kapitula/{application.id}/decyzja", data=f, follow_redirects=True)
             for c, f in zip(chairs, forms)]
    results = _race(application.id, posts)
    assert all(isinstance(r, tuple) and r[0] == 200 for r in results), results
    pages = [page for _status, page in results]
    assert sum("Znak przyznany" in p for p in pages) == 1
    assert sum("Tej czynności nie można wykonać, gdy wniosek ma status" in p for p in pages) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(QualityMark)) == 1
    assert db.session.get(MarkApplication, application.id).status == "granted"
    assert sum("Przyznano znak jakości" in m["Subject"] for m in mailbox.to(crew["owner"].email)) == 1


def test_a_double_submitted_first_score_is_saved_once(app, postgres):
    crew = people(app)
    application = in_review(app, crew)
    members = [client_for(app, crew["member1"]) for _ in range(2)]
    forms = [score_data(c, value) for c, value in zip(members, (4, 5))]
    posts = [lambda c=c, f=f: c.post(f"/kapitula/{application.id}/ocena", data=f, follow_redirects=True)
             for c, f in zip(members, forms)]
    results = _race(application.id, posts)
    assert all(isinstance(r, tuple) and r[0] == 200 for r in results), results
    assert all("Twoja ocena została zapisana" in page for _status, page in results)
    db.session.expire_all()
    rows = db.session.scalars(select(MarkScore).where(MarkScore.application_id == application.id)).all()
    assert len(rows) == 5 and len({r.score for r in rows}) == 1  # one member's five scores, from one form


def test_a_score_inserted_meanwhile_is_updated_not_duplicated(app):
    """The savepoint path: the member's score row appears after the application's scores were read (as a
    twin request would insert it); saving updates that row instead of failing on the unique key."""
    crew = people(app)
    application = in_review(app, crew)
    member = crew["member1"]
    application = db.session.get(MarkApplication, application.id)
    assert application.scores == []
    db.session.execute(MarkScore.__table__.insert().values(application_id=application.id, member_id=member.id,
                                                           criterion="quality", score=1, comment="stara"))
    review.score(member, application, {c: (3, "nowa") for c in review.CRITERIA})
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(select(MarkScore).where(MarkScore.member_id == member.id)).all()
    assert len(rows) == 5 and {(r.score, r.comment) for r in rows} == {(3, "nowa")}
