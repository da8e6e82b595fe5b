"""Home page, language switch, uploaded media and the accessibility statement's address."""
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
)
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.pes.models import Pes

bp = Blueprint("core", __name__)


@bp.before_app_request
def _refuse_nul_bytes():
    """A NUL character has no place in text people type, and PostgreSQL cannot store one: such a request is
    answered with 400 before any view sees it (on every database alike)."""
    form_post = request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data")
    values = list(request.args.values()) + (list(request.form.values()) if form_post else [])
    if any("\x00" in value for value in values):
        abort(400)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only redirect within the portal (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/")
def home():
    """The front page: what the portal is and the way into the directory."""
    count = db.session.scalar(select(func.count()).select_from(Pes).where(Pes.status == "verified"))
    latest = db.session.scalars(select(Pes).where(Pes.status == "verified")
                                .order_by(Pes.verified_at.desc().nulls_last(), Pes.id.desc()).limit(6)).all()
    return render_template("core/home.html", pes_count=count, latest=latest)


@bp.get("/jezyk/<lang>")
def set_language(lang: str):
    """Switch the interface language and return to the page the visitor was on."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = lang  # the account's saved language changes only in its settings (a POST)
    return redirect(safe_next(request.args.get("next")))


PUBLIC_MEDIA = ("logos",)  # folders of UPLOAD_DIR whose files anyone may see


@bp.get("/media/<path:filename>")
def media(filename: str):
    """Uploaded public images (logos), served from UPLOAD_DIR; other uploads are never served here."""
    parts = PurePosixPath(filename).parts
    if not parts or parts[0] not in PUBLIC_MEDIA or ".." in parts:
        abort(404)
    return send_from_directory(current_app.config["UPLOAD_DIR"], filename, max_age=86400)


@bp.get("/deklaracja-dostepnosci")
def accessibility():
    """The accessibility statement that Polish law requires of public bodies' websites; its text is the
    newest version kept with the other legal pages (marketplace.legal)."""
    from marketplace.legal.models import ACCESSIBILITY
    from marketplace.legal.views import show

    return show(ACCESSIBILITY)
