"""Signed, timed links for e-mail confirmation, password reset and e-mail change.

Each purpose has its own salt, so a token made for one purpose never verifies for another, and its own
lifetime from the configuration. Tokens carry a short fingerprint of the state they act on (the password
hash, the current address), so that once the state changes the old link stops working: single use
without a table of spent tokens.
"""
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALTS = {
    "confirm": "accounts.confirm-email",
    "reset": "accounts.reset-password",
    "email": "accounts.change-email",
}
MAX_AGE_SETTINGS = {
    "confirm": "CONFIRM_TOKEN_MAX_AGE",
    "reset": "RESET_TOKEN_MAX_AGE",
    "email": "CONFIRM_TOKEN_MAX_AGE",
}


class TokenError(Exception):
    """A link that cannot be used."""


class TokenExpired(TokenError):
    """The link was genuine but is too old."""


class TokenInvalid(TokenError):
    """The link was altered, made for another purpose, or never issued by us."""


class TokenUsed(TokenError):
    """The link was genuine, but what it acts on has changed since: it was used already."""


def serializer(purpose: str, signer: type[TimestampSigner] = TimestampSigner) -> URLSafeTimedSerializer:
    """The serializer for one purpose, keyed with the application's secret."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALTS[purpose], signer=signer)


def fingerprint(value: str) -> str:
    """A short keyed digest of a value, so tokens can be bound to it without revealing it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def issue(purpose: str, claims: dict) -> str:
    return serializer(purpose).dumps(claims)


def read(purpose: str, token: str) -> dict:
    """The claims of a token; raises TokenExpired or TokenInvalid."""
    max_age = current_app.config[MAX_AGE_SETTINGS[purpose]]
    try:
        claims = serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenExpired() from None
    except BadSignature:
        raise TokenInvalid() from None
    if not isinstance(claims, dict):
        raise TokenInvalid()
    return claims
