"""The application factory: configuration, extensions, blueprints, command line and error pages."""
import gc
import os

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the portal; `config` overrides the settings read from the environment (tests use it)."""
    app = Flask(__name__, instance_relative_config=True, static_folder="static", template_folder="templates")
    from marketplace.core.urls import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter
    from marketplace.config import from_environment

    app.config.update(from_environment(app.instance_path))
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a reverse proxy the visitor's address (for rate limits) and scheme come from its headers.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    from marketplace.core.sessions import PortalSessionInterface

    app.session_interface = PortalSessionInterface()
    from marketplace import setup

    setup.register_extensions(app)
    setup.register_blueprints(app)
    setup.register_errorhandlers(app)
    setup.register_template_helpers(app)
    setup.register_page_cache(app)
    setup.register_commands(app)
    if not app.testing:
        # A long-lived process (a worker, a command): what start-up made is moved out of the cyclic collector's
        # reach, so its full collections no longer walk the whole app (about 60 ms, a stall of every request
        # queued behind it). Tests make hundreds of apps and leave them to the collector.
        gc.collect()
        gc.freeze()
    return app
