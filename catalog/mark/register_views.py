"""The public register of quality marks, the verification page of each certificate, its QR code and print."""
from flask import Response, abort, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from catalog.mark import certificate, queries
from catalog.mark.forms import RegisterFilterForm
from catalog.mark.views import bp
from marketplace import clock
from marketplace.core.urls import page_arg
from marketplace.extensions import db

PER_PAGE = 25


@bp.get("/znak-jakosci")
def register():
    """Every mark ever awarded, with its state today, so that anyone can check a supplier."""
    form = RegisterFilterForm(request.args)
    f = form.filters()
    stmt = queries.register_query(f["categories"], f["powiats"], f["state"])
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("mark/register.html", form=form, page=page, args=form.url_args(),
                           today=clock.today())


def _mark_or_404(number: str):
    mark = certificate.find(number)
    if mark is None:
        abort(_not_found(number))
    return mark


def _not_found(number: str):
    html = render_template("mark/not_found.html", number=number[:60])
    return Response(html, status=404)


def _headline(mark, state: str) -> str:
    if state == "valid":
        return _("Znak jest ważny")
    if state == "expired":
        return _("Znak wygasł dnia %(date)s", date=format_date(mark.valid_until, "long"))
    if state == "suspended":
        return _("Znak zawieszony")
    if state == "revoked":
        return _("Znak cofnięty")
    return _("Znak będzie ważny od %(date)s", date=format_date(mark.valid_from, "long"))


@bp.get("/znak-jakosci/<path:number>")
def verify(number: str):
    """Says plainly whether a certificate is valid today: the page its QR code leads to."""
    mark = _mark_or_404(number)
    state = queries.state_on(mark)
    return render_template("mark/verify.html", mark=mark, state=state, headline=_headline(mark, state),
                           qr=certificate.qr_data_uri(mark), verify_url=certificate.verify_url(mark))


def _void_text(mark, state: str) -> str | None:
    """What the printed certificate says across itself when it does not certify anything today."""
    if state == "expired":
        return _("NIEWAŻNY – znak wygasł dnia %(date)s", date=format_date(mark.valid_until, "long"))
    if state == "suspended":
        return _("NIEWAŻNY – znak zawieszony")
    if state == "revoked":
        return _("NIEWAŻNY – znak cofnięty")
    if state == "upcoming":
        return _("JESZCZE NIEWAŻNY – znak obowiązuje od %(date)s", date=format_date(mark.valid_from, "long"))
    return None


@bp.get("/znak-jakosci/<path:number>/certyfikat")
def certificate_page(number: str):
    """The printable certificate (A4), with the QR code that leads to the verification page; one that is not
    valid today says so across itself, so a printout cannot pass for a valid certificate."""
    mark = _mark_or_404(number)
    state = queries.state_on(mark)
    return render_template("mark/certificate.html", mark=mark, state=state, void_text=_void_text(mark, state),
                           qr=certificate.qr_data_uri(mark), verify_url=certificate.verify_url(mark))


@bp.get("/znak-jakosci/<path:number>/qr.svg")
def qr(number: str):
    """The QR code alone, as an SVG file, for printed materials."""
    mark = _mark_or_404(number)
    return Response(certificate.qr_svg(mark), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
