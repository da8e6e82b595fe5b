"""The panel's pages for the legal documents: moderators may read every version, administrators publish new
ones (a change is always a new version; none is ever edited or deleted) and each is written to the audit log.
"""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.decorators import role_required, staff_required
from marketplace import clock
from marketplace.extensions import db
from marketplace.legal import services
from marketplace.legal.forms import DocumentForm
from marketplace.legal.models import SLUGS
from marketplace.legal.views import ALL_PAGES, bp, current_document

UNPROCESSABLE = 422
PANEL = "/moderacja/dokumenty"
SLUG_RULE = f"<any({ALL_PAGES}):slug>"

admin_required = role_required("admin")


@bp.get(PANEL)
@staff_required
def admin_list():
    """The four documents with their newest versions."""
    if services.seed_all():
        db.session.commit()
    return render_template("legal/admin_list.html", documents=[services.latest(s) for s in SLUGS])


@bp.get(f"{PANEL}/{SLUG_RULE}")
@staff_required
def admin_document(slug: str):
    """Every version of one document, newest first."""
    current_document(slug)
    return render_template("legal/admin_document.html", slug=slug, versions=services.versions(slug))


@bp.get(f"{PANEL}/{SLUG_RULE}/wersje/<int:number>")
@staff_required
def admin_version(slug: str, number: int):
    """One version as published, in both languages, with who published it and when."""
    doc = services.get_version(slug, number)
    if doc is None:
        abort(404)
    bodies = {lang: services.render(doc, lang, top=3) for lang in ("pl", "en") if doc.has_language(lang)}
    return render_template("legal/admin_version.html", doc=doc, bodies=bodies)


def _form_for(doc) -> DocumentForm:
    """The form filled with the newest version, ready to be changed into the next one."""
    form = DocumentForm(formdata=None, obj=doc)
    form.effective_on.data = max(doc.effective_on, clock.today())
    form.base_version.data = str(doc.version)
    return form


def _render_edit(doc, form: DocumentForm, status: int = 200):
    return render_template("legal/admin_edit.html", doc=doc, form=form), status


@bp.route(f"{PANEL}/{SLUG_RULE}/nowa-wersja", methods=["GET", "POST"])
@admin_required
def admin_edit(slug: str):
    """Publish a new version of a document, starting from the newest one."""
    doc = current_document(slug)
    form = DocumentForm()
    if not form.is_submitted():
        return _render_edit(doc, _form_for(doc))
    if not form.validate():
        return _render_edit(doc, form, UNPROCESSABLE)
    try:
        new = services.publish(current_user, slug, form.content(), form.based_on(), form.note.data)
    except services.LegalError as exc:
        db.session.rollback()
        target = form[exc.field].errors if exc.field else form.form_errors
        target.append(str(exc))
        return _render_edit(services.latest(slug), form, UNPROCESSABLE)
    db.session.commit()
    flash(_("Opublikowano wersję %(n)d dokumentu „%(title)s”.", n=new.version, title=new.title_pl), "success")
    return redirect(url_for(".admin_document", slug=slug))
