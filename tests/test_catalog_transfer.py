"""`flask import` and `flask export` of offering records with their quality marks (CONTRACT sections 2-3)."""
import json
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from catalog.mark.models import QualityMark
from catalog.models import Offering
from marketplace.extensions import db

PES = {"type": "pes", "ref": "pes-0001", "name": "Spółdzielnia Socjalna Przystań", "legal_form": "spoldzielnia_socjalna",
       "powiat": "0463", "service_area": ["0463", "0415"], "verified": True}
OFFER = {"type": "offering", "ref": "off-001", "pes_ref": "pes-0001", "kind": "service",
         "title": "Catering dla szkół i przedszkoli", "description": "Obiady **dwudaniowe** z dowozem.",
         "category": "catering", "cpv": ["55524000-9"], "price_net": "18.50", "vat_rate": "8", "unit": "porcja",
         "tags": ["obiady", "dowóz"],
         "quality_mark": {"number": "ZJ/2025/007", "valid_from": "2025-06-01", "valid_until": "2026-05-31"}}


def write(tmp_path, records, name="in.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return str(path)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_offerings_import_with_their_pes_and_mark(runner, tmp_path):
    on_request = dict(OFFER, ref="off-002", price_net=None, quality_mark=None, kind="product", cpv=[])
    result = runner.invoke(args=["import", write(tmp_path, [PES, OFFER, on_request])])
    assert result.exit_code == 0, result.output
    assert "offering: 2 created, 0 updated" in result.output
    off = db.session.scalar(select(Offering).where(Offering.ref == "off-001"))
    assert off.pes.ref == "pes-0001" and off.price_net == Decimal("18.50") and off.cpv == ["55524000-9"]
    assert off.status == "published" and off.tags == ["obiady", "dowóz"] and off.is_public
    mark = db.session.scalar(select(QualityMark))
    assert (mark.number, mark.valid_from, mark.valid_until) == ("ZJ/2025/007", date(2025, 6, 1), date(2026, 5, 31))
    assert db.session.scalar(select(Offering).where(Offering.ref == "off-002")).price_on_request


def test_offering_for_a_pes_already_in_the_database(runner, tmp_path):
    assert runner.invoke(args=["import", write(tmp_path, [PES], "pes.jsonl")]).exit_code == 0
    assert runner.invoke(args=["import", write(tmp_path, [dict(OFFER, title="Nowy tytuł")])]).exit_code == 0
    again = runner.invoke(args=["import", write(tmp_path, [dict(OFFER, title="Jeszcze nowszy")], "b.jsonl")])
    assert again.exit_code == 0 and "offering: 0 created, 1 updated" in again.output
    assert db.session.scalar(select(Offering.title)) == "Jeszcze nowszy"
    assert count(QualityMark) == 1


def test_bad_offerings_are_named_and_nothing_is_written(runner, tmp_path):
    records = [PES,
               dict(OFFER, ref="o1", kind="usluga"),
               dict(OFFER, ref="o2", pes_ref="pes-nie-ma"),
               dict(OFFER, ref="o3", category="nieznana"),
               dict(OFFER, ref="o4", cpv=["55524000-1"]),
               dict(OFFER, ref="o5", price_net="-3.00"),
               dict(OFFER, ref="o6", price_net="12.345"),
               dict(OFFER, ref="o7", price_net="5000000"),
               dict(OFFER, ref="o8", vat_rate="7"),
               dict(OFFER, ref="o9", quality_mark={"number": "ZJ/1", "valid_from": "2026-05-01",
                                                   "valid_until": "2025-01-01"}),
               dict(OFFER, ref="o10", title=None),
               dict(OFFER, ref="o11", status="hidden")]
    result = runner.invoke(args=["import", write(tmp_path, records)])
    assert result.exit_code == 1
    out = result.output
    for n, field in ((2, "kind"), (3, "pes_ref"), (4, "category"), (5, "cpv"), (6, "price_net"), (7, "price_net"),
                     (8, "price_net"), (9, "vat_rate"), (10, "quality_mark"), (11, "title"), (12, "status")):
        assert f"line {n}: {field}:" in out, (n, field, out)
    assert "line 1:" not in out
    assert count(Offering) == 0 and count(QualityMark) == 0


def test_export_then_import_round_trips_offerings_and_marks(app, runner, tmp_path):
    records = [PES, OFFER, dict(OFFER, ref="off-x", status="draft", quality_mark=None, price_net=None,
                                service_area=["0463"])]
    assert runner.invoke(args=["import", write(tmp_path, records)]).exit_code == 0
    out = tmp_path / "export.jsonl"
    assert runner.invoke(args=["export", str(out)]).exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["type"] for r in exported] == ["pes", "offering", "offering"]
    assert exported[1]["quality_mark"]["number"] == "ZJ/2025/007" and exported[2]["price_net"] is None

    db.session.execute(db.delete(QualityMark))
    db.session.execute(db.delete(Offering))
    from marketplace.pes.models import Pes
    db.session.execute(db.delete(Pes))
    db.session.commit()
    assert runner.invoke(args=["import", str(out)]).exit_code == 0
    again = tmp_path / "again.jsonl"
    runner.invoke(args=["export", str(again)])
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_a_renewed_offering_exports_the_mark_valid_today_and_keeps_the_other(app, runner, tmp_path):
    app.config["CLOCK_OFFSET_DAYS"] = 0
    from marketplace import clock

    today = clock.today()
    valid = {"number": "ZJ/2026/0100", "valid_from": date(today.year - 1, 1, 1).isoformat(),
             "valid_until": date(today.year + 1, 1, 1).isoformat()}
    renewal = {"number": "ZJ/2026/0101", "valid_from": date(today.year + 1, 1, 2).isoformat(),
               "valid_until": date(today.year + 2, 1, 1).isoformat()}
    offer = dict(OFFER, quality_mark=renewal, quality_marks=[valid])
    assert runner.invoke(args=["import", write(tmp_path, [PES, offer])]).exit_code == 0, "import"
    out = tmp_path / "export.jsonl"
    runner.invoke(args=["export", str(out)])
    record = json.loads(out.read_text(encoding="utf-8").splitlines()[1])
    assert record["quality_mark"]["number"] == "ZJ/2026/0100"  # the one valid today, for every reader
    assert [m["number"] for m in record["quality_marks"]] == ["ZJ/2026/0101"]

    db.session.execute(db.delete(QualityMark))
    db.session.commit()
    assert runner.invoke(args=["import", str(out)]).exit_code == 0
    assert sorted(db.session.scalars(select(QualityMark.number))) == ["ZJ/2026/0100", "ZJ/2026/0101"]


def test_a_mark_number_cannot_move_to_another_offering(runner, tmp_path):
    other = dict(OFFER, ref="off-002", title="Inna oferta")
    result = runner.invoke(args=["import", write(tmp_path, [PES, OFFER, other])])
    assert result.exit_code == 1 and "line 3: quality_mark: number ZJ/2025/007 is already given to offering" in \
        result.output
    assert runner.invoke(args=["import", write(tmp_path, [PES, OFFER], "ok.jsonl")]).exit_code == 0
    result = runner.invoke(args=["import", write(tmp_path, [other], "move.jsonl")])
    assert result.exit_code == 1 and "belongs to offering 'off-001'" in result.output
    mark = db.session.scalar(select(QualityMark))
    assert mark.offering.ref == "off-001" and mark.offering_title == OFFER["title"]
