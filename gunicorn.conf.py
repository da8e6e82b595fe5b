"""gunicorn's settings for the portal (read from the working folder): `gunicorn --workers 3 --bind ADDR`.

The application is created once in the master process and the Polish stemmer's tables (seconds to load, about
180 MB) are read there too, before the workers are forked, so that every worker starts at once and shares
that memory with the master instead of loading a copy of its own.
"""
import gc

wsgi_app = "app:create_app()"
preload_app = True


def when_ready(server):
    from search.analysis import preload

    preload()
    gc.collect()
    gc.freeze()  # objects made so far stay out of the collector: their pages stay shared after fork


def post_fork(server, worker):
    # The master may have opened database connections while creating the app: never share them.
    from marketplace.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
