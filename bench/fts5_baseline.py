"""The baseline: the same corpus and the same queries on SQLite FTS5, run in-process (no HTTP, no Flask).

One FTS5 table holds each public offering's text (title, tags, category and subcategory names, CPV names,
description, PES name, PES town, names of the powiats served) with the `unicode61 remove_diacritics 2`
tokenizer; "ł", which that tokenizer keeps, is folded in Python on both sides. A plain table holds the
filter fields and another the powiats served. A query word becomes a prefix query of the word cut by one or
two letters (light stemming: "wesele" -> "wesel*" also finds "wesela"), words are ANDed, and a few Polish
stop words are dropped. The matching rows are copied once, with their score and filter fields, into a
temporary table that the counts then read. Snippets show the text as indexed (with "ł" folded). Per query it
computes what the portal's API answers: the total, one page ordered by
relevance (bm25 with field weights), price or date, a snippet for each item on the page, and the five facets,
each without its own filter.
"""
from __future__ import annotations

import csv
import json
import re
import sqlite3
import time
from datetime import date

import corpus as corpus_mod

TEXT_COLUMNS = ("title", "tags", "category_names", "cpv_names", "description", "pes_name", "pes_town",
                "area_names")
BM25_WEIGHTS = (6.0, 4.0, 3.0, 2.5, 1.0, 2.0, 1.5, 1.0)  # the order of TEXT_COLUMNS
STOP_WORDS = {"a", "i", "o", "u", "w", "z", "we", "ze", "na", "do", "od", "po", "dla", "nad", "pod", "przez",
              "bez", "oraz", "lub", "albo", "the"}
WORD = re.compile(r"[^\W_]+", re.UNICODE)
FOLD = str.maketrans("łŁ", "lL")
PER_PAGE = 20


def fold(text: str) -> str:
    return text.translate(FOLD)


def match_expression(q: str) -> str | None:
    """An FTS5 query for the words of q (None when no word is left)."""
    terms = []
    for word in WORD.findall(fold(q.lower())):
        if word in STOP_WORDS:
            continue
        n = len(word)
        stem = word if n <= 4 else word[:-1] if n <= 6 else word[:-2]
        terms.append(f'"{stem}"*')
    return " AND ".join(terms) if terms else None


def _names():
    cats = json.loads(corpus_mod.CATEGORIES_FILE.read_text(encoding="utf-8"))["categories"]
    category = {c["slug"]: c["name_pl"] for c in cats}
    sub = {(c["slug"], s["slug"]): s["name_pl"] for c in cats for s in c["subcategories"]}
    with open(corpus_mod.CPV_FILE, encoding="utf-8", newline="") as fh:
        cpv = {row["code"]: row["name_pl"] for row in csv.DictReader(fh)}
    powiats = {p["code"]: p["name"] for p in json.loads(corpus_mod.REGION_FILE.read_text(encoding="utf-8"))["powiats"]}
    return category, sub, cpv, powiats


def _day(text: str) -> int:
    return int(text.replace("-", ""))


class Fts5Baseline:
    def __init__(self, path: str):
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.today = 0

    def build(self, corpus: corpus_mod.Corpus, today: date) -> int:
        """Load the corpus's public offerings; returns their number."""
        self.today = today.year * 10000 + today.month * 100 + today.day
        category, sub, cpv, powiat_names = _names()
        pes_by_ref = {p["ref"]: p for p in corpus.pes}
        cols = ", ".join(TEXT_COLUMNS)
        c = self.conn
        c.executescript(f"""
            DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS o; DROP TABLE IF EXISTS op;
            CREATE VIRTUAL TABLE fts USING fts5({cols}, tokenize='unicode61 remove_diacritics 2');
            CREATE TABLE o (id INTEGER PRIMARY KEY, kind TEXT, category TEXT, legal_form TEXT, reserved INTEGER,
                            price INTEGER, published INTEGER, mark_from INTEGER, mark_until INTEGER);
            CREATE TABLE op (offering_id INTEGER, powiat TEXT, PRIMARY KEY (offering_id, powiat)) WITHOUT ROWID;
        """)
        rows, text_rows, area_rows = [], [], []
        for i, off in enumerate(corpus.public_offerings(), start=1):
            pes = pes_by_ref[off["pes_ref"]]
            area = off.get("service_area") or pes.get("service_area") or [pes["powiat"]]
            names = [category[off["category"]]]
            if off.get("subcategory"):
                names.append(sub[(off["category"], off["subcategory"])])
            codes = off.get("cpv") or []
            texts = (off["title"], ", ".join(off.get("tags") or []), ". ".join(names),
                     ". ".join([*codes, *(cpv[c] for c in codes if c in cpv)]), off.get("description") or "",
                     pes["name"], (pes.get("address") or {}).get("city") or "",
                     ", ".join(powiat_names[a] for a in area))
            text_rows.append((i, *(fold(t) for t in texts)))
            mark = off.get("quality_mark")
            reserved = corpus_mod.effective_integration_mission(pes) and (pes.get("disadvantaged_share") or 0) >= 30
            price = None if off.get("price_net") is None else round(float(off["price_net"]) * 100)
            rows.append((i, off["kind"], off["category"], pes["legal_form"], int(reserved), price, i,
                         _day(mark["valid_from"]) if mark else None, _day(mark["valid_until"]) if mark else None))
            area_rows += [(i, a) for a in dict.fromkeys(area)]
        c.executemany(f"INSERT INTO fts(rowid, {cols}) VALUES (?{', ?' * len(TEXT_COLUMNS)})", text_rows)
        c.executemany("INSERT INTO o VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        c.executemany("INSERT INTO op VALUES (?, ?)", area_rows)
        c.executescript("""
            CREATE INDEX o_category ON o (category); CREATE INDEX o_legal_form ON o (legal_form);
            CREATE INDEX o_kind ON o (kind); CREATE INDEX op_powiat ON op (powiat, offering_id);
            INSERT INTO fts(fts) VALUES ('optimize');
            CREATE TEMP TABLE m (id INTEGER PRIMARY KEY, score REAL, kind TEXT, category TEXT, legal_form TEXT,
                                 reserved INTEGER, price INTEGER, published INTEGER, mark_from INTEGER,
                                 mark_until INTEGER);
            ANALYZE;
        """)
        c.commit()
        return len(rows)

    def _conditions(self, params: dict) -> dict[str, tuple[str, list]]:
        def listed(value):
            return value if isinstance(value, list) else [value]

        out = {}
        if params.get("kind"):
            out["kind"] = ("o.kind = ?", [params["kind"]])
        for name, column in (("category", "o.category"), ("legal_form", "o.legal_form")):
            if params.get(name):
                values = listed(params[name])
                out[name] = (f"{column} IN ({', '.join('?' * len(values))})", values)
        if params.get("powiat"):
            values = listed(params["powiat"])
            out["powiat"] = (f"o.id IN (SELECT offering_id FROM op WHERE powiat IN ({', '.join('?' * len(values))}))",
                             values)
        if params.get("quality_mark") in ("1", "true"):
            out["quality_mark"] = ("o.mark_from <= ? AND o.mark_until >= ?", [self.today, self.today])
        if params.get("reserved_eligible") in ("1", "true"):
            out["reserved_eligible"] = ("o.reserved = 1", [])
        return out

    @staticmethod
    def _where(conds: dict, skip: str | None = None, extra: str | None = None) -> tuple[str, list]:
        parts, args = [], []
        for name, (sql, values) in conds.items():
            if name != skip:
                parts.append(sql)
                args += values
        if extra:
            parts.append(extra)
        return (" WHERE " + " AND ".join(parts)) if parts else "", args

    def search(self, params: dict) -> tuple[int, list, dict]:
        """(total, [(id, snippet)] of page 1, facets) as the API computes them."""
        c = self.conn
        expr = match_expression(params.get("q") or "")
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        if expr:
            # The matching rows with their score and filter fields, once; the counts below read only these.
            c.execute("DELETE FROM m")
            c.execute(f"INSERT INTO m SELECT o.id, bm25(fts, {weights}), o.kind, o.category, o.legal_form, "
                      f"o.reserved, o.price, o.published, o.mark_from, o.mark_until "
                      f"FROM fts JOIN o ON o.id = fts.rowid WHERE fts MATCH ?", (expr,))
            source, join = "m AS o", "CROSS JOIN"  # CROSS JOIN: the few matching rows drive the join
        else:
            source, join = "o", "JOIN"
        conds = self._conditions(params)
        where, args = self._where(conds)
        total = c.execute(f"SELECT count(*) FROM {source}{where}", args).fetchone()[0]
        sort = params.get("sort") or "relevance"
        order = {"relevance": "o.score, o.id" if expr else "o.published DESC, o.id DESC",
                 "newest": "o.published DESC, o.id DESC",
                 "price_asc": "o.price IS NULL, o.price, o.id",
                 "price_desc": "o.price IS NULL, o.price DESC, o.id"}[sort]
        ids = [r[0] for r in c.execute(f"SELECT o.id FROM {source}{where} ORDER BY {order} LIMIT {PER_PAGE}", args)]
        snippets = {}
        if expr and ids:
            marks = ", ".join("?" * len(ids))
            snippets = dict(c.execute(
                f"SELECT rowid, snippet(fts, 4, '<mark>', '</mark>', '…', 24) FROM fts "
                f"WHERE fts MATCH ? AND rowid IN ({marks})", [expr, *ids]))
        page = [(i, snippets.get(i, "")) for i in ids]
        facets = {}
        for name, column in (("category", "o.category"), ("legal_form", "o.legal_form"), ("kind", "o.kind")):
            w, a = self._where(conds, skip=name)
            facets[name] = dict(c.execute(f"SELECT {column}, count(*) FROM {source}{w} GROUP BY 1", a))
        w, a = self._where(conds, skip="powiat")
        facets["powiat"] = dict(c.execute(
            f"SELECT op.powiat, count(*) FROM {source} {join} op ON op.offering_id = o.id{w} GROUP BY 1", a))
        w, a = self._where(conds, skip="quality_mark", extra="o.mark_from <= ? AND o.mark_until >= ?")
        facets["quality_mark"] = {"1": c.execute(f"SELECT count(*) FROM {source}{w}",
                                                 a + [self.today, self.today]).fetchone()[0]}
        return total, page, facets

    def timed(self, params: dict) -> tuple[float, int]:
        start = time.perf_counter()
        total, _page, _facets = self.search(params)
        return time.perf_counter() - start, total

    def close(self) -> None:
        self.conn.close()
