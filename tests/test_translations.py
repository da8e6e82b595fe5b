"""The English version is complete: every message in the code has a translation, compiled and in use."""
import io
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

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


def test_compiled_catalogue_matches_the_po_file():
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    assert MO.read_bytes() == buf.getvalue(), "run: pybabel compile -d translations"


def test_pages_in_english(client):
    client.get("/jezyk/en")
    html = client.get("/konto/logowanie").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html and "Zaloguj" not in html
    assert "Skip to content" in client.get("/").get_data(as_text=True)
