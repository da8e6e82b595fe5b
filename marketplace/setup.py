"""The steps of the application factory, each short, in the order create_app runs them."""
import os

from flask import Flask, has_request_context, request, session
from flask_login import current_user

from marketplace.extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def select_locale() -> str:
    """The language: the one chosen with the switch, then the account's, then the browser's; Polish by default."""
    from flask import current_app

    langs = list(current_app.config["LANGUAGES"])
    if not has_request_context():  # command line, mail rendered outside a request
        return "pl"
    chosen = session.get("lang")
    if chosen in langs:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in langs:
        return current_user.locale
    from marketplace.core.page_cache import browser_language

    return browser_language(request.headers.get("Accept-Language", ""), tuple(langs))


def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite enforces foreign keys (and ON DELETE CASCADE) only when asked, per connection."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_extensions(app: Flask) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    db.init_app(app)
    if not event.contains(Engine, "connect", _sqlite_foreign_keys):
        event.listen(Engine, "connect", _sqlite_foreign_keys)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=os.path.join(
        os.path.dirname(MIGRATIONS_DIR), "translations"))
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Zaloguj się, aby zobaczyć tę stronę.")

    # Import the models so that metadata (and Alembic) see every table.
    import accounts.models  # noqa: F401
    import catalog.mark.models
    import catalog.models  # noqa: F401
    import marketplace.audit
    import marketplace.content_version
    import marketplace.favourites.models
    import marketplace.inquiries.models
    import marketplace.legal.models
    import marketplace.orders.models
    import marketplace.outbox
    import marketplace.pes.models
    import marketplace.procurement.models  # noqa: F401
    import search.models  # noqa: F401
    from accounts.models import User
    from search import sync as search_sync

    search_sync.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        uid, _, version = user_id.partition(":")
        if not uid.isdigit():
            return None
        user = db.session.get(User, int(uid))
        if user is None or str(user.session_version) != version:
            return None
        return user


def register_blueprints(app: Flask) -> None:
    from accounts.views import bp as accounts_bp
    from marketplace.core.views import bp as core_bp
    from marketplace.moderation.views import bp as moderation_bp
    from marketplace.pes.views import bp as pes_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(pes_bp)
    app.register_blueprint(moderation_bp)
    from catalog.mark.views import bp as mark_bp
    from catalog.moderation import bp as catalog_moderation_bp
    from catalog.views import bp as catalog_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(catalog_moderation_bp)
    app.register_blueprint(mark_bp)
    from marketplace.api.views import bp as api_bp

    app.register_blueprint(api_bp)
    from marketplace.legal.views import bp as legal_bp

    app.register_blueprint(legal_bp)
    from marketplace.consumer.views import bp as consumer_bp
    app.register_blueprint(consumer_bp)
    from marketplace.dashboards.views import bp as dashboards_bp
    from marketplace.favourites.views import bp as favourites_bp
    from marketplace.orders.sales_views import bp as sales_bp

    app.register_blueprint(dashboards_bp)
    app.register_blueprint(favourites_bp)
    app.register_blueprint(sales_bp)
    import marketplace.inquiries.file_views
    import marketplace.inquiries.pes_views
    from marketplace.inquiries.views import bp as inquiries_bp

    app.register_blueprint(inquiries_bp)
    import marketplace.procurement.admin_views
    from marketplace.procurement.views import bp as procurement_bp

    app.register_blueprint(procurement_bp)
    app.register_blueprint(marketplace.procurement.admin_views.bp)
    import marketplace.orders.payment_views
    import marketplace.orders.pes_views
    from marketplace.orders.views import bp as orders_bp

    app.register_blueprint(orders_bp)
    from marketplace.stats.views import bp as stats_bp

    app.register_blueprint(stats_bp)
    from marketplace.orders.invoice_views import bp as invoices_bp
    app.register_blueprint(invoices_bp)


def register_errorhandlers(app: Flask) -> None:
    from marketplace.core.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from marketplace.core import template_helpers

    template_helpers.register(app)


def register_page_cache(app: Flask) -> None:
    from marketplace.core import page_cache

    page_cache.init_app(app)


def register_commands(app: Flask) -> None:
    from marketplace.cli import register

    register(app)
