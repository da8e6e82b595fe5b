"""Flask-Migrate set up without importing it: Flask-Migrate loads Alembic (and Mako and Pygments with it), which
only the `flask db` commands, `flask demo` and tests need, never a web worker.

`LazyMigrate.init_app` does what `flask_migrate.Migrate.init_app` does, lazily:

- `app.extensions["migrate"]` holds the attributes that flask_migrate's functions (`upgrade()`, ...) and
  migrations/env.py read: `db`, `directory`, `configure_args` and `migrate`, the `flask_migrate.Migrate`
  made on first use;
- the `db` command group is registered as a stand-in that hands the command line over to flask_migrate's own
  group when `flask db ...` runs (or `flask --help` lists it).
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask
    from flask_migrate import Migrate
    from flask_sqlalchemy import SQLAlchemy


class MigrateConfig:
    """What flask_migrate keeps in app.extensions["migrate"] (its `_MigrateConfig`), with the
    `flask_migrate.Migrate` behind it made when a migration first runs."""

    def __init__(self, db: SQLAlchemy, directory: str, configure_args: dict):
        self.db = db
        self.directory = directory
        self.configure_args = configure_args

    @cached_property
    def migrate(self) -> Migrate:
        from flask_migrate import Migrate

        return Migrate(db=self.db, directory=self.directory, **self.configure_args)

    @property
    def metadata(self):
        return self.db.metadata


class _DbCommands(click.Command):
    """The `db` command group as listed by `flask --help`; running it runs flask_migrate's group."""

    @staticmethod
    def _group() -> click.Command:
        from flask_migrate.cli import db

        return db

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # The context is the real group's: click parses, invokes and prints help with it from here on.
        return self._group().make_context(info_name, args, parent=parent, **extra)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self._group().get_short_help_str(limit)


class LazyMigrate:
    """Takes the place of `flask_migrate.Migrate(**configure_args)` for one or more apps."""

    def __init__(self, **configure_args):
        self.configure_args = configure_args  # passed to Alembic's context.configure by migrations/env.py

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str, command: str = "db") -> None:
        app.extensions["migrate"] = MigrateConfig(db, str(directory), dict(self.configure_args))
        app.cli.add_command(_DbCommands(command))
