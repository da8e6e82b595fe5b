"""The memory a portal process takes at start and while serving ordinary pages, and which heavy libraries it loads.

    .venv/bin/python bench/import_memory.py [--pes 20] [--all-modules] [--keep DIR]

A web worker started without preloading (`gunicorn -w 2 'app:create_app()'`) builds the app itself, so whatever
the blueprints import at app creation is paid for in every worker. The script loads the demo data set
(`flask --app app demo`) into SQLite in a work folder (database, search index, uploads and mail there, through
DATABASE_URL, SEARCH_INDEX_DIR, UPLOAD_DIR, MAIL_DIR and SECRET_KEY), then in a fresh interpreter prints:

- the RSS (resident memory, from /proc/self/status) at start, after `import flask` and after `create_app()`;
- the heavy top-level modules loaded by then (PDF, Word, image, XML, payment, migration libraries ...);
- the RSS after serving, with Flask's test client, `/`, `/pes/<id>`, an offering page (that PES's first published
  offering, by its short address, following the redirect to the canonical one) and `/api/v1/search?q=catering`,
  one after another, with the status of each answer and the heavy modules each one loaded.

With --all-modules the third-party top-level modules loaded after `create_app()` are listed as well. Figures are
printed, never checked; the work folder is a temporary one removed at the end unless --keep names one.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Libraries that only some features need (documents, payments, images, migrations), each a few MiB or more.
HEAVY = ("alembic", "mako", "pygments", "flask_migrate", "fpdf", "fontTools", "PIL", "pypdf", "cryptography",
         "lxml", "defusedxml", "stripe", "requests", "httpx", "urllib3", "docx", "segno", "openpyxl", "numpy")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def heavy_loaded() -> list[str]:
    return [name for name in HEAVY if name in sys.modules]


def third_party_loaded() -> list[str]:
    tops = {name.partition(".")[0] for name in sys.modules}
    stdlib = set(sys.stdlib_module_names)
    local = {p.name for p in ROOT.iterdir() if p.is_dir() or p.suffix == ".py"}
    local |= {p.stem for p in ROOT.glob("*.py")}
    return sorted(t for t in tops if t not in stdlib and t not in local and not t.startswith("_"))


def first_offering(db_path: Path, pes_id: int) -> int | None:
    """The PES's first published offering, read from the SQLite file directly (the app is not built here)."""
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT id FROM offerings WHERE pes_id = ? AND status = 'published' ORDER BY id LIMIT 1",
                           (pes_id,)).fetchone()
    return row[0] if row else None


def measure(pes_id: int, offering_id: int | None, all_modules: bool) -> int:
    """In this (fresh) interpreter: build the app, serve the pages, print the figures."""
    print(f"start of the interpreter:   RSS {rss_mib():6.1f} MiB")
    import flask  # noqa: F401

    print(f"after import flask:         RSS {rss_mib():6.1f} MiB")
    sys.path.insert(0, str(ROOT))
    from app import create_app

    app = create_app({"RATELIMIT_ENABLED": False})
    print(f"after create_app():         RSS {rss_mib():6.1f} MiB")
    print(f"heavy modules loaded: {', '.join(heavy_loaded()) or 'none'}")
    if all_modules:
        print(f"third-party top-level modules: {', '.join(third_party_loaded())}")

    client = app.test_client()
    pages = ["/", f"/pes/{pes_id}", f"/oferta/{offering_id}" if offering_id else None, "/api/v1/search?q=catering"]
    for path in pages:
        if path is None:
            print(f"PES {pes_id} has no published offering: the offering page is skipped")
            continue
        before = set(heavy_loaded())
        response = client.get(path, follow_redirects=True)
        if response.history:
            path = f"{path} -> {response.request.path}"
        new = [m for m in heavy_loaded() if m not in before]
        print(f"after GET {path[:64]:64} {response.status_code}  RSS {rss_mib():6.1f} MiB"
              f"{'  loaded: ' + ', '.join(new) if new else ''}")
    print(f"heavy modules loaded at the end: {', '.join(heavy_loaded()) or 'none'}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pes", type=int, default=20, help="the PES whose page is served (default 20)")
    ap.add_argument("--all-modules", action="store_true", help="list every third-party module after create_app")
    ap.add_argument("--keep", help="work in this folder and keep it")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the fresh interpreter's part
    ap.add_argument("--offering", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        return measure(args.pes, args.offering, args.all_modules)

    sys.path.insert(0, str(ROOT))
    from bench.workdir import work_folder

    work = work_folder(ap, args.keep, "import-memory-")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{work / 'p.db'}", SECRET_KEY="import-memory",
               SEARCH_INDEX_DIR=str(work / "idx"), UPLOAD_DIR=str(work / "uploads"), MAIL_DIR=str(work / "mail"),
               RATELIMIT_ENABLED="false", MAIL_SEND_BACKGROUND="false")
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", "--pes", str(args.pes)]
        offering_id = first_offering(work / "p.db", args.pes)
        if offering_id:
            cmd += ["--offering", str(offering_id)]
        if args.all_modules:
            cmd.append("--all-modules")
        return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
