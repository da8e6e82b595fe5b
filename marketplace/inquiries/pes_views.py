"""The PES side of inquiries: the inbox its members share, a thread with replies and quotes, declining,
blocking a sender, reporting a thread, and each member's choice of mail (with the one-click unsubscribe)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from accounts.decorators import confirmed_required
from marketplace.core.urls import page_arg
from marketplace.extensions import csrf, db
from marketplace.inquiries import access, threads
from marketplace.inquiries.forms import (
    ConfirmForm,
    MailPreferenceForm,
    PesCloseForm,
    QuoteForm,
    ReplyForm,
    ReportThreadForm,
)
from marketplace.inquiries.limits import message_limited
from marketplace.inquiries.models import THREAD_STATUSES, Inquiry, InquiryThread
from marketplace.inquiries.views import bp, save
from marketplace.pes.models import Pes, PesMembership

PER_PAGE = 25


def _member_pes(pes_id: int) -> Pes:
    pes = db.session.get(Pes, pes_id) or abort(404)
    if not access.is_member(pes_id):
        abort(403)
    return pes


@bp.get("/panel/pes/<int:pes_id>/zapytania")
@login_required
def pes_inbox(pes_id: int):
    """The PES's inquiries, shared by its members: unread first marked, filterable by status."""
    pes = _member_pes(pes_id)
    status = request.args.get("status") if request.args.get("status") in THREAD_STATUSES else None
    stmt = (select(InquiryThread).join(Inquiry).where(InquiryThread.pes_id == pes.id, Inquiry.status != "unconfirmed")
            .options(selectinload(InquiryThread.inquiry)).order_by(InquiryThread.updated_at.desc(),
                                                                  InquiryThread.id.desc()))
    if status:
        stmt = stmt.where(InquiryThread.status == status)
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    counts = dict(db.session.execute(
        select(InquiryThread.status, func.count()).join(Inquiry)
        .where(InquiryThread.pes_id == pes.id, Inquiry.status != "unconfirmed").group_by(InquiryThread.status)).all())
    unread = db.session.scalar(select(func.count()).select_from(InquiryThread).join(Inquiry).where(
        InquiryThread.pes_id == pes.id, InquiryThread.pes_unread.is_(True), Inquiry.status != "unconfirmed"))
    return render_template("inquiries/pes_inbox.html", pes=pes, page=page, counts=counts, unread=unread,
                           status=status, statuses=THREAD_STATUSES)


def _thread_page(item: InquiryThread, status: int = 200, **forms):
    forms.setdefault("reply_form", ReplyForm(prefix="reply"))
    forms.setdefault("quote_form", QuoteForm(prefix="quote"))
    forms.setdefault("close_form", PesCloseForm(prefix="close"))
    forms.setdefault("report_form", ReportThreadForm(prefix="report"))
    return render_template("inquiries/thread_pes.html", thread=item, inquiry=item.inquiry, pes=item.pes,
                           block_form=ConfirmForm(prefix="block"), **forms), status


@bp.get("/panel/pes/<int:pes_id>/zapytania/<int:thread_id>")
@login_required
def pes_thread(pes_id: int, thread_id: int):
    """One thread as the PES sees it; opening it marks it read for every member."""
    item = access.pes_thread_or_404(pes_id, thread_id)
    if item.pes_unread or item.status == "new":
        threads.seen_by_pes(item)
        db.session.commit()
    return _thread_page(item)


def _back(item: InquiryThread):
    return redirect(url_for("inquiries.pes_thread", pes_id=item.pes_id, thread_id=item.id))


@bp.post("/panel/pes/<int:pes_id>/zapytania/<int:thread_id>/odpowiedz")
@login_required
@confirmed_required
@message_limited
def pes_reply(pes_id: int, thread_id: int):
    item = access.pes_thread_or_404(pes_id, thread_id)
    form = ReplyForm(prefix="reply")
    if form.validate_on_submit() and save(
            form, lambda stored: threads.pes_reply(item, current_user, form.body.data, stored), form.checked_files):
        flash(_("Odpowiedź wysłano."), "success")
        return _back(item)
    return _thread_page(item, 422, reply_form=form)


@bp.post("/panel/pes/<int:pes_id>/zapytania/<int:thread_id>/oferta")
@login_required
@confirmed_required
@message_limited
def pes_quote(pes_id: int, thread_id: int):
    item = access.pes_thread_or_404(pes_id, thread_id)
    form = QuoteForm(prefix="quote")
    if form.validate_on_submit():
        draft = threads.QuoteDraft(net=form.net_value, vat_rate=form.vat_rate.data, valid_until=form.valid_until.data,
                                   delivery_date=form.delivery_date.data, delivery_terms=form.delivery_terms.data)
        if save(form, lambda _stored: threads.pes_quote(item, current_user, draft, form.message.data)):
            flash(_("Ofertę cenową wysłano."), "success")
            return _back(item)
    return _thread_page(item, 422, quote_form=form)


@bp.post("/panel/pes/<int:pes_id>/zapytania/<int:thread_id>/zamknij")
@login_required
@confirmed_required
def pes_close(pes_id: int, thread_id: int):
    item = access.pes_thread_or_404(pes_id, thread_id)
    form = PesCloseForm(prefix="close")
    if form.validate_on_submit() and save(form, lambda _s: threads.pes_close(item, current_user, form.body.data)):
        flash(_("Rozmowę zamknięto; pytający otrzymał informację."), "success")
        return _back(item)
    return _thread_page(item, 422, close_form=form)


@bp.post("/panel/pes/<int:pes_id>/zapytania/<int:thread_id>/zablokuj")
@login_required
@confirmed_required
def pes_block(pes_id: int, thread_id: int):
    """No more inquiries from this sender's address to this PES."""
    item = access.pes_thread_or_404(pes_id, thread_id)
    if not ConfirmForm(prefix="block").validate_on_submit():
        abort(400)
    added = threads.block_sender(item, current_user)
    db.session.commit()
    flash(_("Nadawca został zablokowany: nie wyśle już zapytań do tego podmiotu.") if added
          else _("Ten nadawca był już zablokowany."), "success" if added else "info")
    return _back(item)


@bp.post("/panel/pes/<int:pes_id>/zapytania/<int:thread_id>/zglos")
@login_required
@confirmed_required
def pes_report(pes_id: int, thread_id: int):
    """Ask the regional office to look at a thread (spam, abuse)."""
    item = access.pes_thread_or_404(pes_id, thread_id)
    form = ReportThreadForm(prefix="report")
    if form.validate_on_submit() and save(form, lambda _s: threads.report(item, form.reason.data)):
        flash(_("Dziękujemy. Zgłoszenie trafiło do moderatorów portalu."), "success")
        return _back(item)
    return _thread_page(item, 422, report_form=form)


@bp.route("/panel/pes/<int:pes_id>/zapytania/powiadomienia", methods=["GET", "POST"])
@login_required
def pes_mail_settings(pes_id: int):
    """How this member hears of the PES's inquiries."""
    pes = _member_pes(pes_id)
    member = current_user.membership_of(pes.id)
    form = MailPreferenceForm(obj=member)
    if form.validate_on_submit():
        member.inquiry_mail = form.inquiry_mail.data
        db.session.commit()
        flash(_("Zapisano ustawienia powiadomień."), "success")
        return redirect(url_for("inquiries.pes_inbox", pes_id=pes.id))
    return render_template("inquiries/mail_settings.html", pes=pes, form=form), (
        422 if request.method == "POST" else 200)


@bp.route("/zapytania/wypisz/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """The link in every mail to a PES member: stop mail about inquiries (a POST, also one-click from the
    mail program; the GET page asks first, since link scanners follow links)."""
    claims = access.read_token("unsubscribe", token, None)
    member = db.session.get(PesMembership, int(claims.get("m", 0))) if claims else None
    if member is None:
        return render_template("inquiries/link_invalid.html"), 400
    form = ConfirmForm(meta={"csrf": False})  # the link itself is the secret; one-click posts carry no token
    if request.method == "POST":
        member.inquiry_mail = "none"
        db.session.commit()
        return render_template("inquiries/unsubscribed.html", member=member, done=True)
    return render_template("inquiries/unsubscribed.html", member=member, done=False, form=form)
