"""`flask demo`: an empty database gets the schema, the demo data set and a login for every role."""
import json
from pathlib import Path

from sqlalchemy import func, select

from accounts.models import User
from accounts.passwords import verify_password
from app import create_app
from marketplace import region
from marketplace.demo import DEMO_PASSWORD
from marketplace.extensions import db
from marketplace.pes.models import LEGAL_FORMS, Pes, PesMembership
from tests.conftest import make_test_config

DEMO_FILE = Path(__file__).resolve().parents[1] / "marketplace" / "data" / "demo" / "pes.jsonl"


def test_demo_file_covers_the_region_and_the_legal_forms():
    records = [json.loads(line) for line in DEMO_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    pes = [r for r in records if r["type"] == "pes"]
    assert len(pes) >= 30
    assert all(r.get("verified") for r in pes)
    assert {r["powiat"] for r in pes} == set(region.powiat_codes())
    assert {r["legal_form"] for r in pes} == set(LEGAL_FORMS)


def test_demo_loads_into_an_empty_database_and_prints_logins(tmp_path, empty_db_url):
    app = create_app(make_test_config(tmp_path, empty_db_url))
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        for email in ("admin@demo.example.org", "moderator@demo.example.org", "kupujacy@demo.example.org",
                      "zamawiajacy@demo.example.org", "pes@demo.example.org", "kapitula@demo.example.org",
                      "przewodniczaca@demo.example.org"):
            assert email in result.output
        assert DEMO_PASSWORD in result.output
        verified = db.session.scalar(select(func.count()).select_from(Pes).where(Pes.status == "verified"))
        assert verified >= 30
        from catalog.mark.models import QualityMark
        from catalog.mark.queries import current_mark
        from catalog.models import Offering

        offerings = db.session.scalars(select(Offering)).all()
        assert len(offerings) >= 200
        assert {o.category for o in offerings} >= {"catering", "sprzatanie", "zielen", "biuro-it", "inne"}
        assert any(o.price_on_request for o in offerings) and any(not o.price_on_request for o in offerings)
        valid = [o for o in offerings if current_mark(o)]
        expired = db.session.scalar(select(func.count()).select_from(QualityMark)) - len(valid)
        assert len(valid) >= 5 and expired >= 1
        roles = set(db.session.scalars(select(User.role)))
        assert roles == {"admin", "moderator", "buyer", "purchaser", "committee", "committee_chair"}
        owner = db.session.scalar(select(User).where(User.email == "pes@demo.example.org"))
        assert verify_password(owner.password_hash, DEMO_PASSWORD)
        assert db.session.scalar(select(PesMembership.role).where(PesMembership.user_id == owner.id)) == "owner"
        purchaser = db.session.scalar(select(User).where(User.role == "purchaser"))
        assert purchaser.is_verified_purchaser

        from marketplace.procurement.models import GuidancePage, LegalValue

        assert db.session.scalar(select(func.count()).select_from(GuidancePage)) == 7
        assert db.session.scalar(select(func.count()).select_from(LegalValue).where(
            LegalValue.key == "pzp_threshold")) == 2  # 130 000 zł and, from 2026, 170 000 zł

        again = runner.invoke(args=["demo"])  # a second run changes nothing and still prints the logins
        assert again.exit_code == 0 and "already holds data" in again.output
        assert db.session.scalar(select(func.count()).select_from(Pes)) == verified
        db.session.remove()
        db.engine.dispose()


def test_demo_mark_dates_follow_today():
    from datetime import date, timedelta

    from marketplace.demo import REFERENCE_DAY, shift_mark_dates

    lines = [ln for ln in (DEMO_FILE.parent / "offerings.jsonl").read_text(encoding="utf-8").splitlines()
             if "quality_mark" in ln]
    later = REFERENCE_DAY + timedelta(days=400)
    moved = shift_mark_dates(lines, later)
    for before, after in zip(lines, moved):
        old, new = json.loads(before)["quality_mark"], json.loads(after)["quality_mark"]
        assert date.fromisoformat(new["valid_until"]) - date.fromisoformat(old["valid_until"]) == timedelta(days=400)
    assert shift_mark_dates(lines, REFERENCE_DAY) == lines
