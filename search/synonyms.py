"""The synonym list the search uses: the groups shipped with the portal plus those moderators added.

`current_synonyms()` is called on every search, so it answers from a per-process cache (one per app, kept in
`app.extensions`). The cache is checked against the database at most once every CHECK_EVERY seconds with one
cheap query (`SELECT count(*), max(updated_at)` over the moderators' groups, on a connection of its own, so
that only committed changes count); only when that answer differs are the groups read again and the combined
list rebuilt. The shipped file is watched through `search.analysis.load_synonyms`, which notices when it
changes on disk.

How soon a change is seen:

* in the process that made it, at once: the moderation pages call `invalidate()` right after the commit;
* in every other worker process (other servers included), at its first search at most CHECK_EVERY
  (5) seconds after the commit;
* should a change leave count and latest update time as they were (possible only if the servers' clocks
  disagree), the groups are read again anyway every REFRESH_EVERY (5 minutes).

Synonyms apply at query time: the index holds the words of the offerings, not their synonyms, so no change
here calls for a reindex.
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from accounts.models import utcnow
from marketplace.audit import record
from marketplace.extensions import db
from search.analysis import WORD_RE, Synonyms, is_stopword, load_synonyms, words
from search.models import MAX_WORD_CHARS, SynonymGroup

CHECK_EVERY = 5.0  # seconds between two looks at the database from one process
REFRESH_EVERY = 300.0  # seconds after which the groups are read again even if the database looks unchanged

# The process's clock for the intervals above (a module attribute, so that tests can move it on).
monotonic = time.monotonic

_SEPARATORS = re.compile(r"[,;\r\n]+")
_EXTENSION = "search_synonyms"
_create_lock = threading.Lock()


# -- the cache -------------------------------------------------------------------------------------------


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    combined: Synonyms | None = None
    shipped: Synonyms | None = None  # the shipped list the combined one was built from
    groups: list[tuple[str, ...]] = field(default_factory=list)  # the moderators' groups, as last read
    stamp: tuple | None = None  # (count, latest update) of the moderators' groups when last read
    checked_at: float = float("-inf")  # when the database was last asked (monotonic clock)
    loaded_at: float = float("-inf")  # when the groups were last read


def _cache() -> _Cache:
    app = current_app._get_current_object()
    found = app.extensions.get(_EXTENSION)
    if found is None:
        with _create_lock:
            found = app.extensions.setdefault(_EXTENSION, _Cache())
    return found


def shipped_synonyms() -> Synonyms:
    """The groups shipped with the portal (the app's SEARCH_SYNONYMS_FILE, by default the package's file)."""
    return load_synonyms(current_app.config.get("SEARCH_SYNONYMS_FILE"))


def current_synonyms() -> Synonyms:
    """The shipped groups and the moderators' groups together, as the search uses them."""
    cache = _cache()
    shipped = shipped_synonyms()
    now = monotonic()
    combined = cache.combined
    if combined is not None and cache.shipped is shipped and now - cache.checked_at < CHECK_EVERY:
        return combined
    with cache.lock:
        now = monotonic()
        if cache.combined is None or now - cache.checked_at >= CHECK_EVERY:
            _check_database(cache, now)
        if cache.combined is None or cache.shipped is not shipped:
            cache.combined = Synonyms([*shipped.groups, *cache.groups])
            cache.shipped = shipped
        return cache.combined


def _check_database(cache: _Cache, now: float) -> None:
    """Read the moderators' groups again if they changed (or are due); on a database error keep the last
    ones (none at first) and try again later, so that the search goes on with what it has."""
    cache.checked_at = now
    try:
        with db.engine.connect() as conn:
            stamp = tuple(conn.execute(select(func.count(), func.max(SynonymGroup.updated_at))).one())
            if stamp == cache.stamp and now - cache.loaded_at < REFRESH_EVERY and cache.combined is not None:
                return
            rows = conn.execute(select(SynonymGroup.words).order_by(SynonymGroup.id)).scalars().all()
    except SQLAlchemyError as exc:
        current_app.logger.warning("moderators' synonym groups not read, searching without them: %s", exc)
        return
    groups = [tuple(split_words(text)) for text in rows]
    if groups != cache.groups or cache.combined is None:
        cache.groups = groups
        cache.combined = None  # rebuilt by the caller
    cache.stamp, cache.loaded_at = stamp, now


def invalidate() -> None:
    """Forget this process's combined list: the next search reads the groups again (call after a commit)."""
    cache = _cache()
    with cache.lock:
        cache.combined, cache.stamp = None, None
        cache.checked_at = cache.loaded_at = float("-inf")


# -- the words of a group --------------------------------------------------------------------------------


def split_words(text: str) -> list[str]:
    """The members typed into a form or stored in a row: separated by commas (or semicolons, line breaks),
    trimmed, lowercased, diacritics kept and composed, empty ones left out, repeats kept (the form names
    them)."""
    text = unicodedata.normalize("NFC", text or "")
    return [" ".join(part.split()).lower() for part in _SEPARATORS.split(text) if part.strip()]


def join_words(members) -> str:
    """The stored form of a group's members: "druk, poligrafia, drukarnia"."""
    return ", ".join(members)


def word_problem(word: str) -> str | None:
    """Why a member cannot be used as the search uses synonyms, or None.

    "too_long" (over MAX_WORD_CHARS), "not_one_word" (spaces or punctuation), "hyphen" (a hyphenated word is
    indexed whole and in parts, so it cannot stand for one word of a query), "stop_word" (a word the search
    leaves out of every query, such as "dla").
    """
    if len(word) > MAX_WORD_CHARS:
        return "too_long"
    if not WORD_RE.fullmatch(word):
        return "not_one_word"
    if "-" in word:
        return "hyphen"
    if is_stopword(word):
        return "stop_word"
    if words(word) != [word]:
        return "not_one_word"
    return None


def identical_group(members, exclude_id: int | None = None) -> str | SynonymGroup | None:
    """An existing group with the same members (in any order): "shipped" for one of the shipped list, the
    moderators' group, or None."""
    wanted = frozenset(members)
    if any(frozenset(group) == wanted for group in shipped_synonyms().groups):
        return "shipped"
    query = select(SynonymGroup).order_by(SynonymGroup.id)
    if exclude_id is not None:
        query = query.where(SynonymGroup.id != exclude_id)
    for group in db.session.scalars(query):
        if frozenset(group.members) == wanted:
            return group
    return None


# -- changes (the caller commits, then calls invalidate) ---------------------------------------------------

def _picture(group: SynonymGroup) -> dict:
    return {"words": group.words, "note": group.note}


def create_group(actor, members, note: str | None) -> SynonymGroup:
    """Add a moderator's group and its audit entry to the session."""
    group = SynonymGroup(words=join_words(members), note=note or None,
                         created_by_id=actor.id, updated_by_id=actor.id)
    db.session.add(group)
    db.session.flush()
    record(actor, "synonyms.create", group, after=_picture(group))
    return group


def update_group(actor, group: SynonymGroup, members, note: str | None) -> bool:
    """Change a group's members or note, with an audit entry; False (and nothing written) when the form
    brought no change."""
    before = _picture(group)
    after = {"words": join_words(members), "note": note or None}
    if after == before:
        return False
    group.words, group.note = after["words"], after["note"]
    group.updated_by_id, group.updated_at = actor.id, utcnow()
    record(actor, "synonyms.update", group, before=before, after=after)
    db.session.flush()
    return True


def delete_group(actor, group: SynonymGroup) -> None:
    """Delete a group; the audit entry keeps its members."""
    record(actor, "synonyms.delete", group, before=_picture(group))
    db.session.delete(group)
    db.session.flush()

