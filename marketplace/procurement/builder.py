"""One run of the clause builder: the inputs read from the form, the regime and instruments the rules give,
the clause texts, and the legal state used. Views, documents and saved results all start from here.
"""
from dataclasses import dataclass
from datetime import date

from marketplace import clock
from marketplace.procurement import clauses, rules, shortlist
from marketplace.procurement.legal_state import LegalState


@dataclass
class Result:
    inputs: rules.Inputs
    params: clauses.Params
    regime: rules.Regime
    fits: list[rules.Fit]
    clauses: list[clauses.Clause]
    legal: LegalState
    computed_on: date
    art15a: bool = False

    @property
    def fitting(self) -> list[rules.Fit]:
        return [f for f in self.fits if f.fits]

    def default_list(self) -> str:
        """Which shortlist to show first: the reservation that fits, else every matching PES."""
        if any(f.code == "art94" for f in self.fitting):
            return "art94"
        return "art15a" if self.art15a else "all"

    def min_share(self) -> int:
        """The share of art. 94 the shortlist asks of a PES: the purchaser's own, never below the law's."""
        return max(int(self.legal.amount("reserved_min_share", self.inputs.start)), self.params.share)


def run(inputs: rules.Inputs, params: clauses.Params, legal: LegalState, day: date | None = None) -> Result:
    """The result as computed on `day` (today, or the day a saved result was saved)."""
    reg, fits = rules.evaluate(inputs, legal)
    art15a = rules.art15a_offered(inputs, reg, legal)
    texts = clauses.build(fits, params, legal, inputs.start, art15a)
    legal.entry("reserved_min_share", inputs.start)
    return Result(inputs, params, reg, fits, texts, legal, day or clock.today(), art15a)


def suppliers(result: Result, kind: str | None = None, limit: int = shortlist.LIMIT):
    """The live shortlist for a result: its place, subject, and the chosen reservation's conditions."""
    kind = kind if kind in shortlist.FILTERS else result.default_list()
    found, total = shortlist.find(result.inputs.categories, result.inputs.cpv, result.inputs.powiats, kind,
                                  result.min_share(), limit=limit)
    return kind, found, total
