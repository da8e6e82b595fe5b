"""Sign-up, e-mail confirmation, login and password reset (the account settings are in settings_views)."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from accounts import forms, services
from accounts.decorators import (
    account_address,
    login_limited,
    mail_limited,
    note,
    posted_address,
    recipient_limited,
)
from accounts.pages import bp, link_problem, message, rollback
from accounts.tokens import TokenError
from marketplace import outbox
from marketplace.core.views import safe_next

__all__ = ["bp"]


def _sign_up(form) -> None:
    """Create the account, or tell the owner of a taken address; both end the same way for the visitor."""
    args = (form.email.data, form.name.data, form.password.data, form.account_type.data,
            {"name": form.institution_name.data, "nip": form.institution_nip.data,
             "kind": form.institution_kind.data})
    try:
        services.register(*args)
        outbox.commit()
    except IntegrityError:  # the same address was signed up a moment ago: now it is a taken address
        rollback()
        services.register(*args)
        outbox.commit()


@bp.route("/rejestracja", methods=["GET", "POST"])
@mail_limited()
@recipient_limited(posted_address("email"))
def register():
    """Sign-up; a taken address gets the same answer (its owner is mailed instead), so accounts stay secret."""
    if current_user.is_authenticated:
        return redirect(url_for(".settings"))
    form = forms.RegisterForm()
    if form.validate_on_submit():
        _sign_up(form)
        note("mail_sent")
        session["signup_email"] = form.email.data
        return redirect(url_for(".check_mail"))
    return render_template("accounts/register.html", form=form)


@bp.get("/sprawdz-poczte")
def check_mail():
    """After sign-up, or for an unconfirmed account: where the link went, and how to have it sent again."""
    if current_user.is_authenticated:
        if current_user.is_confirmed:
            return redirect(url_for(".settings"))
        return render_template("accounts/check_mail.html", email=current_user.email,
                               action_form=forms.ActionForm())
    if not session.get("signup_email"):
        return redirect(url_for(".login"))
    return render_template("accounts/check_mail.html", email=session["signup_email"], action_form=None)


@bp.post("/potwierdzenie/wyslij")
@login_required
@mail_limited()
@recipient_limited(account_address)
def resend_confirmation():
    """Send the confirmation link again (limited, as it sends mail)."""
    if current_user.is_confirmed:
        flash(_("Twój adres e-mail jest już potwierdzony."), "info")
    else:
        services.send_confirmation(current_user)
        outbox.commit()
        note("mail_sent")
        flash(_("Wysłaliśmy nowy link potwierdzający na adres %(email)s.", email=current_user.email), "info")
    return redirect(url_for(".check_mail"))


def _to_account():
    """Where to go after a confirmation: the account, or the login page on the way to it."""
    if current_user.is_authenticated:
        return url_for(".settings"), _("Przejdź do konta")
    return url_for(".login", next=url_for(".settings")), _("Zaloguj się")


@bp.get("/potwierdz/<token>")
def confirm_email(token: str):
    """The link from the sign-up mail: it proves the address works."""
    try:
        services.confirm_email(token)
    except services.AlreadyConfirmed as exc:
        return message(_("Adres już potwierdzony"), exc.message, *_to_account())
    except TokenError as exc:
        return link_problem(exc, url_for(".check_mail"), _("Zaloguj się i poproś o nowy link"))
    outbox.commit()
    return message(_("Adres e-mail potwierdzony"), _("Dziękujemy! Twój adres e-mail został potwierdzony."),
                   *_to_account())


def _landing(user) -> str:
    """After login: the page asked for, else the PES panel for PES teams and the front page for others."""
    return safe_next(request.args.get("next"),
                     url_for("dashboards.pes_panel") if user.memberships else url_for("core.home"))


@bp.route("/logowanie", methods=["GET", "POST"])
@login_limited
def login():
    """Sign in; failed attempts are counted per address and per account to slow down guessing."""
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = forms.LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            note("login_failed")
            form.form_errors.append(_("Nieprawidłowy adres e-mail lub hasło."))
        else:
            outbox.commit()
            session.pop("signup_email", None)
            login_user(user, remember=form.remember.data)
            if not user.is_confirmed:
                flash(_("Twój adres e-mail nie jest jeszcze potwierdzony. Link znajdziesz w wiadomości od nas; "
                        "w ustawieniach konta możesz poprosić o nowy."), "warning")
            return redirect(_landing(user))
    return render_template("accounts/login.html", form=form, next=request.args.get("next"))


@bp.post("/wyloguj")
def logout():
    """Sign out; a POST with a CSRF token, so that no other site can sign anyone out."""
    logout_user()
    flash(_("Wylogowano."), "info")
    return redirect(url_for("core.home"))


@bp.route("/haslo", methods=["GET", "POST"])
@mail_limited()
@recipient_limited(posted_address("email"))
def reset_request():
    """Ask for a reset link; the answer and the limits are the same whether or not the account exists."""
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        outbox.commit()
        note("mail_sent")
        return message(_("Sprawdź skrzynkę e-mail"), _(
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
        return link_problem(exc, url_for(".reset_request"), _("Poproś o nowy link"))
    form = forms.NewPasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        outbox.commit()
        logout_user()
        flash(_("Hasło zostało zmienione. Zaloguj się nowym hasłem."), "info")
        return redirect(url_for(".login"))
    return render_template("accounts/reset_password.html", form=form)


# The settings pages register their routes on the same blueprint.
from accounts import settings_views  # noqa: F401
