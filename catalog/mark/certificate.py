"""Certificates: finding a mark by its number (as printed, or in a URL-safe spelling) and its QR code."""
import base64
import io

from sqlalchemy import func, select

from catalog.mark.models import QualityMark
from marketplace.core.urls import external_url
from marketplace.extensions import db


def url_safe(number: str) -> str:
    """The number without slashes, for places where a slash gets in the way: ZJ/2026/0001 -> ZJ-2026-0001."""
    return number.replace("/", "-")


def find(number: str) -> QualityMark | None:
    """The mark with this number, typed exactly, in any case, or with dashes for slashes."""
    number = (number or "").strip()[:60]
    if not number:
        return None
    mark = db.session.scalar(select(QualityMark).where(QualityMark.number == number))
    if mark is not None:
        return mark
    key = url_safe(number).upper()
    return db.session.scalar(select(QualityMark)
                             .where(func.upper(func.replace(QualityMark.number, "/", "-")) == key)
                             .order_by(QualityMark.id).limit(1))


def verify_url(mark: QualityMark) -> str:
    """The verification page's absolute address, where the QR code leads."""
    return external_url("mark.verify", number=mark.number)


def qr_svg(mark: QualityMark) -> bytes:
    import segno  # only certificates draw QR codes

    out = io.BytesIO()
    segno.make(verify_url(mark), error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False,
                                                  svgclass=None, lineclass=None)
    return out.getvalue()


def qr_data_uri(mark: QualityMark) -> str:
    """The QR code as an inline image (the CSP allows data: images; no inline markup is needed)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(mark)).decode("ascii")
