"""The favourite buttons (a CSRF token and where to return) and the choice of PES to ask at once."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField

from marketplace.core.fields import MultiCheckboxField


class FavouriteForm(FlaskForm):
    """Add or remove: the button itself says which; `next` is the page to go back to."""

    next = HiddenField()


class AskForm(Form):
    """A GET form to the inquiry page: repeated `pes=<ref>`, so it needs no token."""

    pes = MultiCheckboxField(_l("Do których PES wysłać zapytanie?"))

    def __init__(self, pes_list, **kwargs):
        super().__init__(None, **kwargs)
        self.pes.choices = [(p.ref, p.name) for p in pes_list]
