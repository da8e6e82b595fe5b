"""Files of inquiries (attachments, the comparison as CSV and PDF) and the moderators' view of reported
threads. Attachments are never public: each download checks who asks."""
import os

from flask import Response, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.decorators import staff_required
from catalog.mark import uploads
from marketplace import clock
from marketplace.audit import record
from marketplace.extensions import db
from marketplace.inquiries import access, comparison
from marketplace.inquiries.forms import ConfirmForm
from marketplace.inquiries.models import Inquiry, InquiryAttachment, InquiryThread
from marketplace.inquiries.views import FOLDER, bp


def _may_download(item: InquiryAttachment) -> bool:
    inquiry = db.session.get(Inquiry, item.inquiry_id)
    if access.is_sender(inquiry):
        return True
    if inquiry.status == "unconfirmed":
        return False  # nobody but the sender sees what was not sent
    threads = [item.message.thread] if item.message else inquiry.threads
    if any(access.is_member(t.pes_id) for t in threads):
        return True
    return current_user.is_authenticated and current_user.is_staff and any(
        t.reported_at is not None for t in threads)


@bp.get("/zapytania/zalacznik/<int:attachment_id>")
def attachment(attachment_id: int):
    """A file sent with an inquiry or a message, for the sender, the PES it went to, and moderators of a
    reported thread; for anyone else it does not exist."""
    item = db.session.get(InquiryAttachment, attachment_id)
    if item is None or not _may_download(item):
        abort(404)
    path = uploads.absolute_path(item.path, FOLDER)
    if path is None or not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.name,
                     max_age=0)


def _download(inquiry, body: bytes, mimetype: str, ext: str) -> Response:
    name = f"porownanie-ofert-{inquiry.id}-{clock.today().isoformat()}.{ext}"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/zapytania/<int:inquiry_id>/porownanie.csv")
def comparison_csv(inquiry_id: int):
    """The comparison of replies as CSV (semicolons, for a Polish spreadsheet), dated, for the purchase file."""
    inquiry = access.sender_inquiry_or_404(inquiry_id)
    return _download(inquiry, comparison.to_csv(inquiry), "text/csv; charset=utf-8", "csv")


@bp.get("/zapytania/<int:inquiry_id>/porownanie.pdf")
def comparison_pdf(inquiry_id: int):
    inquiry = access.sender_inquiry_or_404(inquiry_id)
    return _download(inquiry, comparison.to_pdf(inquiry), "application/pdf", "pdf")


@bp.get("/moderacja/zapytania")
@login_required
@staff_required
def moderation_queue():
    """Reported threads waiting for a moderator, then the ones handled lately."""
    waiting = db.session.scalars(select(InquiryThread).where(
        InquiryThread.reported_at.is_not(None), InquiryThread.report_resolved_at.is_(None))
        .order_by(InquiryThread.reported_at)).all()
    handled = db.session.scalars(select(InquiryThread).where(InquiryThread.report_resolved_at.is_not(None))
                                 .order_by(InquiryThread.report_resolved_at.desc()).limit(20)).all()
    return render_template("inquiries/moderation_queue.html", waiting=waiting, handled=handled)


@bp.get("/moderacja/zapytania/<int:thread_id>")
@login_required
@staff_required
def moderation_detail(thread_id: int):
    item = db.session.get(InquiryThread, thread_id)
    if item is None or item.reported_at is None:
        abort(404)  # moderators read reported threads only: the rest is between the buyer and the PES
    return render_template("inquiries/moderation_detail.html", thread=item, inquiry=item.inquiry,
                           form=ConfirmForm())


@bp.post("/moderacja/zapytania/<int:thread_id>/rozpatrzone")
@login_required
@staff_required
def moderation_resolve(thread_id: int):
    item = db.session.get(InquiryThread, thread_id)
    if item is None or item.reported_at is None or not ConfirmForm().validate_on_submit():
        abort(404)
    if item.report_resolved_at is None:
        item.report_resolved_at = clock.now()
        record(current_user, "thread_report.resolve", item, after={"report_reason": item.report_reason})
        db.session.commit()
    flash(_("Zgłoszenie oznaczono jako rozpatrzone."), "success")
    return redirect(url_for("inquiries.moderation_queue"))
