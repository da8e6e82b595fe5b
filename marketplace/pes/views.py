"""Placeholder routes; replaced by the PES implementation."""
from flask import Blueprint

bp = Blueprint("pes", __name__)


@bp.get("/pes")
def directory():
    return "directory"


@bp.get("/pes/<int:pes_id>")
def profile(pes_id):
    return "profile"


@bp.get("/panel/pes")
def my_pes():
    return "my"
