"""The English version is complete: every message in the code has a translation, compiled and in use."""
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def extracted(tmp_path):
    pot = tmp_path / "messages.pot"
    # Run from the project's root with "." as the input, so that babel.cfg's patterns match as they do for people.
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                                "-k", "ngettext:1,2", "-o", str(pot), "--ignore-dirs", ".venv build tests migrations",
                                "."])
    with open(pot, "rb") as fh:
        catalog = read_po(fh)
    assert len(catalog) > 300, "extraction found too few messages: check babel.cfg"
    return catalog


def test_every_message_has_an_english_translation(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    missing, fuzzy = [], []
    for msg in extracted(tmp_path):
        if not msg.id:
            continue
        have = catalog.get(msg.id)
        strings = (have.string if isinstance(have.string, tuple) else (have.string,)) if have else ("",)
        if have is None or not all(strings):
            missing.append(msg.id)
        elif have.fuzzy:
            fuzzy.append(msg.id)
    assert not missing, f"{len(missing)} messages without English: {missing[:10]}"
    assert not fuzzy, f"fuzzy (unused) translations: {fuzzy[:10]}"


def translated(catalog) -> dict:
    """The messages a compiled catalogue serves: (context, id or ids) -> translation(s). The header (which
    names the Babel release that wrote it, among others) is left out, and so are untranslated and fuzzy
    messages, which compiling leaves out too."""
    found = {}
    for msg in catalog:
        strings = tuple(msg.string) if isinstance(msg.string, (tuple, list)) else (msg.string,)
        if not msg.id or msg.fuzzy or not any(strings):
            continue
        ids = tuple(msg.id) if isinstance(msg.id, (tuple, list)) else (msg.id,)
        found[(msg.context, ids)] = strings
    return found


def differences(po_path: Path, mo_path: Path) -> list[str]:
    """How the messages of a compiled catalogue differ from those of its .po file (empty when they agree)."""
    with open(po_path, "rb") as fh:
        source = translated(read_po(fh))
    with open(mo_path, "rb") as fh:
        compiled = translated(read_mo(fh))
    out = [f"not compiled: {key}" for key in source.keys() - compiled.keys()]
    out += [f"compiled but not in the .po file: {key}" for key in compiled.keys() - source.keys()]
    out += [f"translated otherwise: {key}: {source[key]} != {compiled[key]}"
            for key in source.keys() & compiled.keys() if source[key] != compiled[key]]
    return sorted(out)


def test_compiled_catalogue_matches_the_po_file():
    found = differences(PO, MO)
    assert not found, f"run: pybabel compile -d translations ({len(found)} differences: {found[:5]})"


def test_the_comparison_sees_edits_but_not_the_header(tmp_path):
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    plural = next(m for m in catalog if m.id and isinstance(m.id, (tuple, list)))
    single = next(m for m in catalog if m.id and not isinstance(m.id, (tuple, list)) and m.string)

    def po_copy(name: str) -> Path:
        path = tmp_path / name
        with open(path, "wb") as fh:
            write_po(fh, catalog)
        return path

    def mo_of(path: Path) -> Path:
        with open(path, "rb") as fh:
            compiled = read_po(fh)
        mo = path.with_suffix(".mo")
        with open(mo, "wb") as fh:
            write_mo(fh, compiled)
        return mo

    compiled = mo_of(po_copy("compiled.po"))
    catalog.project, catalog.version = "another", "9.9"  # the header only: the same messages
    catalog.revision_date = catalog.revision_date.replace(year=2001)
    assert differences(po_copy("header.po"), compiled) == []
    before, single.string = single.string, single.string + " (edited)"
    key = (single.context, (single.id,))
    assert differences(po_copy("edited.po"), compiled) == [
        f"translated otherwise: {key}: {(single.string,)} != {(before,)}"]
    plural.string = (plural.string[0], plural.string[1] + "!")
    catalog.add("Nowy komunikat", "A new message", context="test")
    found = differences(po_copy("added.po"), compiled)
    assert "not compiled: ('test', ('Nowy komunikat',))" in found and len(found) == 3
    assert differences(po_copy("again.po"), mo_of(po_copy("recompiled.po"))) == []


def test_pages_in_english(client):
    client.get("/jezyk/en")
    html = client.get("/konto/logowanie").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html and "Zaloguj" not in html
    assert "Skip to content" in client.get("/").get_data(as_text=True)
