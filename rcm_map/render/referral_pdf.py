"""The referral sheet as a PDF (fpdf2), with the same content as the HTML sheet.

The text is set in DejaVu Sans, a Unicode TrueType font that the system provides
(Debian's ``fonts-dejavu-core``, installed by ``make setup``, ``.ci/run``, the
Dockerfile and ``packages.txt``); the project ships no font file. fpdf2 embeds the
subset of glyphs used, so the PDF opens anywhere and its text can be searched,
copied and read by screen readers. Phones, e-mails and websites are links.

Registry text is drawn as text only (no markup is interpreted), and control
characters are shown as U+FFFD, as in the HTML sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from fpdf.recorder import FPDFRecorder

from rcm_map.core import settings
from rcm_map.render.referral import Entry, ServiceBlock, Sheet

FONT_DIR_ENV = settings.PDF_FONT_DIR_ENV
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu: fonts-dejavu-core
    "/usr/share/fonts/dejavu-sans-fonts",  # Fedora: dejavu-sans-fonts
    "/usr/share/fonts/TTF",  # Arch: ttf-dejavu
    "/usr/share/fonts/dejavu",  # Alpine: font-dejavu
)
FAMILY = "DejaVu"
LABEL_WIDTH_MM = 45.0
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class FontMissingError(RuntimeError):
    """No DejaVu Sans font was found; the message says where it looked and the fix."""


def font_dir(explicit: str | Path | None = None) -> Path:
    """The folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf.

    Looks in `explicit`, else ``$RCM_MAP_PDF_FONT_DIR``, else the usual system folders.

    Raises
    ------
    FontMissingError
        When no candidate folder holds both files.
    """
    chosen = explicit or settings.text(FONT_DIR_ENV)
    candidates = [Path(chosen)] if chosen else [Path(d) for d in FONT_DIRS]
    for folder in candidates:
        if all((folder / name).is_file() for name in FONT_FILES.values()):
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise FontMissingError(
        f"No {' and '.join(FONT_FILES.values())} in {looked}. Install Debian's "
        f"fonts-dejavu-core (apt-get install fonts-dejavu-core) or set {FONT_DIR_ENV} "
        "to a folder holding both files.")


def pdf_available() -> bool:
    """True when the PDF sheet can be made on this machine (its font is installed)."""
    try:
        font_dir()
    except FontMissingError:
        return False
    return True


def _clean(text: str) -> str:
    """Text as drawn: control characters (except newlines) become U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


class _SheetPDF(FPDF):
    """A4 pages with "Page n of N" at the foot."""

    def __init__(self, page_text: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.page_text = page_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        text = self.page_text.format(n=self.page_no(), total="{nb}")
        self.cell(0, 5, text, align="C")


def _rows(entry: Entry) -> Iterator[tuple[str, str, str]]:
    """(label, text, link) table rows: each link its own row, plain items joined."""
    label = entry.label
    if entry.lines or not any(i.href for i in entry.items):
        sep = "\n" if entry.lines else ", "
        yield label, sep.join(i.text for i in entry.items), ""
        return
    for item in entry.items:
        yield label, item.text, item.href
        label = ""


def _table(pdf: FPDF | FPDFRecorder, entries: Sequence[Entry]) -> None:
    """Label / value rows without borders; links blue and underlined."""
    width = pdf.epw
    link_style = FontFace(color=(0, 0, 160), emphasis="UNDERLINE")
    label_style = FontFace(color=(70, 70, 70))
    with pdf.table(col_widths=(LABEL_WIDTH_MM, width - LABEL_WIDTH_MM),
                   borders_layout="NONE", first_row_as_headings=False,
                   text_align="LEFT", v_align="TOP", line_height=5,
                   padding=(0.6, 1, 0.6, 0)) as table:
        for label, text, link in (row for e in entries for row in _rows(e)):
            row = table.row()
            row.cell(_clean(label), style=label_style)
            if link:
                row.cell(_clean(text), link=link, style=link_style)
            else:
                row.cell(_clean(text))


def _service(pdf: FPDF, block: ServiceBlock) -> None:
    """One service, kept on one page: it starts a new page when it would not fit on
    this one (unless it is taller than a page: then it starts where it is)."""
    start, page = pdf.get_y(), pdf.page
    with pdf.offset_rendering() as trial:  # a dry run, rewound afterwards
        _draw_service(trial, block)
        # A table may break pages even here: count each page it ran onto as a full one.
        height = trial.get_y() - start + (trial.page - page) * pdf.eph
    bottom = pdf.page_break_trigger
    if start + height > bottom and pdf.t_margin + height <= bottom:
        pdf.add_page()
    _draw_service(pdf, block)


def _draw_service(pdf: FPDF | FPDFRecorder, block: ServiceBlock) -> None:
    """Name, organisation and entries of one service, from the current position."""
    pdf.ln(2)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(0, 6, _clean(block.name), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    if block.organization:
        pdf.multi_cell(0, 5, _clean(block.organization), align="L",
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FAMILY, "", 9.5)
    _table(pdf, block.entries)


def sheet_pdf(sheet: Sheet, fonts: str | Path | None = None) -> bytes:
    """A `Sheet` as PDF bytes (A4).

    Parameters
    ----------
    sheet
        From `rcm_map.render.referral.build_sheet`.
    fonts
        Folder holding the DejaVu Sans files; see `font_dir`.

    Raises
    ------
    FontMissingError
        When the font is not installed.
    """
    folder = font_dir(fonts)
    texts = sheet.texts
    pdf = _SheetPDF(texts["page"])
    for style, name in FONT_FILES.items():
        pdf.add_font(FAMILY, style, str(folder / name))
    pdf.set_lang(sheet.lang)
    pdf.set_title(texts["title"])
    pdf.set_creator("rcm_map")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 8, texts["title"], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(0, 6, f"{texts['generated']} {sheet.generated_on}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 10)
    pdf.multi_cell(0, 5, texts["verify"], border=1, align="L", padding=2,
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 6, texts["searched"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9.5)
    _table(pdf, sheet.searched)
    pdf.ln(1)
    pdf.set_font(FAMILY, "", 9)
    pdf.multi_cell(0, 4.5, texts["privacy"], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    for block in sheet.services:
        _service(pdf, block)
    if not sheet.services:
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 6, texts["empty"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

