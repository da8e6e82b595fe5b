"""Password hashing with Argon2id, and the rules a new password must meet."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 10
# A few of the passwords people pick most often, Polish ones included; longer lists belong in data.
COMMON = {
    "1234567890", "12345678910", "qwertyuiop", "password123", "haslo12345", "zaq1@wsx12", "qwerty1234",
    "polska1234", "1qaz2wsx3edc", "iloveyou12", "administrator", "kochamcie1", "0987654321",
}

_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_strong = PasswordHasher()  # argon2id with the library's recommended parameters


def _hasher() -> PasswordHasher:
    try:
        return _fast if current_app.config.get("ARGON2_FAST") else _strong
    except RuntimeError:
        return _strong


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def password_problems(password: str, email: str = "") -> list[str]:
    """Why a password is too weak, in the visitor's language; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Hasło musi mieć co najmniej %(n)d znaków.", n=MIN_LENGTH))
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) < 4:
        problems.append(_("To hasło jest zbyt łatwe do odgadnięcia. Wybierz inne."))
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        problems.append(_("Hasło nie może zawierać Twojego adresu e-mail."))
    if password.isdigit():
        problems.append(_("Hasło nie może składać się z samych cyfr."))
    return problems
