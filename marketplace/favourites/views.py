"""Favourites: the list page and the add and remove buttons shown on offering pages and PES profiles."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from catalog.models import Offering
from catalog.views import offering_url
from marketplace.core.urls import url_or
from marketplace.core.views import safe_next
from marketplace.extensions import db
from marketplace.favourites import services
from marketplace.favourites.forms import AskForm, FavouriteForm
from marketplace.pes.models import Pes

# Every POST is checked for its CSRF token by CSRFProtect before the view runs.
bp = Blueprint("favourites", __name__)
KINDS = {"pes": Pes, "oferta": Offering}
COMPOSE_PATH = "/zapytania/nowe"  # the inquiry form, until its view is registered under inquiries.compose


@bp.record_once
def _register(state) -> None:
    state.app.jinja_env.globals.update(favourite_saved=_saved, favourite_form=lambda: FavouriteForm(formdata=None))


def _saved(kind: str, target) -> bool:
    return services.is_saved(current_user, **{"pes" if kind == "pes" else "offering": target})


def _target(kind: str, target_id: int):
    return db.session.get(KINDS[kind], target_id) or abort(404)


def _name(kind: str, target) -> str:
    return target.name if kind == "pes" else target.title


def _back(kind: str, target):
    """Back to the page the button was on (only within the portal), else to the PES or offering page."""
    default = url_for("pes.profile", pes_id=target.id) if kind == "pes" else offering_url(target)
    return redirect(safe_next(FavouriteForm().next.data, default))


@bp.get("/ulubione")
@login_required
def index():
    """The saved PES and offerings, and one form to ask several of those PES at once."""
    favourites = services.for_user(current_user.id)
    return render_template(
        "favourites/index.html", favourites=favourites,
        pes_favourites=[f for f in favourites if f.pes_id is not None],
        offering_favourites=[f for f in favourites if f.offering_id is not None],
        ask_form=AskForm(services.askable_pes(favourites)), limit=services.LIMIT,
        compose_url=url_or("inquiries.compose", COMPOSE_PATH))


@bp.post("/ulubione/<any(pes, oferta):kind>/<int:target_id>/dodaj")
@login_required
def add(kind: str, target_id: int):
    """Save a public PES or offering; what is not public cannot be saved (404, as on its page)."""
    target = _target(kind, target_id)
    if not target.is_public:
        abort(404)
    try:
        added = services.add(current_user, **{"pes" if kind == "pes" else "offering": target})
    except services.FavouriteError as exc:
        flash(str(exc), "error")
        return _back(kind, target)
    db.session.commit()
    flash(_("Dodano „%(name)s” do ulubionych.", name=_name(kind, target)) if added
          else _("„%(name)s” jest już w ulubionych.", name=_name(kind, target)), "info")
    return _back(kind, target)


@bp.post("/ulubione/<any(pes, oferta):kind>/<int:target_id>/usun")
@login_required
def remove(kind: str, target_id: int):
    """Forget a saved PES or offering, also one that is no longer public."""
    target = _target(kind, target_id)
    if not services.remove(current_user, **{"pes_id" if kind == "pes" else "offering_id": target.id}):
        if not target.is_public:  # neither saved nor public: its name is not this person's to see
            abort(404)
        flash(_("„%(name)s” nie było w ulubionych.", name=_name(kind, target)), "info")
        return _back(kind, target)
    db.session.commit()
    flash(_("Usunięto „%(name)s” z ulubionych.", name=_name(kind, target)), "info")
    return _back(kind, target)
