"""Error pages speak Polish (and English when chosen), and the API answers errors as JSON."""
from flask import abort


def _routes(app):
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    app.add_url_rule("/forbidden", "forbidden", lambda: abort(403))
    app.add_url_rule("/bad", "bad", lambda: abort(400))
    app.add_url_rule("/formularz", "form", lambda: "ok", methods=["POST"])


def test_error_pages_in_polish(app, client):
    _routes(app)
    app.testing = False  # let the 500 handler answer instead of raising into the test
    cases = {"/nie-ma": (404, "Nie znaleziono strony"), "/forbidden": (403, "Brak dostępu"),
             "/bad": (400, "Nieprawidłowe żądanie"), "/boom": (500, "Błąd serwera")}
    for path, (code, heading) in cases.items():
        resp = client.get(path)
        assert resp.status_code == code
        html = resp.get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in html and '<html lang="pl">' in html


def test_missing_csrf_token_is_a_400_with_an_explanation(app, client):
    _routes(app)
    resp = client.post("/formularz", data={"x": "1"})
    assert resp.status_code == 400
    assert "tokenu bezpieczeństwa (CSRF)" in resp.get_data(as_text=True)


def test_error_page_in_english_after_switching(client):
    client.get("/jezyk/en?next=/")
    resp = client.get("/nie-ma")
    assert resp.status_code == 404
    assert '<html lang="en">' in resp.get_data(as_text=True)


def test_api_errors_are_json(client):
    resp = client.get("/api/v1/nie-ma")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_language_switch_rejects_unknown_languages_and_outside_redirects(client):
    assert client.get("/jezyk/de").status_code == 404
    resp = client.get("/jezyk/en?next=https://evil.example/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_security_headers(client):
    resp = client.get("/")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
