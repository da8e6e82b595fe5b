"""The public legal pages with their earlier versions, and the page where an account accepts new terms.

The accessibility statement keeps its address and endpoint (core.accessibility), which shows it with `show`.
The panel's pages for these documents are in admin_views, the notice of new terms in notice; all of them
are routes of this one blueprint.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import clock
from marketplace.core.views import safe_next
from marketplace.extensions import db
from marketplace.legal import services
from marketplace.legal.forms import AcceptTermsForm
from marketplace.legal.models import ACCESSIBILITY, SLUGS, TERMS, LegalDocument

bp = Blueprint("legal", __name__)
# Arguments of the `any` URL converter (quoted: the slugs hold hyphens); the accessibility statement's own
# address belongs to core.accessibility.
OWN_PAGES = ", ".join(f"'{slug}'" for slug in SLUGS if slug != ACCESSIBILITY)
ALL_PAGES = ", ".join(f"'{slug}'" for slug in SLUGS)


@bp.app_template_global()
def legal_url(slug: str, version: int | None = None) -> str:
    """The public address of a document, or of one of its versions."""
    if version is not None:
        return url_for("legal.version", slug=slug, number=version)
    if slug == ACCESSIBILITY:
        return url_for("core.accessibility")
    return url_for("legal.page", slug=slug)


def current_document(slug: str) -> LegalDocument:
    """The newest version; on a fresh install version 1 is written from the shipped text first."""
    doc = services.latest(slug)
    if doc is None:
        doc = services.seed(slug)
        db.session.commit()
    return doc


def show(slug: str, number: int | None = None):
    """A document's page: the newest version, or version `number`, in the visitor's language."""
    newest = current_document(slug)
    doc = newest if number is None else services.get_version(slug, number)
    if doc is None:
        abort(404)
    lang = str(get_locale() or "pl")
    return render_template("legal/page.html", doc=doc, newest=newest, lang=lang,
                           body=services.render(doc, lang), versions=services.versions(slug),
                           in_force=services.in_force(slug), today=clock.today())


@bp.get(f"/<any({OWN_PAGES}):slug>")
def page(slug: str):
    """The terms, the privacy policy and the contact page."""
    return show(slug)


@bp.get(f"/<any({ALL_PAGES}):slug>/wersje/<int:number>")
def version(slug: str, number: int):
    """An earlier (or the current) version of a document, as it was published."""
    return show(slug, number)


def _render_acceptance(form: AcceptTermsForm):
    terms = current_document(TERMS)
    form.version.data = str(terms.version)
    accepted = services.accepted_version(current_user)
    return render_template("legal/accept_terms.html", form=form, terms=terms, accepted=accepted,
                           next=request.args.get("next"))


@bp.route("/regulamin/akceptacja", methods=["GET", "POST"])
@login_required
def accept_terms():
    """Accept the newest terms; until then every page reminds of them, but nothing else is held back."""
    form = AcceptTermsForm()
    if not form.validate_on_submit():
        return _render_acceptance(form)
    try:
        services.accept_terms(current_user, form.number())
    except services.LegalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".accept_terms", next=request.args.get("next")))
    db.session.commit()
    flash(_("Dziękujemy. Zaakceptowano regulamin w wersji %(n)d.", n=current_user.terms_version), "info")
    return redirect(safe_next(request.args.get("next"), url_for("core.home")))


# The panel's pages and the notice of new terms register on `bp` when imported.
from marketplace.legal import admin_views, notice  # noqa: F401
