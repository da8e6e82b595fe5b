"""gunicorn's settings for the portal (read from the working folder): `gunicorn --workers 3 --bind ADDR`.

The application is created once in the master process, which also opens the Polish stemmer's table before the
workers are forked: a compact file of about 8 MB beside the search index, memory-mapped read-only, so that the
master and every worker share its pages through the page cache (as separately started processes would too).
When the file is missing the master builds it first (in a child process, some seconds), so no worker has to.
"""
import gc

wsgi_app = "app:create_app()"
preload_app = True


def when_ready(server):
    from search.analysis import preload, use_table_dir

    use_table_dir(server.app.wsgi().config["SEARCH_INDEX_DIR"])  # where the workers' search engines look
    preload()
    gc.collect()
    gc.freeze()  # objects made so far stay out of the collector: their pages stay shared after fork


def post_fork(server, worker):
    # The master may have opened database connections while creating the app: never share them.
    from marketplace.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
