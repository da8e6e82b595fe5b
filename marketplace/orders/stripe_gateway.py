"""The portal's one door to Stripe: connected accounts for PES, payments charged directly on them, refunds
and signed webhook events. Nothing else imports `stripe`, so the rest of the portal sees Decimal amounts,
plain data and GatewayError, never Stripe's objects, grosze or exceptions.

Each PES is the merchant of record: payments are direct charges on its connected account (the
Stripe-Account header), the portal's fee is an application fee, and the PES bears Stripe's fees, refunds
and disputes.

The stripe library (with its HTTP clients) is imported on first use, through `_stripe()`: a web worker that
never takes a payment does not load it.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _

from marketplace.orders import money

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)

# Offered on every payment: all three take PLN, capture at once and need no saved mandate, as our orders do.
PAYMENT_METHOD_TYPES = ("card", "blik", "p24")
# Requested for each PES's account, so that every method above can be charged on it.
CAPABILITIES = ("card_payments", "blik_payments", "p24_payments")
TIMEOUT_SECONDS = 15
MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300


class GatewayError(Exception):
    """Stripe refused or could not be reached. `message` may be shown to the person; `retryable` says
    whether the same request may succeed later (network, rate limit, Stripe's own failure)."""

    def __init__(self, message: str, code: str = "error", retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


class SignatureError(GatewayError):
    """A webhook whose Stripe-Signature does not prove it came from Stripe (or is too old)."""


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    status: str
    client_secret: str | None
    amount: Decimal
    amount_received: Decimal
    error: str | None  # why the last attempt failed, for the buyer


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount: Decimal


def _stripe() -> ModuleType:
    """The stripe library, imported when a payment feature first needs it."""
    import stripe

    return stripe


def new_idempotency_key() -> str:
    """A key for one POST: Stripe answers a repeated request with the same key as it answered the first."""
    return str(uuid.uuid4())


def gateway() -> Gateway | None:
    """The gateway for the current app's settings, or None when online payment is off (no secret key).
    One client per settings is kept, so its HTTP connections are reused."""
    cfg = current_app.config
    if not cfg.get("STRIPE_SECRET_KEY"):
        return None
    settings = (cfg["STRIPE_SECRET_KEY"], cfg.get("STRIPE_PUBLISHABLE_KEY"), cfg.get("STRIPE_WEBHOOK_SECRET"),
                cfg.get("STRIPE_API_BASE"))
    cache = current_app.extensions.setdefault("stripe_gateway", {})
    if settings not in cache:
        cache.clear()
        cache[settings] = Gateway(*settings)
    return cache[settings]


class Gateway:
    """Calls to Stripe with the platform's secret key; see the module's docstring."""

    def __init__(self, secret_key: str, publishable_key: str | None = None, webhook_secret: str | None = None,
                 api_base: str | None = None, *, timeout: float = TIMEOUT_SECONDS,
                 max_network_retries: int = MAX_NETWORK_RETRIES):
        self.publishable_key = publishable_key
        self._webhook_secret = webhook_secret
        stripe = _stripe()
        self._client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.new_default_http_client(timeout=timeout))

    def _call(self, request: Callable):
        try:
            return request()
        except _stripe().StripeError as exc:
            raise error_from_stripe(exc) from exc

    # Connected accounts ----------------------------------------------------------------------------

    def create_account(self, pes, contact_email: str | None = None) -> str:
        """A connected account (Accounts v2) for the PES, which then completes Stripe's onboarding."""
        params = {
            "contact_email": contact_email or pes.email,
            "display_name": pes.name,
            "dashboard": "full",
            "identity": {"country": "PL"},
            "configuration": {"merchant": {"capabilities": {c: {"requested": True} for c in CAPABILITIES}}},
            # Stripe bills its fees to the PES and covers what it cannot recover: the Standard-like setup
            # that direct charges need.
            "defaults": {"currency": "pln", "locales": ["pl-PL"],
                         "responsibilities": {"fees_collector": "stripe", "losses_collector": "stripe"}},
            "metadata": {"pes_id": str(pes.id)},
        }
        params = {k: v for k, v in params.items() if v is not None}
        # One key per PES: a double click (or a retry after a lost answer) gets the first account back.
        options = {"idempotency_key": f"pes-{pes.id}-account"}
        return self._call(lambda: self._client.v2.core.accounts.create(params, options)).id

    def onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """A single-use link to Stripe's onboarding form for the account."""
        params = {"account": account_id, "use_case": {
            "type": "account_onboarding",
            "account_onboarding": {"refresh_url": refresh_url, "return_url": return_url}}}
        return self._call(lambda: self._client.v2.core.account_links.create(params)).url

    def account_state(self, account_id: str) -> str:
        """"active", "onboarding" or "restricted", from the account's card payments capability."""
        account = self._call(lambda: self._client.v2.core.accounts.retrieve(
            account_id, {"include": ["configuration.merchant", "requirements"]}))
        return state_of(account.to_dict())

    # Payments ---------------------------------------------------------------------------------------

    def create_payment_intent(self, *, account_id: str, amount: Decimal, fee: Decimal, order_number: str,
                              order_id: int, idempotency_key: str) -> PaymentIntentInfo:
        """A payment of `amount` złoty charged directly on the PES's account, `fee` of it for the portal."""
        if amount <= 0 or not 0 <= fee < amount:
            raise ValueError(f"cannot charge {amount} with a fee of {fee}")
        params = {"amount": money.to_grosze(amount), "currency": "pln",
                  "payment_method_types": list(PAYMENT_METHOD_TYPES),
                  "metadata": {"order_number": order_number, "order_id": str(order_id)}}
        if fee > 0:
            params["application_fee_amount"] = money.to_grosze(fee)
        options = {"stripe_account": account_id, "idempotency_key": idempotency_key}
        intent = self._call(lambda: self._client.v1.payment_intents.create(params, options))
        return intent_info(intent.to_dict())

    def retrieve_payment_intent(self, account_id: str, intent_id: str) -> PaymentIntentInfo:
        intent = self._call(lambda: self._client.v1.payment_intents.retrieve(
            intent_id, options={"stripe_account": account_id}))
        return intent_info(intent.to_dict())

    def confirm_with_card_token(self, account_id: str, intent_id: str, token: str) -> PaymentIntentInfo:
        """Confirm a payment with a card token, for a Stripe.js without the Payment Element (such as
        localstripe's): the token's card becomes the payment's method, then the payment is confirmed. With
        Stripe's own Stripe.js the Payment Element confirms in the browser and this is not used."""
        options = {"stripe_account": account_id}
        card = self._call(lambda: self._client.v1.tokens.retrieve(token, options=options)).card
        self._call(lambda: self._client.v1.payment_intents.update(intent_id, {"payment_method": card.id},
                                                                  options))
        return intent_info(self._call(
            lambda: self._client.v1.payment_intents.confirm(intent_id, options=options)).to_dict())

    def refund(self, *, account_id: str, intent_id: str, amount: Decimal, idempotency_key: str,
               refund_application_fee: bool = False) -> RefundInfo:
        """Give back `amount` złoty of a payment; the portal's fee stays unless refund_application_fee."""
        if amount <= 0:
            raise ValueError(f"cannot refund {amount}")
        params = {"payment_intent": intent_id, "amount": money.to_grosze(amount)}
        if refund_application_fee:
            params["refund_application_fee"] = True
        options = {"stripe_account": account_id, "idempotency_key": idempotency_key}
        refund = self._call(lambda: self._client.v1.refunds.create(params, options)).to_dict()
        return RefundInfo(id=refund["id"], status=refund.get("status") or "pending",
                          amount=money.from_grosze(refund.get("amount") or 0))

    # Webhooks ---------------------------------------------------------------------------------------

    def parse_event(self, payload: bytes, signature_header: str) -> dict:
        """The event in a webhook request, once its signature (made with STRIPE_WEBHOOK_SECRET over the raw
        body, at most 300 s old) is verified: id, type, account (None for the platform's own), created,
        livemode and data.object."""
        if not self._webhook_secret or not signature_header:
            raise SignatureError(_("Nie można potwierdzić, że powiadomienie pochodzi od Stripe."),
                                 "no_signature")
        stripe = _stripe()
        try:
            stripe.WebhookSignature.verify_header(payload, signature_header, self._webhook_secret,
                                                  WEBHOOK_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            raise SignatureError(_("Podpis powiadomienia Stripe jest nieprawidłowy lub przeterminowany."),
                                 "invalid_signature") from exc
        try:
            event = json.loads(payload)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise GatewayError(_("Powiadomienie Stripe ma nieprawidłową treść."), "invalid_payload")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        obj = data.get("object")
        related = event.get("related_object")  # thin events (Accounts v2) name their object instead
        return {"id": event["id"], "type": event.get("type"), "account": event.get("account"),
                "created": event.get("created"), "livemode": bool(event.get("livemode")),
                "data": {"object": obj if isinstance(obj, dict) else {}},
                "related_object": related if isinstance(related, dict) else None}


# Stripe's answers as the portal's data -----------------------------------------------------------------

def intent_info(data: dict) -> PaymentIntentInfo:
    received = data.get("amount_received")
    if received is None:  # absent from some stand-ins' answers: a succeeded intent received its amount
        received = (data.get("amount") or 0) if data.get("status") == "succeeded" else 0
    failure = data.get("last_payment_error")
    return PaymentIntentInfo(
        id=data["id"], status=data.get("status") or "", client_secret=data.get("client_secret"),
        amount=money.from_grosze(data.get("amount") or 0), amount_received=money.from_grosze(received),
        error=card_message(failure.get("code"), failure.get("decline_code")) if failure else None)


def state_of(account: dict) -> str:
    """An account is "active" when it may take card payments; "restricted" when Stripe refused it or only
    Stripe can lift the block; otherwise "onboarding": the PES has data to give or Stripe is checking it."""
    merchant = (account.get("configuration") or {}).get("merchant") or {}
    capability = (merchant.get("capabilities") or {}).get("card_payments") or {}
    status = capability.get("status")
    if status == "active":
        return "active"
    if status in ("rejected", "unsupported"):
        return "restricted"
    details = capability.get("status_details") or []
    if any(d.get("resolution") in ("contact_stripe", "no_resolution") for d in details):
        return "restricted"
    return "onboarding"


def card_message(code: str | None, decline_code: str | None = None) -> str:
    """Why a payment was refused, in words for the buyer (the decline code first, then the error code)."""
    messages = {
        "insufficient_funds": _("Brak wystarczających środków na karcie lub koncie."),
        "expired_card": _("Karta straciła ważność."),
        "incorrect_cvc": _("Kod CVC karty jest nieprawidłowy."),
        "incorrect_number": _("Numer karty jest nieprawidłowy."),
        "processing_error": _("Przy przetwarzaniu płatności wystąpił błąd. Spróbuj ponownie."),
        "payment_intent_authentication_failure": _("Bank nie potwierdził płatności (uwierzytelnienie się nie "
                                                   "powiodło). Spróbuj ponownie albo wybierz inną metodę."),
    }
    return (messages.get(decline_code) or messages.get(code)
            or _("Płatność została odrzucona. Spróbuj inną kartą albo inną metodą płatności."))


def error_from_stripe(exc: stripe.StripeError) -> GatewayError:
    """Stripe's exception as a GatewayError with a message for the person; the details go to the log."""
    stripe = _stripe()
    status = exc.http_status or 0
    log.warning("Stripe error %s (HTTP %s, code %s, request %s): %s", type(exc).__name__, status or "-",
                exc.code, exc.request_id, exc.user_message or exc)
    if isinstance(exc, stripe.CardError):
        return GatewayError(card_message(exc.code, getattr(exc.error, "decline_code", None)),
                            exc.code or "card_declined")
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayError(_("Nie udało się połączyć z operatorem płatności. Spróbuj ponownie za chwilę."),
                            "connection", retryable=True)
    if isinstance(exc, stripe.RateLimitError):
        return GatewayError(_("Operator płatności jest chwilowo przeciążony. Spróbuj ponownie za chwilę."),
                            exc.code or "rate_limit", retryable=True)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return GatewayError(_("Płatności online są chwilowo niedostępne (błąd ustawień portalu). "
                              "Skontaktuj się z administratorem portalu."), "authentication")
    if status >= 500 or status == 409 or isinstance(exc, stripe.APIError):
        return GatewayError(_("Operator płatności ma chwilowe problemy. Spróbuj ponownie za chwilę."),
                            exc.code or "api_error", retryable=True)
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError(_("To żądanie zostało już wysłane z innymi danymi."), "idempotency")
    return GatewayError(_("Operator płatności odrzucił żądanie. Spróbuj ponownie później, a jeśli błąd "
                          "się powtórzy, skontaktuj się z administratorem portalu."),
                        exc.code or "invalid_request")
