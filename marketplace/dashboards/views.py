"""The PES panel (/panel): what waits for the team of each PES the person belongs to."""
from flask import Blueprint, g, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from marketplace import clock
from marketplace.dashboards import queries
from marketplace.pes import services as pes_services

bp = Blueprint("dashboards", __name__)

THREAD_STATUS_LABELS = {
    "new": _l("nowe"), "read": _l("przeczytane"), "answered": _l("z odpowiedzią"),
    "quoted": _l("wysłano ofertę cenową"), "accepted": _l("oferta przyjęta"), "declined": _l("odrzucone"),
    "closed": _l("zamknięte"), "expired": _l("wygasłe"),
}


def thread_status_label(code: str) -> str:
    return str(THREAD_STATUS_LABELS.get(code, code))


def nav_counts() -> queries.NavCounts:
    """The menu's counts, read once per request and only for a signed-in person."""
    if not current_user.is_authenticated:
        return queries.NavCounts()
    if "nav_counts" not in g:
        g.nav_counts = queries.nav_counts(current_user.id)
    return g.nav_counts


@bp.record_once
def _register(state) -> None:
    state.app.jinja_env.globals.update(nav_counts=nav_counts)


@bp.get("/panel")
@login_required
def pes_panel():
    """The start page of PES teams; others are told what the panel is and how to get a PES of their own."""
    today = clock.today()
    panels = queries.panels(current_user.id, today)
    if not panels:
        return render_template("dashboards/not_member.html"), 403
    return render_template("dashboards/panel.html", panels=panels, today=today,
                           stale_days=pes_services.stale_days(), thread_status_label=thread_status_label)
