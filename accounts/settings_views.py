"""The account's own settings: name and language, password, address, data export and deletion (RODO)."""
import json

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from accounts import forms, services
from accounts.decorators import mail_limited, note, posted_address, recipient_limited
from accounts.pages import bp, link_problem, message, refuse, rollback
from accounts.tokens import TokenError
from marketplace import outbox


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
                           last_admin=services.is_last_admin(user), **page_forms)


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
    """Change the password; every other session ends, this one stays signed in, and the owner is mailed."""
    form = forms.PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except services.AccountError as exc:
            refuse(form, exc)
        else:
            outbox.commit()
            remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=remember_cookie in request.cookies)
            flash(_("Hasło zostało zmienione. Pozostałe sesje zostały wylogowane."), "info")
            return redirect(url_for(".settings"))
    return _settings_page(password_form=form)


@bp.post("/ustawienia/email")
@login_required
@mail_limited()  # every post, as each one also checks the password
@recipient_limited(posted_address("em-new_email"))
def change_email():
    """Ask to change the address; it changes only when the link sent to the new one is followed."""
    form = forms.EmailChangeForm(prefix="em")
    if form.validate_on_submit():
        try:
            services.request_email_change(current_user, form.password.data, form.new_email.data)
        except services.AccountError as exc:
            refuse(form, exc)
        else:
            outbox.commit()
            note("mail_sent")
            flash(_("Wysłaliśmy link na adres %(email)s. Adres zmieni się, gdy go otworzysz.",
                    email=form.new_email.data), "info")
            return redirect(url_for(".settings"))
    return _settings_page(email_form=form)


def _email_taken_page(text: str):
    return message(_("Nie można zmienić adresu"), text, url_for(".settings"), _("Przejdź do ustawień konta"),
                   status=409)


@bp.get("/email/<token>")
def confirm_email_change(token: str):
    """The link sent to the new address: only now does the account's address change."""
    try:
        user = services.apply_email_change(token)
        outbox.commit()
    except TokenError as exc:
        return link_problem(exc, url_for(".settings"), _("Przejdź do ustawień konta"))
    except services.AccountError as exc:
        rollback()
        return _email_taken_page(exc.message)
    except IntegrityError:  # another account took the address a moment ago
        rollback()
        return _email_taken_page(services.email_in_use().message)
    return message(_("Adres e-mail zmieniony"), _("Od teraz logujesz się adresem %(email)s.", email=user.email),
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
    """RODO erasure, unless a PES would be left without an owner or the portal without an administrator."""
    form = forms.DeleteAccountForm(prefix="del")
    if form.validate_on_submit():
        try:
            services.delete_account(current_user._get_current_object(), form.password.data)
        except services.AccountError as exc:
            refuse(form, exc)
        else:
            logout_user()
            outbox.commit()
            return redirect(url_for(".account_deleted"))
    return _settings_page(delete_form=form)


@bp.get("/usunieto")
def account_deleted():
    """Confirmation that the account is gone."""
    return message(_("Konto zostało usunięte"), _(
        "Twoje konto i dane z nim związane zostały usunięte. Dziękujemy za korzystanie z portalu."),
        url_for("core.home"), _("Wróć na stronę główną"))
