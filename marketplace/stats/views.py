"""The public statistics page and its CSV downloads: open to everyone, as the programme reports to the public."""
from flask import Blueprint, Response, abort, render_template

from marketplace import clock
from marketplace.stats import charts, datasets

bp = Blueprint("stats", __name__)


def _with_charts(group: list[datasets.Dataset]) -> list[tuple[datasets.Dataset, charts.Chart]]:
    return [(d, charts.bar_chart(d.name, d.series, d.rows)) for d in group]


@bp.get("/statystyki")
def index():
    """What is in the portal today and what happened in the last 12 months, as charts with their tables."""
    today = clock.today()
    current = datasets.build_group(datasets.CURRENT, today)
    monthly = datasets.build_group(datasets.MONTHLY, today)
    return render_template("stats/index.html", today=today, headline=datasets.headline(current + monthly),
                           current=_with_charts(current), monthly=_with_charts(monthly))


@bp.get("/statystyki/<name>.csv")
def dataset_csv(name: str):
    """One dataset as CSV (semicolons, for a Polish spreadsheet), named with the day it shows."""
    today = clock.today()
    dataset = datasets.build(name, today)
    if dataset is None:
        abort(404)
    filename = f"statystyki-{dataset.name}-{today.isoformat()}.csv"
    return Response(datasets.to_csv(dataset), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
