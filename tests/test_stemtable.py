"""The stemmer's compact table (search.stemtable): the same stems as pystempel, built once, shared, small."""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zlib
from itertools import product
from pathlib import Path

import pytest

from search import analysis, stemtable
from search.analysis import ENDINGS, WORD_RE
from search.stemtable import CompactStemmer, InvalidTable

ROOT = Path(__file__).resolve().parents[1]

# Polish words of many kinds (nouns of the three genders, adjectives, verbs, verbal nouns, names of places),
# each inflected below with the analysis' endings and with endings written with diacritics.
_LEMMAS = """
    szkoła obiad catering sprzątanie malowanie drukarnia poligrafia roślina kwiat sadzonka rozsada ogród
    ogrodnik kawa herbata ciasto pieczywo chleb bułka tort piekarnia cukiernia kuchnia posiłek koniec
    stołówka przedszkole żłobek dziecko rodzina opieka senior usługa pranie prasowanie szycie krawiec
    tapicer mebel stolik krzesło szafa drzwi okno remont budowa dach ściana podłoga płytka łazienka
    hydraulik elektryk instalacja transport przewóz kierowca samochód autobus rower wycieczka turystyka
    nocleg hotel pokój konferencja szkolenie warsztat kurs lekcja nauczyciel trener księgowość biuro
    dokument faktura umowa zamówienie przetarg oferta cena koszt rabat sklep sprzedaż zakup dostawa
    paczka przesyłka kurier magazyn produkt wyrób rękodzieło ceramika garnek kubek talerz miska świeca
    mydło kosmetyk krem olej miód dżem konfitura sok owoc warzywo jabłko gruszka śliwka truskawka malina
    ziemniak marchew kapusta burak ogórek pomidor cebula czosnek zioło przyprawa mięso wędlina kiełbasa
    szynka ryba mleko ser jogurt masło jajko mąka kasza ryż makaron pierogi zupa sałatka deser lody
    sprzątać malować drukować gotować piec szyć prać myć sadzić kosić grabić naprawiać budować wozić
    nieść pisać czytać liczyć uczyć pomagać wspierać organizować prowadzić zapewniać dostarczać
    bydgoszcz toruń włocławek grudziądz inowrocław brodnica świecie chełmno wąbrzeźno golub aleksandrów
    ciechocinek nakło żnin mogilno tuchola sępólno rypin lipno radziejów kujawy pomorze wisła
    spółdzielnia fundacja stowarzyszenie centrum klub zakład warsztaty integracja zatrudnienie praca
    pracownik osoba niepełnosprawność rehabilitacja terapia zdrowie opiekunka pielęgniarka lekarz
    zielony czerwony biały czarny duży mały nowy stary dobry tani drogi ekologiczny lokalny regionalny
    domowy świeży smaczny zdrowy szybki długi krótki ciepły zimny polski społeczny socjalny ręczny
    czysty piękny wysoki niski ważny pełny pusty gotowy
    """
LEMMAS = _LEMMAS.split()

# Endings written with diacritics, which the analysis' ENDINGS (folded) do not have.
POLISH_ENDINGS = (
    "ą", "ę", "ów", "ością", "ości", "ość", "ań", "ania", "aniem", "aniu", "aniach", "aniami", "eń", "eniu",
    "ką", "kę", "ek", "kach", "kami", "ce", "cy", "ście", "dzie", "rze", "ży", "ił", "iła", "iło", "ili",
    "ały", "ało", "ała", "ał", "ają", "ajesz", "amy", "acie", "ują", "ujemy", "owanie", "owania", "ując",
    "ący", "ąca", "ące", "ącego", "ęci", "ęty", "ęta", "nąć", "ąc", "ć", "ścią",
)
DIGIT_WORDS = ("2025", "covid19", "a1", "b2b", "5kg", "x9z", "10l", "iso9001", "pes01", "0461", "87-100")
FOREIGN_WORDS = ("straße", "café", "naïve", "ñandú", "İstanbul", "Ωμέγα", "日本語", "ﬁlm", "🙂", "a🙂b",
                 "ŁÓDŹ", "żółć", "Œuvre", "ǅemal", "ß", "ʼn", "x̧", "ı", "ﬀ", "Ⅻ")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _file_words() -> set[str]:
    files = [*ROOT.joinpath("search/data").iterdir(), *ROOT.joinpath("tests/fixtures").iterdir(),
             *ROOT.joinpath("tests/relevance").glob("*.jsonl"), *ROOT.joinpath("catalog/data").iterdir()]
    found = set()
    for path in files:
        if not path.is_file() or path.suffix not in (".txt", ".md", ".csv", ".json", ".jsonl"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            texts = [s for line in text.splitlines() if line.strip() for s in _strings(json.loads(line))]
        elif path.suffix == ".json":
            texts = list(_strings(json.loads(text)))
        else:
            texts = [text]
        for one in texts:
            found.update(m.group(0) for m in WORD_RE.finditer(one))
    return found


def word_list() -> list[str]:
    words = set()
    for word in _file_words():
        words.update((word, word.lower(), word.upper(), word.capitalize(), *word.split("-")))
    for lemma in LEMMAS:
        base = lemma[:-1] if lemma[-1] in "aeiouyąę" else lemma
        base = base.removesuffix("ć")
        words.update((lemma, lemma.upper(), lemma.capitalize()))
        for ending in (*ENDINGS, *POLISH_ENDINGS):
            words.update((base + ending, (base + ending).capitalize()))
    letters = "aąbcćdeęfghijklłmnńoóprsśtuwyzźżqvx"
    words.update(letters + letters.upper())
    words.update(a + b for a, b in product(letters, repeat=2))
    words.update(w.upper() for w in list(words) if len(w) <= 2)
    words.update(DIGIT_WORDS)
    words.update(FOREIGN_WORDS)
    words.update(("-", "*", "a-", "-a", "Da", "Rb", "Ic", "--", "**"))  # the patch language's letters
    return sorted(words)


@pytest.fixture(scope="module")
def reference():
    """pystempel's own stemmer, as the portal used to load it."""
    return stemtable.load_pystempel()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A table built for this module, in a child process, as a process that finds none builds it."""
    path = tmp_path_factory.mktemp("stemtable") / "stemmer.bin"
    stemtable.open_or_build(path).close()
    return path


@pytest.fixture
def compact(table):
    with CompactStemmer(table) as stemmer:
        yield stemmer


def test_the_compact_table_stems_every_word_as_pystempel_does(reference, compact):
    words = word_list()
    assert len(words) >= 20_000
    differ = []
    for word in words:
        try:
            expected = reference(word)
        except IndexError as e:  # not expected for a non-empty word; compared as an outcome all the same
            expected = e.__class__
        if compact(word) != expected:
            differ.append((word, expected, compact(word)))
    assert differ == []
    stems = {compact(w) for w in words}
    assert len(stems) > len(words) // 4  # the comparison was not between two stemmers that stem nothing


def test_the_empty_string_has_no_stem(reference, compact):
    """pystempel fails on an empty word (IndexError); the compact stemmer says it has no stem."""
    with pytest.raises(IndexError):
        reference("")
    assert compact("") is None


def test_patches_and_typical_stems(compact):
    assert compact("obiadów") == "obiad"
    assert compact("szkoły") == "szkoła"
    assert compact("Obiadów") == "Obiad"  # as written: the analysis lowercases first
    assert compact.patch("obiadów") == "Db" and compact.patch("") == ""


def test_the_file_is_written_atomically_and_reused(table, monkeypatch):
    folder = table.parent
    assert sorted(p.name for p in folder.iterdir()) == ["stemmer.bin", "stemmer.bin.lock"]  # no temporary
    assert table.stat().st_mode & 0o777 == 0o644
    before = table.stat()
    monkeypatch.setattr(stemtable, "build_in_child", lambda path: pytest.fail("built again"))
    again = stemtable.open_or_build(table)
    try:
        assert again("szkołach") == "szkoła"
    finally:
        again.close()
    assert stemtable.ensure(table) == table  # verifies the whole file's checksum too
    after = table.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    done = subprocess.run([sys.executable, "-m", "search.stemtable", "verify", str(table)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _other_version(data: bytes) -> bytes:
    fields = list(stemtable.HEADER.unpack_from(data))
    fields[1] = stemtable.FORMAT_VERSION + 1
    header = stemtable._HEADER_BODY.pack(*fields[:-1])
    return header + zlib.crc32(header).to_bytes(4, sys.byteorder) + data[stemtable.HEADER.size:]


def _damaged_header(data: bytes) -> bytes:
    return data[:40] + bytes([data[40] ^ 0xFF]) + data[41:]


def _damaged_contents(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


def _other_source(data: bytes) -> bytes:
    fields = list(stemtable.HEADER.unpack_from(data))
    fields[5] += 1  # the size of the pystempel table it was made from
    header = stemtable._HEADER_BODY.pack(*fields[:-1])
    return header + zlib.crc32(header).to_bytes(4, sys.byteorder) + data[stemtable.HEADER.size:]


@pytest.mark.parametrize("damage", [_truncated, _other_version, _damaged_header, _other_source,
                                    lambda data: b"", lambda data: b"not a table" * 100])
def test_a_damaged_or_stale_file_is_detected_and_rebuilt(table, tmp_path, monkeypatch, damage):
    path = tmp_path / "stemmer.bin"
    path.write_bytes(damage(table.read_bytes()))
    with pytest.raises(InvalidTable):
        CompactStemmer(path)
    builds = []

    def build_by_copying(target):  # the real build is tested above and below; this one is quick
        builds.append(target)
        shutil.copyfile(table, target)

    monkeypatch.setattr(stemtable, "build_in_child", build_by_copying)
    with stemtable.open_or_build(path) as stemmer:
        assert stemmer("szkołach") == "szkoła"
    assert builds == [path]


def test_damaged_contents_are_found_when_verifying(table, tmp_path, monkeypatch):
    """Opening reads only the header (a worker touches few pages); the index-time check reads it all."""
    path = tmp_path / "stemmer.bin"
    path.write_bytes(_damaged_contents(table.read_bytes()))
    CompactStemmer(path).close()
    with pytest.raises(InvalidTable):
        CompactStemmer(path, verify=True)
    monkeypatch.setattr(stemtable, "build_in_child", lambda target: shutil.copyfile(table, target))
    stemtable.ensure(path)
    assert path.read_bytes() == table.read_bytes()


def test_a_truncated_file_is_rebuilt_for_real(table, tmp_path):
    path = tmp_path / "stemmer.bin"
    path.write_bytes(_truncated(table.read_bytes()))
    inode = path.stat().st_ino
    with stemtable.open_or_build(path) as stemmer:
        assert stemmer("obiadów") == "obiad"
    assert path.stat().st_ino != inode and path.read_bytes() == table.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stemmer.bin", "stemmer.bin.lock"]


CONCURRENT = textwrap.dedent("""
    import os, sys
    from search import stemtable

    path, counter = sys.argv[1], sys.argv[2]
    build = stemtable.build_in_child

    def counted(target):
        with open(counter, "a") as f:
            f.write(f"{os.getpid()}\\n")
        build(target)

    stemtable.build_in_child = counted
    missing = not os.path.exists(path)
    stemmer = stemtable.open_or_build(path)
    print(missing, os.stat(path).st_ino, stemmer("szkołach"))
""")


def test_two_processes_asking_at_once_build_it_once(tmp_path):
    path, counter = tmp_path / "stemmer.bin", tmp_path / "builds.txt"
    processes = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(path), str(counter)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(out.split())
    assert len(counter.read_text().split()) == 1  # one build
    inode = str(path.stat().st_ino)
    assert outputs == [["True", inode, "szkoła"]] * 2  # both found none, both mapped the one built


RSS = textwrap.dedent("""
    import sys

    def rss():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) * 1024

    from search import stemtable

    before = rss()
    stemmer = stemtable.CompactStemmer(sys.argv[1])
    stems = [stemmer(w) for w in "obiadów szkołach sprzątanie kwiatów drukarni pierogami ogrodników".split()]
    print(rss() - before, stems[0])
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the RSS from /proc")
def test_a_process_that_stems_a_few_words_stays_small(table):
    """pystempel's objects take some 170 MB; mapping the table and stemming a few words touches a few pages."""
    done = subprocess.run([sys.executable, "-c", RSS, str(table)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    grown, first = done.stdout.split()
    assert first == "obiad"
    assert int(grown) < 20 * 2**20, f"the RSS grew by {int(grown) / 2**20:.1f} MiB"


def test_where_the_analysis_keeps_its_table(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "_table_dir", None)
    monkeypatch.delenv(analysis.TABLE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    name = f"stemmer-{stemtable.FORMAT_VERSION}.bin"
    assert analysis.table_path() == tmp_path / "cache" / "portal-pes" / name
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert analysis.table_path() == tmp_path / "home" / ".cache" / "portal-pes" / name
    analysis.use_table_dir(tmp_path / "index")
    assert analysis.table_path() == tmp_path / "index" / name
    monkeypatch.setenv(analysis.TABLE_DIR_ENV, str(tmp_path / "shared"))
    assert analysis.table_path() == tmp_path / "shared" / name  # the override (tests share one table)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "index").exists()  # nothing built here


def test_a_search_engine_keeps_the_table_beside_its_index(app, monkeypatch):
    from search import service

    monkeypatch.setattr(analysis, "_table_dir", None)
    monkeypatch.delenv(analysis.TABLE_DIR_ENV, raising=False)
    index_dir = Path(app.config["SEARCH_INDEX_DIR"])
    assert analysis.table_path() == index_dir / f"stemmer-{stemtable.FORMAT_VERSION}.bin"  # the app's
    service.engine()
    assert analysis._table_dir == index_dir  # set by the engine, for use outside the app's context too
    assert analysis.table_path() == index_dir / f"stemmer-{stemtable.FORMAT_VERSION}.bin"
    assert not analysis.table_path().exists()  # creating the engine builds nothing


def test_the_analysis_stemmer_is_the_compact_one():
    assert isinstance(analysis.stemmer(), CompactStemmer)
    assert analysis.stemmer() is analysis.stemmer()
    assert analysis.stems("Obiadów") == {"obiad"}
