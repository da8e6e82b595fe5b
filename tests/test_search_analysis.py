"""Polish analysis for search: what a buyer typing a query finds, on a small index built in memory."""
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import RamStorage
from whoosh.query import Every

from search import analysis, schema
from search.analysis import Synonyms, fold, light_stem, stems, words
from search.query import SearchView, match_query, order

ROOT = Path(__file__).resolve().parents[1]
PES_BYDGOSZCZ = {"id": 1, "ref": "pes-1", "name": "Spółdzielnia Socjalna Smak",
                 "legal_form": "spoldzielnia_socjalna", "city": "Bydgoszcz", "reserved_eligible": True}
PES_TORUN = {"id": 2, "ref": "pes-2", "name": "Fundacja Pod Dębem", "legal_form": "fundacja", "city": "Toruń",
             "reserved_eligible": False}


def offering(number, title, description="", pes=PES_BYDGOSZCZ, **extra):
    values = {"id": number, "ref": f"off-{number}", "kind": "service", "title": title,
              "description": description, "category": "inne", "tags": [], "cpv": [],
              "service_area": ["0461"], "price_net": "10.00",
              "published_at": datetime(2025, 3, number, tzinfo=UTC)}
    category_names, mark = extra.pop("category_names", []), extra.pop("mark", None)
    values.update(extra)
    return schema.offering_document(values, pes, category_names, [], mark=mark)


def build(*docs):
    ix = RamStorage().create_index(schema.build_schema())
    with ix.writer() as writer:
        for doc in docs:
            writer.add_document(**doc)
    return ix


def refs(ix, text, synonyms=None):
    """The refs found for a query, best first (the search service's matching and ranking)."""
    with ix.searcher() as searcher:
        view = SearchView(searcher)
        qwords = analysis.analyse_query(text, synonyms)
        found, scores = match_query(view, qwords) if qwords else (view.live, None)
        return [searcher.stored_fields(d)["ref"] for d in order(view, found, "relevance", scores, 100)]


@pytest.fixture(scope="module")
def synonyms():
    return analysis.load_synonyms()


def test_diacritics_do_not_matter_either_way():
    ix = build(offering(1, "Sprzątanie biur"), offering(2, "Sprzatanie mieszkan"), offering(3, "Mycie okien"))
    assert set(refs(ix, "sprzatanie")) == {"off-1", "off-2"}
    assert set(refs(ix, "sprzątanie")) == {"off-1", "off-2"}
    assert set(refs(ix, "SPRZĄTANIA")) == {"off-1", "off-2"}
    assert refs(ix, "mieszkań") == ["off-2"]


def test_inflection_does_not_matter():
    ix = build(offering(1, "Obiady dla szkoły podstawowej"), offering(2, "Pierogów lepionych ręcznie"),
               offering(3, "Catering na uroczystości"), offering(4, "Transport osób"))
    assert refs(ix, "obiadów dla szkół") == ["off-1"]
    assert refs(ix, "obiadow dla szkol") == ["off-1"]
    assert refs(ix, "pierogi") == ["off-2"]
    assert refs(ix, "pierogow") == ["off-2"]
    assert refs(ix, "cateringu") == ["off-3"]
    assert refs(ix, "obiadów transport") == []


def test_a_town_is_found_in_any_case_although_the_stemmer_mangles_it():
    ix = build(offering(1, "Catering", pes=PES_BYDGOSZCZ),
               offering(2, "Catering", pes=PES_TORUN, service_area=["0463"]))
    assert analysis.stemmer()("bydgoszczy") != "bydgoszcz"  # why the surface field and the fallback exist
    for query in ("Bydgoszcz", "bydgoszczy", "w Bydgoszczy"):
        assert refs(ix, query) == ["off-1"], query
    for query in ("Toruń", "torun", "Torunia", "w toruniu"):
        assert refs(ix, query) == ["off-2"], query


def test_a_place_in_the_query_favours_offerings_serving_it_without_requiring_it():
    ix = build(offering(1, "Catering na przyjęcia", pes=PES_TORUN, service_area=["0463", "0415"]),
               offering(2, "Catering", pes=PES_BYDGOSZCZ, service_area=["0461", "0403"]),
               offering(3, "Catering dla firm", pes=PES_TORUN, service_area=["0461"]),
               offering(4, "Sprzątanie biur", pes=PES_BYDGOSZCZ))
    assert refs(ix, "catering") == ["off-3", "off-2", "off-1"]  # equal matches: the newest first
    assert refs(ix, "catering toruń")[0] == "off-1"
    assert set(refs(ix, "catering toruń")) == {"off-1", "off-2", "off-3"}  # favoured, not required
    assert set(refs(ix, "catering w bydgoszczy")[:2]) == {"off-2", "off-3"}  # both serve the city
    assert refs(ix, "catering bydgoski")[0] == "off-2"  # the powiat around the city, by its adjective
    assert refs(ix, "toruński") == ["off-1"]  # a place alone: offerings of PES serving it
    assert refs(ix, "sprzątanie bydgoszcz") == ["off-4"]
    assert refs(ix, "pierogi toruń") == []


def test_only_the_exact_forms_of_a_place_name_it():
    ix = build(offering(1, "Świece sojowe", pes=PES_TORUN, service_area=["0463"]),
               offering(2, "Sos sojowy", pes=PES_TORUN, service_area=["0463"]),
               offering(3, "Sprzątanie biur", service_area=["0414"]))
    assert refs(ix, "świece") == ["off-1"]  # candles, not the town of Świecie
    assert refs(ix, "świece sojowe") == ["off-1"]
    for query in ("w świeciu", "Świecie", "powiat świecki", "w powiecie świeckim"):
        assert refs(ix, query)[0] == "off-3", query  # served there; the candles share a stem only


def test_stop_words_are_neither_indexed_nor_required():
    assert words("Obiady dla szkół i przedszkoli, się oraz sie") == ["obiady", "szkół", "przedszkoli"]
    assert words("ciasto bez cukru") == ["ciasto", "bez", "cukru"]  # "bez" carries meaning
    ix = build(offering(1, "Obiady dla szkół"), offering(2, "Sprzątanie"))
    with ix.searcher() as searcher:
        assert "dla" not in set(searcher.lexicon("title"))
        assert "dla" not in set(searcher.lexicon("title_stem"))
    assert refs(ix, "obiady w szkołach") == ["off-1"]
    assert refs(ix, "i w z się") == refs(ix, "") and set(refs(ix, "")) == {"off-1", "off-2"}
    assert analysis.analyse_query("a i w") == []


def test_exact_words_rank_above_shared_stems():
    ix = build(offering(1, "Usługi porządkowe", "Zakres sprzątania obejmuje biura i klatki schodowe."),
               offering(2, "Sprzątanie biur"))
    assert refs(ix, "sprzątanie") == ["off-2", "off-1"]
    assert refs(ix, "sprzatanie") == ["off-2", "off-1"]
    ix = build(offering(1, "Obiad domowy"), offering(2, "Obiady domowe"))
    assert refs(ix, "obiady") == ["off-2", "off-1"]
    assert refs(ix, "obiad") == ["off-1", "off-2"]


def test_title_and_category_names_weigh_more_than_description():
    ix = build(offering(1, "Usługi", "Wykonujemy też remont łazienek."), offering(2, "Remont łazienek"))
    assert refs(ix, "remont") == ["off-2", "off-1"]
    ix = build(offering(1, "Ulotki", "Do każdego druku dodajemy kopertę."),
               offering(2, "Ulotki A5", category_names=["Poligrafia i druk", "Ulotki, plakaty i wizytówki"]))
    assert refs(ix, "druk") == ["off-2", "off-1"]


def test_synonyms_find_other_words_for_the_same_thing(synonyms):
    ix = build(offering(1, "Druk ulotek i plakatów"), offering(2, "Poligrafia cyfrowa"),
               offering(3, "Kwiaty doniczkowe"), offering(4, "Sprzątanie biur"))
    assert refs(ix, "poligrafia") == ["off-2"]
    assert refs(ix, "poligrafia", synonyms) == ["off-2", "off-1"]
    assert refs(ix, "poligrafii", synonyms) == ["off-2", "off-1"]
    assert refs(ix, "rosliny", synonyms) == ["off-3"]
    assert refs(ix, "czyszczenie biur", synonyms) == ["off-4"]
    assert refs(ix, "druk", synonyms)[0] == "off-1"


def test_every_word_must_match_and_unknown_words_find_nothing(synonyms):
    ix = build(offering(1, "Druk ulotek"), offering(2, "Obiady dla szkół", "Dowozimy posiłki."),
               offering(3, "Sprzątanie biur"))
    assert refs(ix, "hulajnoga") == []
    assert refs(ix, "hulajnoga obiady") == []
    assert refs(ix, "obiady dowozimy") == ["off-2"]  # title and description together
    assert refs(ix, "obiady ulotki") == []


def test_hyphenated_words_and_codes_are_found_whole_and_in_parts():
    assert words("Kujawsko-Pomorskie e-mail") == [
        "kujawsko-pomorskie", "kujawsko", "pomorskie", "e-mail", "e", "mail"]
    ix = build(offering(1, "Pamiątki kujawsko-pomorskie", cpv=["55524000-9"]), offering(2, "Pamiątki"))
    assert refs(ix, "pomorskie") == ["off-1"]
    assert refs(ix, "Kujawsko-Pomorskie") == ["off-1"]
    assert refs(ix, "55524000-9") == ["off-1"]
    assert refs(ix, "55524000") == ["off-1"]


def test_fold_and_light_stem():
    assert fold("Zażółć gęślą jaźń, ŁÓDŹ") == "Zazolc gesla jazn, LODZ"
    assert fold("Café Noël") == "Cafe Noel"
    same = [["sprzatanie", "sprzatania", "sprzataniu"], ["obiady", "obiadow", "obiadami", "obiadach"],
            ["szkola", "szkoly", "szkol", "szkole"], ["posilek", "posilki", "posilkow"],
            ["wloclawek", "wloclawka", "wloclawku"], ["torun", "torunia", "toruniu"],
            ["krakow", "krakowa", "krakowie"], ["mieszkan", "mieszkania", "mieszkaniach"]]
    for forms in same:
        assert len({light_stem(f) for f in forms}) == 1, forms
    assert light_stem("dom") == "dom"  # never shorter than three letters
    assert light_stem("pranie") == "pran"


def test_stems_are_deterministic_folded_candidates():
    assert stems("Obiadów") == {"obiad"}
    assert stems("sprzątanie") & stems("sprzatanie")
    assert stems("55524000") == {"55524000"}
    tokens = [t.text for t in analysis.stem_analyzer()("Obiady dla Szkół")]
    assert tokens == ["obiad", "szkola", "szkol"]
    assert tokens == [t.text for t in analysis.stem_analyzer()("Obiady dla Szkół")]
    assert [t.text for t in analysis.surface_analyzer()("Obiady dla Szkół")] == ["obiady", "szkol"]


def test_the_synonym_list_is_valid_and_sizeable(synonyms):
    assert synonyms.problems == []
    assert len(synonyms.groups) >= 30
    for group in synonyms.groups:
        assert not any(analysis.is_stopword(word) for word in group), group
    assert "druk" in synonyms.expand("Drukarnia") and "drukarnia" in synonyms.expand("druku")
    assert synonyms.expand("hulajnoga") == {"hulajnoga"}


def test_a_bad_synonym_line_is_reported_and_the_rest_kept():
    found = Synonyms.from_text("# comment\ndruk, poligrafia\nmycie okien, czyszczenie szyb, szyby\nsam\n")
    assert found.groups == [("druk", "poligrafia")]
    assert found.problems == ["group 2: not single words: mycie okien, czyszczenie szyb"]


def test_an_edited_synonym_file_is_read_again(tmp_path):
    path = tmp_path / "synonyms.txt"
    path.write_text("druk, poligrafia\n", encoding="utf-8")
    assert "rośliny" not in analysis.load_synonyms(path).expand("kwiaty")
    path.write_text("druk, poligrafia\nkwiaty, rośliny\n", encoding="utf-8")
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))
    assert "rośliny" in analysis.load_synonyms(path).expand("kwiaty")


def test_offering_document_from_plain_values():
    doc = offering(1, "Pierogi", "**Świeże** [pierogi](https://example.pl/p) ![zdjęcie](p.jpg)\n\n- z mięsem",
                   price_net="18.505", cpv=["15000000-8"], service_area=["0461", "0403"])
    assert doc["body_text"] == "Świeże pierogi zdjęcie z mięsem"
    assert "body" not in doc and "mieso" in doc["body_stem"].split()  # descriptions: stems only
    assert doc["title"] == "pierogi" and doc["keywords_text"] == "15000000-8"
    assert doc["price"] == 1851 and doc["sort_price_desc"] == -1851
    assert doc["powiats"] == "0461 0403" and doc["reserved_eligible"] == "1"
    assert doc["seller_text"].startswith("Spółdzielnia Socjalna Smak. Bydgoszcz")
    assert "bydgoszcz" in doc["seller"].split() and "bydgoszcz" in doc["seller_stem"].split()
    assert offering(1, "Pierogi")["stamp"] == offering(1, "Pierogi")["stamp"]
    assert offering(1, "Pierogi")["stamp"] != offering(1, "Pierogi ruskie")["stamp"]
    on_request = offering(2, "Tort", price_net=None)
    assert "price" not in on_request and on_request["sort_price_asc"] == schema.PRICE_ON_REQUEST


def test_price_on_request_sorts_last_both_ways():
    ix = build(offering(1, "Tort", price_net=None), offering(2, "Tort", price_net="5.00"),
               offering(3, "Tort", price_net="50.00"))
    with ix.searcher() as searcher:
        up = [h["ref"] for h in searcher.search(Every(), sortedby="sort_price_asc")]
        down = [h["ref"] for h in searcher.search(Every(), sortedby="sort_price_desc")]
        newest = [h["ref"] for h in searcher.search(Every(), sortedby="published_at", reverse=True)]
    assert up == ["off-2", "off-3", "off-1"] and down == ["off-3", "off-2", "off-1"]
    assert newest == ["off-3", "off-2", "off-1"]


def test_quality_mark_is_valid_only_within_its_dates():
    mark = {"number": "ZJ/2025/007", "valid_from": date(2025, 6, 1), "valid_until": date(2026, 5, 31)}
    suspended = dict(mark, status="suspended")
    ix = build(offering(1, "Miód", mark=mark), offering(2, "Miód", mark=suspended), offering(3, "Miód"))
    with ix.searcher() as searcher:
        view = SearchView(searcher)

        def valid(day):
            return [searcher.stored_fields(d)["ref"] for d in order(view, view.marks_valid_on(day), "newest",
                                                                    None, 10)]
        assert valid(date(2025, 5, 31)) == [] and valid(date(2026, 6, 1)) == []
        assert valid(date(2025, 6, 1)) == ["off-1"] and valid(date(2026, 5, 31)) == ["off-1"]
        assert searcher.stored_fields(searcher.document_number(ref="off-1"))["mark_number"] == "ZJ/2025/007"


def test_an_index_on_disk_reopens_with_the_same_analysis(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), schema.build_schema())
    with ix.writer() as writer:
        writer.add_document(**offering(1, "Sprzątanie klatek schodowych"))
    reopened = whoosh_index.open_dir(str(tmp_path))
    assert refs(reopened, "sprzatanie klatki") == ["off-1"]


def test_the_stemmer_loads_once_per_process_quietly_and_thread_safely():
    assert analysis.stemmer() is analysis.stemmer()
    analysis.preload()
    assert analysis.stemmer() is analysis.stemmer()
    script = ("import threading\n"
              "from search import analysis, stemtable\n"
              "opened = []\n"
              "real_open = stemtable.CompactStemmer\n"
              "stemtable.CompactStemmer = lambda *a, **k: opened.append(1) or real_open(*a, **k)\n"
              "got = []\n"
              "load = lambda: got.append(analysis.stemmer())\n"
              "threads = [threading.Thread(target=load) for _ in range(4)]\n"
              "[t.start() for t in threads]; [t.join() for t in threads]\n"
              "analysis.preload()\n"
              "print(len({id(s) for s in got}), len(got), len(opened), got[0]('szkoły'))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar
    instances, calls, opened, stem = done.stdout.split()
    assert (instances, calls, opened) == ("1", "4", "1")  # four threads, one table opened
    assert stem == "szkoła"


def test_a_verbal_noun_meets_the_verb_that_descriptions_use():
    from search.analysis import stems

    assert "sprzatac" in stems("sprzątanie") & stems("sprzątamy")  # what buyers type, what sellers write
    assert "malowac" in stems("malowania") & stems("malujemy")  # an inflected form too
