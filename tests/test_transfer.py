"""`flask import` and `flask export` of PES records (CONTRACT sections 2-3)."""
import json
from pathlib import Path

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.pes.models import Pes
from tests.factories import make_pes

CATALOGUE = Path(__file__).resolve().parent / "fixtures" / "catalogue.jsonl"  # the search tests' catalogue

GOOD = {"type": "pes", "ref": "pes-0001", "name": "Spółdzielnia Socjalna Przystań",
        "legal_form": "spoldzielnia_socjalna", "krs": "0000123456", "nip": "5260250274", "regon": "123456785",
        "address": {"street": "ul. Szeroka 1", "postal_code": "87-100", "city": "Toruń"},
        "powiat": "0463", "service_area": ["0463", "0415"], "email": "biuro@example.org",
        "phone": "+48 56 000 00 00", "website": "https://example.org", "description": "Catering i sprzątanie.",
        "social_enterprise_status": True, "disadvantaged_share": 45, "verified": True}


def write(tmp_path, records, name="in.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
                    + "\n", encoding="utf-8")
    return str(path)


def pes_count():
    return db.session.scalar(select(func.count()).select_from(Pes))


def test_import_creates_then_updates_by_ref(runner, tmp_path):
    path = write(tmp_path, [GOOD, {"type": "pes", "ref": "pes-0002", "name": "KGW w Lubiczu",
                                   "legal_form": "kgw", "powiat": "0415"}])
    result = runner.invoke(args=["import", path])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated" in result.output
    pes = db.session.scalar(select(Pes).where(Pes.ref == "pes-0001"))
    assert pes.status == "verified" and pes.service_area == ["0415", "0463"]
    assert pes.integration_mission is True  # default for a social cooperative
    assert pes.reserved_eligible
    kgw = db.session.scalar(select(Pes).where(Pes.ref == "pes-0002"))
    assert kgw.status == "pending" and kgw.service_area == ["0415"] and kgw.integration_mission is False

    changed = dict(GOOD, name="Przystań – nowa nazwa", service_area=["0463"])
    result = runner.invoke(args=["import", write(tmp_path, [changed], "again.jsonl")])
    assert result.exit_code == 0 and "0 created, 1 updated" in result.output
    db.session.expire_all()
    pes = db.session.scalar(select(Pes).where(Pes.ref == "pes-0001"))
    assert pes.name == "Przystań – nowa nazwa" and pes.service_area == ["0463"]
    assert pes_count() == 2


def test_a_file_with_bad_lines_writes_nothing_and_names_every_bad_line(runner, tmp_path):
    records = [GOOD,
               dict(GOOD, ref="pes-bad-nip", nip="1234567890"),
               "{not json",
               {"type": "pes", "ref": "pes-x", "legal_form": "fundacja", "powiat": "9999"},
               dict(GOOD, ref="pes-0001"),
               {"type": "widget", "ref": "w-1"},
               dict(GOOD, ref="pes-ok-2", nip="526-025-02-74"),
               dict(GOOD, ref="pes-bad-krs", krs="12AB", regon="12345")]
    result = runner.invoke(args=["import", write(tmp_path, records)])
    assert result.exit_code == 1
    out = result.output
    assert "line 2: nip:" in out
    assert "line 3: json:" in out
    assert "line 4: name: is required" in out and "line 4: powiat:" in out
    assert "line 5: ref: duplicate ref" in out
    assert "line 6: type:" in out
    assert "line 8: krs:" in out and "line 8: regon:" in out
    assert "line 1:" not in out and "line 7:" not in out
    assert pes_count() == 0


def test_export_then_import_round_trips(app, runner, tmp_path):
    make_pes(ref="pes-a", name="Fundacja Drewniany Most", legal_form="fundacja", powiat="0461",
             service_area=["0461", "0403"], nip="5260250274", disadvantaged_share=20, mission="Praca dla wszystkich.")
    make_pes(ref="pes-b", status="suspended", legal_form="cis", powiat="0462")
    db.session.commit()
    out = tmp_path / "export.jsonl"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["ref"] for r in records] == ["pes-a", "pes-b"]
    assert records[0]["service_area"] == ["0403", "0461"] and records[1]["verified"] is False

    # Import into an empty database and export again: the same records.
    db.session.execute(db.delete(Pes))
    db.session.commit()
    assert runner.invoke(args=["import", str(out)]).exit_code == 0
    again = tmp_path / "again.jsonl"
    runner.invoke(args=["export", str(again)])
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    suspended = db.session.scalar(select(Pes).where(Pes.ref == "pes-b"))
    assert suspended.status == "suspended"


def test_the_catalogue_fixture_pes_records_import(runner, tmp_path):
    lines = [ln for ln in CATALOGUE.read_text(encoding="utf-8").splitlines() if '"type": "pes"' in ln]
    assert len(lines) == 11
    result = runner.invoke(args=["import", write(tmp_path, lines)])
    assert result.exit_code == 0, result.output
    assert "11 created, 0 updated" in result.output
    assert pes_count() == len(lines)
    statuses = dict(db.session.execute(select(Pes.ref, Pes.status)).all())
    assert [ref for ref, status in statuses.items() if status != "verified"] == ["pes-11"]
    eligible = {p.ref for p in db.session.scalars(select(Pes)) if p.reserved_eligible}
    assert eligible == {"pes-01", "pes-02", "pes-03", "pes-05", "pes-06"}  # a mission and at least 30%


def test_wrong_types_and_lengths_are_named_not_crashes(runner, tmp_path):
    records = [dict(GOOD, type=["pes"]),
               dict(GOOD, ref="x" * 65),
               dict(GOOD, ref="pes-addr", address={"street": 12, "city": ["Toruń"]}),
               dict(GOOD, ref="pes-form", legal_form=["cis"], powiat=463),
               dict(GOOD, ref="pes ze spacją"),
               dict(GOOD, ref="pes-long", description="x" * 5001)]
    result = runner.invoke(args=["import", write(tmp_path, records)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "line 1: type:" in out
    assert "line 2: ref:" in out
    assert "line 3: address: street" in out and "line 3: address: city" in out
    assert "line 4: legal_form:" in out and "line 4: powiat:" in out
    assert "line 5: ref:" in out
    assert "line 6: description:" in out
    assert pes_count() == 0


def test_imports_are_in_the_audit_log(runner, tmp_path):
    from marketplace.audit import AuditEntry

    assert runner.invoke(args=["import", write(tmp_path, [GOOD])]).exit_code == 0
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.actor_id, entry.after["ref"], entry.after["status"]) == (
        "pes.import", None, "pes-0001", "verified")
