"""The search arrays kept per segment in the index folder: written when a segment is committed, mapped
read-only by every process (never built again by a searcher while the file is good), built again when the
file is missing or damaged, and removed with their segment."""
import json
import mmap
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from whoosh.index import TOC

from catalog.models import Offering
from marketplace.extensions import db
from search import index, query, service, sync
from search.index import live_writer
from tests.test_search_service import PUBLIC, api, enable_search, refs, sample  # noqa: F401 (fixture)


@pytest.fixture
def app_config():
    """The page cache off: these tests watch what each search reads, which a kept answer would skip (the
    damage they do to the index's files changes no data, so the content version rightly stays)."""
    return {"PAGE_CACHE_BYTES": 0}

ROOT = Path(__file__).resolve().parents[1]

# Queries whose answers must not change with how the arrays were had: text, filters, facets, price order,
# a place, a misspelt word (the spelling index) and the facets of the whole catalogue.
QUERIES = [{}, {"q": "sprzątanie"}, {"q": "obiady", "sort": "price_asc"}, {"powiat": "0463"},
           {"q": "obiady toruń"}, {"kind": "product", "quality_mark": "1"}, {"q": "przprowadzki"},
           {"q": "maaglowwanie", "exact": "1"}, {"category": ["catering", "sprzatanie"], "sort": "newest"},
           {"legal_form": "kgw"}, {"reserved_eligible": "true"}]


def answers(client) -> list[dict]:
    return [api(client, **params) for params in QUERIES]


def offering(ref: str) -> Offering:
    return db.session.scalar(select(Offering).where(Offering.ref == ref))


def live_folder() -> str:
    store = service.engine().store
    return store.build_path(store.live_name())


def segment_ids(folder: str) -> list[str]:
    ix = index.open_index(folder)
    return sorted(segment.segment_id() for segment in TOC.read(ix.storage, ix.indexname).segments)


def arrays_files(folder: str) -> list[str]:
    return sorted(f for f in os.listdir(folder) if f.startswith(query.ARRAYS_PREFIX))


def expected_files(folder: str) -> list[str]:
    return sorted(query.arrays_name(key) for key in segment_ids(folder))


def identities(folder: str) -> dict[str, tuple[int, int]]:
    stats = {name: os.stat(os.path.join(folder, name)) for name in arrays_files(folder)}
    return {name: (st.st_ino, st.st_mtime_ns) for name, st in stats.items()}


def reopen() -> None:
    """Have the next search open the index afresh, as a new process would (no segment data kept)."""
    service.engine().live.close()


def view_segments():
    with service.engine().live.current() as view:
        return [data for _offset, data in view.parts]


def mapped_from_file(array: np.ndarray) -> bool:
    """Whether an array's memory is a read-only mapping of a file rather than its own."""
    base = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return not array.flags.owndata and not array.flags.writeable and isinstance(base, mmap.mmap)


@pytest.fixture
def counted(monkeypatch):
    """How many times this process derived a segment's arrays from the index itself."""
    calls = []
    real = query.derive_arrays

    def derive(reader):
        calls.append(reader.segment().segment_id())
        return real(reader)

    monkeypatch.setattr(query, "derive_arrays", derive)
    return calls


def test_every_committed_segment_has_its_arrays_file(client, sample):
    folder = live_folder()
    assert arrays_files(folder) == expected_files(folder) and arrays_files(folder)
    offering("of-03").title = "Kopytka ręcznie lepione"  # a commit adds a segment: its file comes with it
    db.session.commit()
    assert arrays_files(folder) == expected_files(folder)
    for name in arrays_files(folder):
        key = name.removeprefix(query.ARRAYS_PREFIX).rsplit(".v", 1)[0]
        assert query.load_arrays(os.path.join(folder, name), key, _docs(folder, key)) is not None


def _docs(folder: str, key: str) -> int:
    ix = index.open_index(folder)
    segments = TOC.read(ix.storage, ix.indexname).segments
    return next(s.doc_count_all() for s in segments if s.segment_id() == key)


def test_searches_map_the_files_and_build_nothing(client, sample, counted):
    before = identities(live_folder())
    reopen()
    data = api(client, q="pierogi", powiat="0463")
    assert data["total"] > 0 and data["facets"]["category"]
    assert api(client, q="przprowadzki")["answered_query"] == "przeprowadzki"  # the spelling index, mapped
    assert counted == []  # nothing derived: every segment's file was read
    segments = view_segments()
    assert segments and all(data.mapped for data in segments)
    for data in segments:
        for array in (*data.docs.values(), *data.starts.values(), *data.columns.values(), data.speller.hashes,
                      data.speller.owners, data.speller.blob):
            if len(array):
                assert mapped_from_file(array)
    assert identities(live_folder()) == before  # no file written again


SEARCHER = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    from app import create_app
    from marketplace.api.params import SearchParams
    from search import query, service
    from tests.conftest import make_test_config
    derived = []
    real = query.derive_arrays
    query.derive_arrays = lambda reader: derived.append(1) or real(reader)
    app = create_app(make_test_config(Path(sys.argv[1]), sys.argv[2] or None))
    with app.app_context():
        result = service.search(SearchParams(q="sprzątanie", categories=("sprzatanie",)))
        with service.engine().live.current() as view:
            mapped = [data.mapped for _offset, data in view.parts]
    print(json.dumps({"total": result.total, "facets": result.facets, "derived": len(derived),
                      "mapped": mapped}))
""")


def test_another_process_maps_the_same_files(client, sample, tmp_path, pg_url):
    folder = live_folder()
    before = identities(folder)
    mine = api(client, q="sprzątanie", category="sprzatanie")
    env = {**os.environ, "SECRET_KEY": "test-secret-key"}
    done = subprocess.run([sys.executable, "-c", SEARCHER, str(tmp_path), pg_url or ""], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    assert theirs["derived"] == 0 and theirs["mapped"] and all(theirs["mapped"])
    assert theirs["total"] == mine["total"] and theirs["facets"] == mine["facets"]
    assert identities(folder) == before


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "other_version", "other_segment"])
def test_a_missing_or_damaged_file_is_built_again_and_answers_the_same(client, sample, counted, damage):
    folder = live_folder()
    expected = answers(client)
    reopen()  # nothing of this process maps the file while it is damaged in place (as nothing here ever does)
    names = arrays_files(folder)
    victim = os.path.join(folder, names[0])
    if damage == "missing":
        os.remove(victim)
    elif damage == "truncated":
        with open(victim, "r+b") as fh:
            fh.truncate(os.path.getsize(victim) - 7)
    elif damage == "garbage":
        with open(victim, "r+b") as fh:
            fh.write(b"\x00" * 64)
    else:  # a file whose header names another format version or another segment, with its size unchanged
        with open(victim, "rb") as fh:
            raw = fh.read()
        length = int.from_bytes(raw[8:16], "little")
        header = raw[16:16 + length].decode("utf-8")
        if damage == "other_version":
            version = f'"version": {query.ARRAYS_VERSION}'
            changed = header.replace(version, f'"version": {query.ARRAYS_VERSION + 1}')
        else:
            key = names[0].removeprefix(query.ARRAYS_PREFIX).rsplit(".v", 1)[0]
            changed = header.replace(key, key[:-1] + ("a" if key[-1] != "a" else "b"))
        assert changed != header and len(changed) == len(header)
        with open(victim, "r+b") as fh:
            fh.seek(16)
            fh.write(changed.encode("utf-8"))
    assert answers(client) == expected
    assert len(counted) == 1  # that segment only
    key = names[0].removeprefix(query.ARRAYS_PREFIX).rsplit(".v", 1)[0]
    assert query.load_arrays(victim, key, _docs(folder, key)) is not None  # written again, whole
    assert all(data.mapped for data in view_segments())
    counted.clear()
    reopen()
    assert answers(client) == expected and counted == []  # the rewritten file serves the next process


def test_a_folder_that_cannot_be_written_costs_a_copy_not_a_search(client, sample, monkeypatch):
    expected = answers(client)
    folder = live_folder()
    for name in arrays_files(folder):
        os.remove(os.path.join(folder, name))

    def refuse(*args, **kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr(query, "write_arrays", refuse)
    reopen()
    assert answers(client) == expected
    assert not any(data.mapped for data in view_segments())
    assert arrays_files(folder) == []


def test_changes_and_merges_keep_the_answers_right_and_remove_the_files_of_dropped_segments(client, sample):
    folder = live_folder()
    offering("of-03").title = "Kopytka ręcznie lepione"
    offering("of-01").status = "archived"
    db.session.commit()
    offering("of-05").title = "Kopytka i pyzy"
    db.session.commit()
    assert refs(api(client, q="kopytka")) == {"of-03", "of-05"}
    assert api(client)["total"] == PUBLIC - 1
    assert len(segment_ids(folder)) > 1 and arrays_files(folder) == expected_files(folder)
    expected = answers(client)
    # leftovers: a file of a segment merged away meanwhile, one of an older format, and a crash's temporary
    # files (an old one goes, one that may still be being written stays)
    leftovers = [query.arrays_name("MAIN_gone0000000000"), f"{query.ARRAYS_PREFIX}MAIN_x.v0",
                 query.arrays_name("MAIN_y") + ".1.dead.tmp"]
    for name in [*leftovers, query.arrays_name("MAIN_z") + ".2.busy.tmp"]:
        Path(folder, name).write_bytes(b"left over")
    old = time.time() - query.STALE_TEMP - 60
    os.utime(Path(folder, leftovers[2]), (old, old))
    store = service.engine().store
    with live_writer(store, 5) as writer:
        writer.commit(optimize=True)  # every segment merged into one
    assert len(segment_ids(folder)) == 1
    busy = query.arrays_name("MAIN_z") + ".2.busy.tmp"
    assert arrays_files(folder) == sorted([*expected_files(folder), busy])
    assert answers(client) == expected
    assert refs(api(client, q="kopytka")) == {"of-03", "of-05"}
    db.session.delete(offering("of-27"))
    db.session.commit()
    assert "of-27" not in refs(api(client)) and api(client)["total"] == PUBLIC - 2


def test_a_reindex_writes_the_new_segments_files_and_removes_the_old_build(client, runner, sample, counted,
                                                                          monkeypatch):
    expected = answers(client)
    old = live_folder()
    monkeypatch.setattr(sync, "PARALLEL_MIN", 5)  # the catalogue's offerings shared among three processes
    result = runner.invoke(args=["search", "reindex", "--procs", "3"])
    assert result.exit_code == 0, result.output
    new = live_folder()
    assert new != old and not os.path.exists(old)
    assert len(segment_ids(new)) == 3 and arrays_files(new) == expected_files(new)
    counted.clear()  # the command's commit wrote them; the searches below only map them
    reopen()
    assert answers(client) == expected
    assert counted == []
    offering("of-03").published_at = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.commit()
    assert arrays_files(new) == expected_files(new)


def test_the_spelling_index_finds_what_the_deletion_forms_share():
    words = sorted({"pierogi", "pieroga", "pierniki", "maglowanie", "ławki", "łąka", "kot", "kto",
                    "sprzątanie", "żółć", "aab", "przeprowadzki", "straße"})
    speller = query.Speller.of(words)
    assert [speller.word(n) for n in range(len(words))] == words

    def near(term):  # what the method promises, by the forms themselves
        forms = query.deletions(term, query.deletions_allowed(term))
        return {w for w in words if forms & query.deletions(w, query.deletions_allowed(w))}

    for term in ("pierogii", "perogi", "maaglowwanie", "ławkki", "lawki", "ktoo", "tko", "sprzatanie",
                 "przprowadzki", "żółc", "ab", "strase", "zzzzzz"):
        assert speller.near(term) == near(term), term
    assert query.Speller.of([]).near("kot") == set()
