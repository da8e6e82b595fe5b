"""The clause texts a purchaser copies into its notice, SWZ and contract, with its own values filled in.

Clauses are written in Polish whatever the page's language: they go into Polish tender documents. Each
instrument's text is built from the purchaser's values (groups, share, number of persons, period, how it is
verified, sanctions) and the legal values of the day, so nothing in it is a fixed number.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from marketplace.procurement.legal_state import LegalState
from marketplace.procurement.rules import Fit, money

VERIFICATION = {
    "statement": "oświadczenie wykonawcy wraz z wykazem osób (imię i nazwisko w formie zanonimizowanej, "
                 "grupa, rodzaj umowy, wymiar etatu)",
    "documents": "zanonimizowane kopie umów o pracę lub dokumenty potwierdzające przynależność do grupy "
                 "(np. orzeczenie o niepełnosprawności, zaświadczenie z urzędu pracy)",
    "inspection": "kontrola na miejscu wykonywania zamówienia, przeprowadzana przez zamawiającego",
}


@dataclass(frozen=True)
class Params:
    """The purchaser's values for the clauses."""
    groups: tuple[str, ...] = ("disabled", "unemployed")
    share: int = 30
    persons: int = 1
    months: int = 12
    verification: tuple[str, ...] = ("statement", "documents")
    penalty: Decimal = Decimal(1000)
    activities: str = ""
    accessibility: str = ""
    weight: int = 20


@dataclass
class Clause:
    code: str
    title: str
    paragraphs: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join([self.title] + self.paragraphs)


def persons(n: int) -> str:
    """"1 osobę", "3 osoby", "5 osób", "22 osoby": the accusative after a number, as Polish counts."""
    if n == 1:
        return "1 osobę"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} osoby"
    return f"{n} osób"


def _names(groups: list[dict], chosen) -> list[str]:
    return [g["pl"] for g in groups if g["code"] in chosen]


def _verification(params: Params) -> str:
    return "; ".join(VERIFICATION[v] for v in params.verification if v in VERIFICATION)


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "[wskaż grupy osób]"


def _art94(p: Params, legal: LegalState, day: date) -> Clause:
    names = _names(legal.groups("art94_groups", day), p.groups)
    return Clause("art94", "Zamówienie zastrzeżone (art. 94 Pzp)", [
        ("Zamawiający zastrzega, na podstawie art. 94 ust. 1 ustawy Prawo zamówień publicznych, że o udzielenie "
        "zamówienia mogą ubiegać się wyłącznie wykonawcy mający status zakładu pracy chronionej, spółdzielnie "
        "socjalne oraz wykonawcy, których głównym celem (lub celem ich wyodrębnionej jednostki, która wykona "
        "zamówienie) jest społeczna i zawodowa integracja osób społecznie marginalizowanych."),
        (f"Wykonawca wykaże, że co najmniej {p.share}% zatrudnionych przez niego osób (albo osób zatrudnionych w "
        f"jednostce, która wykona zamówienie) należy do co najmniej jednej z grup: {_listing(names)}."),
        f"Na potwierdzenie wykonawca złoży: {_verification(p)}.",
    ])


def _art95(p: Params, legal: LegalState, day: date) -> Clause:
    activities = p.activities.strip() or "[wskaż czynności, np. sprzątanie pomieszczeń, przygotowanie posiłków]"
    return Clause("art95", "Zatrudnienie na podstawie umowy o pracę (art. 95 Pzp)", [
        ("Zamawiający wymaga, aby wykonawca lub podwykonawca zatrudniał na podstawie stosunku pracy osoby "
        f"wykonujące w trakcie realizacji zamówienia następujące czynności: {activities}."),
        ("Na każde wezwanie zamawiającego, w terminie 7 dni, wykonawca przedstawi dowody zatrudnienia: "
        f"{_verification(p)}. Zamawiający może przeprowadzić kontrolę na miejscu."),
        (f"Za każdy stwierdzony przypadek niespełnienia wymogu zatrudnienia wykonawca zapłaci karę umowną w "
        f"wysokości {money(p.penalty)}; brak dowodów w terminie traktuje się jak niespełnienie wymogu."),
    ])


def _art96(p: Params, legal: LegalState, day: date) -> Clause:
    names = _names(legal.groups("art96_groups", day), p.groups)
    return Clause("art96", "Zatrudnienie osób z grup art. 96 ust. 2 pkt 2 Pzp", [
        (f"Zamawiający wymaga, aby wykonawca zatrudnił przy realizacji zamówienia "
        f"{persons(p.persons)} z co najmniej jednej z grup: {_listing(names)}, "
        f"na okres co najmniej {p.months} mies. (art. 96 ust. 2 pkt 2 i ust. 3 ustawy Prawo zamówień publicznych)."),
        (f"Sposób weryfikacji: {_verification(p)}; dokumenty wykonawca przedstawia w terminie 7 dni od wezwania "
        "i przy każdej zmianie zatrudnionej osoby."),
        f"Za każdy miesiąc niespełnienia wymogu wykonawca zapłaci karę umowną w wysokości {money(p.penalty)}.",
    ])


def _art100(p: Params, legal: LegalState, day: date) -> Clause:
    wanted = p.accessibility.strip() or ("[opisz wymagania, np. wejście bez progów, czytelna informacja, "
                                         "materiały w formie dostępnej cyfrowo]")
    return Clause("art100", "Wymagania dostępności (art. 100 Pzp)", [
        ("Opis przedmiotu zamówienia uwzględnia wymagania w zakresie dostępności dla osób niepełnosprawnych oraz "
        f"projektowania z przeznaczeniem dla wszystkich użytkowników: {wanted}."),
        ("Zamawiający sprawdzi spełnienie wymagań dostępności przy odbiorze przedmiotu zamówienia; wynik "
        "sprawdzenia wpisuje się do protokołu odbioru, a niespełnienie wymagań jest wadą przedmiotu zamówienia."),
    ])


def _art242(p: Params, legal: LegalState, day: date) -> Clause:
    names = _names(legal.groups("art94_groups", day), p.groups)
    return Clause("art242", "Kryterium społeczne oceny ofert (art. 242 ust. 2 Pzp)", [
        (f"Kryterium „Aspekty społeczne” – waga {p.weight}%. Wykonawca otrzyma punkty za zobowiązanie do "
        f"zatrudnienia przy realizacji zamówienia osób z grup: {_listing(names)}: "
        f"{p.weight} pkt za co najmniej "
        f"{persons(p.persons)} na okres co najmniej {p.months} mies., 0 pkt bez "
        "zobowiązania."),
        (f"Zobowiązanie staje się częścią umowy; weryfikacja: {_verification(p)}; za niedotrzymanie zobowiązania "
        f"kara umowna {money(p.penalty)} za każdy miesiąc."),
    ])


def _art361(p: Params, legal: LegalState, day: date) -> Clause:
    years = legal.amount("art361_max_years", day)
    return Clause("art361", "Zamówienie zastrzeżone na usługi społeczne (art. 361 Pzp)", [
        ("Zamawiający zastrzega, na podstawie art. 361 ust. 1 ustawy Prawo zamówień publicznych, że o udzielenie "
        "zamówienia mogą ubiegać się wyłącznie wykonawcy, których celem jest realizacja misji publicznej "
        "związanej ze świadczeniem usług objętych zamówieniem i którzy spełniają łącznie pozostałe warunki "
        "art. 361 ust. 2."),
        (f"Umowa zostanie zawarta na okres {min(p.months, int(years) * 12)} mies., nie dłuższy niż {years} lata. "
        "Wykonawca potwierdzi spełnienie warunków oświadczeniem oraz dokumentami, np. statutem lub umową "
        "spółki i sprawozdaniem z działalności."),
    ])


def _art15a(p: Params, legal: LegalState, day: date) -> Clause:
    return Clause("below_threshold", "Zakup zastrzeżony dla spółdzielni socjalnych (art. 15a)", [
        ("Zamawiający zastrzega, na podstawie art. 15a ustawy z dnia 27 kwietnia 2006 r. o spółdzielniach "
        "socjalnych, że o udzielenie zamówienia mogą ubiegać się wyłącznie spółdzielnie socjalne."),
        ("Zastrzeżenie wpisuje się we wniosku o udzielenie zamówienia i w dokumentach zakupu (zapytaniu "
        "ofertowym)."),
    ])


BUILDERS = {"art94": _art94, "art95": _art95, "art96": _art96, "art100": _art100, "art242": _art242,
            "art361": _art361}


def build(fits: list[Fit], params: Params, legal: LegalState, day: date, art15a: bool) -> list[Clause]:
    """The clauses of every fitting instrument, in the order the instruments are listed."""
    out = [BUILDERS[f.code](params, legal, day) for f in fits if f.fits and f.code in BUILDERS]
    if art15a:
        out.insert(0, _art15a(params, legal, day))
    return out
