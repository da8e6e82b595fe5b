"""`flask create-user EMAIL --role ROLE`: accounts for staff and for the first administrator."""
import sys
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from accounts import services
from accounts.models import ROLES
from accounts.passwords import password_problems
from marketplace.extensions import db


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(_("Hasło"), hide_input=True, confirmation_prompt=_("Powtórz hasło"))


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, help="One of: " + ", ".join(ROLES) + ".")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--name", default="", help="The person's name shown in the portal.")
@with_appcontext
def create_user_command(email: str, role: str, password_stdin: bool, name: str) -> None:
    """Create a confirmed account with the given role; asks for the password unless --password-stdin."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pl")):
        if role not in ROLES:
            _fail(_("Nieznana rola: %(role)s. Dozwolone: %(roles)s.", role=role, roles=", ".join(ROLES)))
        try:
            email = services.normalise_email(email)
        except ValueError as exc:
            _fail(str(exc))
        if services.find_by_email(email) is not None:
            _fail(_("Konto z adresem %(email)s już istnieje; nic nie zmieniono.", email=email))
        password = _read_password(password_stdin)
        problems = password_problems(password, email)
        if problems:
            _fail(" ".join(problems))
        user = services.create_account(email, password, name=name, role=role, confirmed=True)
        db.session.commit()
        click.echo(_("Utworzono konto %(email)s (rola: %(role)s, id: %(id)d), adres potwierdzony.",
                     email=user.email, role=user.role, id=user.id))
