"""Running a catalogue search on one searcher: text match, filters, facets, order, page and snippets.

Whoosh's own matchers walk every matching document in Python, which is far too slow for facet counts over
large result sets. Here Whoosh keeps the index on disk and reads it; the search itself works on arrays
(numpy), one slot per document number:

* a term's postings are read block by block into two arrays (document numbers, term frequencies) and kept in
  a per-process cache (segments never change but for deletions, so the cache stays valid for a segment's life);
* a query word's score is the sum over the fields and terms it matches (surface form, stems, synonyms, each
  weighed, BM25's term-frequency saturation and inverse document frequency); the words must all match;
* what does not depend on the query is derived once per segment, at index time, and kept in a file beside the
  segment that every process maps (SegmentData): the documents holding each value of each filter field (the
  powiats served among them), the sort keys, the spelling index. A SearchView (one per index change) adds the
  live documents and how each segment's values number in the whole index. A filter is then a boolean mask, a
  facet's counts one gather and one sum per value's slice in each segment, each facet over the documents
  matching the text and every filter but its own (CONTRACT section 4).
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import html
import itertools
import json
import logging
import math
import mmap
import os
import re
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader, TermNotFound

from search import places
from search.analysis import WORD_RE, QueryWord, fold, stems
from search.schema import SURFACE_FIELDS, SYNONYM_FACTOR, TEXT_WEIGHTS, day_number

# Facet name (CONTRACT section 4) -> index field holding its values.
FACET_FIELDS = {"category": "category", "powiat": "powiats", "legal_form": "legal_form", "kind": "kind"}
CODED_FIELDS = ("category", "legal_form", "kind", "reserved_eligible")  # one value per document
FILTER_FIELDS = (*CODED_FIELDS, "powiats")  # the powiats: those a PES serves, several per document
SPELLING_FIELDS = SURFACE_FIELDS  # whose words a spelling suggestion may offer
COLUMNS = ("published_at", "sort_price_asc", "sort_price_desc", "sort_gross_asc", "sort_gross_desc", "mark_from",
           "mark_until", "mark_next_from", "mark_next_until")
NO_VALUE = 2**31 - 1  # what a numeric column gives for a document without the field
SNIPPET_LENGTH = 200
K1 = 1.2  # BM25's term-frequency saturation
PLACE_FACTOR = 3.0  # score factor of offerings whose PES serves a place named in the query
CPV_WEIGHT = 6.0  # a CPV code's match weighs as a title word's
KIND_FACTOR = 0.5  # score factor of offerings of the other kind than the query asks for (see query_kind)
KIND_MAJORITY = 2 / 3  # share of the title matches of one kind that makes it the kind a query asks for
# Words that ask for a service whatever the titles say ("usługi pralnicze"); folded, and their stems.
SERVICE_WORDS = frozenset(("usluga", "uslugi", "uslug", "serwis", "wynajem", "wynajecie", "organizacja"))
COVERAGE_WEIGHT = 5.0  # a partial match: coverage decides, the score orders those that cover as much
OWN_ELSEWHERE = 0.7  # a partial match's coverage: a word in the description or seller's name…
SYNONYM_ONLY = 0.5  # …and a word matched only through a synonym (in a title or keywords: 1)
HEADLINE_WEIGHTS = {f: TEXT_WEIGHTS[f] for f in ("title", "title_stem", "keywords", "keywords_stem")}
SPELL_MIN = 3  # shorter words are not offered as corrections
CACHED_POSTINGS = 2_000_000  # postings kept decoded per process (12 bytes each: at most about 24 MB a worker)

_NO_POSTINGS = (np.zeros(0, np.int64), np.zeros(0, np.float32))
_MISSING = object()
WORD_CACHE = 32  # a word's scores kept per view (4 bytes a document each)
TERM_STATS = 100_000  # terms whose document frequency a view remembers


# -- postings ------------------------------------------------------------------------------------------------


def read_postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Every posting of a term in one segment: (document numbers, term frequencies), deleted ones included.

    Whoosh's on-disk postings come in blocks of up to 128; a block's document numbers are stored as gaps
    and turned into numbers with one cumulative sum. Other matchers (short posting lists kept inline in the
    term's record) are read one posting at a time."""
    try:
        matcher = reader.postings(field, text)
    except TermNotFound:
        return _NO_POSTINGS
    if isinstance(matcher, FilterMatcher):  # a segment with deletions: they are masked by SearchView.live
        matcher = matcher.child
    ids, weights = [], []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            gaps, found, count = matcher._data[0], matcher._data[1], matcher._blocklength
            ids.append(np.cumsum(np.asarray(gaps, dtype=np.int64)))
            if found is None or isinstance(found, float):
                weights.append(np.full(count, 1.0 if found is None else found, dtype=np.float32))
            else:
                weights.append(np.asarray(found, dtype=np.float32))
            matcher._next_block()
        if not ids:
            return _NO_POSTINGS
        return np.concatenate(ids), np.concatenate(weights)
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)


class PostingsCache:
    """Decoded postings by (segment, field, term), the least recently used dropped beyond a size."""

    def __init__(self, limit: int = CACHED_POSTINGS):
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, segment_key: str, reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (segment_key, field, text)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = read_postings(reader, field, text)
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self.size += len(found[0])
                while self.size > self.limit and len(self._items) > 1:
                    _key, (old, _w) = self._items.popitem(last=False)
                    self.size -= len(old)
        return found

    def forget(self, keep_segments: set[str]) -> None:
        """Drop the postings of segments no longer in the index (merged away, or another build)."""
        with self._lock:
            for key in [k for k in self._items if k[0] not in keep_segments]:
                self.size -= len(self._items.pop(key)[0])


POSTINGS = PostingsCache()


# -- what queries need from a segment, kept in a file beside it ---------------------------------------------
#
# A segment's derived arrays (the documents of each filter field's values, its sort keys, its spelling index)
# are written at index time to one file in the index folder, before the segment is committed
# (search.index.SearchWriter), and every process maps that file read-only: the pages are the page cache's,
# shared by all the workers whether or not the server preloads the app. A file that is missing, of another
# format version or damaged (an index made before, a crash) is built again by the process that needs it and
# written for the others; a folder that cannot be written only costs that process its own copy.
#
# The file: MAGIC, the header's length (8 bytes, little-endian), the header (JSON: format version, segment id,
# documents, each array's dtype, shape and offset, each filter field's values), then the arrays, each starting
# at a multiple of ALIGN from the data's start (itself aligned).

ARRAYS_VERSION = 1  # raise it whenever what the file holds or how it is laid out changes
ARRAYS_PREFIX = "arrays-"
ARRAYS_LOCK = "arrays.lock"  # serialises the processes building files that are missing
MAGIC = b"PESARRS\x00"
ALIGN = 64
STALE_TEMP = 600  # seconds after which a temporary file nobody renamed is taken as left by a crash

Arrays = dict[str, np.ndarray]  # a segment's arrays by name (see derive_arrays)
Values = dict[str, list[str]]  # each coded field's values, in the order of their numbers

log = logging.getLogger(__name__)


def arrays_name(segment_id: str) -> str:
    return f"{ARRAYS_PREFIX}{segment_id}.v{ARRAYS_VERSION}"


def _folder(storage) -> str | None:
    """The folder of a Whoosh storage kept in files (None for one in memory)."""
    folder = getattr(storage, "folder", None)
    return folder if isinstance(folder, str) else None


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def derive_arrays(reader) -> tuple[Arrays, Values]:
    """A segment's arrays, from its reader: (arrays by name, each coded field's values in code order).

    * ``docs:<field>``, ``starts:<field>``: for each filter field (FILTER_FIELDS), the documents holding
      each of its values, value after value in sorted order (each value's in increasing order), and where
      each value's documents start (one more: the end), so that a value's documents are one slice;
    * ``col:<name>``: the sort keys and mark days (NO_VALUE without one);
    * ``spell_*``: the spelling index (see Speller).

    Deleted documents are included: deletions change, the segment does not (SearchView.live masks them)."""
    size = reader.doc_count_all()
    indexed = set(reader.indexed_field_names())
    arrays: dict[str, np.ndarray] = {}
    vocab: dict[str, list[str]] = {}
    for field in FILTER_FIELDS:
        values = sorted(reader.field_terms(field)) if field in indexed else []
        vocab[field] = values
        postings = [read_postings(reader, field, value)[0] for value in values]
        arrays["docs:" + field] = (np.concatenate(postings).astype(np.int64) if postings
                                   else np.zeros(0, np.int64))
        starts = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in postings], out=starts[1:])
        arrays["starts:" + field] = starts
    for name in COLUMNS:
        arrays["col:" + name] = (np.fromiter(reader.column_reader(name), dtype=np.int64, count=size)
                                 if size else np.zeros(0, np.int64))
    words: set[str] = set()  # those of titles, keywords and sellers (descriptions are indexed by stems only)
    for field in SPELLING_FIELDS:
        if field in indexed:
            for text, _info in reader.iter_field(field):
                text = text.decode("utf-8") if isinstance(text, bytes) else text
                if len(text) >= SPELL_MIN and text.isalpha():
                    words.add(text)
    arrays.update(Speller.arrays(sorted(words)))
    return arrays, vocab


def _layout(size: int) -> dict[str, tuple[np.dtype, int | None]]:
    """Each array of a segment's file: its dtype and length (None: any length). All are one-dimensional."""
    layout: dict[str, tuple[np.dtype, int | None]] = {}
    for field in FILTER_FIELDS:
        layout["docs:" + field] = layout["starts:" + field] = (np.dtype(np.int64), None)
    layout.update({"col:" + name: (np.dtype(np.int64), size) for name in COLUMNS})
    layout.update(spell_blob=(np.dtype(np.uint8), None), spell_offsets=(np.dtype(np.int64), None),
                  spell_hashes=(np.dtype(np.uint64), None), spell_owners=(np.dtype(np.int32), None))
    return layout


def write_arrays(path: str, segment_id: str, size: int, arrays: Arrays, vocab: Values) -> None:
    """Write a segment's arrays to `path` atomically: a temporary file beside it, synced, then renamed, so a
    reader finds the whole file or none."""
    entries, offset, parts = {}, 0, []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        offset = _aligned(offset)
        entries[name] = [array.dtype.str, list(array.shape), offset]
        parts.append((offset, array))
        offset += array.nbytes
    header = json.dumps({"version": ARRAYS_VERSION, "segment": segment_id, "docs": size, "data": offset,
                         "arrays": entries, "vocab": vocab}, ensure_ascii=False).encode("utf-8")
    start = _aligned(len(MAGIC) + 8 + len(header))
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + struct.pack("<Q", len(header)) + header)
            for at, array in parts:
                fh.write(b"\0" * (start + at - fh.tell()))
                fh.write(memoryview(array).cast("B") if array.nbytes else b"")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def load_arrays(path: str, segment_id: str, size: int) -> tuple[Arrays, Values] | None:
    """A segment's arrays mapped read-only from its file, or None when the file is missing, of another
    version, or does not hold what it should (truncated, damaged, another segment's). The checks read the
    header only: the arrays' pages are read when searches use them."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 8)
            if len(head) < len(MAGIC) + 8 or head[:len(MAGIC)] != MAGIC:
                return None
            (length,) = struct.unpack("<Q", head[len(MAGIC):])
            if length > 1 << 26:
                return None
            header = json.loads(fh.read(length).decode("utf-8"))
            if (not isinstance(header, dict) or header.get("version") != ARRAYS_VERSION
                    or header.get("segment") != segment_id or header.get("docs") != size):
                return None
            start = _aligned(len(MAGIC) + 8 + length)
            total = os.fstat(fh.fileno()).st_size
            if total != start + int(header["data"]):
                return None
            vocab = {field: header["vocab"][field] for field in FILTER_FIELDS}
            if not all(isinstance(values, list) and all(isinstance(v, str) for v in values)
                       and values == sorted(set(values)) for values in vocab.values()):
                return None
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        arrays = {}
        for name, (dtype, length_) in _layout(size).items():
            stored_dtype, shape, offset = header["arrays"][name]
            if (np.dtype(stored_dtype) != dtype or len(shape) != 1 or not isinstance(offset, int)
                    or not isinstance(shape[0], int) or shape[0] < 0 or length_ not in (None, shape[0])
                    or offset < 0 or start + offset + shape[0] * dtype.itemsize > total):
                return None
            arrays[name] = (np.frombuffer(mapped, dtype, shape[0], start + offset) if shape[0]
                            else np.zeros(0, dtype))
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, struct.error):
        return None
    if not (all(len(arrays["starts:" + f]) == len(vocab[f]) + 1
                and int(arrays["starts:" + f][-1]) == len(arrays["docs:" + f]) for f in FILTER_FIELDS)
            and len(arrays["spell_hashes"]) == len(arrays["spell_owners"])
            and len(arrays["spell_offsets"]) >= 1
            and int(arrays["spell_offsets"][-1]) == len(arrays["spell_blob"])):
        return None
    return arrays, vocab


@contextlib.contextmanager
def _build_lock(folder: str):
    """Holds the folder's lock for building arrays files (no lock when it cannot be had: the folder is
    read-only, or the file system does not lock)."""
    try:
        fd = os.open(os.path.join(folder, ARRAYS_LOCK), os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def segment_arrays(key: str, reader) -> tuple[Arrays, Values, str | None]:
    """(arrays, values, the file they are mapped from or None) of a segment: its file mapped, or, when that
    is missing or unusable, the arrays built here and written for the other processes (under the folder's
    lock, so that processes starting together build each file once)."""
    size = reader.doc_count_all()
    folder = _folder(getattr(reader, "_storage", None))
    if folder is None:
        return (*derive_arrays(reader), None)
    path = os.path.join(folder, arrays_name(key))
    found = load_arrays(path, key, size)
    if found is None:
        with _build_lock(folder):
            found = load_arrays(path, key, size)  # another process may have written it meanwhile
            if found is None:
                arrays, vocab = derive_arrays(reader)
                try:
                    write_arrays(path, key, size, arrays, vocab)
                except OSError as e:
                    log.warning("search arrays of segment %s not written (%s): kept in this process only",
                                key, e)
                    return arrays, vocab, None
                found = load_arrays(path, key, size)
                if found is None:
                    return arrays, vocab, None
    return (*found, path)


def prepare_segment(storage, schema, segment) -> None:
    """Write the arrays file of a segment about to be committed, unless it has one (search.index calls this
    for every segment of a commit, before the TOC names them). A failure only leaves the work to the
    searchers (see segment_arrays)."""
    folder = _folder(storage)
    if folder is None:
        return
    key = segment.segment_id()
    path = os.path.join(folder, arrays_name(key))
    if os.path.exists(path):
        return
    reader = None
    try:
        reader = SegmentReader(storage, schema, segment)
        write_arrays(path, key, reader.doc_count_all(), *derive_arrays(reader))
    except Exception as e:  # noqa: BLE001 (the commit goes on; searchers build the file)
        log.warning("search arrays of segment %s not written at commit (%s)", key, e)
    finally:
        if reader is not None:
            reader.close()


def remove_stale_arrays(storage, keep: Iterable[str]) -> None:
    """Remove the arrays files of segments not in `keep` (merged away, deleted), of other format versions,
    and temporary files left by a crash. A process that still maps a removed file keeps its pages."""
    folder = _folder(storage)
    if folder is None:
        return
    keep_names = {arrays_name(key) for key in keep}
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not entry.startswith(ARRAYS_PREFIX) or entry in keep_names:
            continue
        path = os.path.join(folder, entry)
        with contextlib.suppress(OSError):
            if entry.endswith(".tmp") and now - os.stat(path).st_mtime < STALE_TEMP:
                continue  # being written by another process
            os.remove(path)


class SegmentData:
    """What queries need from one segment, its file mapped (see segment_arrays): Whoosh segments never
    change but for deletions. `vocab[field]` lists a filter field's values; the documents holding the i-th
    are `docs[field][starts[field][i]:starts[field][i + 1]]`."""

    def __init__(self, key: str, reader):
        self.key = key
        self.size = reader.doc_count_all()
        arrays, self.vocab, self.path = segment_arrays(key, reader)
        self.docs = {field: arrays["docs:" + field] for field in FILTER_FIELDS}
        self.starts = {field: arrays["starts:" + field] for field in FILTER_FIELDS}
        self.index = {field: {value: i for i, value in enumerate(self.vocab[field])}
                      for field in FILTER_FIELDS}
        self.columns = {name: arrays["col:" + name] for name in COLUMNS}
        self.speller = Speller(arrays["spell_blob"], arrays["spell_offsets"], arrays["spell_hashes"],
                               arrays["spell_owners"])

    @property
    def mapped(self) -> bool:
        """Whether the arrays are those of the file, shared with the other processes mapping it."""
        return self.path is not None


def deletions(word: str, times: int = 1) -> set[str]:
    """The word and every form of it with up to `times` letters left out."""
    found = {word}
    for _ in range(times):
        found |= {w[:i] + w[i + 1:] for w in found for i in range(len(w))}
    return found


def deletions_allowed(word: str) -> int:
    """How many letters a word's spelling index and its lookups leave out: two for words of five letters or
    more (a typo in two letters is fixed there), one for shorter ones."""
    return 2 if len(word) > 4 else 1


_FNV_PRIME = np.uint64(0x100000001B3)
_SEED = np.uint64(0xCBF29CE484222325)
_MIX = (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
SPELL_CHUNK = 1 << 22  # letters of forms hashed at once (bounds the temporary arrays: 4 bytes a letter)


def _hash_rows(letters: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of code points (the last axis), the same in every process and on every
    run (unlike Python's hash of a string): FNV-1a over the code points, then mixed."""
    with np.errstate(over="ignore"):
        h = np.full(letters.shape[:-1], _SEED ^ np.uint64(letters.shape[-1]), dtype=np.uint64)
        for column in range(letters.shape[-1]):
            h ^= letters[..., column].astype(np.uint64)
            h *= _FNV_PRIME
        h ^= h >> np.uint64(33)
        h *= _MIX[0]
        h ^= h >> np.uint64(33)
        h *= _MIX[1]
        h ^= h >> np.uint64(33)
    return h


def _code_points(words: list[str], length: int) -> np.ndarray:
    """Words of one length as a (words, length) array of code points."""
    return np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32).reshape(len(words), length)


@functools.lru_cache(maxsize=256)
def _kept_positions(length: int, left_out: int) -> np.ndarray:
    """Every choice of the letters kept when `left_out` of `length` letters are left out, in order."""
    return np.asarray(list(itertools.combinations(range(length), length - left_out)),
                      dtype=np.intp).reshape(-1, length - left_out)


def form_hashes(forms: Iterable[str]) -> np.ndarray:
    """The hashes of some strings (as Speller keeps its forms')."""
    by_length: dict[int, list[str]] = {}
    for form in forms:
        by_length.setdefault(len(form), []).append(form)
    parts = [_hash_rows(_code_points(group, length)) for length, group in by_length.items()]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


class Speller:
    """Words by the forms they take with letters left out (the symmetric deletion method): two words within
    two edits (typos in two letters: wrong, missing, extra or swapped) share such a form, so the candidates
    for a misspelt word come from a few lookups instead of distances to the whole vocabulary.

    The forms are kept as sorted 64-bit hashes beside the number of their word, and the words as one UTF-8
    text with their offsets: arrays only, so that they live in the segment's mapped file (about 12 bytes a
    form). A hash shared by chance only adds a candidate, which the caller checks by its distance."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, hashes: np.ndarray, owners: np.ndarray):
        self.blob, self.offsets, self.hashes, self.owners = blob, offsets, hashes, owners

    @staticmethod
    def arrays(vocabulary: list[str]) -> Arrays:
        """The arrays of a sorted vocabulary's spelling index (see the class), for the segment's file."""
        encoded = [w.encode("utf-8") for w in vocabulary]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        by_length: dict[int, list[int]] = {}
        for number, word in enumerate(vocabulary):
            by_length.setdefault(len(word), []).append(number)
        hashes, owners = [], []
        for length, numbers_ in by_length.items():
            numbers = np.asarray(numbers_, dtype=np.int32)
            letters = _code_points([vocabulary[n] for n in numbers], length)
            for left_out in range(deletions_allowed("x" * length) + 1):
                kept = _kept_positions(length, left_out)  # (forms, letters kept)
                step = max(1, SPELL_CHUNK // max(kept.size, 1))
                for first in range(0, len(numbers), step):
                    found = _hash_rows(letters[first:first + step][:, kept])  # (words, forms)
                    hashes.append(found.ravel())
                    owners.append(np.repeat(numbers[first:first + step], kept.shape[0]))
        hashes_ = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
        owners_ = np.concatenate(owners) if owners else np.zeros(0, np.int32)
        order_ = np.lexsort((owners_, hashes_))
        hashes_, owners_ = hashes_[order_], owners_[order_]
        keep = np.ones(len(hashes_), dtype=bool)  # a form a word takes twice ("aab" -> "ab") is kept once
        keep[1:] = (hashes_[1:] != hashes_[:-1]) | (owners_[1:] != owners_[:-1])
        return {"spell_blob": np.frombuffer(b"".join(encoded), dtype=np.uint8),
                "spell_offsets": offsets, "spell_hashes": hashes_[keep], "spell_owners": owners_[keep]}

    @classmethod
    def of(cls, vocabulary: list[str]) -> Speller:
        """A speller of a sorted vocabulary, in memory."""
        a = cls.arrays(vocabulary)
        return cls(a["spell_blob"], a["spell_offsets"], a["spell_hashes"], a["spell_owners"])

    def word(self, number: int) -> str:
        return self.blob[self.offsets[number]:self.offsets[number + 1]].tobytes().decode("utf-8")

    def near(self, term: str) -> set[str]:
        """Words that may be within two edits of the term (one for a term of four letters or fewer)."""
        if not len(self.hashes):
            return set()
        keys = form_hashes(deletions(term, deletions_allowed(term)))
        left = np.searchsorted(self.hashes, keys, side="left")
        right = np.searchsorted(self.hashes, keys, side="right")
        numbers = {int(n) for a, b in zip(left, right, strict=True) if b > a for n in self.owners[a:b]}
        return {self.word(n) for n in numbers}


# -- what queries need from the index, derived once per change --------------------------------------------


def _slice_sums(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """How many flags are set in each slice flags[starts[i]:starts[i + 1]] (the slices follow one another)."""
    sums = np.zeros(len(starts) - 1, dtype=np.int64)
    full = starts[:-1] < starts[1:]
    if full.any():
        sums[full] = np.add.reduceat(flags, starts[:-1][full], dtype=np.int64)
    return sums


class SearchView:
    """One searcher with what queries need from each of its segments (see the module's docstring).

    The per-document arrays stay those of the segments (mapped, shared between processes): a filter's mask,
    a facet's counts or a sort key is computed segment by segment, each segment's value numbers mapped to the
    view's (the sorted values of all segments). Only the live mask (a byte a document) is the view's own."""

    def __init__(self, searcher, previous: SearchView | None = None):
        self.searcher = searcher
        self.reader = searcher.reader()
        cache = previous.segment_cache if previous else {}
        self.segment_cache: dict[str, SegmentData] = {}
        self.segments: list[tuple[str, object, int]] = []  # (segment key, leaf reader, first doc number)
        for reader, offset in self.reader.leaf_readers():
            if reader.segment() is None:  # an index without segments yet
                continue
            key = reader.segment().segment_id()
            self.segment_cache[key] = cache.get(key) or SegmentData(key, reader)
            self.segments.append((key, reader, offset))
        POSTINGS.forget(set(self.segment_cache) | (set(previous.segment_cache) if previous else set()))
        self.parts = [(offset, self.segment_cache[key]) for key, _reader, offset in self.segments]
        self.size = self.reader.doc_count_all()
        self.live = np.zeros(self.size, dtype=bool)
        for (_key, reader, offset), (_o, data) in zip(self.segments, self.parts, strict=True):
            self.live[offset:offset + data.size] = True
            if reader.has_deletions():
                self.live[offset + np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
        self._starts = np.asarray([offset for offset, _data in self.parts] + [self.size], dtype=np.int64)
        # Each field's values over all segments, sorted, and per segment where its own values are in them.
        self.vocab: dict[str, list[str]] = {}
        self._remap: dict[str, list[np.ndarray]] = {}
        for field in FILTER_FIELDS:
            self.vocab[field] = sorted({v for _offset, data in self.parts for v in data.vocab[field]})
            index = {value: code for code, value in enumerate(self.vocab[field])}
            self._remap[field] = [np.asarray([index[v] for v in data.vocab[field]], dtype=np.intp)
                                  for _offset, data in self.parts]
        self.powiat_index = {code: row for row, code in enumerate(self.vocab["powiats"])}
        self._marks: tuple[date, np.ndarray] | None = None
        self._word_cache: dict[tuple, np.ndarray | None] = {}  # see word_scores
        self._term_stats: dict[tuple[str, str], int] = {}  # see doc_frequency

    # -- filters and facets ----------------------------------------------------------------------------

    def docs(self, field: str, values: Iterable[str]) -> np.ndarray:
        """Documents holding any of the values in a field (the union of an OR filter), as a mask."""
        values = set(values)
        mask = np.zeros(self.size, dtype=bool)
        for offset, data in self.parts:
            part, docs, starts = mask[offset:offset + data.size], data.docs[field], data.starts[field]
            for value in values:
                i = data.index[field].get(value)
                if i is not None:
                    part[docs[starts[i]:starts[i + 1]]] = True
        return mask

    def value_counts(self, field: str, base: np.ndarray) -> np.ndarray:
        """How many documents of a mask hold each value of a field (in the order of vocab[field]); for the
        powiats, each document counts once for every powiat it serves. Per segment: the mask read at each
        value's documents, summed slice by slice (no matrix product: BLAS threads busy-waiting in every worker
        cost more than they save)."""
        counts = np.zeros(len(self.vocab[field]), dtype=np.int64)
        for (offset, data), remap in zip(self.parts, self._remap[field], strict=True):
            if len(remap):
                held = base[offset:offset + data.size][data.docs[field]]  # per value, per document holding it
                counts[remap] += _slice_sums(held, data.starts[field])
        return counts

    def column(self, name: str, docs: np.ndarray) -> np.ndarray:
        """A column's values (sort keys, mark days) for documents given in increasing order."""
        if len(self.parts) == 1:
            return self.parts[0][1].columns[name][docs]
        out = np.empty(len(docs), dtype=np.int64)
        bounds = np.searchsorted(docs, self._starts)
        for i, (offset, data) in enumerate(self.parts):
            a, b = bounds[i], bounds[i + 1]
            if a < b:
                out[a:b] = data.columns[name][docs[a:b] - offset]
        return out

    def marks_valid_on(self, day: date) -> np.ndarray:
        """Documents whose quality mark is valid on the day (both ends of its period included)."""
        if self._marks is None or self._marks[0] != day:
            n = day_number(day)
            valid = np.zeros(self.size, dtype=bool)
            for offset, data in self.parts:
                cols = data.columns
                part = (cols["mark_from"] <= n) & (n <= cols["mark_until"]) & (cols["mark_from"] != NO_VALUE)
                part |= ((cols["mark_next_from"] <= n) & (n <= cols["mark_next_until"])
                         & (cols["mark_next_from"] != NO_VALUE))
                valid[offset:offset + data.size] = part
            self._marks = (day, valid)
        return self._marks[1]

    # -- text ------------------------------------------------------------------------------------------

    def postings(self, field: str, text: str):
        """(first document number of its segment, document numbers, term frequencies) for each segment."""
        for key, reader, offset in self.segments:
            ids, freqs = POSTINGS.get(key, reader, field, text)
            if len(ids):
                yield offset, ids, freqs

    def doc_frequency(self, field: str, text: str) -> int:
        """Documents holding a term (deleted ones included, as Whoosh counts them; 0 for an unknown term),
        remembered for the view's life: a query word with its stems and synonyms asks for dozens of terms in
        several fields, each a look-up in the index files."""
        key = (field, text)
        found = self._term_stats.get(key)
        if found is None:
            found = self.reader.doc_frequency(field, text) if key in self.reader else 0
            if len(self._term_stats) >= TERM_STATS:
                self._term_stats.clear()
            self._term_stats[key] = found
        return found

    def has_term(self, field: str, text: str) -> bool:
        return self.doc_frequency(field, text) > 0

    def word_scores(self, word: QueryWord, weights: Mapping[str, float] = TEXT_WEIGHTS,
                    synonyms: bool = True) -> np.ndarray | None:
        """Each document's score for one query word (0 where it does not match), or None if none matches.

        A match in a field weighs the field's weight (a synonym's, SYNONYM_FACTOR of it) times the term's
        inverse document frequency times its saturated frequency in the document. One answer asks for the
        same word several times (its match, the kind it asks for, a partial match's coverage), so the last
        WORD_CACHE results are kept on the view, read-only."""
        key = (word, tuple(weights.items()), synonyms)
        found = self._word_cache.get(key, _MISSING)
        if found is _MISSING:
            found = self._word_scores(word, weights, synonyms)
            if found is not None:
                found.flags.writeable = False
            if len(self._word_cache) >= WORD_CACHE:
                self._word_cache.clear()
            self._word_cache[key] = found
        return found

    def _word_scores(self, word: QueryWord, weights: Mapping[str, float], synonyms: bool) -> np.ndarray | None:
        acc = None
        total = max(self.size, 1)
        if word.cpv:
            return self._term_scores("cpv_tree", word.cpv, CPV_WEIGHT) if "title" in weights else None
        for field, weight in weights.items():
            stemmed = field.endswith("_stem")
            own = word.stems if stemmed else word.surface
            others = ((word.synonym_stems if stemmed else word.synonym_surface) - own) if synonyms else set()
            for terms, boost in ((own, weight), (others, weight * SYNONYM_FACTOR)):
                for text in sorted(terms):
                    df = self.doc_frequency(field, text)
                    if not df:
                        continue
                    factor = boost * math.log(1.0 + (total - df + 0.5) / (df + 0.5))
                    for offset, ids, freqs in self.postings(field, text):
                        if acc is None:
                            acc = np.zeros(self.size, dtype=np.float32)
                        acc[offset + ids] += factor * freqs * (K1 + 1.0) / (freqs + K1)
        return acc

    def _term_scores(self, field: str, text: str, weight: float) -> np.ndarray | None:
        """Each document's score for one term of a field (as in word_scores), or None if no document has it."""
        df = self.doc_frequency(field, text)
        if not df:
            return None
        factor = weight * math.log(1.0 + (max(self.size, 1) - df + 0.5) / (df + 0.5))
        acc = np.zeros(self.size, dtype=np.float32)
        for offset, ids, _freqs in self.postings(field, text):
            acc[offset + ids] += factor
        return acc

    def match(self, words: list[QueryWord], optional: Iterable[QueryWord] = (),
              favoured: np.ndarray | None = None,
              weights: Mapping[str, float] = TEXT_WEIGHTS, at_least: int | None = None,
              lowered: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(mask of live documents matching every word, their scores).

        With `at_least`, a document needs only that many of the words, and the more of the query it covers,
        the higher it ranks: every document with all the words comes first; then a word counts by how rare it
        is (log(1 + N / documents with it)) and by where the document has it (_strength), and the score orders
        those that cover as much. Optional words add to the score of the documents they match without being
        required; documents in `favoured` have their score raised by PLACE_FACTOR, those in `lowered`
        (offerings of another kind than the query asks for) lowered by KIND_FACTOR."""
        mask = self.live.copy()
        scores = np.zeros(self.size, dtype=np.float32)
        matched = np.zeros(self.size, dtype=np.int32)
        covered = np.zeros(self.size, dtype=np.float32)
        rarity_total = 0.0
        for word in words:
            acc = self.word_scores(word, weights)
            if acc is None:
                if at_least is None:
                    return np.zeros(self.size, dtype=bool), scores
                rarity_total += math.log(1.0 + self.size)
                continue
            has = acc > 0
            rarity = math.log(1.0 + self.size / max(int(np.count_nonzero(has & self.live)), 1))
            rarity_total += rarity
            matched += has
            if at_least is not None:
                covered += self._strength(word, has) * rarity
            scores += acc
        if at_least is None:
            mask &= matched == len(words)
        else:
            mask &= matched >= at_least
        for word in optional:
            acc = self.word_scores(word, weights)
            if acc is not None:
                scores += acc
        if favoured is not None:
            scores[favoured] *= PLACE_FACTOR
        if lowered is not None:
            scores[lowered] *= KIND_FACTOR
        if at_least is not None and words:
            coverage = np.where(matched == len(words), 1.0 + 1e-3, covered / max(rarity_total, 1e-9))
            scores += coverage.astype(np.float32) * (float(scores.max(initial=0.0)) + 1.0) * COVERAGE_WEIGHT
        return mask, scores

    def _strength(self, word: QueryWord, has: np.ndarray) -> np.ndarray:
        """How well each document holds a word, for the coverage of a partial match: the word itself in its
        title or keywords 1, elsewhere OWN_ELSEWHERE, only through a synonym SYNONYM_ONLY."""
        strength = has * SYNONYM_ONLY
        own = self.word_scores(word, synonyms=False)
        if own is not None:
            strength = np.where(own > 0, OWN_ELSEWHERE, strength)
            headline = self.word_scores(word, HEADLINE_WEIGHTS, synonyms=False)
            if headline is not None:
                strength = np.where(headline > 0, 1.0, strength)
        return strength.astype(np.float32)

    def near_terms(self, term: str) -> set[str]:
        """Index words that may be within two edits of a folded term (one for short terms; see Speller)."""
        found: set[str] = set()
        for _offset, data in self.parts:
            found |= data.speller.near(term)
        return found

    def first_doc(self, field: str, text: str) -> int | None:
        """The first live document holding a term in a field."""
        for offset, ids, _freqs in self.postings(field, text):
            live = ids[self.live[offset + ids]]
            if len(live):
                return int(offset + live[0])
        return None


@dataclass(frozen=True)
class QueryPlan:
    """A query's words sorted out: those an offering must have, the places named (optional words that favour
    offerings whose PES serves them) and the codes of those places."""

    required: list[QueryWord]
    optional: list[QueryWord]
    places: frozenset[str]


def plan_query(qwords: list[QueryWord]) -> QueryPlan:
    """Words naming a place of the region (search.places) are not required but favour offerings whose PES
    serves it; "powiat", "gmina" beside a place name it too."""
    named = {w: places.powiats_named(w) if not w.cpv else frozenset() for w in qwords}
    for whole in [w for w in qwords if "-" in w.text and named[w]]:  # "golub-dobrzyń" and its parts
        parts = whole.text.split("-")
        named.update({w: named[whole] for w in qwords if w.text in parts})
    codes = frozenset().union(*named.values()) if qwords else frozenset()
    if codes:
        named.update({w: codes for w in qwords if places.is_context(w)})
    texts = {w.text for w in qwords}
    # A hyphenated word comes with its parts ("świece-sojowe": świece, sojowe): the parts are required, the whole
    # only raises the offerings that write it so.
    compound = {w for w in qwords if "-" in w.text and set(w.text.split("-")) <= texts}
    return QueryPlan([w for w in qwords if not named[w] and w not in compound],
                     [w for w in qwords if named[w] or w in compound], codes)


def match_query(view: SearchView, qwords: list[QueryWord], at_least: int | None = None,
                plan: QueryPlan | None = None, lowered: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mask, scores) of a query's words (see plan_query). A query that names nothing but places finds the
    offerings of PES serving them, or naming them. `at_least`: how many of the required words an offering
    needs (see SearchView.match); all of them when None."""
    plan = plan or plan_query(qwords)
    serving = view.docs("powiats", plan.places) if plan.places else None
    if not plan.required:
        mask, scores = view.match([], qwords)
        return mask & ((scores > 0) | serving), scores + serving * max(float(scores.max(initial=0.0)), 1.0)
    return view.match(plan.required, plan.optional, serving, at_least=at_least, lowered=lowered)


def query_kind(view: SearchView, plan: QueryPlan, found: np.ndarray) -> str | None:
    """The kind of offering ("product" or "service") a query asks for, or None when it does not tell.

    A word such as "usługi" asks for services. Otherwise the titles decide: when at least KIND_MAJORITY of
    the offerings found with all the words (`found`) whose title holds a query word are of one kind, the
    query names a thing of that kind ("świece" are candles for sale, whatever workshop mentions them)."""
    if any(w.has_any(SERVICE_WORDS) for w in plan.required):
        return "service"
    titled = np.zeros(view.size, dtype=bool)
    weights = {"title": TEXT_WEIGHTS["title"], "title_stem": TEXT_WEIGHTS["title_stem"]}
    for word in plan.required:
        acc = view.word_scores(word, weights)
        if acc is not None:
            titled |= acc > 0
    titled &= found
    counts = view.value_counts("kind", titled)
    total = int(counts.sum())
    if total < 2:
        return None
    best = int(counts.argmax())
    return view.vocab["kind"][best] if counts[best] >= KIND_MAJORITY * total else None


def other_kind(view: SearchView, kind: str | None) -> np.ndarray | None:
    """The documents of another kind than `kind` (None when the query asks for no kind)."""
    if kind is None or kind not in view.vocab["kind"]:
        return None
    return ~view.docs("kind", [kind])


# -- filters and facets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The active filters of a search, each as the mask of documents it lets through."""

    sets: dict[str, np.ndarray]

    def except_(self, name: str | None) -> list[np.ndarray]:
        return [docs for key, docs in self.sets.items() if key != name]


def filters_for(view: SearchView, params, today: date) -> Filters:
    sets: dict[str, np.ndarray] = {}
    if params.kind:
        sets["kind"] = view.docs("kind", [params.kind])
    if params.categories:
        sets["category"] = view.docs("category", params.categories)
    if params.powiats:
        sets["powiat"] = view.docs("powiats", params.powiats)
    if params.legal_forms:
        sets["legal_form"] = view.docs("legal_form", params.legal_forms)
    if params.quality_mark:
        sets["quality_mark"] = view.marks_valid_on(today)
    if params.reserved_eligible:
        sets["reserved_eligible"] = view.docs("reserved_eligible", ["1"])
    return Filters(sets)


def intersect(base: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """The documents in base and in every other mask."""
    if not others:
        return base
    out = base & others[0]
    for other in others[1:]:
        out &= other
    return out


def facet_counts(view: SearchView, matched: np.ndarray, filters: Filters, params, today: date) -> dict:
    """Counts per value of each facet over the whole result set, each facet without its own filter.

    Values with no document are left out unless selected; `quality_mark` always has its one key "1"."""
    selected = {"category": params.categories, "powiat": params.powiats, "legal_form": params.legal_forms,
                "kind": (params.kind,) if params.kind else ()}
    out = {}
    for name, field in FACET_FIELDS.items():
        base = intersect(matched, filters.except_(name))
        vocab = view.vocab[field]
        found = view.value_counts(field, base)
        counts = {value: int(n) for value, n in zip(vocab, found, strict=True) if n}
        for value in selected[name]:
            counts.setdefault(value, 0)
        out[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    base = intersect(matched, filters.except_("quality_mark"))
    out["quality_mark"] = {"1": int(np.count_nonzero(base & view.marks_valid_on(today)))}
    return out


def order(view: SearchView, found: np.ndarray, sort: str, scores: np.ndarray | None, limit: int,
          price: str = "net") -> list[int]:
    """The first `limit` found documents in the requested order; ties go to the newest, then the last indexed.

    Relevance without a query text (nothing to score) is newest first. Price orders sort by the net or the
    gross price (`price`), with keys that put "price on request" last in both directions
    (search.schema.PRICE_ON_REQUEST)."""
    docs = np.flatnonzero(found)
    if not len(docs) or limit <= 0:
        return []
    newest = view.column("published_at", docs)
    if sort == "relevance" and scores is not None:
        first = -scores[docs].astype(np.float64)
    elif sort in ("price_asc", "price_desc"):
        column = ("sort_price_" if price == "net" else "sort_gross_") + sort.removeprefix("price_")
        first = view.column(column, docs)
    else:
        first = -newest
    if limit < len(docs):  # keep the documents that can be among the first `limit`, ties included
        kth = np.partition(first, limit - 1)[limit - 1]
        keep = first <= kth
        docs, newest, first = docs[keep], newest[keep], first[keep]
    ranked = np.lexsort((-docs, -newest, first))[:limit]
    return [int(d) for d in docs[ranked]]


# -- snippets --------------------------------------------------------------------------------------------


class _Marker:
    """Which words of a text a query matches (as written, by stem, or through a synonym), remembered per word."""

    def __init__(self, words: list[QueryWord]):
        self.surface = set().union(*(w.surface | w.synonym_surface for w in words)) if words else set()
        self.stems = set().union(*(w.stems | w.synonym_stems for w in words)) if words else set()
        self.seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        lower = word.lower()
        found = self.seen.get(lower)
        if found is None:
            surface = fold(lower)
            found = surface in self.surface or (surface.isalpha() and not self.stems.isdisjoint(stems(lower)))
            self.seen[lower] = found
        return found


def marker(words: list[QueryWord]) -> _Marker | None:
    """What snippets use to find a query's words: make one per query and pass it to each of its snippets, so
    that a word the descriptions share is looked at once."""
    return _Marker(words) if words else None


def snippet(text: str, words: list[QueryWord], length: int = SNIPPET_LENGTH,
            marks: _Marker | None = _MISSING) -> str:
    """A passage of the description as HTML: the text escaped, the query's words in <mark>.

    The passage starts a little before the first matching word (the description's start when none
    matches or the query is empty) and is cut at a word boundary, with an ellipsis where text was cut."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    if marks is _MISSING:
        marks = marker(words)
    spans: list[tuple[int, int]] = []
    stop = len(text)
    for m in WORD_RE.finditer(text) if marks else ():
        if m.start() > stop:  # past the end of any passage that starts at or before the first match
            break
        if marks(m.group(0)):
            if not spans:
                stop = m.start() + length
            spans.append((m.start(), m.end()))
    start = 0
    if spans and spans[0][1] > length * 3 // 4:
        start = text.rfind(" ", 0, max(0, spans[0][0] - length // 4)) + 1
    end = len(text)
    if end - start > length:
        cut = text.rfind(" ", start, start + length)
        end = cut if cut > start else start + length
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(text[pos:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


def replace_words(text: str, corrections: Mapping[str, str]) -> str:
    """The text with some of its words replaced (matched case-insensitively), the rest left as typed."""
    return re.sub(WORD_RE, lambda m: corrections.get(m.group(0).lower(), m.group(0)), text)
