"""Paying online: the payment page with Stripe's Payment Element, the return from it, and Stripe's webhooks.

The page creates the order's PaymentIntent on the PES's own Stripe account (a direct charge) and hands its
client secret to Stripe.js, which collects the card, BLIK or Przelewy24 payment in Stripe's own frames; the
portal never sees card data. Where the loaded Stripe.js has no Payment Element, the page falls back to a
card field whose single-use token the server confirms the PaymentIntent with.
"""
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from marketplace import outbox
from marketplace.extensions import csrf, limiter
from marketplace.orders import payments, stock, webhooks
from marketplace.orders.forms import MarkPaidForm
from marketplace.orders.stripe_gateway import GatewayError, SignatureError, gateway
from marketplace.orders.views import bp, buyer_order_or_404

STRIPE_JS = "https://js.stripe.com/v3/"


def stripe_js_url() -> str:
    """Stripe.js from Stripe, or the local stand-in's copy when the API is a local one (tests)."""
    base = current_app.config.get("STRIPE_API_BASE")
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else STRIPE_JS


def _csp(response):
    """The payment page loads Stripe.js and its frames, and Stripe.js talks to Stripe's API."""
    js = urlsplit(stripe_js_url())
    origin = f"{js.scheme}://{js.netloc}"
    api = current_app.config.get("STRIPE_API_BASE") or "https://api.stripe.com"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self' 'unsafe-inline'; "
        f"script-src 'self' {origin}; frame-src {origin} https://*.stripe.com; connect-src 'self' {api} {origin}; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
    return response


@bp.get("/zamowienia/<number>/platnosc")
@login_required
def pay(number: str):
    """The payment page of an online order waiting for payment."""
    order = buyer_order_or_404(number)
    if order.status != "awaiting_payment" or order.payment_method != "stripe":
        return redirect(url_for("orders.order", number=number))
    try:
        payments.start_online(order)
    except payments.PaymentError as exc:
        outbox.rollback()
        flash(str(exc), "error")
        return redirect(url_for("orders.order", number=number))
    except stock.OutOfStock as exc:
        outbox.rollback()
        payments.expire(order)
        outbox.commit()
        flash(_("Produktu „%(title)s” już zabrakło – zamówienie anulowaliśmy, nic nie zostało pobrane.",
                title=exc.title), "error")
        return redirect(url_for("orders.order", number=number))
    outbox.commit()
    page = render_template("orders/pay.html", order=order, publishable_key=gateway().publishable_key,
                           stripe_js=stripe_js_url(), form=MarkPaidForm())
    return _csp(make_response(page))


@bp.post("/zamowienia/<number>/platnosc/karta")
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def pay_with_token(number: str):
    """Confirm the PaymentIntent with a card token from Stripe.js (the page's fallback without the
    Payment Element)."""
    order = buyer_order_or_404(number)
    form = MarkPaidForm()
    token = request.form.get("token", "")
    if not form.validate() or not token.startswith("tok_") or order.stripe_payment_intent is None:
        abort(400)
    if order.status != "awaiting_payment":
        return redirect(url_for("orders.order", number=number))
    try:
        info = gateway().confirm_with_card_token(order.stripe_account_id, order.stripe_payment_intent, token)
    except GatewayError as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.pay", number=number))
    payments.apply_intent(order, info)
    outbox.commit()
    return redirect(url_for("orders.paid_return", number=number))


@bp.get("/zamowienia/<number>/po-platnosci")
@login_required
def paid_return(number: str):
    """Where Stripe sends the buyer back: the order is brought in line with its payment at once, without
    waiting for the webhook."""
    order = buyer_order_or_404(number)
    if order.status == "awaiting_payment" and order.stripe_payment_intent and gateway() is not None:
        try:
            payments.apply_intent(order, gateway().retrieve_payment_intent(order.stripe_account_id,
                                                                           order.stripe_payment_intent))
            outbox.commit()
        except GatewayError:
            outbox.rollback()
    if order.paid_at is not None:
        flash(_("Dziękujemy! Zamówienie %(number)s jest opłacone.", number=order.number), "success")
    elif order.payment_error:
        flash(_("Płatność nie powiodła się: %(error)s Możesz spróbować ponownie.", error=order.payment_error),
              "error")
    else:
        flash(_("Płatność jest przetwarzana. Status zamówienia zmieni się, gdy Stripe ją potwierdzi."), "info")
    return redirect(url_for("orders.order", number=number))


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    """Stripe's events: signature checked on the raw body, each event applied once."""
    stripe = gateway()
    if stripe is None:
        abort(404)
    try:
        event = stripe.parse_event(request.get_data(), request.headers.get("Stripe-Signature", ""))
    except SignatureError:
        return jsonify(error={"code": "bad_signature", "message": "invalid signature"}), 400
    except GatewayError:
        return jsonify(error={"code": "bad_payload", "message": "not a Stripe event"}), 400
    outcome = webhooks.receive(event)  # any other error answers 500: Stripe delivers the event again
    outbox.commit()
    return jsonify(received=True, outcome=outcome)

