"""The A4 PDF of the portal's downloadable documents, in Lato (its Polish letters) with the portal's name and
the page number at every foot. This module loads fpdf2: import it in the function that makes a PDF, not at
the top of a module that a blueprint imports. Paragraphs and tables for it are in marketplace.core.reports."""
import font_lato
from flask_babel import gettext as _
from fpdf import FPDF

from marketplace.core.reports import portal_name


class Document(FPDF):
    """A4 in Lato, with the portal and the page number at every foot."""

    def __init__(self, orientation: str = "L"):
        super().__init__(orientation=orientation, format="A4")
        self.add_font("Lato", "", font_lato.font_files["Lato"])
        self.add_font("Lato", "B", font_lato.font_files["LatoBold"])
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(True, margin=15)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font("Lato", size=7)
        generated = _("Wygenerowano w portalu „%(portal)s”.", portal=portal_name())
        self.cell(w=self.epw * 0.8, h=5, text=generated)
        self.cell(w=0, h=5, text=_("strona %(page)s z %(pages)s", page=self.page_no(), pages="{nb}"),
                  align="R")
