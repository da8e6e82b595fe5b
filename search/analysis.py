"""Polish text analysis for the search index: tokens, stop words, diacritics folding, stems and synonyms.

Every analysed word gives two kinds of index terms. Its *surface* form is the lowercased word with Polish
diacritics folded ("Szkoły" -> "szkoly"), so that a query typed with or without diacritics finds it. Its
*stems* are a small set of folded candidates: the stem given by the Polish stemmer for the word as written
("szkoły" -> "szkola") and the folded word cut by a common inflection ending ("szkoly" -> "szkol"). The second
candidate is what lets a word typed without diacritics, which the stemmer handles badly, meet its properly
written forms, and it also keeps proper names that the stemmer mangles ("bydgoszczy") searchable. Both sides,
index and query, use the same functions, so they always meet.

The analyzers are stateless: the schema pickled inside an index refers to these classes, not to copies of
the word lists, so editing the data files or this module takes effect without a rebuild of the pickles.
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import Filter, LowercaseFilter, Token, Tokenizer

from search import stemtable

DATA_DIR = Path(__file__).with_name("data")
STOPWORDS_FILE = DATA_DIR / "stopwords_pl.txt"
SYNONYMS_FILE = DATA_DIR / "synonyms.txt"

# Words of letters and digits (Polish letters included), hyphenated compounds as one match.
WORD_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")

_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")

# Inflection endings of Polish nouns and adjectives (and a few verb endings), written without diacritics.
# The longest ending that leaves at least MIN_STEM letters is cut, once.
ENDINGS = tuple(sorted((
    "owego", "owemu", "owych", "owymi", "owie", "owej", "owem", "owym", "owy", "owa", "owe", "owi",
    "iego", "iemu", "ich", "imi", "im", "ego", "emu", "ych", "ymi", "ym", "ej",
    "iami", "iach", "iom", "iem", "ami", "ach", "om", "ow", "em", "ii", "ia", "iu", "ie",
    "ac", "ic", "yc", "y", "i", "a", "e", "u", "o"), key=len, reverse=True))
MIN_STEM = 3


def fold(text: str) -> str:
    """The text with Polish (and other Latin) diacritics removed: "Łódź, żółć" -> "Lodz, zolc"."""
    text = text.translate(_POLISH)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def light_stem(word: str) -> str:
    """The folded word cut by its longest common Polish inflection ending: "obiadow" -> "obiad".

    A final "ek"/"ec" ("iek"/"iec") loses the vowel that Polish drops in the other forms of the word
    ("posilek", "posilki" -> "posilk"; "koniec", "konca" -> "konc").
    """
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            word = word[: -len(ending)]
            break
    for mobile in ("ie", "e"):
        if word[-3:-1].endswith(mobile) and word[-1] in "kc" and len(word) - len(mobile) >= MIN_STEM:
            return word[: -1 - len(mobile)] + word[-1]
    return word


# -- the stemmer: a compact table mapped once per process, lazily, under a lock --------------------------
#
# pystempel's own tables are some 170 MB of Python objects per process. search.stemtable writes them once as a
# compact file (`stemmer-<format>.bin`, about 8 MB) that every process maps read-only: the processes share its
# pages through the page cache, and one that stems a few words reads only a few of them. The file lives in
# the search index's folder (use_table_dir(), else the current app's), or in STEMMER_TABLE_DIR when that is
# set, or else in a per-user cache folder; it is built, in a child process, when it is missing.

TABLE_DIR_ENV = "STEMMER_TABLE_DIR"
CACHE_SUBDIR = "portal-pes"

_stemmer = None
_stemmer_lock = threading.Lock()
_table_dir: Path | None = None


def use_table_dir(path: str | os.PathLike | None) -> None:
    """Keep the stemmer's table in this folder (an app's search index folder). Cheap: nothing is built or
    read here. A process that has already opened its stemmer keeps it."""
    global _table_dir
    _table_dir = Path(path) if path else None


def table_path() -> Path:
    """Where the stemmer's compact table is (or will be built)."""
    folder = os.environ.get(TABLE_DIR_ENV) or _table_dir or _app_index_dir()
    if not folder:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(cache, CACHE_SUBDIR)
    return Path(folder) / f"stemmer-{stemtable.FORMAT_VERSION}.bin"


def _app_index_dir() -> str | None:
    """The current app's search index folder, for a process that stems before its search engine exists."""
    from flask import current_app, has_app_context

    return current_app.config.get("SEARCH_INDEX_DIR") if has_app_context() else None


def ensure_table() -> Path:
    """Build the stemmer's table unless a sound one is there (at index time: a rebuild calls this)."""
    return stemtable.ensure(table_path())


def stemmer():
    """The process's Polish stemmer (a callable word -> stem or None), opened on first use."""
    global _stemmer
    if _stemmer is None:
        with _stemmer_lock:
            if _stemmer is None:
                _stemmer = stemtable.open_or_build(table_path())
    return _stemmer


def preload() -> None:
    """Open the stemmer now (building its table if it is missing), e.g. before a server forks its workers."""
    stemmer()


@lru_cache(maxsize=50_000)  # per process: grows with the words seen
def _stem_candidates(word: str) -> tuple[str, ...]:
    folded = fold(word)
    if not folded.isalpha():  # numbers, codes, hyphenated compounds: as they are
        return (folded,)
    out = []
    stem = stemmer()(word)
    if stem and len(stem) >= min(MIN_STEM, len(word)):  # very short stems are the stemmer's noise
        out.append(fold(stem))
    light = light_stem(folded)
    if light not in out:
        out.append(light)
    for verb in {gerund_verb(folded), *(gerund_verb(c) for c in out)} - {None}:
        if verb not in out:
            out.append(verb)
    return tuple(out)


def gerund_verb(folded: str) -> str | None:
    """The infinitive of a verbal noun that ends in "-anie" (as written, or as the stemmer gives an inflected
    form: "sprzątania" -> "sprzatanie"), folded: "sprzatanie" -> "sprzatac". The stemmer
    gives the first person plural, which descriptions use ("sprzątamy", "malujemy"), that infinitive, but
    keeps the verbal noun that buyers type as it is; this joins the two."""
    if len(folded) > 6 and folded.endswith("anie"):
        return folded[:-4] + "ac"
    return None


def stems(word: str) -> set[str]:
    """The folded stem candidates of one word: stems("Obiadów") == {"obiad"}."""
    return set(_stem_candidates(word.lower()))


# -- stop words ----------------------------------------------------------------------------------------


def _read_words(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


STOPWORDS = frozenset(fold(w.lower()) for w in _read_words(STOPWORDS_FILE))


def is_stopword(word: str) -> bool:
    """Whether a word is a Polish function word left out of the index (with or without diacritics)."""
    return fold(word.lower()) in STOPWORDS


# -- the Whoosh pipeline -------------------------------------------------------------------------------


class PolishTokenizer(Tokenizer):
    """Words of letters and digits; a hyphenated word gives its whole and each of its parts."""

    def __eq__(self, other):
        return self.__class__ is other.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            yield _fill(t, value, start_pos, start_char, len(value), keeporiginal)
            return
        pos = start_pos
        for match in WORD_RE.finditer(value):
            whole, start = match.group(0), start_char + match.start()
            if "-" in whole:
                yield _fill(t, whole, pos, start, start + len(whole), keeporiginal)
                for part in re.finditer(r"[^\W_]+", whole):
                    yield _fill(t, part.group(0), pos, start + part.start(), start + part.end(),
                                keeporiginal)
                    pos += 1
            else:
                yield _fill(t, whole, pos, start, start + len(whole), keeporiginal)
                pos += 1


def _fill(t: Token, text: str, pos: int, startchar: int, endchar: int, keeporiginal: bool) -> Token:
    t.text, t.boost, t.stopped = text, 1.0, False
    if keeporiginal:
        t.original = text
    if t.positions:
        t.pos = pos
    if t.chars:
        t.startchar, t.endchar = startchar, endchar
    return t


class PolishStopFilter(Filter):
    """Drops Polish function words (typed with or without diacritics), or marks them when asked to keep."""

    def __call__(self, tokens):
        for t in tokens:
            if fold(t.text) not in STOPWORDS:
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


class FoldFilter(Filter):
    """Folds diacritics: the surface form of a word."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            yield t


class PolishStemFilter(Filter):
    """Replaces each word by its folded stem candidates, all at the word's position."""

    is_morph = True

    def __call__(self, tokens):
        for t in tokens:
            if t.stopped:
                yield t
                continue
            for candidate in _stem_candidates(t.text):
                t.text = candidate
                yield t


def surface_analyzer():
    """Lowercased, stop words out, diacritics folded: "Obiady dla Szkół" -> ["obiady", "szkol"]."""
    return PolishTokenizer() | LowercaseFilter() | PolishStopFilter() | FoldFilter()


def stem_analyzer():
    """Lowercased, stop words out, folded stem candidates: "Obiady dla Szkół" -> obiad, szkola, szkol."""
    return PolishTokenizer() | LowercaseFilter() | PolishStopFilter() | PolishStemFilter()


def words(text: str) -> list[str]:
    """The lowercased words of a text that are not stop words (hyphenated ones whole and in parts)."""
    out = []
    for match in WORD_RE.finditer(text or ""):
        whole = match.group(0).lower()
        for word in (whole, *whole.split("-")) if "-" in whole else (whole,):
            if fold(word) not in STOPWORDS:
                out.append(word)
    return out


@lru_cache(maxsize=300_000)
def _index_terms(word: str) -> tuple[str, tuple[str, ...]] | None:
    """(surface form, stem candidates) of a lowercased word, or None for a stop word."""
    folded = fold(word)
    if folded in STOPWORDS:
        return None
    return folded, _stem_candidates(word)


def index_terms(text: str) -> tuple[str, str]:
    """The terms a text gives the index, as space-separated strings: (surface forms, stem candidates).

    The same tokens as words() and the Whoosh analyzers above give, computed once per distinct word in a
    process, so that indexing pays for the stemmer only for words it has not seen yet."""
    surface, stemmed = [], []
    for match in WORD_RE.finditer(text or ""):
        whole = match.group(0).lower()
        for word in (whole, *whole.split("-")) if "-" in whole else (whole,):
            terms = _index_terms(word)
            if terms is not None:
                surface.append(terms[0])
                stemmed.extend(terms[1])
    return " ".join(surface), " ".join(stemmed)


# -- synonyms and query words --------------------------------------------------------------------------


class Synonyms:
    """Groups of interchangeable words of the domain ("druk, poligrafia, drukarnia"), used at query time.

    A word belongs to a group when its surface form or one of its stems is that of a member, so inflected
    queries ("poligrafii") and queries without diacritics ("rosliny") find their group too.
    """

    def __init__(self, groups):
        self.groups: list[tuple[str, ...]] = []
        self.problems: list[str] = []
        self._by_key: dict[str, set[int]] = {}
        for number, group in enumerate(groups, 1):
            self._add(number, group)

    def _add(self, number: int, group) -> None:
        members = tuple(dict.fromkeys(m.strip().lower() for m in group if m.strip()))
        bad = [m for m in members if len(words(m)) != 1 or not WORD_RE.fullmatch(m)]
        if bad:
            self.problems.append(f"group {number}: not single words: {', '.join(bad)}")
            members = tuple(m for m in members if m not in bad)
        if len(members) < 2:
            return
        index = len(self.groups)
        self.groups.append(members)
        for member in members:
            for key in _keys(member):
                self._by_key.setdefault(key, set()).add(index)

    @classmethod
    def from_text(cls, text: str) -> Synonyms:
        """Groups from text in the file's format: one group a line, comma-separated, # for comments."""
        lines = (line.split("#", 1)[0] for line in text.splitlines())
        return cls(line.split(",") for line in lines if line.strip())

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Synonyms:
        return cls.from_text(Path(path or SYNONYMS_FILE).read_text(encoding="utf-8"))

    def expand(self, term: str) -> set[str]:
        """The term and every member of the groups it belongs to, as written in the list."""
        term = term.strip().lower()
        found = {term}
        for key in _keys(term):
            for index in self._by_key.get(key, ()):
                found.update(self.groups[index])
        return found


def _keys(word: str) -> set[str]:
    return {"s:" + fold(word)} | {"t:" + s for s in stems(word)}


_synonyms_cache: dict[Path, tuple[float, Synonyms]] = {}


def load_synonyms(path: str | os.PathLike | None = None) -> Synonyms:
    """The synonym list of a file, read again only when the file has changed since the last call."""
    path = Path(path or SYNONYMS_FILE)
    mtime = path.stat().st_mtime
    cached = _synonyms_cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, Synonyms.load(path))
        _synonyms_cache[path] = cached
    return cached[1]


@dataclass(frozen=True)
class QueryWord:
    """One word of a query with the index terms that may match it, the word's own before its synonyms'.

    A CPV code in a query is one word whose `cpv` holds the code's significant digits (search.schema.
    cpv_significant): it matches the offerings with that code or one below it in the CPV tree."""

    text: str
    surface: frozenset[str]
    stems: frozenset[str]
    synonym_surface: frozenset[str]
    synonym_stems: frozenset[str]
    cpv: str = ""

    def has_any(self, terms: frozenset[str]) -> bool:
        """Whether the word, as written or by a stem (folded), is one of the terms."""
        return bool(self.surface & terms or self.stems & terms)


# A CPV code as people write it: eight digits, optionally a hyphen and the check digit ("90900000-6").
CPV_IN_QUERY = re.compile(r"(?<![\w-])(\d{8})(?:-(\d))?(?![\w-])")


def cpv_significant(code: str) -> str:
    """The digits of a CPV code that place it in the tree: its eight digits without the trailing zeros, at
    least two (the division): "90900000-6" -> "909", "90911200-8" -> "909112"."""
    return code[:8].rstrip("0").ljust(2, "0")


def cpv_codes(text: str) -> list[tuple[str, str | None]]:
    """The CPV codes written in a query, as (eight digits, check digit or None)."""
    return [(m.group(1), m.group(2)) for m in CPV_IN_QUERY.finditer(text or "")]


def analyse_query(text: str, synonyms: Synonyms | None = None) -> list[QueryWord]:
    """The words of a query (stop words out, repeats once) with their surface, stem and synonym terms; CPV
    codes first, each as one word."""
    out = []
    for digits, check in dict.fromkeys(cpv_codes(text)):
        written = f"{digits}-{check}" if check is not None else digits
        out.append(QueryWord(written, frozenset(), frozenset(), frozenset(), frozenset(),
                             cpv=cpv_significant(digits)))
    text = CPV_IN_QUERY.sub(" ", text or "")
    for word in dict.fromkeys(words(text)):
        surface, own_stems = {fold(word)}, stems(word)
        others = (synonyms.expand(word) - {word}) if synonyms else set()
        syn_surface = {fold(o) for o in others} - surface
        syn_stems = set().union(*(stems(o) for o in others)) - own_stems if others else set()
        out.append(QueryWord(word, frozenset(surface), frozenset(own_stems),
                             frozenset(syn_surface), frozenset(syn_stems)))
    return out
