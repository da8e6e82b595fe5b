"""Error pages in the visitor's language, and JSON errors for the API in the contract's shape."""
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from marketplace.extensions import db


def _messages() -> dict:
    return {
        400: (_("Nieprawidłowe żądanie"), _("Serwer nie mógł zrozumieć żądania. Wróć i spróbuj ponownie.")),
        403: (_("Brak dostępu"), _("Nie masz uprawnień do tej strony lub tej czynności.")),
        404: (_("Nie znaleziono strony"), _("Strona, której szukasz, nie istnieje albo została usunięta.")),
        405: (_("Niedozwolona metoda"), _("Ta strona nie obsługuje takiego żądania.")),
        413: (_("Plik jest za duży"), _("Przesłane dane przekraczają dopuszczalny rozmiar.")),
        429: (_("Zbyt wiele prób"), _("Wykonano zbyt wiele prób w krótkim czasie. Odczekaj chwilę i spróbuj ponownie.")),
        500: (_("Błąd serwera"), _("Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.")),
    }


def _render(code: int, detail: str | None = None):
    title, text = _messages().get(code, (_("Błąd"), _("Wystąpił błąd.")))
    if request.path.startswith("/api/"):
        err_code = {404: "not_found", 405: "method_not_allowed", 429: "rate_limited",
                    400: "bad_request"}.get(code, "error")
        return jsonify(error={"code": err_code, "message": detail or title}), code
    return render_template("errors/error.html", code=code, title=title, text=text, detail=detail), code


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return _render(400, _("Formularz wygasł lub nie zawiera tokenu bezpieczeństwa (CSRF). "
                              "Odśwież stronę i wyślij go ponownie."))

    @app.errorhandler(429)
    def too_many(e):
        return _render(429, _("Odczekaj kilka minut i spróbuj ponownie."))

    @app.errorhandler(HTTPException)
    def http_error(e):
        return _render(e.code or 500)

    @app.errorhandler(InternalServerError)
    def server_error(e):
        db.session.rollback()
        return _render(500)
