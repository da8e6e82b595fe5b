"""A synthetic catalogue in the portal's import format (JSON Lines of PES and offering records).

The same seed and size always give the same file: every random choice comes from one random.Random, and
no date depends on the day the benchmark runs (quality marks have fixed periods).
"""
from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import vocabulary as voc

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES_FILE = ROOT / "catalog" / "data" / "categories.json"
CPV_FILE = ROOT / "catalog" / "data" / "cpv_pl.csv"
REGION_FILE = ROOT / "marketplace" / "region" / "data" / "kujawsko-pomorskie.json"

OFFERINGS_PER_PES = 50
MARK_SHARE = 0.05
PRICE_ON_REQUEST_SHARE = 0.15
STREETS = ("Szeroka", "Długa", "Polna", "Lipowa", "Kościuszki", "Mickiewicza", "Wiejska", "Toruńska", "Bydgoska",
           "Kolejowa", "Ogrodowa", "Sienkiewicza")
INTEGRATION_FORMS = {"spoldzielnia_socjalna", "cis", "kis", "zaz", "wtz"}

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
REGON_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
# Tax office prefixes of NIPs issued in the region (any three digits would do for the checksum).
NIP_PREFIXES = ("554", "953", "967", "879", "956", "876", "888", "556", "874", "891", "557", "562", "878")


def nip(rng: random.Random) -> str:
    """A NIP whose check digit is right (weighted sum mod 11; a sum giving 10 is never issued)."""
    while True:
        digits = rng.choice(NIP_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(6))
        check = sum(int(d) * w for d, w in zip(digits, NIP_WEIGHTS)) % 11
        if check != 10:
            return digits + str(check)


def regon(rng: random.Random) -> str:
    """A nine-digit REGON with its check digit (weighted sum mod 11, 10 written as 0)."""
    digits = "34" + "".join(str(rng.randrange(10)) for _ in range(6))
    check = sum(int(d) * w for d, w in zip(digits, REGON_WEIGHTS)) % 11
    return digits + str(check % 10)


def adjective(base: str, gender: str) -> str:
    """An adjective agreeing with a noun's gender: "domowy" -> "domowa" (f), "domowe" (n and plural)."""
    head, _, last = base.rpartition(" ")
    if gender == "m":
        form = last
    elif last.endswith("y"):
        form = last[:-1] + ("a" if gender == "f" else "e")
    elif last.endswith(("ki", "gi")):
        form = last[:-1] + "a" if gender == "f" else last + "e"
    else:  # a soft stem: "tani" -> "tania", "tanie"
        form = last + ("a" if gender == "f" else "e")
    return f"{head} {form}" if head else form


def in_place(locative: str) -> str:
    """The preposition "w" with a town's locative: "we" before w or f and another consonant ("we Włocławku")."""
    vowels = "aąeęioóuy"
    head = locative[:2].lower()
    return ("we " if head[:1] in "wf" and head[1:2] not in vowels else "w ") + locative


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class Corpus:
    records: list[dict] = field(default_factory=list)
    pes: list[dict] = field(default_factory=list)
    offerings: list[dict] = field(default_factory=list)

    def write(self, path: Path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in self.records)

    def public_offerings(self) -> list[dict]:
        """Offerings the search shows: published, of a verified PES."""
        verified = {p["ref"] for p in self.pes if p.get("verified")}
        return [o for o in self.offerings if o.get("status", "published") == "published" and o["pes_ref"] in verified]


def _cpv_by_category(categories: list[dict]) -> dict[str, list[str]]:
    with open(CPV_FILE, encoding="utf-8", newline="") as fh:
        codes = [row["code"] for row in csv.DictReader(fh)]
    out = {}
    for cat in categories:
        prefixes = tuple(cat.get("cpv_prefixes") or ())
        out[cat["slug"]] = [c for c in codes if prefixes and c.replace("-", "").startswith(prefixes)]
    return out


def _title(rng: random.Random, vocab: dict, item: tuple, town: str) -> str:
    phrase, gender = item[0], item[1]
    shape = rng.random()
    if shape < 0.3:
        text = f"{adjective(rng.choice(vocab['adjectives']), gender)} {phrase}"
    else:
        text = phrase
    if rng.random() < 0.75:
        text += " " + rng.choice(vocab["targets"])
    if shape > 0.92:
        text += f" – {town}"
    return capital(text)


def _area_phrase(powiat_code: str, powiats: dict) -> str:
    p = powiats[powiat_code]
    if p["kind"] == "grodzki" or p["name"][:1].isupper():
        return f"w mieście {p['name']}"
    name = p["name"]  # "toruński" -> "w powiecie toruńskim"
    return f"w powiecie {name[:-1] + 'im' if name.endswith('i') else name}"


def _description(rng: random.Random, vocab: dict, title: str, town_loc: str, area: str) -> str:
    sentences = rng.sample(vocab["sentences"], k=min(len(vocab["sentences"]), rng.randint(2, 4)))
    closing = rng.sample(voc.CLOSING_SENTENCES, k=rng.randint(1, 3))
    parts = [f"{title}."] if rng.random() < 0.4 else []
    parts += sentences + [s.format(town=in_place(town_loc), area=area) for s in closing]
    text = " ".join(parts)
    if rng.random() < 0.1:  # some editors write Markdown lists
        bullets = rng.sample(vocab["tags"], k=min(3, len(vocab["tags"])))
        text += "\n\nW ofercie:\n\n" + "\n".join(f"- {b}" for b in bullets)
    return text


def _pes_name(rng: random.Random, form: str, town_loc: str) -> str:
    named = rng.choice(voc.PES_NAMES)
    where = f" {in_place(town_loc)}" if rng.random() < 0.5 else ""
    return {
        "spoldzielnia_socjalna": f"Spółdzielnia Socjalna {named}{where}",
        "fundacja": f"Fundacja {rng.choice(voc.FOUNDATION_NAMES)}",
        "stowarzyszenie": f"Stowarzyszenie {rng.choice(voc.ASSOCIATION_NAMES)}",
        "cis": f"Centrum Integracji Społecznej {in_place(town_loc)}",
        "kis": f"Klub Integracji Społecznej {in_place(town_loc)}",
        "zaz": f"Zakład Aktywności Zawodowej {named}" if rng.random() < 0.5 else
               f"Zakład Aktywności Zawodowej {in_place(town_loc)}",
        "wtz": f"Warsztat Terapii Zajęciowej {named}" if rng.random() < 0.5 else
               f"Warsztat Terapii Zajęciowej {in_place(town_loc)}",
        "spoldzielnia_pracy": f"Spółdzielnia Pracy {named}",
        "spoldzielnia_inwalidow": f"Spółdzielnia Inwalidów {named}",
        "kgw": f"Koło Gospodyń Wiejskich {in_place(town_loc)}",
        "spolka_non_profit": f"{named} sp. z o.o. non profit",
        "inna": f"Zespół Caritas {in_place(town_loc)}",
    }[form]


def generate(n: int, seed: int) -> Corpus:
    """n offerings of about n/50 PES."""
    rng = random.Random(seed)
    categories = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))["categories"]
    subcats = {c["slug"]: {s["slug"] for s in c["subcategories"]} for c in categories}
    powiats = {p["code"]: p for p in json.loads(REGION_FILE.read_text(encoding="utf-8"))["powiats"]}
    cpv_codes = _cpv_by_category(categories)
    towns_by_powiat: dict[str, list[tuple]] = {}
    for town in voc.TOWNS:
        towns_by_powiat.setdefault(town[2], []).append(town)
    powiat_codes = sorted(voc.POWIAT_WEIGHTS)
    powiat_weights = [voc.POWIAT_WEIGHTS[c] for c in powiat_codes]
    forms = sorted(voc.LEGAL_FORMS)
    form_weights = [voc.LEGAL_FORMS[f][0] for f in forms]
    corpus = Corpus()

    n_pes = max(1, round(n / OFFERINGS_PER_PES))
    pes_info = []
    for i in range(1, n_pes + 1):
        ref = f"pes-{i:05d}"
        form = rng.choices(forms, form_weights)[0]
        powiat = rng.choices(powiat_codes, powiat_weights)[0]
        town, town_loc, _code, postal = rng.choice(towns_by_powiat[powiat])
        if postal.endswith("-"):
            postal += f"{rng.randrange(1000):03d}"
        area = [powiat] + rng.sample([c for c in powiat_codes if c != powiat], k=rng.choice((0, 0, 1, 1, 2, 3)))
        share = rng.choice((0, 10, 25, 30, 35, 45, 50, 60, 75, 90)) if rng.random() < 0.9 else None
        name = _pes_name(rng, form, town_loc)
        street = f"ul. {rng.choice(STREETS)} {rng.randint(1, 120)}"
        rec = {"type": "pes", "ref": ref, "name": name, "legal_form": form,
               "address": {"street": street, "postal_code": postal, "city": town},
               "powiat": powiat, "service_area": area,
               "email": f"kontakt@{ref}.example.org", "phone": f"+48 {rng.choice(['52', '54', '56'])} "
                                                              f"{rng.randint(300, 699)} {rng.randint(10, 99)} "
                                                              f"{rng.randint(10, 99)}",
               "description": f"{name} – {town}. " + " ".join(rng.sample(voc.PES_SENTENCES, k=3)),
               "social_enterprise_status": rng.random() < 0.4,
               "verified": rng.random() < 0.97}
        if share is not None:
            rec["disadvantaged_share"] = share
        if rng.random() < 0.3:  # stated explicitly; otherwise the legal form's default applies
            rec["integration_mission"] = rng.random() < 0.6
        if rng.random() < 0.9:
            rec["nip"] = nip(rng)
        if rng.random() < 0.8:
            rec["regon"] = regon(rng)
        if form in voc.WITH_KRS and rng.random() < 0.9:
            rec["krs"] = f"{rng.randint(100000, 999999):010d}"
        if rng.random() < 0.4:
            rec["website"] = f"https://{ref}.example.org"
        corpus.records.append(rec)
        corpus.pes.append(rec)
        pes_info.append({"ref": ref, "town": town, "town_loc": town_loc, "area": _area_phrase(powiat, powiats),
                         "cats": voc.LEGAL_FORMS[form][1], "weight": rng.lognormvariate(0, 0.8)})

    cat_slugs = sorted(voc.CATEGORIES)
    pes_weights = [p["weight"] for p in pes_info]
    mark_seq = 0
    for i in range(1, n + 1):
        pes = pes_info[i - 1] if i <= len(pes_info) else rng.choices(pes_info, pes_weights)[0]
        slug = rng.choice(pes["cats"]) if rng.random() < 0.8 else rng.choice(cat_slugs)
        vocab = voc.CATEGORIES[slug]
        item = rng.choice(vocab["items"])
        kind = item[3] if len(item) > 3 else vocab["kind"]
        title = _title(rng, vocab, item, pes["town"])
        rec = {"type": "offering", "ref": f"off-{i:06d}", "pes_ref": pes["ref"], "kind": kind, "title": title,
               "description": _description(rng, vocab, title, pes["town_loc"], pes["area"]),
               "category": slug}
        sub = item[2]
        if sub and sub in subcats[slug] and rng.random() < 0.7:
            rec["subcategory"] = sub
        codes = cpv_codes.get(slug) or []
        if codes:
            rec["cpv"] = sorted(rng.sample(codes, k=min(len(codes), rng.choice((0, 1, 1, 2)))))
        lo, hi = vocab["price"]
        if rng.random() < PRICE_ON_REQUEST_SHARE:
            rec["price_net"] = None
        else:
            rec["price_net"] = f"{rng.uniform(lo, hi):.2f}"
        rec["vat_rate"] = rng.choice(vocab["vat"])
        rec["unit"] = rng.choice(vocab["units"])
        rec["tags"] = rng.sample(vocab["tags"], k=rng.randint(0, min(4, len(vocab["tags"]))))
        if rng.random() < 0.05:
            rec["service_area"] = sorted(rng.sample(powiat_codes, k=rng.randint(1, 4)))
        if rng.random() < MARK_SHARE:
            mark_seq += 1
            start = date(2025, 1, 1) + timedelta(days=rng.randrange(540))
            # Most marks are valid for years to come; about one in seven has already expired.
            end = date(2024, 12, 31) if rng.random() < 0.15 else start + timedelta(days=rng.choice((730, 1095, 1460)))
            if end < start:
                start = date(2023, 12, 1)
            rec["quality_mark"] = {"number": f"ZJ/{start.year}/{mark_seq:05d}", "valid_from": start.isoformat(),
                                   "valid_until": end.isoformat()}
        r = rng.random()
        if r < 0.02:
            rec["status"] = "draft"
        elif r < 0.03:
            rec["status"] = "archived"
        corpus.records.append(rec)
        corpus.offerings.append(rec)
    return corpus


def effective_integration_mission(pes: dict) -> bool:
    """The value the portal stores: given, or the legal form's default (CONTRACT section 3)."""
    value = pes.get("integration_mission")
    return pes["legal_form"] in INTEGRATION_FORMS if value is None else bool(value)
