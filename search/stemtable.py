"""The Polish stemmer's tables as one compact binary file, memory-mapped and read in place.

pystempel keeps its stemming table as a trie of Python objects (about 170 MB and seconds to load in every
process). build() loads that table once, in a process of its own, and writes its contents as flat arrays;
CompactStemmer maps the file read-only and looks words up in the arrays directly, with results identical to
pystempel's `Stemmer.__call__`. Every process that maps the file shares its pages through the page cache
(forked or not), and a process that stems a few words reads only the few pages on their paths.

File layout (native byte order, checked by a marker; every section starts at a multiple of 8)::

    header      HEADER below: magic, format version, byte-order marker, sizes, section offsets, the
                fingerprint of the pystempel table it was built from, CRC-32 of the sections and of the header
    tries       int32 pairs, one per trie of the MultiTrie2 in order: (forward, root row)
    rows        uint32 * (rows + 1): row r's cells are cells [rows[r], rows[r + 1]); the rows of all tries
                follow one another, so a row number is global
    chars       uint32 * cells: each cell's character (a code point), ascending within a row
    cells       int32 pairs, one per cell: (command number or -1, next row or -1), both global
    cmd_offsets uint32 * (commands + 1): command c is blob[cmd_offsets[c]:cmd_offsets[c + 1]]
    blob        the commands (patch strings) of all tries, UTF-8

`python -m search.stemtable build PATH` writes the file (atomically: a temporary file in the same folder,
synced, then renamed); open_or_build() does that in a child process, under a lock file beside the table, when
the file is missing, damaged or made from another version of the stemmer's data.
"""
from __future__ import annotations

import fcntl
import mmap
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from array import array
from bisect import bisect_left
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Self

FORMAT_VERSION = 1
MAGIC = b"PLSTEMT\x00"
BYTE_ORDER_MARK = 0x01020304
SOURCE_PACKAGE = "pystempel"
SOURCE_TABLE = ("data", "polimorf", "stemmer_polimorf.tbl.gz")

# magic, version, byte-order mark, header size, file size, source fingerprint (size of the source file and
# its gzip trailer: CRC-32 and length of the uncompressed table), MultiTrie2 forward, tries, rows, cells,
# commands, blob size, the six section offsets, CRC-32 of the sections; then CRC-32 of all that.
_HEADER_BODY = struct.Struct("=8sIIIQQ8sIIIIIQ6QI")
HEADER = struct.Struct(_HEADER_BODY.format + "I")
_ALIGN = 8
_BUILD_TIMEOUT = 600  # seconds

# The patch language (pystempel.egothor): a patch is pairs of (command, letter), applied from the word's end.
_DASH, _DELETE, _INSERT, _REPLACE, _EOM = "-", "D", "I", "R", "*"


class InvalidTable(Exception):
    """The file is not a usable table: damaged, truncated, of another format version or stale."""


class BuildFailed(OSError):
    """The table could not be built."""


def source_table() -> Path | None:
    """Where pystempel's polimorf table is (found without importing the package), or None."""
    from importlib.util import find_spec

    spec = find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*SOURCE_TABLE)


def source_fingerprint(path: Path | None = None) -> tuple[int, bytes] | None:
    """(size, gzip trailer) of the source table: changes whenever its contents do. None if it is absent."""
    path = path or source_table()
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 8:
                return None
            f.seek(-8, os.SEEK_END)
            return size, f.read(8)
    except (OSError, TypeError):
        return None


def load_pystempel():
    """pystempel's Stemmer on the polimorf table, read without the package's progress bar on stderr."""
    import gzip
    import io
    from importlib.resources import files

    from pystempel import Stemmer
    from pystempel.streams import DataInputStream

    table = files("pystempel.data.polimorf") / "stemmer_polimorf.tbl.gz"
    data = gzip.decompress(table.read_bytes())
    # A stream of unknown length: the package then shows no progress bar (and reads faster).
    return Stemmer.from_stream(DataInputStream(io.BytesIO(data)))


# -- writing ---------------------------------------------------------------------------------------------


def _flatten(multi) -> dict:
    """The arrays of a pystempel MultiTrie2, with row and command numbers made global."""
    tries, rows, chars, cells, cmd_offsets = array("i"), array("I"), array("I"), array("i"), array("I")
    blob = bytearray()
    row_base = cmd_base = 0
    for trie in multi.tries:
        n_rows, n_cmds = len(trie.rows), len(trie.cmds)
        if not 0 <= trie.root < n_rows:
            raise ValueError(f"a trie's root {trie.root} is not one of its {n_rows} rows")
        tries.extend((1 if trie.forward else 0, row_base + trie.root))
        for cmd in trie.cmds:
            cmd_offsets.append(len(blob))
            blob += cmd.encode("utf-8", "surrogatepass")
        for row in trie.rows:
            rows.append(len(chars))
            for ch, cell in sorted(row.cells.items(), key=lambda item: ord(item[0])):
                if cell.cmd >= n_cmds or cell.ref >= n_rows:
                    raise ValueError("a cell refers to a command or row that its trie does not have")
                chars.append(ord(ch))
                cells.append(cmd_base + cell.cmd if cell.cmd >= 0 else -1)
                cells.append(row_base + cell.ref if cell.ref >= 0 else -1)
        row_base += n_rows
        cmd_base += n_cmds
    rows.append(len(chars))
    cmd_offsets.append(len(blob))
    return {"forward": bool(multi.forward), "tries": tries, "rows": rows, "chars": chars, "cells": cells,
            "cmd_offsets": cmd_offsets, "blob": bytes(blob)}


def _encode(flat: dict, fingerprint: tuple[int, bytes] | None) -> bytes:
    sections = [flat[name].tobytes() for name in ("tries", "rows", "chars", "cells", "cmd_offsets")]
    sections.append(flat["blob"])
    offsets, position = [], _align(HEADER.size)
    for data in sections:
        offsets.append(position)
        position = _align(position + len(data))
    body = bytearray(position - HEADER.size)
    for offset, data in zip(offsets, sections):
        body[offset - HEADER.size: offset - HEADER.size + len(data)] = data
    source_size, source_trailer = fingerprint or (0, bytes(8))
    header = _HEADER_BODY.pack(
        MAGIC, FORMAT_VERSION, BYTE_ORDER_MARK, HEADER.size, position, source_size, source_trailer,
        flat["forward"], len(flat["tries"]) // 2, len(flat["rows"]) - 1, len(flat["chars"]),
        len(flat["cmd_offsets"]) - 1, len(flat["blob"]), *offsets, zlib.crc32(body))
    return header + struct.pack("=I", zlib.crc32(header)) + bytes(body)


def _align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def build(path: str | os.PathLike) -> dict:
    """Load pystempel's table and write it to `path` as a compact table, atomically; returns figures.

    This holds the whole pystempel trie in memory for a few seconds: run it in a process of its own (see
    build_in_child()), never in a long-lived one."""
    path = Path(path)
    start = time.perf_counter()
    fingerprint = source_fingerprint()
    multi = load_pystempel().stemmer_trie
    if not hasattr(multi, "tries"):
        raise ValueError("the stemmer's table is not a MultiTrie2")
    data = _encode(_flatten(multi), fingerprint)
    del multi
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o644)
            os.fsync(f.fileno())
        CompactStemmer(temporary, verify=True).close()  # what was written reads back whole
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)
    return {"path": str(path), "bytes": len(data), "seconds": time.perf_counter() - start}


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def build_in_child(path: str | os.PathLike) -> None:
    """Build the table in a child process, so that the caller never holds pystempel's objects."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run([sys.executable, "-m", "search.stemtable", "build", os.fspath(path)], env=env,
                              cwd=root, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=_BUILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"the stemmer's table {os.fspath(path)} was not built in {_BUILD_TIMEOUT} s") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise BuildFailed(f"the stemmer's table {os.fspath(path)} was not built: {detail}")


@contextmanager
def _locked(path: Path):
    """An exclusive lock on the lock file beside the table (between processes and threads alike)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def open_or_build(path: str | os.PathLike, verify: bool = False) -> CompactStemmer:
    """The stemmer on the table at `path`, built first (in a child process, by one process at a time) when
    the file is missing or not usable. `verify` also checks the sections' checksum (reads the whole file)."""
    path = Path(path)
    try:
        return CompactStemmer(path, verify=verify)
    except (InvalidTable, FileNotFoundError):
        pass
    with _locked(path):
        try:  # another process may have built it while this one waited
            return CompactStemmer(path, verify=verify)
        except (InvalidTable, FileNotFoundError):
            pass
        build_in_child(path)
    return CompactStemmer(path, verify=verify)


def ensure(path: str | os.PathLike, verify: bool = True) -> Path:
    """Build the table at `path` unless a usable one is there; returns the path."""
    open_or_build(path, verify=verify).close()
    return Path(path)


# -- reading ---------------------------------------------------------------------------------------------


class CompactStemmer:
    """pystempel's `Stemmer` on a compact table: a callable word -> stem or None, with the same results.

    One difference: the empty string gives None, where pystempel raises IndexError.
    The file is mapped read-only; the instance holds views on the map and a small cache of decoded patch
    commands, nothing else. It is safe to use from several threads and in forked children."""

    def __init__(self, path: str | os.PathLike, verify: bool = False,
                 fingerprint: tuple[int, bytes] | None | bool = True):
        """`fingerprint`: True checks the table against the installed pystempel data (if found); a value
        checks against that one; None or False do not check."""
        self.path = os.fspath(path)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            if size < HEADER.size:
                raise InvalidTable(f"{self.path}: too short for a table ({size} bytes)")
            self._map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        self._views: list[memoryview] = []
        try:
            self._open(size, verify, source_fingerprint() if fingerprint is True else fingerprint or None)
        except BaseException:
            self.close()
            raise

    def _open(self, size: int, verify: bool, fingerprint) -> None:
        fields = HEADER.unpack_from(self._map, 0)
        (magic, version, mark, header_size, file_size, source_size, source_trailer, forward, n_tries, n_rows,
         n_cells, n_cmds, blob_size, *offsets, body_crc, header_crc) = fields
        if magic != MAGIC:
            raise InvalidTable(f"{self.path}: not a stemmer table")
        if version != FORMAT_VERSION:
            raise InvalidTable(f"{self.path}: format version {version}, not {FORMAT_VERSION}")
        if mark != BYTE_ORDER_MARK or header_size != HEADER.size:
            raise InvalidTable(f"{self.path}: written on another kind of machine")
        if zlib.crc32(self._map[:_HEADER_BODY.size]) != header_crc:
            raise InvalidTable(f"{self.path}: damaged header")
        if file_size != size:
            raise InvalidTable(f"{self.path}: {size} bytes, {file_size} expected (truncated?)")
        if fingerprint is not None and (source_size, source_trailer) != tuple(fingerprint):
            raise InvalidTable(f"{self.path}: made from other stemmer data")
        lengths = (8 * n_tries, 4 * (n_rows + 1), 4 * n_cells, 8 * n_cells, 4 * (n_cmds + 1), blob_size)
        end = HEADER.size
        for offset, length in zip(offsets, lengths):
            if offset < end or offset % _ALIGN or offset + length > file_size:
                raise InvalidTable(f"{self.path}: sections out of place")
            end = offset + length
        if verify and zlib.crc32(self._map[HEADER.size:]) != body_crc:
            raise InvalidTable(f"{self.path}: damaged contents")
        whole = memoryview(self._map)
        self._views.append(whole)
        tries, rows, chars, cells, cmd_offsets = (
            self._view(whole[offset:offset + length], code)
            for offset, length, code in zip(offsets, lengths, "iIIiI"))
        self._blob = self._view(whole[offsets[5]:offsets[5] + blob_size], None)
        if rows[n_rows] != n_cells or cmd_offsets[n_cmds] != blob_size:
            raise InvalidTable(f"{self.path}: inconsistent sections")
        self._forward = bool(forward)
        # per trie: (whether keys are read forwards, its root row); a few ints
        self._tries = tuple((bool(tries[2 * t]), tries[2 * t + 1]) for t in range(n_tries))
        if any(not 0 <= root < n_rows for _forward, root in self._tries):
            raise InvalidTable(f"{self.path}: a trie's root is out of range")
        self._rows, self._chars, self._cells, self._cmd_offsets = rows, chars, cells, cmd_offsets
        self._cmd = lru_cache(maxsize=512)(self._decode_cmd)

    def _view(self, raw: memoryview, code: str | None) -> memoryview:
        self._views.append(raw)
        if code is None:
            return raw
        view = raw.cast(code)
        self._views.append(view)
        return view

    def close(self) -> None:
        """Release the map (the instance is unusable afterwards)."""
        for view in reversed(self._views):
            view.release()
        self._views.clear()
        self.__dict__.pop("_cmd", None)
        if not self._map.closed:
            self._map.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _decode_cmd(self, number: int) -> str:
        offsets = self._cmd_offsets
        return str(self._blob[offsets[number]:offsets[number + 1]], "utf-8", "surrogatepass")

    def _last_on_path(self, trie: int, key: str) -> int:
        """pystempel's Trie.get_last_on_path: the number of the last command on the key's path, or -1."""
        forward, row = self._tries[trie]
        if not forward:
            key = key[::-1]
        rows, chars, cells = self._rows, self._chars, self._cells
        last = -1
        for ch in key[:-1]:
            code = ord(ch)
            hi = rows[row + 1]
            i = bisect_left(chars, code, rows[row], hi)
            if i == hi or chars[i] != code:  # no cell: no command, no way on
                return last
            i += i
            if cells[i] >= 0:
                last = cells[i]
            row = cells[i + 1]
            if row < 0:
                return last
        code = ord(key[-1])
        hi = rows[row + 1]
        i = bisect_left(chars, code, rows[row], hi)
        if i == hi or chars[i] != code:
            return last
        cmd = cells[i + i]
        return cmd if cmd >= 0 else last

    def patch(self, word: str) -> str:
        """pystempel's MultiTrie2.get_last_on_path: the patch command for a word ("" for the empty word)."""
        if not word:
            return ""
        result = []
        key = last_key = word
        previous = ""
        last_ch = " "
        for trie in range(len(self._tries)):
            number = self._last_on_path(trie, last_key)
            if number < 0:
                break
            r = self._cmd(number)
            if r == _EOM:
                break
            if last_ch in (_DASH, _DELETE) and last_ch == r[0]:  # cannot follow
                break
            last_ch = r[-2]
            if r[0] == _DASH:
                if trie > 0:
                    key = self._skip(key, _length_pp(previous))
                    if key is None:
                        break
                key = self._skip(key, _length_pp(r))
                if key is None:
                    break
            previous = r
            result.append(r)
            if key:
                last_key = key
        return "".join(result)

    def _skip(self, s: str, count: int) -> str | None:
        if self._forward:
            return s[count:len(s)]
        return None if len(s) < count else s[0:len(s) - count]

    def __call__(self, word: str) -> str | None:
        if not word:
            return None  # pystempel raises IndexError on an empty string
        patch = self.patch(word)
        if not patch:
            return word
        buffer = list(word)
        _apply_patch(buffer, patch)
        return "".join(buffer) if buffer else None


def _length_pp(cmd: str) -> int:
    """How many letters of the word a patch command covers (pystempel's MultiTrie2.__length_pp)."""
    length = 0
    for i in range(0, len(cmd), 2):
        if cmd[i] in (_DASH, _DELETE):
            length += ord(cmd[i + 1]) - ord("a") + 1
        elif cmd[i] == _REPLACE:
            length += 1
    return length


def _apply_patch(buffer: list[str], patch: str) -> None:
    """Apply a patch command to a word's letters in place, from the end; stops at a command that does not
    fit the word, keeping the changes made so far (as pystempel's egothor.apply_patch does)."""
    if not buffer:
        return
    position = len(buffer) - 1
    for i in range(len(patch) // 2):
        cmd, letter = patch[2 * i], patch[2 * i + 1]
        offset = ord(letter) - ord("a")
        if cmd == _DASH:
            position -= offset
        elif cmd == _REPLACE:
            if position < 0 or position >= len(buffer):
                return
            buffer[position] = letter
        elif cmd == _DELETE:
            end = position
            position -= offset
            if position < 0 or position >= len(buffer):
                return
            del buffer[position:end + 1]
        elif cmd == _INSERT:
            position += 1
            if position < 0 or position > len(buffer):
                return
            buffer.insert(position, letter)
        position -= 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("build", "verify"):
        print("usage: python -m search.stemtable build|verify PATH", file=sys.stderr)
        return 2
    if args[0] == "build":
        figures = build(args[1])
        print(f"{figures['path']}: {figures['bytes']} bytes in {figures['seconds']:.1f} s")
        return 0
    try:
        CompactStemmer(args[1], verify=True).close()
    except (InvalidTable, OSError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{args[1]}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
