"""Routes of this part of the catalogue (being written)."""
from flask import Blueprint

bp = Blueprint("catalog_moderation", __name__, url_prefix="/moderacja/oferty")
