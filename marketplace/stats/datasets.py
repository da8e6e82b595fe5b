"""The page's datasets: the figures of queries.py with their names in the current language, every powiat,
legal form, category and month listed (a zero is a figure too), in one shape that feeds the chart, the table
and the CSV alike."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from catalog import categories
from marketplace import region
from marketplace.core.reports import csv_bytes
from marketplace.pes.labels import legal_form_choices
from marketplace.pes.models import Pes
from marketplace.stats import queries


@dataclass(frozen=True)
class Row:
    label: str  # in the table and the chart
    values: tuple[int, ...]
    key: str = ""  # in the CSV: the code, or the month as 2026-03


@dataclass(frozen=True)
class Dataset:
    name: str  # the CSV's address: /statystyki/<name>.csv
    heading: str  # the section's
    title: str  # the chart's and the table's caption
    note: str  # what is counted, said once under the heading
    label_heading: str
    key_heading: str  # the CSV's column of codes
    series: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def totals(self) -> tuple[int, ...]:
        return tuple(sum(column) for column in zip(*(r.values for r in self.rows))) or (0,) * len(self.series)


def _listed(counts: dict[str, int], choices: list[tuple[str, str]]) -> tuple[Row, ...]:
    """One row per known code in the data file's order, then any code the data file does not know."""
    known = {code for code, _label in choices}
    rows = [Row(label, (counts.get(code, 0),), code) for code, label in choices]
    rows += [Row(code, (n,), code) for code, n in sorted(counts.items()) if code not in known]
    return tuple(rows)


def pes_by_powiat(name: str, _today: date) -> Dataset:
    return Dataset(
        name, heading=_("PES według powiatu"), title=_("Zweryfikowane PES według powiatu siedziby"),
        note=_("Podmioty zweryfikowane przez ośrodek regionalny, według powiatu, w którym mają siedzibę."),
        label_heading=_("Powiat"), key_heading=_("Kod TERYT"), series=(_("Zweryfikowane PES"),),
        rows=_listed(queries.verified_pes_by(Pes.powiat), region.powiat_choices()))


def pes_by_legal_form(name: str, _today: date) -> Dataset:
    return Dataset(
        name, heading=_("PES według formy prawnej"), title=_("Zweryfikowane PES według formy prawnej"),
        note=_("Te same podmioty według formy prawnej."),
        label_heading=_("Forma prawna"), key_heading=_("Kod"), series=(_("Zweryfikowane PES"),),
        rows=_listed(queries.verified_pes_by(Pes.legal_form), legal_form_choices()))


def offerings_by_category(name: str, _today: date) -> Dataset:
    return Dataset(
        name, heading=_("Oferty według kategorii"), title=_("Opublikowane oferty według kategorii"),
        note=_("Oferty widoczne w katalogu: opublikowane, niezablokowane, zweryfikowanych podmiotów."),
        label_heading=_("Kategoria"), key_heading=_("Kod"), series=(_("Oferty"),),
        rows=_listed(queries.public_offerings_by_category(), categories.choices()))


def marks_by_category(name: str, today: date) -> Dataset:
    return Dataset(
        name, heading=_("Znaki jakości"), title=_("Znaki jakości ważne dziś według kategorii oferty"),
        note=_("Znaki, które nie są zawieszone ani cofnięte i których okres ważności obejmuje dzisiejszy dzień."),
        label_heading=_("Kategoria"), key_heading=_("Kod"), series=(_("Ważne znaki jakości"),),
        rows=_listed(queries.valid_marks_by_category(today), categories.choices()))


def _months(starts: list[date], figures: list[tuple[int, int]]) -> tuple[Row, ...]:
    return tuple(Row(format_date(day, "LLLL yyyy"), values, day.strftime("%Y-%m"))
                 for day, values in zip(starts, figures))


def inquiries_monthly(name: str, today: date) -> Dataset:
    starts = queries.month_starts(today)
    return Dataset(
        name, heading=_("Zapytania i odpowiedzi"),
        title=_("Zapytania wysłane i zapytania z odpowiedzią, według miesiąca wysłania"),
        note=_("Zapytanie gościa liczy się od potwierdzenia adresu e-mail. Z odpowiedzią: co najmniej jeden "
               "podmiot odpisał lub przysłał ofertę cenową (także w kolejnym miesiącu)."),
        label_heading=_("Miesiąc"), key_heading=_("Miesiąc (RRRR-MM)"),
        series=(_("Wysłane"), _("Z odpowiedzią PES")),
        rows=_months(starts, queries.inquiries_by_month(starts)))


def purchasers_monthly(name: str, today: date) -> Dataset:
    starts = queries.month_starts(today)
    return Dataset(
        name, heading=_("Zamawiający publiczni"),
        title=_("Zapytania zamawiających publicznych i przyjęte oferty, według miesiąca wysłania"),
        note=_("Zapytania wysłane przez zamawiających publicznych, których związek z instytucją (gminą, "
               "powiatem lub ich jednostką) sprawdził urząd, oraz te z nich, w których przyjęto ofertę cenową."),
        label_heading=_("Miesiąc"), key_heading=_("Miesiąc (RRRR-MM)"),
        series=(_("Zapytania zamawiających publicznych"), _("Zakończone przyjęciem oferty")),
        rows=_months(starts, queries.purchaser_inquiries_by_month(starts)))


Builder = Callable[[str, date], Dataset]
# In the page's order; the keys are the CSV names. The first group counts what is there today, the second
# the last 12 months.
CURRENT: dict[str, Builder] = {"pes-powiaty": pes_by_powiat, "pes-formy-prawne": pes_by_legal_form,
                               "oferty-kategorie": offerings_by_category, "znaki-jakosci": marks_by_category}
MONTHLY: dict[str, Builder] = {"zapytania": inquiries_monthly, "zamawiajacy-publiczni": purchasers_monthly}
BUILDERS: dict[str, Builder] = {**CURRENT, **MONTHLY}


def build(name: str, today: date) -> Dataset | None:
    """The dataset of that name as of today, or None for a name the page does not have."""
    builder = BUILDERS.get(name)
    return builder(name, today) if builder else None


def build_group(group: dict[str, Builder], today: date) -> list[Dataset]:
    return [builder(name, today) for name, builder in group.items()]


def headline(built: list[Dataset]) -> list[tuple[str, int]]:
    """The totals the page opens with, for a reader who wants one number of each kind."""
    by_name = {d.name: d for d in built}
    wanted = [("pes-powiaty", _("Zweryfikowane PES")), ("oferty-kategorie", _("Opublikowane oferty")),
              ("znaki-jakosci", _("Znaki jakości ważne dziś")),
              ("zapytania", _("Zapytania wysłane w ostatnich 12 miesiącach")),
              ("zamawiajacy-publiczni", _("w tym od zamawiających publicznych"))]
    return [(label, by_name[name].totals[0]) for name, label in wanted if name in by_name]


def to_csv(dataset: Dataset) -> bytes:
    """The dataset as the portal's other CSV downloads are: for Polish Excel, cells never run as formulas."""
    heading = [dataset.label_heading, dataset.key_heading, *dataset.series]
    return csv_bytes([heading] + [[row.label, row.key, *row.values] for row in dataset.rows])
