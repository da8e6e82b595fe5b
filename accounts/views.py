"""Placeholder routes; replaced by the accounts implementation."""
from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/konto")


@bp.get("/logowanie")
def login():
    return "login"


@bp.get("/rejestracja")
def register():
    return "register"


@bp.post("/wyloguj")
def logout():
    return "logout"


@bp.get("/ustawienia")
def settings():
    return "settings"
