"""The moderators' panel for the legal values and the guidance pages. A change is always a new version (none is
edited or deleted), written to the audit log by the services; values known only from secondary sources stay
flagged until a moderator confirms them.

A blueprint of its own: the public one's "/zamowienia-publiczne" prefix would be put before the panel's paths.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from accounts.decorators import staff_required
from marketplace import clock
from marketplace.extensions import db
from marketplace.procurement import guidance, labels, legal_data
from marketplace.procurement.admin_forms import GuidanceForm, value_form

bp = Blueprint("procurement_admin", __name__)
PANEL = "/moderacja/prawo"
UNPROCESSABLE = 422


def _stale(version: int) -> str:
    return _("W międzyczasie zapisano wersję %(n)d tej wartości. Sprawdź ją i wprowadź zmiany jeszcze raz.",
             n=version)


@bp.context_processor
def _helpers():
    return {"value_name": labels.value_name, "value_text": labels.value_text}


@bp.get(PANEL)
@staff_required
def index():
    """What needs a moderator's eye: unverified values first in the count, then guidance pages with flags."""
    legal_data.seed()
    pages = guidance.pages()
    db.session.commit()  # the shipped values and pages, on a fresh install
    rows = legal_data.newest_rows()
    today = clock.today()
    return render_template("procurement/admin_index.html", rows=rows, pages=pages,
                           flags={p.slug: guidance.flags(p, today) for p in pages},
                           unverified=sum(not r.verified for r in rows))


def _history(value_id: int):
    row = legal_data.get(value_id)
    if row is None:
        abort(404)
    return row, legal_data.versions(row.key, row.valid_from)


def _render_value(history, form, status: int = 200):
    return render_template("procurement/admin_value.html", newest=history[0], history=history,
                           form=form), status


def _save_value(newest, form):
    """The new version, or None with the reason put on the form."""
    if form.based_on() != newest.version:
        form.form_errors.append(_stale(newest.version))
        return None
    try:
        new = legal_data.change(current_user, newest, form.content(), form.reason.data or None)
    except IntegrityError:  # saved by someone else between our read and our write
        db.session.rollback()
        form.form_errors.append(_stale(newest.version + 1))
        return None
    if new is None:
        form.form_errors.append(_("Nic się nie zmieniło – nowej wersji nie utworzono."))
    return new


@bp.route(f"{PANEL}/wartosci/<int:value_id>", methods=["GET", "POST"])
@staff_required
def value(value_id: int):
    """A value's versions and the form for the next one; an older version's address leads to the newest."""
    row, history = _history(value_id)
    newest = history[0]
    if request.method == "GET" and row.id != newest.id:
        return redirect(url_for(".value", value_id=newest.id))
    form = value_form(newest.unit)
    if not form.is_submitted():
        form.fill(newest)
        return _render_value(history, form)
    new = _save_value(newest, form) if form.validate() else None
    if new is None:
        return _render_value(_history(newest.id)[1], form, UNPROCESSABLE)
    db.session.commit()
    flash(_("Zapisano wersję %(n)d wartości „%(name)s”.", n=new.version, name=labels.value_name(new.key)), "success")
    return redirect(url_for(".value", value_id=new.id))


@bp.post(f"{PANEL}/wartosci/<int:value_id>/potwierdz")
@staff_required
def confirm(value_id: int):
    """Confirm a value after checking it in the source; an outdated button confirms nothing."""
    row, history = _history(value_id)
    name = labels.value_name(row.key)
    if row.id != history[0].id:
        flash(_("Wartość „%(name)s” ma już nowszą wersję. Sprawdź ją i potwierdź ponownie.", name=name), "warning")
        return redirect(url_for(".index"))
    try:
        new = legal_data.confirm(current_user, row)
    except IntegrityError:
        db.session.rollback()
        new = None
    if new is None:
        flash(_("Wartość „%(name)s” nie wymagała potwierdzenia.", name=name), "info")
    else:
        db.session.commit()
        flash(_("Potwierdzono wartość „%(name)s” (wersja %(n)d).", name=name, n=new.version), "success")
    return redirect(url_for(".index"))


def _current_page(slug: str):
    guidance.pages()  # seeds the shipped pages on a fresh install
    page = guidance.latest(slug)
    if page is None:
        abort(404)
    db.session.commit()
    return page


def _render_guidance(page, form, status: int = 200):
    return render_template("procurement/admin_guidance.html", page=page, form=form,
                           versions=guidance.versions(page.slug),
                           flags=guidance.flags(page, clock.today())), status


@bp.route(f"{PANEL}/poradniki/<slug>", methods=["GET", "POST"])
@staff_required
def guidance_page(slug: str):
    """A guidance page's versions, what needs checking in it, and the form for its next version."""
    page = _current_page(slug)
    form = GuidanceForm()
    if not form.is_submitted():
        form.fill(page)
        return _render_guidance(page, form)
    if not form.validate():
        return _render_guidance(page, form, UNPROCESSABLE)
    try:
        new = guidance.publish(current_user, page, form.content(), form.based_on())
    except guidance.GuidanceError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _render_guidance(guidance.latest(slug), form, UNPROCESSABLE)
    db.session.commit()
    flash(_("Opublikowano wersję %(n)d strony „%(title)s”.", n=new.version, title=new.title_pl), "success")
    return redirect(url_for(".guidance_page", slug=slug))


@bp.get(f"{PANEL}/poradniki/<slug>/wersje/<int:number>")
@staff_required
def guidance_version(slug: str, number: int):
    """One version as it was published, with today's legal values filled in."""
    page = guidance.get_version(slug, number)
    if page is None:
        abort(404)
    legal, day = legal_data.current_state(), clock.today()
    bodies = {lang: guidance.render(page, lang, legal, day) for lang in ("pl", "en")
              if lang == "pl" or page.body_en}
    return render_template("procurement/admin_guidance_version.html", page=page, bodies=bodies,
                           newest=guidance.latest(slug))
