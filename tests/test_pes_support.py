"""Helpers shared by the PES tests (this module holds no tests of its own)."""
import io
from contextlib import contextmanager

from PIL import Image
from sqlalchemy import text

from marketplace.extensions import db
from marketplace.pes.models import Pes
from tests.factories import login


def sign_in(client, user) -> None:
    """Log in through the real login form; the test's own data must be committed first."""
    db.session.commit()
    resp = login(client, user.email)
    assert resp.status_code == 302 and "/konto/logowanie" not in resp.headers["Location"], resp.status_code


def profile_form(**overrides) -> dict:
    """A complete, valid PES profile as the form posts it."""
    data = {
        "name": "Spółdzielnia Socjalna Przystań", "legal_form": "spoldzielnia_socjalna",
        "krs": "0000123456", "nip": "526-025-02-74", "regon": "123456785",
        "street": "ul. Szeroka 1", "postal_code": "87100", "city": "Toruń", "powiat": "0463",
        "service_area": ["0463", "0415"], "email": "biuro@przystan.example.org", "phone": "+48 56 000 00 00",
        "website": "przystan.example.org", "description": "Catering i sprzątanie.", "mission": "Praca dla ludzi.",
        "contact_person": "Jan Kowalski", "social_enterprise_status": "y", "disadvantaged_share": "45",
        "integration_mission": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def image_bytes(fmt: str = "PNG", size=(1200, 800), mode: str = "RGB", **save_args) -> bytes:
    img = Image.new(mode, size, "#2a7" if mode != "1" else 0)
    out = io.BytesIO()
    img.save(out, fmt, **save_args)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A photo as phones write it: camera make, a GPS position and a date in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2025:06:01 12:00:00"  # DateTime
    exif[0x8825] = {1: "N", 2: (53.0, 0.0, 0.0), 3: "E", 4: (18.0, 36.0, 0.0)}  # GPS IFD: Toruń
    return image_bytes("JPEG", size=(1600, 1200), exif=exif)


def upload(data: bytes, filename: str):
    return (io.BytesIO(data), filename)


def all_pes() -> list[Pes]:
    db.session.expire_all()
    return db.session.scalars(db.select(Pes)).all()


# The profile that profile_form() posts, as a verified PES: posting the form unchanged keeps it verified.
CHECKED_DATA = {"name": "Spółdzielnia Socjalna Przystań", "legal_form": "spoldzielnia_socjalna",
                "krs": "0000123456", "nip": "5260250274", "regon": "123456785", "social_enterprise_status": True,
                "disadvantaged_share": 45, "integration_mission": True}


def verified_pes(owner=None, **fields):
    from tests.factories import make_pes

    return make_pes(owner=owner, status="verified", **{**CHECKED_DATA, **fields})


@contextmanager
def writes_refused(table: str):
    """Make the database itself refuse to save rows of `table`, as a full disk or a broken server would.

    On PostgreSQL the refusal comes at commit (a deferred constraint trigger); SQLite has no deferred
    triggers, so there it comes when the row is written.
    """
    if db.engine.dialect.name == "postgresql":
        setup = [
            ("CREATE OR REPLACE FUNCTION test_refuse_write() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN RAISE EXCEPTION 'writes refused'; END $$"),
            (f"CREATE CONSTRAINT TRIGGER test_refuse AFTER INSERT OR UPDATE ON {table} "
             "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_write()")]
        teardown = [f"DROP TRIGGER IF EXISTS test_refuse ON {table}", "DROP FUNCTION IF EXISTS test_refuse_write()"]
    else:
        setup = [f"CREATE TRIGGER test_refuse_{op} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, 'writes refused'); END"
                 for op in ("INSERT", "UPDATE")]
        teardown = [f"DROP TRIGGER IF EXISTS test_refuse_{op}" for op in ("INSERT", "UPDATE")]
    db.session.commit()
    with db.engine.begin() as conn:
        for statement in setup:
            conn.execute(text(statement))
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            for statement in teardown:
                conn.execute(text(statement))
