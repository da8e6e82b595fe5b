"""Form fields shared by every package."""
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes; rendered as a fieldset with a legend by the forms macro."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
