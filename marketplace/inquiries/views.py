"""The buyer's side of inquiries: writing one (to one PES or many), confirming a guest's, "Moje zapytania",
a thread, the comparison of replies with its downloads, accepting a quote and closing an inquiry.

The PES side and moderation register their routes on the same blueprint (pes_views, moderation_views).
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from catalog.mark import uploads
from catalog.models import Offering
from marketplace import clock, outbox
from marketplace.core.urls import MAX_INT
from marketplace.extensions import db
from marketplace.inquiries import access, recipients, services, threads
from marketplace.inquiries.forms import (
    MAX_FILES,
    AcceptForm,
    ConfirmForm,
    CriteriaForm,
    InquiryForm,
    ReplyForm,
    attachment_limit,
)
from marketplace.inquiries.limits import inquiry_limited, message_limited, note_sent
from marketplace.inquiries.models import Inquiry, InquiryThread, Quote
from marketplace.inquiries.services import MAX_SUBJECT

bp = Blueprint("inquiries", __name__)
FOLDER = "inquiries"


@bp.before_request
def _room_for_attachments() -> None:
    """Forms here may carry MAX_FILES attachments at the full size each, and the text."""
    request.max_content_length = MAX_FILES * attachment_limit() + 1024 * 1024


@bp.app_context_processor
def _helpers():
    from marketplace.inquiries.comparison import status_label

    return {"thread_status_label": status_label}


def save(form, work, files=()):
    """Run `work(stored_files)` and commit (mail leaves after commit). On a domain error everything is
    rolled back, the files written are removed, the message lands on the form's field, and None is
    returned; otherwise what `work` returned (or True)."""
    try:
        with uploads.stored_for_saving(files, FOLDER) as stored:
            result = work(stored)
            outbox.commit()
    except services.InquiryError as exc:
        outbox.rollback()
        target = getattr(form, exc.field, None) if exc.field else None
        (target.errors if target is not None and hasattr(target, "errors") else form.form_errors).append(str(exc))
        return None
    return True if result is None else result


def _offering(ref: str | None) -> Offering | None:
    if not ref:
        return None
    item = db.session.scalar(select(Offering).where(Offering.ref == ref))
    return item if item is not None and item.is_public else None


def _sender(form: InquiryForm) -> services.Sender:
    if current_user.is_authenticated:
        org = current_user.institution.name if current_user.is_verified_purchaser else form.organisation.data
        return services.Sender(name=current_user.name or current_user.email, email=current_user.email,
                               user=current_user, phone=form.phone.data, organisation=org)
    return services.Sender(name=form.name.data, email=form.email.data, phone=form.phone.data,
                           organisation=form.organisation.data)


def _draft(form: InquiryForm, offering: Offering | None, stored) -> services.Draft:
    return services.Draft(subject=form.subject.data, body=form.body.data, quantity=form.quantity.data,
                          wanted_by=form.wanted_by.data, delivery_powiat=form.delivery_powiat.data or None,
                          budget=form.budget_value, offering_id=offering.id if offering else None, files=stored)


def _compose_page(form, chosen, offering, status=200):
    return render_template("inquiries/compose.html", form=form, chosen=chosen, offering=offering,
                           limit=services.max_recipients(), guest=not current_user.is_authenticated), status


@bp.route("/zapytania/nowe", methods=["GET", "POST"])
@inquiry_limited
def compose():
    """Write an inquiry to the PES named in the link (one from an offering or a profile, many from search
    results, favourites or the criteria page)."""
    source = request.form if request.method == "POST" else request.args
    offering = _offering(source.get("oferta"))
    refs = source.getlist("pes") or ([offering.pes.ref] if offering else [])
    chosen = recipients.by_refs(refs)
    if request.method == "GET" and not chosen:
        return redirect(url_for("inquiries.choose"))
    form = InquiryForm(guest=not current_user.is_authenticated)
    if request.method == "GET" and offering is not None:
        form.subject.data = _("Zapytanie o ofertę: %(title)s", title=offering.title)[:MAX_SUBJECT]
    elif request.method == "GET" and source.get("temat"):  # the clause builder names the purchase
        form.subject.data = source.get("temat", "").strip()[:MAX_SUBJECT]
    if not form.validate_on_submit():
        return _compose_page(form, chosen, offering, 422 if request.method == "POST" else 200)
    if form.website.data:  # the hidden field: a bot; it is told what a person would be told, nothing is kept
        return render_template("inquiries/sent.html", inquiry=None, guest=True)
    locale = str(get_locale() or "pl")
    inquiry = save(form, lambda stored: services.create(_sender(form), _draft(form, offering, stored),
                                                        [p.id for p in chosen], locale), form.checked_files)
    if inquiry is None:
        return _compose_page(form, chosen, offering, 422)
    note_sent()
    if inquiry.status == "unconfirmed":
        return render_template("inquiries/sent.html", inquiry=inquiry, guest=True)
    flash(_("Zapytanie wysłano do %(n)s podmiotów.", n=len(chosen)) if inquiry.multi
          else _("Zapytanie wysłano."), "success")
    return redirect(url_for("inquiries.detail", inquiry_id=inquiry.id))


def _known(values, choices) -> list[str]:
    """The values of a repeated filter that the select offers (a search page may pass several)."""
    allowed = {code for code, _label in choices if code}
    return [v for v in values if v in allowed]


@bp.get("/zapytania/odbiorcy")
def choose():
    """Choose the PES for an inquiry to many by criteria; the result is a list to tick and send to."""
    form = CriteriaForm(request.args)
    found = None
    if request.args and form.validate():
        criteria = dict(form.data, category=_known(request.args.getlist("category"), form.category.choices),
                        powiat=_known(request.args.getlist("powiat"), form.powiat.choices))
        found = recipients.by_criteria(criteria)
    return render_template("inquiries/choose.html", form=form, found=found, limit=services.max_recipients(),
                           ask=bool(request.args))


@bp.route("/zapytania/potwierdz/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The confirmation link: the page asks, and the inquiry goes out on the button (once, however often the
    link is used). A GET sends nothing, since mail scanners open the links in the mail they check."""
    claims = access.read_token("confirm", token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    inquiry = db.session.get(Inquiry, int(claims.get("i", 0))) if claims else None
    if inquiry is None:
        return render_template("inquiries/link_invalid.html"), 400
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("inquiries/confirm.html", inquiry=inquiry, form=form)
    try:
        inquiry, sent_now = services.confirm_guest(inquiry.id, str(claims.get("em", "")))
    except services.InquiryError:
        outbox.rollback()
        return render_template("inquiries/link_invalid.html"), 400
    outbox.commit()
    access.remember_guest(inquiry.id)
    if sent_now:
        flash(_("Dziękujemy. Zapytanie zostało wysłane."), "success")
    return redirect(url_for("inquiries.detail", inquiry_id=inquiry.id))


@bp.get("/zapytania/dostep/<token>")
def guest_access(token: str):
    """The link in mail to a guest: opens their inquiry in this browser without an account."""
    claims = access.read_token("guest", token, access.retention_seconds())
    inquiry = db.session.get(Inquiry, int(claims.get("i", 0))) if claims else None
    if inquiry is None or inquiry.anonymised_at is not None or \
            access._fingerprint(inquiry.sender_email) != claims.get("em"):
        return render_template("inquiries/link_invalid.html"), 400
    access.remember_guest(inquiry.id)
    thread_id = request.args.get("thread", type=int)
    if thread_id:
        return redirect(url_for("inquiries.thread", inquiry_id=inquiry.id, thread_id=thread_id))
    return redirect(url_for("inquiries.detail", inquiry_id=inquiry.id))


@bp.get("/zapytania")
@login_required
def inbox():
    """Moje zapytania: the buyer's inquiries, newest first, with what came back."""
    rows = db.session.execute(
        select(Inquiry, func.count(InquiryThread.id),
               func.sum(db.case((InquiryThread.first_answer_at.is_not(None), 1), else_=0)),
               func.sum(db.case((InquiryThread.buyer_unread.is_(True), 1), else_=0)))
        .outerjoin(InquiryThread, InquiryThread.inquiry_id == Inquiry.id)
        .where(Inquiry.sender_id == current_user.id).group_by(Inquiry.id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())).all()
    return render_template("inquiries/inbox.html", rows=rows)


@bp.get("/zapytania/<int:inquiry_id>")
def detail(inquiry_id: int):
    """One inquiry: a single PES's thread directly, or the replies of many side by side."""
    inquiry = access.sender_inquiry_or_404(inquiry_id)
    if not inquiry.multi and inquiry.threads:
        return redirect(url_for("inquiries.thread", inquiry_id=inquiry.id, thread_id=inquiry.threads[0].id))
    from marketplace.inquiries import comparison

    return render_template("inquiries/detail.html", inquiry=inquiry, rows=comparison.rows(inquiry),
                           accept_form=AcceptForm(), close_form=ConfirmForm(), today=clock.today())


@bp.route("/zapytania/<int:inquiry_id>/rozmowa/<int:thread_id>", methods=["GET", "POST"])
@message_limited
def thread(inquiry_id: int, thread_id: int):
    """The buyer's view of one PES's thread: messages, quotes to accept, and a reply."""
    inquiry = access.sender_inquiry_or_404(inquiry_id)
    item = access.sender_thread_or_404(inquiry, thread_id)
    form = ReplyForm()
    if form.validate_on_submit():
        author = current_user if current_user.is_authenticated else None
        if save(form, lambda stored: threads.buyer_reply(item, author, form.body.data, stored), form.checked_files):
            flash(_("Wiadomość wysłano."), "success")
            return redirect(url_for("inquiries.thread", inquiry_id=inquiry.id, thread_id=item.id))
    elif request.method == "GET" and item.buyer_unread:
        threads.seen_by_buyer(item)
        db.session.commit()
    status = 422 if request.method == "POST" else 200
    return render_template("inquiries/thread_buyer.html", inquiry=inquiry, thread=item, form=form,
                           accept_form=AcceptForm(), close_form=ConfirmForm()), status


@bp.post("/zapytania/<int:inquiry_id>/przyjmij")
def accept(inquiry_id: int):
    """Accept one quote; the other PES are thanked."""
    inquiry = access.sender_inquiry_or_404(inquiry_id)
    form = AcceptForm()
    quote_id = form.quote_id.data if form.validate_on_submit() else ""
    quote = db.session.get(Quote, int(quote_id)) if quote_id.isascii() and quote_id.isdigit() \
        and 0 < int(quote_id) <= MAX_INT else None
    if quote is None:
        abort(400)
    try:
        threads.accept(inquiry, quote)
    except services.InquiryError as exc:
        outbox.rollback()
        flash(str(exc), "error")
    else:
        outbox.commit()
        flash(_("Przyjęto ofertę podmiotu „%(pes)s”. Podmiot otrzymał wiadomość.", pes=quote.thread.pes.name),
              "success")
    return redirect(url_for("inquiries.detail", inquiry_id=inquiry.id) if inquiry.multi else
                    url_for("inquiries.thread", inquiry_id=inquiry.id, thread_id=quote.thread_id))


@bp.post("/zapytania/<int:inquiry_id>/zamknij")
def close(inquiry_id: int):
    """End the inquiry; the PES that have not been chosen are told."""
    inquiry = access.sender_inquiry_or_404(inquiry_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        threads.close_inquiry(inquiry)
    except services.InquiryError as exc:
        outbox.rollback()
        flash(str(exc), "error")
    else:
        outbox.commit()
        flash(_("Zapytanie zamknięto."), "success")
    return redirect(url_for("inquiries.detail", inquiry_id=inquiry.id))
