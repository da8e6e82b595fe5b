"""Benchmark of an inquiry sent to 50 PES: how long the buyer waits for the answer to the POST, and how long
from the POST until the 50th mail has reached the mail server; with the mail delivered by the worker's thread
after the commit (MAIL_SEND_BACKGROUND=true, the default) and, for comparison, inside the request (false).

Run from the project root with the project's virtual environment:

    .venv/bin/python bench/inquiry_bench.py [--repeat 5] [--pes 50] [--smtp-delay-ms 0] [--workers 2]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep DIR]

SQLite in the work folder by default; with --database-url (a PostgreSQL server: any database on it) a database
of the benchmark's own is created there and dropped at the end. The portal runs under gunicorn with sync
workers, as deployed, and sends its mail to an SMTP server on a loopback port inside this process, which can
hold each reply for --smtp-delay-ms to mimic a real relay. Figures are printed, never checked: see
bench/README.md.
"""
from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import os
import re
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from workdir import work_folder

from tests.smtp import SmtpServer, free_port

SECRET_KEY = "inquiry-benchmark"
PASSWORD = "Bezpieczne-Haslo-2026"
BUYER = "kupujacy@example.org"
# Variables of the developer's shell that must not reach the benchmark's portal.
DROPPED_ENV = ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD",
               "MAIL_DEFAULT_SENDER", "MAIL_SEND_BACKGROUND", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY",
               "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "SERVER_NAME", "APP_ENV", "FLASK_ENV", "REGION_FILE",
               "SEARCH_ENABLED", "PROXY_COUNT", "FLASK_APP", "PORTAL_URL")


def say(text: str = "") -> None:
    print(text, flush=True)


def section(title: str) -> None:
    say()
    say(f"== {title} " + "=" * max(0, 100 - len(title)))


class TimedSmtp(SmtpServer):
    """The tests' SMTP server, noting when each message's data arrived (before its reply is held)."""

    def __init__(self):
        super().__init__()
        self.arrivals: list[float] = []

    async def handle_DATA(self, server, session, envelope):
        self.arrivals.append(time.perf_counter())
        return await super().handle_DATA(server, session, envelope)

    def wait_for_arrivals(self, n: int, timeout: float) -> float | None:
        """The time the n-th message arrived, or None if it did not within the timeout."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < n:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.002)
        return self.arrivals[n - 1]

    def subjects(self, start: int, stop: int) -> list[str]:
        return [message_from_bytes(e.original_content, policy=policy.default)["Subject"]
                for e in self.received[start:stop]]


# -- the database --------------------------------------------------------------------------------------------


class Database:
    """SQLite in the work folder, or a database of the benchmark's own on a PostgreSQL server."""

    def __init__(self, work: Path, server_url: str | None):
        self.admin = None
        self.name = None
        if not server_url:
            self.url = f"sqlite:///{work / 'portal.db'}"
            self.kind = f"SQLite {sqlite3.sqlite_version}"
            return
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from marketplace.config import normalise_db_url

        admin_url = make_url(normalise_db_url(server_url))
        self.name = f"inquiry_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = admin_url.set(database=self.name).render_as_string(hide_password=False)
        self.kind = f"PostgreSQL {version} (database {self.name}, dropped at the end)"

    def drop(self) -> None:
        if self.admin is None:
            return
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
        self.admin = None


def portal_env(work: Path, db_url: str, smtp: SmtpServer, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(DATABASE_URL=db_url, SECRET_KEY=SECRET_KEY, PORTAL_URL=f"http://127.0.0.1:{port}",
               MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), UPLOAD_DIR=str(work / "uploads"),
               # An inquiry touches no offering: the search index plays no part, so none is built.
               SEARCH_ENABLED="false", SEARCH_INDEX_DIR=str(work / "search-index"),
               # The repetitions come from one address and one account: the limits would count them.
               RATELIMIT_ENABLED="false", FLASK_DEBUG="0", PYTHONUNBUFFERED="1")
    return env


def make_schema(env: dict, db: Database, app) -> str:
    """`flask db upgrade` as deployed; the models' schema when the migrations do not build every table yet."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"`flask db upgrade` failed:\n{done.stderr[-3000:]}")
    from sqlalchemy import inspect, text

    from marketplace.extensions import db as sa

    with app.app_context():
        missing = set(sa.metadata.tables) - set(inspect(sa.engine).get_table_names())
        if not missing:
            return "flask db upgrade"
        sa.engine.dispose()
        if db.admin is None:
            Path(db.url.removeprefix("sqlite:///")).unlink()
        else:
            with sa.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        sa.create_all()
        sa.engine.dispose()
    return f"db.create_all() (the migrations leave out {len(missing)} table(s): {', '.join(sorted(missing))})"


def seed(app, n_pes: int) -> list[str]:
    """n_pes verified PES, each with an owner who takes instant mail, and one buyer; returns the PES refs."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from accounts.models import User
    from marketplace.extensions import db as sa
    from tests.factories import make_pes, make_user

    with app.app_context():
        refs = []
        for n in range(1, n_pes + 1):
            owner = make_user(f"pes{n}@example.org", name=f"Właściciel {n}", password=PASSWORD)
            pes = make_pes(owner=owner, name=f"Spółdzielnia Socjalna Pomiarowa {n}", ref=f"pes-pomiar-{n}")
            pes.members[0].inquiry_mail = "instant"
            refs.append(pes.ref)
        make_user(BUYER, name="Kupująca Pomiarowa", password=PASSWORD)
        # The hash the server checks logins against (the builders use fast parameters): no rehash at login.
        sa.session.execute(update(User).values(password_hash=PasswordHasher().hash(PASSWORD)))
        sa.session.commit()
        sa.session.remove()
        sa.engine.dispose()
    return refs


# -- gunicorn and a visitor ----------------------------------------------------------------------------------


class Server:
    """gunicorn with sync workers in the project root (so gunicorn.conf.py applies, as deployed)."""

    def __init__(self, env: dict, port: int, workers: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
               "--timeout", "300"]
        if "--no-control-socket" in subprocess.run([sys.executable, "-m", "gunicorn", "--help"], check=False,
                                                   capture_output=True, text=True).stdout:
            cmd.append("--no-control-socket")  # newer gunicorns open one in the home folder, shared by all
        cmd.append("app:create_app()")
        with open(log_path, "w", encoding="utf-8") as log:  # the server keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited at start:\n" + self.log_tail())
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/konto/logowanie")
                if conn.getresponse().status == 200 and len(self.workers()) >= workers:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 90 s:\n" + self.log_tail())

    def workers(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children", encoding="ascii") as fh:
                return [int(p) for p in fh.read().split()]
        except OSError:
            return []

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop gunicorn and its workers (its own process group, started here)."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        except ProcessLookupError:
            pass


class _Answer(urllib.request.HTTPErrorProcessor):
    """Every answer is returned as it is (a redirect is not followed)."""

    def http_response(self, request, response):
        return response


class Visitor:
    """A browser: cookies, redirects not followed."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _Answer())

    def request(self, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with self.opener.open(self.base + path, data=body, timeout=600) as resp:
            return resp.status, resp.headers.get("Location") or "", resp.read().decode("utf-8", "replace")

    def csrf_token(self, path: str) -> str:
        status, _location, page = self.request(path)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        if status != 200 or not found:
            raise RuntimeError(f"GET {path}: {status}, no CSRF token")
        return found.group(1)

    def log_in(self) -> None:
        token = self.csrf_token("/konto/logowanie")
        status, _location, _page = self.request(
            "/konto/logowanie", [("csrf_token", token), ("email", BUYER), ("password", PASSWORD)])
        if status != 302:
            raise RuntimeError(f"login: {status}")


def inquiry_fields(subject: str, refs: list[str], token: str) -> list[tuple[str, str]]:
    return [("csrf_token", token), ("subject", subject),
            ("body", "Prosimy o wycenę obiadów dla 120 uczniów od marca, z dowozem do szkoły."),
            ("quantity", "120 porcji dziennie"), ("wanted_by", (date.today() + timedelta(days=30)).isoformat()),
            ("delivery_powiat", "0463"), ("budget", "12 000"), ("consent", "y"), ("website", ""),
            *(("pes", ref) for ref in refs)]


# -- one server, one setting ---------------------------------------------------------------------------------


def measure(args, work: Path, db: Database, smtp: TimedSmtp, refs: list[str], background: bool) -> dict:
    """Warm-up inquiries, then the timed ones; returns the POST times and the 50th-mail times (seconds)."""
    port = free_port()
    env = dict(portal_env(work, db.url, smtp, port), MAIL_SEND_BACKGROUND="true" if background else "false")
    label = f"MAIL_SEND_BACKGROUND={'true' if background else 'false'}"
    section(f"{label}: gunicorn -w {args.workers} -k sync")
    server = Server(env, port, args.workers, work / f"gunicorn-{'background' if background else 'request'}.log")
    first = len(smtp.received)
    try:
        visitor = Visitor(port)
        visitor.log_in()
        query = "/zapytania/nowe?" + urllib.parse.urlencode([("pes", ref) for ref in refs])
        posts, last_mails = [], []
        for n in range(-args.workers, args.repeat):  # the first ones warm every worker up, untimed
            subject = f"Pomiar {label} nr {n}"
            token = visitor.csrf_token(query)
            base = len(smtp.arrivals)
            start = time.perf_counter()
            status, location, _page = visitor.request("/zapytania/nowe", inquiry_fields(subject, refs, token))
            answered = time.perf_counter()
            if status != 302 or "/zapytania/" not in location:
                raise RuntimeError(f"the inquiry was not sent: {status}\n{server.log_tail()}")
            last = smtp.wait_for_arrivals(base + len(refs), timeout=300)
            if last is None:
                raise RuntimeError(f"{len(smtp.arrivals) - base} of {len(refs)} mails arrived in 300 s\n"
                                   f"{server.log_tail()}")
            wrong = [s for s in smtp.subjects(base, base + len(refs)) if s != f"Nowe zapytanie: {subject}"]
            if wrong:
                raise RuntimeError(f"mail of another inquiry arrived meanwhile: {wrong[:3]}")
            if n >= 0:
                posts.append(answered - start)
                last_mails.append(last - start)
                say(f"  {n + 1}: POST answered in {(answered - start) * 1000:7.1f} ms, "
                    f"{len(refs)}th mail after {(last - start) * 1000:7.1f} ms")
            time.sleep(0.2)  # the mail thread records the last delivery before the next inquiry
        time.sleep(0.5)  # a copy sent twice would arrive now
        expected = (args.workers + args.repeat) * len(refs)
        say(f"  mails received with this setting: {len(smtp.received) - first} (expected {expected}: each "
            "recipient once)")
    finally:
        server.stop()
    return {"label": label, "post": posts, "last": last_mails}


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} / {max(values) * 1000:8.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed inquiries per setting (default 5)")
    ap.add_argument("--pes", type=int, default=50, help="recipients of each inquiry (default 50, the most allowed)")
    ap.add_argument("--smtp-delay-ms", type=float, default=0.0,
                    help="the SMTP server holds its reply to each message this long (a relay's latency)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    ap.add_argument("--database-url", help="a PostgreSQL server (any database on it); default: SQLite")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()
    if args.repeat < 1 or args.workers < 1 or not 1 <= args.pes <= 50 or args.smtp_delay_ms < 0:
        ap.error("--repeat and --workers must be positive, --pes between 1 and 50, --smtp-delay-ms not negative")

    work = work_folder(ap, args.keep, "inquiry-bench-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    db = smtp = None
    try:
        db = Database(work, args.database_url)
        smtp = TimedSmtp()
        smtp.delay = args.smtp_delay_ms / 1000
        smtp.start()
        return run(args, work, db, smtp)
    except KeyboardInterrupt:
        say("\ninterrupted")
        return 130
    finally:
        if smtp is not None:
            smtp.stop()
        if db is not None:
            db.drop()
        if args.keep:
            say(f"\nfiles kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, db: Database, smtp: TimedSmtp) -> int:
    say("command: " + shlex.join(["bench/inquiry_bench.py", *sys.argv[1:]]))
    say(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}; Python "
        f"{sys.version.split()[0]}; {db.kind}")
    say(f"an inquiry to {args.pes} PES, {args.repeat} timed per setting after {args.workers} untimed; "
        f"SMTP reply delay {args.smtp_delay_ms:g} ms per message")

    os.environ["SECRET_KEY"] = SECRET_KEY  # this process's own app (schema and data) reads it
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": db.url, "ARGON2_FAST": True, "MAIL_SERVER": None,
                      "SEARCH_ENABLED": False, "SEARCH_INDEX_DIR": str(work / "search-index"),
                      "UPLOAD_DIR": str(work / "uploads")})
    section("schema and data")
    start = time.perf_counter()
    how = make_schema(portal_env(work, db.url, smtp, 0), db, app)
    refs = seed(app, args.pes)
    say(f"schema: {how}")
    say(f"{len(refs)} PES with an owner each (instant mail), one buyer: {time.perf_counter() - start:.1f} s")

    results = []
    for background in (True, False):
        results.append(measure(args, work, db, smtp, refs, background))

    section("summary (ms, median / max)")
    say(f"{'':28}  {'POST answered':>19}  {f'{args.pes}th mail received':>19}")
    for r in results:
        say(f"{r['label']:28}  {ms(r['post']):>19}  {ms(r['last']):>19}")
    say("times from sending the POST; a mail counts when the SMTP server has its data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
