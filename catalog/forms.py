"""Forms of the members' panel: the offering editor (with its photos) and the status filter. The public pages'
forms (CPV search, "report this offer") are in catalog.public_forms."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from catalog import categories, cpv, pricing
from catalog import images as photos
from catalog.models import KINDS, MAX_IMAGES, STATUSES, WITHDRAWAL_EXCEPTIONS
from catalog.services import KIND_LABELS, STATUS_LABELS
from marketplace import region
from marketplace.core.fields import MultiCheckboxField

MAX_TAGS = 10
MAX_TAG_LENGTH = 40
MAX_CPV = 20
MAX_PRICE_LENGTH = 20
MAX_STOCK = 1_000_000
WITHDRAWAL_LABELS = {"made_to_order": _l("wykonywany na zamówienie według wskazań kupującego"),
                     "perishable": _l("szybko się psuje lub ma krótki termin przydatności")}


def _text(value) -> str:
    """A field's text; a list (an offering's own value when the field was not posted) joined by commas."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value or "")


def split_codes(text) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", _text(text)) if c]


def parse_tags(text) -> list[str]:
    tags = [t.strip().lower() for t in _text(text).split(",")]
    return list(dict.fromkeys(" ".join(t.split()) for t in tags if t.strip()))


class ExistingImageForm(Form):
    """A photo already saved: its alt text, its place in the gallery, or its removal."""

    image_id = HiddenField()
    alt = StringField(_l("Tekst alternatywny (opis zdjęcia)"), validators=[Length(max=250)])
    position = IntegerField(_l("Miejsce w galerii"), validators=[Optional()],
                            render_kw={"inputmode": "numeric", "min": 1, "max": MAX_IMAGES})
    remove = BooleanField(_l("Usuń to zdjęcie"))


class NewImageForm(Form):
    """One slot for a new photo and its alt text (required whenever a file is chosen)."""

    file = FileField(_l("Plik zdjęcia (PNG, JPEG lub WebP)"),
                     render_kw={"accept": "image/png,image/jpeg,image/webp"})
    alt = StringField(_l("Tekst alternatywny (opis zdjęcia)"), validators=[Length(max=250)])


class OfferingForm(FlaskForm):
    kind = RadioField(_l("Rodzaj oferty"), validators=[DataRequired()], default="service")
    title = StringField(_l("Tytuł"), validators=[DataRequired(), Length(min=3, max=200)])
    description = TextAreaField(_l("Opis"), validators=[Optional(), Length(max=10000)])
    category = SelectField(_l("Kategoria"), validators=[DataRequired()])
    subcategory = SelectField(_l("Podkategoria"), validators=[Optional()])
    cpv = StringField(_l("Kody CPV"), validators=[Optional(), Length(max=400)])
    price_on_request = BooleanField(_l("Cena do uzgodnienia"))
    price_net = StringField(_l("Cena netto (zł)"), render_kw={"inputmode": "decimal"}, validators=[
        Length(max=MAX_PRICE_LENGTH, message=_l("Cena jest za długa: wpisz kwotę netto, np. 18,50."))])
    vat_rate = SelectField(_l("Stawka VAT"), default="23")
    unit = StringField(_l("Jednostka"), validators=[Optional(), Length(max=40)])
    min_order = StringField(_l("Minimalne zamówienie"), validators=[Optional(), Length(max=100)])
    lead_time = StringField(_l("Czas realizacji"), validators=[Optional(), Length(max=100)])
    stock = StringField(_l("Stan magazynowy (sztuki)"), render_kw={"inputmode": "numeric"})
    # The stock the form was opened with: orders placed meanwhile are kept (services apply only the change).
    stock_seen = HiddenField()
    # Checked in validate_withdrawal_exception: a saved offering without an exception holds None, not "".
    withdrawal_exception = SelectField(_l("Prawo konsumenta do odstąpienia od umowy"), default="",
                                       validate_choice=False)
    service_area = MultiCheckboxField(_l("Obszar realizacji (powiaty)"))
    tags = StringField(_l("Tagi"), validators=[Optional(), Length(max=500)])
    images = FieldList(FormField(ExistingImageForm), max_entries=MAX_IMAGES)
    new_images = FieldList(FormField(NewImageForm), min_entries=photos.UPLOAD_SLOTS,
                           max_entries=photos.UPLOAD_SLOTS)
    status = RadioField(_l("Status"), default="draft")

    def __init__(self, *args, offering=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offering = offering
        self.kind.choices = [(k, str(KIND_LABELS[k]).capitalize()) for k in KINDS]
        self.category.choices = [("", _("– wybierz kategorię –"))] + categories.choices()
        self.subcategory.choices = subcategory_groups()
        self.vat_rate.choices = pricing.vat_choices()
        self.withdrawal_exception.choices = [("", _("przysługuje (zwykły produkt lub usługa)"))] + [
            (code, _("nie przysługuje: %(why)s", why=WITHDRAWAL_LABELS[code])) for code in WITHDRAWAL_EXCEPTIONS]
        self.service_area.choices = region.powiat_choices()
        self.status.choices = [(s, str(STATUS_LABELS[s]).capitalize()) for s in STATUSES]
        self.prepared_images = []
        self.new_alts = []
        self.parsed_price = None
        self.parsed_stock = None
        self.category_from_cpv = False

    # Loading an offering into the form (GET) -------------------------------------------------------

    def load(self, offering) -> None:
        """Fill the form from a saved offering; the photos in gallery order."""
        self.cpv.data = ", ".join(offering.cpv)
        self.stock_seen.data = "" if offering.stock is None else str(offering.stock)
        self.price_on_request.data = offering.price_net is None
        self.price_net.data = pricing.format_plain(offering.price_net)
        self.service_area.data = [a.powiat for a in offering.areas]
        self.tags.data = ", ".join(offering.tags or [])
        self.subcategory.data = offering.subcategory or ""
        while len(self.images.entries):
            self.images.pop_entry()
        for n, image in enumerate(offering.images, start=1):
            self.images.append_entry({"image_id": str(image.id), "alt": image.alt, "position": n})

    # Checks -------------------------------------------------------------------------------------------

    def validate_subcategory(self, field):
        if field.data and not categories.is_subcategory(self.category.data, field.data):
            raise ValidationError(_("Ta podkategoria nie należy do wybranej kategorii."))

    def validate_cpv(self, field):
        codes, bad = [], []
        for raw in split_codes(field.data):
            try:
                codes.append(cpv.normalise(raw))
            except ValueError as exc:
                bad.append(f"„{raw}” ({exc})")
        if bad:
            raise ValidationError(_("Niepoprawne kody CPV: %(codes)s. Poprawny kod wygląda tak: 55524000-9.",
                                    codes="; ".join(bad)))
        codes = list(dict.fromkeys(codes))
        if len(codes) > MAX_CPV:
            raise ValidationError(_("Podaj najwyżej %(n)d kodów CPV.", n=MAX_CPV))
        missing = cpv.exists(codes)
        if missing:
            raise ValidationError(_("Tych kodów nie ma w słowniku CPV: %(codes)s. Sprawdź je w wyszukiwarce CPV.",
                                    codes=", ".join(missing)))
        field.data = codes

    def validate_price_net(self, field):
        raw = _text(field.data).strip()
        if field.errors:  # too long to be a price: that message is enough
            return
        if self.price_on_request.data:
            if raw:
                raise ValidationError(_("Zaznaczono „cena do uzgodnienia” – usuń cenę netto albo odznacz to pole."))
            return
        try:
            self.parsed_price = pricing.parse_net(raw)
        except pricing.PriceError as exc:
            raise ValidationError(str(exc)) from None

    def validate_stock(self, field):
        raw = re.sub(r"[\s\u00a0]", "", _text(field.data))
        if raw.startswith("-") and raw[1:].isdigit():
            raise ValidationError(_("Stan magazynowy nie może być ujemny. Wpisz 0, jeśli produktu zabrakło."))
        if raw and not re.fullmatch(r"\+?\d+", raw):
            raise ValidationError(_("Stan magazynowy to liczba całych sztuk, np. 25. Zostawcie pole puste, jeśli "
                                    "nie liczycie sztuk."))
        if len(raw) > 9 or (raw and int(raw) > MAX_STOCK):  # the length first: int() refuses thousands of digits
            raise ValidationError(_("Stan magazynowy może wynosić najwyżej %(n)d sztuk.", n=MAX_STOCK))
        self.parsed_stock = int(raw) if raw else None

    def validate_withdrawal_exception(self, field):
        if field.data and field.data not in WITHDRAWAL_EXCEPTIONS:
            raise ValidationError(_("Wybierz jedną z podanych możliwości."))

    def validate_service_area(self, field):
        field.data = [c for c in (field.data or []) if region.is_powiat(c)]

    def validate_tags(self, field):
        tags = parse_tags(field.data)
        if len(tags) > MAX_TAGS:
            raise ValidationError(_("Podaj najwyżej %(n)d tagów (podano %(count)d).", n=MAX_TAGS, count=len(tags)))
        long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
        if long:
            raise ValidationError(_("Tag może mieć najwyżej %(n)d znaków: %(tags)s.", n=MAX_TAG_LENGTH,
                                    tags=", ".join(long)))
        field.data = tags

    def validate(self, extra_validators=None) -> bool:
        self._category_from_cpv()
        ok = super().validate(extra_validators)
        ok = self._check_existing_images() and ok
        return self._check_new_images() and ok

    def _category_from_cpv(self) -> None:
        """No category chosen but CPV codes given: the category of the first code that maps to one."""
        if self.category.data or not self.is_submitted():
            return
        for raw in split_codes(self.cpv.data):
            slug = categories.category_for_cpv(raw)
            if slug:
                self.category.data, self.category_from_cpv = slug, True
                return

    def _check_existing_images(self) -> bool:
        ok = True
        for entry in self.images:
            if not entry.form.remove.data and not (entry.form.alt.data or "").strip():
                entry.form.alt.errors.append(_("Opisz zdjęcie: tekst alternatywny jest wymagany."))
                ok = False
        return ok

    def _check_new_images(self) -> bool:
        ok, chosen = True, []
        for entry in self.new_images:
            upload = entry.form.file.data
            if not upload or not getattr(upload, "filename", ""):
                continue
            alt = (entry.form.alt.data or "").strip()
            if not alt:
                entry.form.alt.errors.append(_("Opisz zdjęcie: bez tekstu alternatywnego nie można go dodać."))
                ok = False
            try:
                prepared = photos.prepare(upload.stream)
            except photos.ImageError as exc:
                entry.form.file.errors.append(str(exc))
                ok = False
                continue
            chosen.append((entry, prepared, alt))
        if chosen and photos.too_many(self._kept_count(), len(chosen)):
            chosen[0][0].form.file.errors.append(
                _("Oferta może mieć najwyżej %(n)d zdjęć. Usuń któreś z obecnych, aby dodać nowe.", n=MAX_IMAGES))
            ok = False
        self.prepared_images = [prepared for _entry, prepared, _alt in chosen]
        self.new_alts = [alt for _entry, _prepared, alt in chosen]
        return ok

    def _kept_count(self) -> int:
        return len(self.kept_images()) if self.offering is not None else 0

    def add_refusal(self, field_name: str | None, message: str) -> None:
        """Show a refusal of the save (services.OfferingError) next to the field it concerns and in the
        summary. A refusal about new photos goes to the first new photo's file field; one without a field
        to the title, the top of the form."""
        if field_name == "new_images" and self.new_images.entries:
            target = self.new_images.entries[0].form.file
        else:
            target = self._fields.get(field_name or "")
            if target is None or target.type in ("FieldList", "FormField"):
                target = self.title
        target.errors = list(target.errors) + [message]

    # Results ------------------------------------------------------------------------------------------

    def offering_data(self) -> dict:
        """The submitted fields as column values; blank text becomes None."""
        def text(name):
            return (self[name].data or "").strip() or None
        return {
            "kind": self.kind.data, "title": self.title.data.strip(), "description": self.description.data or "",
            "category": self.category.data, "subcategory": self.subcategory.data or None,
            "price_net": None if self.price_on_request.data else self.parsed_price,
            "vat_rate": self.vat_rate.data, "unit": text("unit"), "min_order": text("min_order"),
            "lead_time": text("lead_time"), "tags": self.tags.data or [], "cpv": self.cpv.data or [],
            "service_area": self.service_area.data or [],
            "stock": self.parsed_stock if self.kind.data == "product" else None,
            "stock_seen": int(self.stock_seen.data) if (self.stock_seen.data or "").isdigit() else None,
            "withdrawal_exception": self.withdrawal_exception.data or None,
        }

    def kept_images(self) -> list[tuple]:
        """The saved photos to keep, as (OfferingImage, alt) in the order asked for; unknown ids are ignored."""
        by_id = {str(image.id): image for image in (self.offering.images if self.offering else [])}
        rows, seen = [], set()
        for index, entry in enumerate(self.images):
            image = by_id.get(entry.form.image_id.data)
            if image is None or image.id in seen or entry.form.remove.data:
                continue
            seen.add(image.id)
            rows.append((entry.form.position.data or index + 1, index, image, (entry.form.alt.data or "").strip()))
        # Photos that the post did not mention stay, after the others, with their alt text.
        rows += [(MAX_IMAGES + 1, image.position, image, image.alt) for image in by_id.values()
                 if image.id not in seen and not self._removed(image)]
        return [(image, alt) for _pos, _index, image, alt in sorted(rows, key=lambda r: (r[0], r[1]))]

    def _removed(self, image) -> bool:
        return any(e.form.image_id.data == str(image.id) and e.form.remove.data for e in self.images)


def subcategory_groups() -> list[SelectChoice]:
    """The subcategory select's options, grouped by category (an <optgroup> each), after a "none" option."""
    options = [SelectChoice("", _("– bez podkategorii –"))]
    for slug, name in categories.choices():
        options += [SelectChoice(sub, label, optgroup=name) for sub, label in categories.subcategory_choices(slug)]
    return options


class StatusFilterForm(Form):
    """The panel's filter: a GET form, so it needs no token."""

    status = SelectField(_l("Status"), validators=[Optional()])

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.status.choices = [("", _("wszystkie"))] + [(s, str(STATUS_LABELS[s])) for s in STATUSES]

    def value(self) -> str | None:
        return self.status.data if self.status.data in STATUSES else None
