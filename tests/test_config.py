"""Configuration from the environment (CONTRACT section 1)."""
import pytest

from app import create_app
from marketplace.config import ConfigError, from_environment, normalise_db_url


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment(str(tmp_path), env={"APP_ENV": "production"})
    with pytest.raises(ConfigError):
        from_environment(str(tmp_path), env={"FLASK_ENV": "production"})


def test_development_warns_and_uses_a_development_key(tmp_path):
    with pytest.warns(RuntimeWarning, match="SECRET_KEY"):
        cfg = from_environment(str(tmp_path), env={})
    assert cfg["SECRET_KEY"]
    assert cfg["SESSION_COOKIE_SECURE"] is False


def test_defaults_live_in_the_instance_folder(tmp_path):
    cfg = from_environment(str(tmp_path), env={"SECRET_KEY": "k"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"
    assert cfg["SEARCH_INDEX_DIR"] == f"{tmp_path}/search-index"
    assert cfg["UPLOAD_DIR"] == f"{tmp_path}/uploads"
    assert cfg["RATELIMIT_STORAGE_URI"] == "memory://"
    assert cfg["RATELIMIT_ENABLED"] is True
    assert cfg["STRIPE_SECRET_KEY"] is None


def test_production_cookies_are_secure_and_settings_come_from_the_environment(tmp_path):
    env = {"SECRET_KEY": "k", "APP_ENV": "production", "PORTAL_URL": "https://pes.example.pl/",
           "DATABASE_URL": "postgres://u@db/portal",
           "REDIS_URL": "redis://127.0.0.1:6379/3", "RATELIMIT_ENABLED": "false", "MAIL_SERVER": "smtp.local",
           "MAIL_PORT": "2525", "SEARCH_INDEX_DIR": "/srv/index", "UPLOAD_DIR": "/srv/up"}
    cfg = from_environment(str(tmp_path), env=env)
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["REMEMBER_COOKIE_SECURE"]
    assert cfg["SESSION_COOKIE_HTTPONLY"] and cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/portal"
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert cfg["RATELIMIT_ENABLED"] is False
    assert (cfg["MAIL_SERVER"], cfg["MAIL_PORT"]) == ("smtp.local", 2525)
    assert (cfg["SEARCH_INDEX_DIR"], cfg["UPLOAD_DIR"]) == ("/srv/index", "/srv/up")
    assert cfg["PORTAL_URL"] == "https://pes.example.pl" and cfg["TRUSTED_HOSTS"] == ["pes.example.pl"]


def test_production_needs_the_portal_address_for_links_in_mail(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_URL"):
        from_environment(str(tmp_path), env={"SECRET_KEY": "k", "APP_ENV": "production"})


def test_database_url_spellings():
    assert normalise_db_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_db_url("sqlite:///x.db") == "sqlite:///x.db"


def test_create_app_refuses_in_production_without_key(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"TESTING": True})


def test_the_platform_fee_is_a_percentage_or_the_portal_does_not_start(tmp_path):
    from decimal import Decimal

    ENV = {"SECRET_KEY": "test"}
    assert from_environment(str(tmp_path), ENV)["PLATFORM_FEE_PERCENT"] == Decimal(0)
    assert from_environment(str(tmp_path), dict(ENV, PLATFORM_FEE_PERCENT="2,5"))["PLATFORM_FEE_PERCENT"] == Decimal("2.5")
    for bad in ("abc", "-1", "101", "1.234", "nan"):
        with pytest.raises(ConfigError, match="PLATFORM_FEE_PERCENT"):
            from_environment(str(tmp_path), dict(ENV, PLATFORM_FEE_PERCENT=bad))
