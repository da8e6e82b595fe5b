"""The search's synonym list in the panel: the groups shipped with the portal (read only) and the groups
moderators add, edit and delete. A change takes effect in the search at once, without a reindex
(see search.synonyms for how soon other server processes see it)."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.decorators import staff_required
from marketplace.extensions import db
from marketplace.moderation.forms import ConfirmForm
from marketplace.moderation.synonym_forms import SynonymGroupForm
from marketplace.moderation.views import UNPROCESSABLE, actor, bp
from search import synonyms
from search.models import MAX_MEMBERS, MAX_WORD_CHARS, SynonymGroup


def _commit() -> None:
    """Commit the change with its audit entry, then let this process's search use it at once."""
    db.session.commit()
    synonyms.invalidate()


def _page_help() -> dict:
    return {"max_members": MAX_MEMBERS, "max_word_chars": MAX_WORD_CHARS}


def _render_list(form: SynonymGroupForm, status: int = 200):
    groups = db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id.desc())).all()
    html = render_template("moderation/synonyms.html", form=form, groups=groups,
                           shipped=synonyms.shipped_synonyms().groups, **_page_help())
    return html, status


@bp.get("/synonimy")
@staff_required
def synonyms_list():
    """The synonym groups of the search and the form to add one."""
    return _render_list(SynonymGroupForm(formdata=None))


@bp.post("/synonimy")
@staff_required
def synonym_add():
    """Add a group of interchangeable words to the search."""
    form = SynonymGroupForm()
    if not form.validate_on_submit():
        return _render_list(form, UNPROCESSABLE)
    group = synonyms.create_group(actor(), form.members, form.note.data)
    _commit()
    flash(_("Dodano grupę synonimów: %(words)s. Wyszukiwarka już jej używa.", words=group.words), "success")
    return redirect(url_for(".synonyms_list"))


@bp.route("/synonimy/<int:group_id>/edycja", methods=["GET", "POST"])
@staff_required
def synonym_edit(group_id: int):
    """Change the words or the note of a moderator's group."""
    group = db.get_or_404(SynonymGroup, group_id)
    form = SynonymGroupForm(obj=group, group_id=group.id)
    if not form.validate_on_submit():
        status = UNPROCESSABLE if _posted() else 200
        return render_template("moderation/synonym_edit.html", form=form, group=group, **_page_help()), status
    if synonyms.update_group(actor(), group, form.members, form.note.data):
        _commit()
        flash(_("Zapisano grupę synonimów: %(words)s. Wyszukiwarka już używa zmienionej grupy.",
                words=group.words), "success")
    else:
        db.session.rollback()
        flash(_("Nic nie zmieniono: grupa ma te same słowa i notatkę."), "info")
    return redirect(url_for(".synonyms_list"))


@bp.route("/synonimy/<int:group_id>/usun", methods=["GET", "POST"])
@staff_required
def synonym_delete(group_id: int):
    """Ask, then delete a moderator's group."""
    group = db.get_or_404(SynonymGroup, group_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        status = UNPROCESSABLE if _posted() else 200
        return render_template("moderation/synonym_delete.html", form=form, group=group), status
    words = group.words
    synonyms.delete_group(actor(), group)
    _commit()
    flash(_("Usunięto grupę synonimów: %(words)s.", words=words), "success")
    return redirect(url_for(".synonyms_list"))



def _posted() -> bool:
    return request.method == "POST"
