"""Routes of this part of the catalogue (being written)."""
from flask import Blueprint

bp = Blueprint("mark", __name__)
