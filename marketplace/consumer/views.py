"""The consumer-law pages (right of withdrawal, information about the platform) and the helpers that show
the same facts on an offering's page: a price reduction with its 30-day lowest price, and the seller's terms."""
import io

from flask import Blueprint, render_template, send_file
from flask_babel import get_locale

from catalog import price_history
from marketplace import region
from marketplace.consumer import withdrawal_form
from marketplace.core.urls import url_or
from marketplace.orders.models import PesSales

bp = Blueprint("consumer", __name__)
MY_ORDERS_PATH = "/zamowienia"


def office_name() -> str:
    """The regional office that runs the portal, in the visitor's language when the region's data has it."""
    office = region.data()["voivodeship"]
    lang = str(get_locale() or "pl")
    return office.get(f"office_{lang}") or office.get("office_pl") or ""


@bp.app_template_global()
def price_reduction(offering) -> price_history.Reduction | None:
    """The reduction the offering's page announces now (catalog.price_history), or None."""
    return price_history.reduction(offering)


@bp.app_template_global()
def taking_orders(pes) -> PesSales | None:
    """The PES's sales terms when it takes orders on the portal; None when it only answers inquiries."""
    sales = pes.sales if pes is not None and pes.id is not None else None
    return sales if sales is not None and sales.enabled else None


@bp.get("/odstapienie-od-umowy")
def withdrawal():
    """The consumer's 14-day right of withdrawal from a distance contract, with the model form."""
    model = {"title": withdrawal_form.title(), "purpose": withdrawal_form.purpose(),
             "parts": withdrawal_form.parts(), "footnote": withdrawal_form.footnote()}
    return render_template("consumer/withdrawal.html", office=office_name(), model=model,
                           orders_url=url_or("orders.my_orders", MY_ORDERS_PATH))


@bp.get("/odstapienie-od-umowy/formularz.pdf")
def withdrawal_pdf():
    """The model withdrawal form as a PDF to print and fill in."""
    return send_file(io.BytesIO(withdrawal_form.render_pdf()), mimetype="application/pdf", as_attachment=True,
                     download_name="formularz-odstapienia-od-umowy.pdf", max_age=3600)


@bp.get("/informacje-o-platformie")
def platform():
    """What an online marketplace must tell buyers: ranking, who sells, who answers for what."""
    return render_template("consumer/platform.html", office=office_name(),
                           orders_url=url_or("orders.my_orders", MY_ORDERS_PATH))
