"""Public pages for purchasers: the guidance on social clauses, the clause builder with its downloads and
shortlist, and saved results. Moderators' pages for legal values and guidance are in admin_views."""
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from marketplace import clock
from marketplace.core.reports import local_day
from marketplace.extensions import db, limiter
from marketplace.inquiries import services as inquiry_services
from marketplace.procurement import builder, documents, guidance, labels, legal_data, report, rules, shortlist
from marketplace.procurement.forms import BuilderForm
from marketplace.procurement.legal_state import LegalState, MissingValue
from marketplace.procurement.models import SavedResult

bp = Blueprint("procurement", __name__, url_prefix="/zamowienia-publiczne")
FILES = {"klauzule.docx", "klauzule.pdf", "rozeznanie-rynku.csv", "rozeznanie-rynku.pdf"}
# What a saved result keeps: the builder's own fields, nothing else a request may carry.
INPUT_FIELDS = frozenset(("value", "start", "kind", "purchaser", "cpv", "category", "powiat", "aims", "groups",
                          "share", "persons", "months", "verification", "penalty", "activities", "accessibility",
                          "weight", "social_services"))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def lang() -> str:
    return str(get_locale() or "pl")


def _group_choices(legal: LegalState, day) -> list[tuple[str, str]]:
    """The groups of art. 94 (points confirmed by moderators only) and art. 96, each once."""
    keys = ["art94_groups", "art96_groups"]
    extra = [e for e in legal.entries if e.key == "art94_groups_more" and e.verified]
    keys += ["art94_groups_more"] if extra else []
    seen: dict[str, str] = {}
    for key in keys:
        for group in LegalState(legal.entries).groups(key, day):
            seen.setdefault(group["code"], group.get(lang()) or group["pl"])
    return list(seen.items())


def inputs_of(args: MultiDict) -> MultiDict:
    """Only the builder's own fields of a query: nothing else is passed on into links or saved."""
    return MultiDict([(k, v) for k, v in args.items(multi=True) if k in INPUT_FIELDS])


def compute(args: MultiDict, legal: LegalState, day=None) -> tuple[BuilderForm, builder.Result | None]:
    """The form read from `args` and, when it is valid, the builder's result under `legal` as on `day`."""
    day = day or clock.today()
    args = inputs_of(args)
    checked = LegalState(legal.entries)  # the form's checks leave the result's record of values used alone
    form = BuilderForm(args or None, groups=_group_choices(legal, day), span=checked.span(rules.REQUIRED),
                       min_share=int(checked.amount("reserved_min_share", day)))
    if not args:
        form.start.data = day
        return form, None
    if not form.validate():
        return form, None
    inputs = rules.Inputs(value=form.parsed_value, kind=form.kind.data, purchaser=form.purchaser.data,
                          start=form.start.data, cpv=tuple(getattr(form, "codes", ())),
                          categories=tuple(form.category.data or ()), powiats=tuple(form.powiat.data or ()),
                          aims=frozenset(form.aims.data or ()), social_services=bool(form.social_services.data))
    try:
        return form, builder.run(inputs, form.params(), legal, day)
    except MissingValue:
        form.start.errors = [_("Portal nie ma danych prawnych dla tej daty.")]
        return form, None


def _links(saved: SavedResult | None, kind: str):
    """Links to the result's files and to its other shortlists: the same inputs, or the saved result."""
    args = inputs_of(request.args).to_dict(flat=False)

    def file_url(name: str) -> str:
        if saved is not None:
            return url_for("procurement.saved_file", token=saved.token, name=name, lista=kind)
        return url_for("procurement.builder_file", name=name, lista=kind, **args)

    def list_url(code: str) -> str:
        if saved is not None:
            return url_for("procurement.saved", token=saved.token, lista=code, _anchor="shortlist")
        return url_for("procurement.builder_page", lista=code, _anchor="shortlist", **args)

    return file_url, list_url


def _page(form, result, saved=None, status=200):
    kind, found, total = (builder.suppliers(result, request.args.get("lista"), shortlist.PAGE_LIMIT) if result
                          else ("all", [], 0))
    file_url, list_url = _links(saved, kind)
    return render_template("procurement/builder.html", form=form, result=result, saved=saved, kind=kind,
                           found=found, total=total, limit=inquiry_services.max_recipients(),
                           lists=shortlist.FILTERS, report_limit=shortlist.LIMIT, can_save=_can_save(), file_url=file_url, list_url=list_url,
                           saved_args=inputs_of(request.args).items(multi=True), threshold=_threshold_hint(),
                           mine=_mine() if saved is None else []), status


def _threshold_hint() -> str:
    """The threshold in force and since when, from the legal data, for the start date's hint."""
    entry = legal_data.current_state().entry("pzp_threshold", clock.today())
    return _("Od niej zależą progi: od %(day)s próg stosowania Pzp wynosi %(value)s.",
             day=entry.valid_from.strftime("%d.%m.%Y"), value=labels.value_text(entry))


def _mine() -> list[SavedResult]:
    """The purchaser's own saved results, newest first."""
    if not _can_save():
        return []
    return list(db.session.scalars(db.select(SavedResult).where(SavedResult.user_id == current_user.id)
                                   .order_by(SavedResult.created_at.desc(), SavedResult.id.desc()).limit(50)))


def _can_save() -> bool:
    return current_user.is_authenticated and current_user.is_verified_purchaser


@bp.get("/kreator")
def builder_page():
    """The clause builder: anyone can run it; verified purchasers can also save and share the result."""
    form, result = compute(request.args, legal_data.current_state())
    db.session.commit()  # the legal values seeded on a fresh install
    return _page(form, result, status=422 if request.args and result is None else 200)


def _file(name: str, result: builder.Result, kind: str | None):
    stamp = result.computed_on.isoformat()
    if name.startswith("klauzule"):
        if name.endswith(".docx"):
            return documents.to_docx(result), DOCX, f"klauzule-spoleczne-{stamp}.docx"
        return documents.to_pdf(result), "application/pdf", f"klauzule-spoleczne-{stamp}.pdf"
    kind, found, total = builder.suppliers(result, kind)
    if name.endswith(".csv"):
        return report.to_csv(result, kind, found, total), "text/csv; charset=utf-8", f"rozeznanie-rynku-{stamp}.csv"
    return report.to_pdf(result, kind, found, total), "application/pdf", f"rozeznanie-rynku-{stamp}.pdf"


def _download(name: str, result: builder.Result | None):
    if name not in FILES:
        abort(404)
    if result is None:
        abort(400)
    body, mimetype, filename = _file(name, result, request.args.get("lista"))
    return body, 200, {"Content-Type": mimetype, "Content-Disposition": f'attachment; filename="{filename}"'}


@bp.get("/kreator/<name>")
@limiter.limit(lambda: current_app.config["PROCUREMENT_FILE_LIMIT"])
def builder_file(name: str):
    """The clauses as .docx or PDF, or the market survey report as CSV or PDF, for the inputs in the link."""
    _form, result = compute(request.args, legal_data.current_state())
    return _download(name, result)


@bp.post("/kreator/zapisz")
def save():
    """Save a result to come back to or share (verified purchasers); the link shows it with the same law."""
    if not _can_save():
        abort(403)
    args = inputs_of(request.form)
    form, result = compute(args, legal_data.current_state())
    if result is None:
        return _page(form, None, status=422)
    title = (request.form.get("tytul") or "").strip()[:200] or _("Wynik kreatora z %(day)s",
                                                                  day=result.computed_on.strftime("%d.%m.%Y"))
    saved = SavedResult(token=secrets.token_urlsafe(16), title=title, user_id=current_user.id,
                        inputs={k: args.getlist(k) for k in args},
                        legal_ids=[e.id for e in result.legal.used_entries() if e.id is not None])
    db.session.add(saved)
    db.session.commit()
    flash(_("Zapisano wynik. Link do niego możesz przekazać innym osobom."), "success")
    return redirect(url_for("procurement.saved", token=saved.token))


def _saved(token: str) -> tuple[SavedResult, BuilderForm, builder.Result]:
    saved = db.session.scalar(db.select(SavedResult).where(SavedResult.token == token))
    if saved is None:
        abort(404)
    args = MultiDict([(k, v) for k, values in saved.inputs.items() for v in values])
    legal = legal_data.state_of(saved.legal_ids)
    legal.entries += [e for e in legal_data.current_state().entries
                      if (e.key, e.valid_from) not in {(x.key, x.valid_from) for x in legal.entries}]
    form, result = compute(args, legal, local_day(saved.created_at))
    if result is None:
        abort(404)
    return saved, form, result


@bp.get("/wynik/<token>")
def saved(token: str):
    """A saved result: the same inputs and legal values as when it was saved; the shortlist is live."""
    record, form, result = _saved(token)
    return _page(form, result, saved=record)


@bp.get("/wynik/<token>/<name>")
@limiter.limit(lambda: current_app.config["PROCUREMENT_FILE_LIMIT"])
def saved_file(token: str, name: str):
    _record, _form, result = _saved(token)
    return _download(name, result)


@bp.get("")
def index():
    """The guidance for public purchasers: one page per instrument, and the legal values with sources."""
    pages = guidance.pages()
    legal = legal_data.current_state()
    db.session.commit()
    order = list(labels.VALUES)
    rows = sorted(legal_data.newest_rows(),
                  key=lambda r: (order.index(r.key) if r.key in order else len(order), -r.valid_from.toordinal()))
    return render_template("procurement/index.html", pages=pages, rows=rows, today=clock.today(),
                           as_of=max((p.legal_state_on for p in pages), default=None), legal=legal)


@bp.get("/<slug>")
def page(slug: str):
    """One instrument's guidance, with its legal state date, its sources and the PES that can meet it."""
    found = next((p for p in guidance.pages() if p.slug == slug), None)
    if found is None:
        abort(404)
    legal, day = legal_data.current_state(), clock.today()
    db.session.commit()
    body = guidance.render(found, lang(), legal, day)
    kind = {"art94": "art94", "below_threshold": "art15a", "art96": "employs", "art242": "employs"}.get(
        found.instrument, "all")
    codes = legal.entry("art361_cpv", day).value if found.instrument == "art361" else ()
    # The article's own codes exactly (a single code as the range from itself to itself), as the rules read them.
    exact = tuple(c if ".." in c else f"{c}..{c}" for c in codes)
    suppliers = shortlist.find(codes=exact, kind=kind,
                               min_share=int(legal.amount("reserved_min_share", day)))
    return render_template("procurement/page.html", page=found, body=body, kind=kind, suppliers=suppliers,
                           lang=lang(), min_share=int(legal.amount("reserved_min_share", day)))



@bp.context_processor
def _labels():
    from marketplace.procurement.report import basis_text

    return {"value_name": labels.value_name, "value_text": labels.value_text,
            "instrument_label": labels.instrument_label, "regime_label": labels.regime_label,
            "list_label": lambda code: str(labels.LISTS[code]), "basis_text": basis_text,
            "input_rows": labels.input_rows}
