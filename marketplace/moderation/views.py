"""Placeholder routes; replaced by the moderation implementation."""
from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderacja")


@bp.get("/")
def queue():
    return "queue"


@bp.get("/dziennik")
def audit_log():
    return "audit"
