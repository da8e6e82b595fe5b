"""Benchmark of concurrent checkouts for the last items: 50 signed-in buyers (5 per product) each put one item of
one of 10 products with 3 items in stock into the cart, open the checkout and then all submit it at the same
moment, against gunicorn with sync workers as deployed. It reports the checkout POST's p50 / p95 / max and
checks in the database that nothing was oversold: no stock below zero, each product's ordered quantity equal to
what its stock went down by and never above the initial stock, one order row per successful checkout, unique
order numbers.

Run from the project root with the project's virtual environment:

    .venv/bin/python bench/checkout_bench.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--workers 2] [--buyers 50] [--products 10] [--stock 3] [--repeat 1] [--keep DIR]

SQLite in the work folder by default; with --database-url (a PostgreSQL server: any database on it) a database
of the benchmark's own is created there and dropped at the end. Rate limits are off in the portal's environment
(all the logins and checkouts come from one address). Each round (--repeat) starts from the initial
stock with no orders. The timings are printed, never checked; the exit status is 1 only when a correctness
check fails (an oversell, a lost or duplicated order, a buyer turned away while items were left) or a request
errs (a 5xx or an unexpected answer). See bench/README.md.
"""
from __future__ import annotations

import argparse
import html
import math
import os
import re
import shlex
import shutil
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from inquiry_bench import (
    PASSWORD,
    SECRET_KEY,
    Database,
    Server,
    Visitor,
    make_schema,
    portal_env,
    say,
    section,
)
from workdir import work_folder

from tests.smtp import SmtpServer, free_port

PES_COUNT = 2  # the products are shared out between this many selling PES
PLACED = "/zamowienia/zlozone/"
# The flash messages of a checkout sent back to the cart: the product was sold out when the checkout read the
# cart, or it ran out between that and the conditional UPDATE that takes the stock.
OVERSELL_CHECKS = ("no stock below zero", "ordered = stock taken", "ordered <= initial stock",
                   "orders = successful checkouts", "order numbers unique")
UNDERSELL_CHECK = "no buyer turned away while items were left"
REFUSALS = {"W koszyku nie ma nic, co można teraz zamówić.": "sold out", "zostało tylko": "lost the race"}


class BenchDatabase(Database):
    """inquiry_bench's database (SQLite, or a database of its own on a PostgreSQL server) named for this one."""

    def __init__(self, work: Path, server_url: str | None):
        super().__init__(work, None)
        if server_url:
            self._create(server_url)

    def _create(self, server_url: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from marketplace.config import normalise_db_url

        admin_url = make_url(normalise_db_url(server_url))
        self.name = f"checkout_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = admin_url.set(database=self.name).render_as_string(hide_password=False)
        self.kind = f"PostgreSQL {version} (database {self.name}, dropped at the end)"


@dataclass(frozen=True)
class Catalogue:
    products: list[tuple[int, int]]  # (offering id, PES id)
    buyers: list[str]  # e-mail addresses


# -- data ----------------------------------------------------------------------------------------------------


def seed(app, args) -> Catalogue:
    """PES taking orders (transfer, pickup), published products with stock, confirmed buyers."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from accounts.models import User
    from marketplace.extensions import db as sa
    from tests.factories import make_user
    from tests.order_factories import product, selling_pes

    with app.app_context():
        sellers = [selling_pes(f"Spółdzielnia Socjalna Sprzedająca {n}",
                               make_user(f"sprzedawca{n}@example.org", name=f"Sprzedawca {n}"))[0]
                   for n in range(1, min(PES_COUNT, args.products) + 1)]
        items = [product(sellers[n % len(sellers)], title=f"Konfitura z czarnej porzeczki nr {n + 1}",
                         price="24.00", stock=args.stock) for n in range(args.products)]
        buyers = [make_user(f"kupujacy{n}@example.org", name=f"Kupujący {n}", password=PASSWORD).email
                  for n in range(1, args.buyers + 1)]
        # The hash the server checks logins against (the builders use fast parameters): no rehash at login.
        sa.session.execute(update(User).values(password_hash=PasswordHasher().hash(PASSWORD)))
        sa.session.commit()
        catalogue = Catalogue([(o.id, o.pes_id) for o in items], buyers)
        sa.session.remove()
        sa.engine.dispose()
    return catalogue


def reset(app, catalogue: Catalogue, stock: int) -> None:
    """No orders, every product back to its initial stock (the order numbers go on)."""
    from sqlalchemy import delete, update

    from catalog.models import Offering
    from marketplace.extensions import db as sa
    from marketplace.orders.models import Order, OrderLine, OrderMessage

    with app.app_context():
        for model in (OrderLine, OrderMessage, Order):
            sa.session.execute(delete(model))
        ids = [oid for oid, _pes in catalogue.products]
        sa.session.execute(update(Offering).where(Offering.id.in_(ids)).values(stock=stock))
        sa.session.commit()
        sa.session.remove()
        sa.engine.dispose()


def database_state(app, catalogue: Catalogue) -> dict:
    """Each product's stock and ordered quantity, the order rows and their distinct numbers."""
    from sqlalchemy import func, select

    from catalog.models import Offering
    from marketplace.extensions import db as sa
    from marketplace.orders.models import Order, OrderLine

    ids = [oid for oid, _pes in catalogue.products]
    with app.app_context():
        stock = dict(sa.session.execute(select(Offering.id, Offering.stock).where(Offering.id.in_(ids))).all())
        ordered = dict(sa.session.execute(select(OrderLine.offering_id, func.sum(OrderLine.quantity))
                                          .group_by(OrderLine.offering_id)).all())
        orders = sa.session.scalar(select(func.count(Order.id)))
        numbers = sa.session.scalar(select(func.count(func.distinct(Order.number))))
        sa.session.remove()
        sa.engine.dispose()
    return {"stock": stock, "ordered": {i: int(ordered.get(i) or 0) for i in ids}, "orders": orders,
            "numbers": numbers}


# -- one buyer -----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    offering_id: int
    kind: str = "not run"  # "placed", "out of stock", "error"
    refusal: str = ""  # for "out of stock": a value of REFUSALS
    seconds: float | None = None
    detail: str = ""
    visitor: Buyer | None = field(default=None, repr=False)


class Buyer(Visitor):
    """inquiry_bench's visitor, signed in with an account of its own; counts the server's 5xx answers."""

    server_errors = 0

    def request(self, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        status, location, page = super().request(path, data)
        self.server_errors += status >= 500
        return status, location, page

    def log_in_as(self, email: str) -> None:
        token = self.csrf_token("/konto/logowanie")
        status, _location, _page = self.request(
            "/konto/logowanie", [("csrf_token", token), ("email", email), ("password", PASSWORD)])
        if status != 302:
            raise RuntimeError(f"login of {email}: {status}")

    def page(self, path: str) -> str:
        """The path after at most one redirect (an offering's short address leads to its canonical one)."""
        status, location, _page = self.request(path)
        return location.removeprefix(self.base) if status in (301, 302, 308) else path


def checkout_fields(hidden: dict, email: str, pes_id: int) -> list[tuple[str, str]]:
    return [("csrf_token", hidden["csrf_token"]), ("seen", hidden["seen"]), ("name", "Kupujący Pomiarowy"), ("email", email), ("phone", "600100200"),
            ("street", "ul. Długa 5"), ("postal_code", "85-001"), ("city", "Bydgoszcz"), ("accept", "y"),
            (f"pay_{pes_id}", "transfer"), (f"ship_{pes_id}", "pickup"), (f"address_{pes_id}", "")]


def prepare(buyer: Buyer, email: str, offering_id: int) -> dict:
    """Sign in, put one item into the cart from the offering's page, open the checkout; its hidden fields (the
    CSRF token and the lines the form was shown with)."""
    buyer.log_in_as(email)
    offering_page = buyer.page(f"/oferta/{offering_id}")
    token = buyer.csrf_token(offering_page)
    status, location, _page = buyer.request("/koszyk/dodaj", [
        ("csrf_token", token), ("offering_id", str(offering_id)), ("quantity", "1"), ("next", "/koszyk")])
    if status != 302 or not location.endswith("/koszyk"):
        raise RuntimeError(f"add to cart: {status} {location}")
    _status, _location, page = buyer.request("/zamowienie")
    return {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1) for name in ("csrf_token", "seen")}


def check_out(port: int, email: str, product: tuple[int, int], barrier: threading.Barrier, out: Outcome) -> None:
    """One buyer's thread: prepared, then the checkout POST sent together with everyone else's, timed."""
    offering_id, pes_id = product
    try:
        out.visitor = Buyer(port)
        hidden = prepare(out.visitor, email, offering_id)
        barrier.wait()
        start = time.perf_counter()
        status, location, page = out.visitor.request("/zamowienie", checkout_fields(hidden, email, pes_id))
        out.seconds = time.perf_counter() - start
    except threading.BrokenBarrierError:
        out.kind, out.detail = "error", "another buyer failed before the checkout"
        return
    except Exception as exc:  # noqa: BLE001 -- every failure is reported, and the others must not wait for it
        barrier.abort()
        out.kind, out.detail = "error", f"{type(exc).__name__}: {exc}"
        return
    if status == 302 and PLACED in location:
        out.kind = "placed"
    elif status == 302 and location.endswith("/koszyk"):
        out.kind = "out of stock"
    else:
        out.kind, out.detail = "error", " ".join(filter(None, (
            f"checkout answered {status}", location, form_errors(page))))


def form_errors(page: str) -> str:
    """The messages next to a rejected form's fields."""
    return " | ".join(html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>([^<]*)</p>', page))


def flashes(page: str) -> str:
    """The flash messages shown on a page."""
    return " | ".join(html.unescape(m) for m in re.findall(r'<p class="flash[^>]*>([^<]*)</p>', page))


def confirm_refusal(out: Outcome) -> None:
    """A checkout sent back to the cart must say there, in its flash message, that the stock ran out."""
    status, _location, page = out.visitor.request("/koszyk")
    found = [why for text, why in REFUSALS.items() if text in flashes(page)]
    if status == 200 and found:
        out.refusal = found[0]
    else:
        out.kind = "error"
        out.detail = f"sent back to the cart ({status}) without an out-of-stock message: {flashes(page)!r}"


# -- one round -----------------------------------------------------------------------------------------------


def burst(port: int, catalogue: Catalogue) -> tuple[list[Outcome], float]:
    """Every buyer in a thread of its own, buyer n for product n mod products; the outcomes and wall time."""
    n = len(catalogue.buyers)
    barrier = threading.Barrier(n + 1, timeout=600)
    outcomes = [Outcome(catalogue.products[i % len(catalogue.products)][0]) for i in range(n)]
    threads = [threading.Thread(target=check_out, daemon=True, args=(
        port, email, catalogue.products[i % len(catalogue.products)], barrier, outcomes[i]))
        for i, email in enumerate(catalogue.buyers)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    for out in outcomes:
        if out.kind == "out of stock":
            confirm_refusal(out)
    return outcomes, wall


def checks(state: dict, outcomes: list[Outcome], stock: int) -> dict[str, bool]:
    """The correctness checks of one round, each True when it holds."""
    placed = sum(o.kind == "placed" for o in outcomes)
    left = state["stock"]
    return {
        "no stock below zero": all(s is not None and s >= 0 for s in left.values()),
        "ordered = stock taken": all(state["ordered"][i] == stock - left[i] for i in left),
        "ordered <= initial stock": all(q <= stock for q in state["ordered"].values()),
        "orders = successful checkouts": state["orders"] == placed,
        "order numbers unique": state["numbers"] == state["orders"],
        UNDERSELL_CHECK: all(
            left[o.offering_id] == 0 for o in outcomes if o.kind == "out of stock"),
    }


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {percentile(values, 50) * 1000:7.1f} ms, p95 {percentile(values, 95) * 1000:7.1f} ms, "
            f"max {max(values) * 1000:7.1f} ms (n={len(values)})")


def report_round(n: int, outcomes: list[Outcome], wall: float, state: dict, ok: dict[str, bool],
                 stock: int) -> None:
    kinds = Counter(o.kind for o in outcomes)
    why = Counter(o.refusal for o in outcomes)
    say(f"  round {n}: {kinds['placed']} placed, {kinds['out of stock']} sent back to the cart (out of stock: "
        f"{why['sold out']} found it sold out, {why['lost the race']} lost the race for the last item), "
        f"{kinds['error']} errors; all {len(outcomes)} answered in {wall * 1000:.0f} ms")
    say(f"    checkout POST, all:    {latency([o.seconds for o in outcomes if o.seconds is not None])}")
    say(f"    checkout POST, placed: {latency([o.seconds for o in outcomes if o.kind == 'placed'])}")
    sold = sum(state["ordered"].values())
    say(f"    sold {sold} of {stock * len(state['stock'])} items; order rows: {state['orders']}, distinct order "
        f"numbers: {state['numbers']}; stock left per product: {sorted(state['stock'].values())}")
    say(f"    no oversell: {'yes' if all(ok[c] for c in OVERSELL_CHECKS) else 'NO'} ("
        + "; ".join(f"{c}: {'yes' if ok[c] else 'NO'}" for c in OVERSELL_CHECKS) + ")")
    say(f"    {UNDERSELL_CHECK}: {'yes' if ok[UNDERSELL_CHECK] else 'NO'}")


def report_errors(outcomes: list[Outcome], new_tracebacks: int) -> None:
    server_errors = sum(o.visitor.server_errors for o in outcomes if o.visitor is not None)
    say(f"    server errors: {server_errors} 5xx answer(s), {new_tracebacks} traceback(s) in the gunicorn log")
    for detail, count in Counter(o.detail for o in outcomes if o.kind == "error").most_common(10):
        say(f"    error x{count}: {detail}")


# -- the run -------------------------------------------------------------------------------------------------


def tracebacks(server: Server) -> int:
    return server.log_tail(10**9).count("Traceback (most recent call last)")


def rounds(args, app, env: dict, port: int, work: Path, catalogue: Catalogue) -> tuple[list[Outcome], bool]:
    """Start gunicorn, run each round on reset data; every round's outcomes and whether all were correct."""
    section(f"checkouts: gunicorn -w {args.workers} -k sync, {args.buyers} buyers, {args.products} products "
            f"x {args.stock} items")
    server = Server(env, port, args.workers, work / "gunicorn.log")
    everything, correct = [], True
    try:
        for n in range(1, args.repeat + 1):
            reset(app, catalogue, args.stock)
            before = tracebacks(server)
            outcomes, wall = burst(port, catalogue)
            state = database_state(app, catalogue)
            ok = checks(state, outcomes, args.stock)
            new = tracebacks(server) - before
            report_round(n, outcomes, wall, state, ok, args.stock)
            report_errors(outcomes, new)
            everything += outcomes
            correct = correct and all(ok.values()) and new == 0 and all(o.kind != "error" for o in outcomes)
        if tracebacks(server):
            say("\n  the gunicorn log ends with:\n" + server.log_tail(4000))
    finally:
        server.stop()
    return everything, correct


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", help="a PostgreSQL server (any database on it); default: SQLite")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    ap.add_argument("--buyers", type=int, default=50, help="concurrent buyers, one checkout each (default 50)")
    ap.add_argument("--products", type=int, default=10, help="products the buyers share out (default 10)")
    ap.add_argument("--stock", type=int, default=3, help="items in stock of each product (default 3)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds, each on reset stock and orders (default 1)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()
    if min(args.workers, args.buyers, args.products, args.stock, args.repeat) < 1:
        ap.error("--workers, --buyers, --products, --stock and --repeat must be positive")
    args.work = work_folder(ap, args.keep, "checkout-bench-")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    db = smtp = None
    try:
        db = BenchDatabase(args.work, args.database_url)
        smtp = SmtpServer()  # the order confirmations go to it, after the commit, as deployed
        smtp.start()
        return run(args, db, smtp)
    except KeyboardInterrupt:
        say("\ninterrupted")
        return 130
    finally:
        if smtp is not None:
            smtp.stop()
        if db is not None:
            db.drop()
        if args.keep:
            say(f"\nfiles kept in {args.work}")
        else:
            shutil.rmtree(args.work, ignore_errors=True)


def run(args, db: Database, smtp: SmtpServer) -> int:
    say("command: " + shlex.join(["bench/checkout_bench.py", *sys.argv[1:]]))
    say(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}; Python "
        f"{sys.version.split()[0]}; {db.kind}")
    os.environ["SECRET_KEY"] = SECRET_KEY  # this process's own app (schema and data) reads it
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": db.url, "ARGON2_FAST": True, "MAIL_SERVER": None,
                      "SEARCH_ENABLED": False, "SEARCH_INDEX_DIR": str(args.work / "search-index"),
                      "UPLOAD_DIR": str(args.work / "uploads")})
    section("schema and data")
    start = time.perf_counter()
    port = free_port()
    env = portal_env(args.work, db.url, smtp, port)  # RATELIMIT_ENABLED=false: 50 logins from one address
    say(f"schema: {make_schema(env, db, app)}")
    catalogue = seed(app, args)
    say(f"{min(PES_COUNT, args.products)} PES taking orders, {args.products} products with {args.stock} items "
        f"each, {args.buyers} buyers: {time.perf_counter() - start:.1f} s")
    outcomes, correct = rounds(args, app, env, port, args.work, catalogue)
    section(f"summary: checkout POST over {args.repeat} round(s) of {args.buyers} at once")
    say(f"all answers:       {latency([o.seconds for o in outcomes if o.seconds is not None])}")
    say(f"placed orders:     {latency([o.seconds for o in outcomes if o.kind == 'placed'])}")
    say(f"correct (no oversell, no lost or duplicate order, no request error): {'yes' if correct else 'NO'}")
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
