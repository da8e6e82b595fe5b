"""Flask's signed-cookie sessions with the signing serializer made once per key set, not on every request."""
from flask.sessions import SecureCookieSessionInterface


class PortalSessionInterface(SecureCookieSessionInterface):
    """The same cookies as Flask's own (name, format, signature): only the serializer is reused. It is
    rebuilt when the secret key or its fallbacks change (tests change them)."""

    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            if len(self._serializers) > 8:
                self._serializers.clear()
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer
