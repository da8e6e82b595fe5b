"""Sign-up, login, password reset and the account settings page."""
import json
import math
import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import forms, services
from accounts.decorators import login_limited, mail_limited, note
from accounts.passwords import MIN_LENGTH
from accounts.tokens import TokenError, TokenExpired, TokenUsed
from marketplace import outbox
from marketplace.core.views import safe_next
from marketplace.extensions import db, limiter
from marketplace.pes.labels import INSTITUTION_KIND_LABELS

bp = Blueprint("accounts", __name__, url_prefix="/konto")


@bp.context_processor
def _account_labels():
    return {"password_min": MIN_LENGTH, "institution_kinds": INSTITUTION_KIND_LABELS}


@bp.errorhandler(429)
def too_many_attempts(e):
    """Say plainly why the form was refused and how long to wait."""
    if request.endpoint == "accounts.login":
        text = _("Było zbyt wiele nieudanych prób logowania. Odczekaj kilka minut i spróbuj ponownie.")
    else:
        text = _("Z tego formularza wysłano zbyt wiele wiadomości. Odczekaj chwilę i spróbuj ponownie.")
    limit = limiter.current_limit
    detail = None
    if limit is not None:
        minutes = max(1, math.ceil(int(limit.reset_at - time.time()) / 60))
        detail = _("Możesz spróbować ponownie za %(n)d min.", n=minutes)
    return render_template("errors/error.html", code=429, title=_("Zbyt wiele prób"), text=text,
                           detail=detail), 429


def _refuse(form, exc: services.AccountError) -> None:
    """Undo anything half-done and show the reason next to the field it concerns."""
    db.session.rollback()
    if exc.field and exc.field in form:
        form[exc.field].errors.append(exc.message)
    else:
        form.form_errors.append(exc.message)


def _message(title: str, text: str, link: str | None = None, link_text: str | None = None, status: int = 200):
    return render_template("accounts/message.html", title=title, text=text, link=link,
                           link_text=link_text), status


def _link_problem(exc: TokenError, link: str, link_text: str):
    if isinstance(exc, TokenExpired):
        title, text = _("Link wygasł"), _("Ten link jest już nieważny, bo minęło zbyt wiele czasu.")
    elif isinstance(exc, TokenUsed):
        title, text = _("Link został już użyty"), _("Ten link został już wykorzystany i nie działa ponownie.")
    else:
        title, text = _("Nieprawidłowy link"), _("Ten link jest niepełny lub uszkodzony. "
                                                  "Skopiuj go z wiadomości w całości.")
    return _message(title, text, link, link_text, status=400)


@bp.route("/rejestracja", methods=["GET", "POST"])
@mail_limited(only_when_sent=True)
def register():
    """Sign-up for buyers and public purchasers; the address is confirmed through a mailed link."""
    if current_user.is_authenticated:
        return redirect(url_for(".settings"))
    form = forms.RegisterForm()
    if form.validate_on_submit():
        institution = {"name": form.institution_name.data, "nip": form.institution_nip.data,
                       "kind": form.institution_kind.data}
        try:
            user = services.register(form.email.data, form.name.data, form.password.data,
                                     form.account_type.data, institution)
        except services.AccountError as exc:
            _refuse(form, exc)
        else:
            outbox.commit()
            note("mail_sent")
            login_user(user)
            return redirect(url_for(".check_mail"))
    return render_template("accounts/register.html", form=form)


@bp.get("/sprawdz-poczte")
@login_required
def check_mail():
    """After sign-up: where the link went, and a way to have it sent again."""
    if current_user.is_confirmed:
        return redirect(url_for(".settings"))
    return render_template("accounts/check_mail.html", action_form=forms.ActionForm())


@bp.post("/potwierdzenie/wyslij")
@login_required
@mail_limited()
def resend_confirmation():
    """Send the confirmation link again (limited, as it sends mail)."""
    if current_user.is_confirmed:
        flash(_("Twój adres e-mail jest już potwierdzony."), "info")
    else:
        services.send_confirmation(current_user)
        outbox.commit()
        flash(_("Wysłaliśmy nowy link potwierdzający na adres %(email)s.", email=current_user.email), "info")
    return redirect(url_for(".check_mail"))


@bp.get("/potwierdz/<token>")
def confirm_email(token: str):
    """The link from the sign-up mail: it proves the address works."""
    try:
        services.confirm_email(token)
    except services.AlreadyConfirmed as exc:
        return _message(_("Adres już potwierdzony"), exc.message, url_for(".settings"), _("Przejdź do konta"))
    except TokenError as exc:
        return _link_problem(exc, url_for(".check_mail"), _("Zaloguj się i poproś o nowy link"))
    outbox.commit()
    return _message(_("Adres e-mail potwierdzony"), _("Dziękujemy! Twój adres e-mail został potwierdzony."),
                    url_for(".settings"), _("Przejdź do konta"))


@bp.route("/logowanie", methods=["GET", "POST"])
@login_limited
def login():
    """Sign in; failed attempts are counted per address and per account to slow down guessing."""
    next_url = safe_next(request.args.get("next"), url_for("core.home"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = forms.LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            note("login_failed")
            form.form_errors.append(_("Nieprawidłowy adres e-mail lub hasło."))
        else:
            outbox.commit()
            login_user(user, remember=form.remember.data)
            if not user.is_confirmed:
                flash(_("Twój adres e-mail nie jest jeszcze potwierdzony. Link znajdziesz w wiadomości od nas; "
                        "w ustawieniach konta możesz poprosić o nowy."), "warning")
            return redirect(next_url)
    return render_template("accounts/login.html", form=form, next=request.args.get("next"))


@bp.post("/wyloguj")
def logout():
    """Sign out; a POST with a CSRF token, so that no other site can sign anyone out."""
    logout_user()
    flash(_("Wylogowano."), "info")
    return redirect(url_for("core.home"))


@bp.route("/haslo", methods=["GET", "POST"])
@mail_limited()
def reset_request():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        outbox.commit()
        return _message(_("Sprawdź skrzynkę e-mail"), _(
            "Jeśli w portalu jest konto z adresem %(email)s, wysłaliśmy na nie link do ustawienia nowego hasła. "
            "Link jest ważny przez %(n)d min.", email=form.email.data,
            n=current_app.config["RESET_TOKEN_MAX_AGE"] // 60))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/haslo/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password from the mailed link; the link works once and ends every session."""
    try:
        user = services.user_for_reset(token)
    except TokenError as exc:
        return _link_problem(exc, url_for(".reset_request"), _("Poproś o nowy link"))
    form = forms.NewPasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        outbox.commit()
        logout_user()
        flash(_("Hasło zostało zmienione. Zaloguj się nowym hasłem."), "info")
        return redirect(url_for(".login"))
    return render_template("accounts/reset_password.html", form=form)


def _settings_page(**active):
    """The settings page with fresh forms, except the one just sent back with its errors."""
    user = current_user
    page_forms = {
        "profile_form": forms.ProfileForm(formdata=None, prefix="profile",
                                          data={"name": user.name, "locale": user.locale or ""}),
        "password_form": forms.PasswordChangeForm(formdata=None, prefix="pw"),
        "email_form": forms.EmailChangeForm(formdata=None, prefix="em"),
        "delete_form": forms.DeleteAccountForm(formdata=None, prefix="del"),
        "action_form": forms.ActionForm(formdata=None),
    }
    page_forms.update(active)
    return render_template("accounts/settings.html", user=user, blocking=services.blocking_pes(user),
                           **page_forms)


@bp.get("/ustawienia")
@login_required
def settings():
    """The account: its data, institution, password, address, data export and deletion."""
    return _settings_page()


@bp.post("/ustawienia/profil")
@login_required
def update_profile():
    """Change the name and the preferred language."""
    form = forms.ProfileForm(prefix="profile")
    if not form.validate_on_submit():
        return _settings_page(profile_form=form)
    services.update_profile(current_user, form.name.data, form.locale.data)
    outbox.commit()
    if form.locale.data:
        session["lang"] = form.locale.data
    else:
        session.pop("lang", None)
    flash(_("Zapisano zmiany."), "info")
    return redirect(url_for(".settings"))


@bp.post("/ustawienia/haslo")
@login_required
def change_password():
    """Change the password; every other session ends, this one stays signed in."""
    form = forms.PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except services.AccountError as exc:
            _refuse(form, exc)
        else:
            outbox.commit()
            remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=remember_cookie in request.cookies)
            flash(_("Hasło zostało zmienione. Pozostałe sesje zostały wylogowane."), "info")
            return redirect(url_for(".settings"))
    return _settings_page(password_form=form)


@bp.post("/ustawienia/email")
@login_required
@mail_limited(only_when_sent=True)
def change_email():
    """Ask to change the address; it changes only when the link sent to the new one is followed."""
    form = forms.EmailChangeForm(prefix="em")
    if form.validate_on_submit():
        try:
            services.request_email_change(current_user, form.password.data, form.new_email.data)
        except services.AccountError as exc:
            _refuse(form, exc)
        else:
            outbox.commit()
            note("mail_sent")
            flash(_("Wysłaliśmy link na adres %(email)s. Adres zmieni się, gdy go otworzysz.",
                    email=form.new_email.data), "info")
            return redirect(url_for(".settings"))
    return _settings_page(email_form=form)


@bp.get("/email/<token>")
def confirm_email_change(token: str):
    """The link sent to the new address: only now does the account's address change."""
    try:
        user = services.apply_email_change(token)
    except TokenError as exc:
        return _link_problem(exc, url_for(".settings"), _("Przejdź do ustawień konta"))
    except services.AccountError as exc:
        db.session.rollback()
        return _message(_("Nie można zmienić adresu"), exc.message, url_for(".settings"),
                        _("Przejdź do ustawień konta"), status=409)
    outbox.commit()
    return _message(_("Adres e-mail zmieniony"), _("Od teraz logujesz się adresem %(email)s.", email=user.email),
                    url_for(".settings"), _("Przejdź do konta"))


@bp.get("/moje-dane.json")
@login_required
def export_data():
    """RODO right of access: the account's data as a JSON file to download."""
    body = json.dumps(services.export_data(current_user), ensure_ascii=False, indent=2)
    return current_app.response_class(body, mimetype="application/json", headers={
        "Content-Disposition": "attachment; filename=moje-dane.json", "Cache-Control": "no-store"})


@bp.post("/usun")
@login_required
def delete_account():
    """RODO erasure: remove the account for good, unless a PES would be left without an owner."""
    form = forms.DeleteAccountForm(prefix="del")
    if form.validate_on_submit():
        try:
            services.delete_account(current_user._get_current_object(), form.password.data)
        except services.AccountError as exc:
            _refuse(form, exc)
        else:
            logout_user()
            outbox.commit()
            return redirect(url_for(".account_deleted"))
    return _settings_page(delete_form=form)


@bp.get("/usunieto")
def account_deleted():
    """Confirmation that the account is gone."""
    return _message(_("Konto zostało usunięte"), _(
        "Twoje konto i dane z nim związane zostały usunięte. Dziękujemy za korzystanie z portalu."),
        url_for("core.home"), _("Wróć na stronę główną"))
