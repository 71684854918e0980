"""PDF and .docx fixtures, written by the tests themselves: fpdf2 (a test-only tool,
pinned in requirements.lock) writes the PDFs, python-docx the Word files."""

from __future__ import annotations

import io
from datetime import datetime

import docx
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image

GENEVA = [
    "Chip makers meet in Geneva over export rules",
    "Representatives of the world's largest chip makers met in Geneva on Tuesday to discuss "
    "an international agreement on export controls, officials said after the meeting ended "
    "late in the evening at the headquarters of the World Trade Organization.",
    "The talks were the first of their kind. Delegates from Taiwan, South Korea and the "
    "Netherlands attended, and the host, trade negotiator Amelia Brandt, said a draft text "
    "would follow in January.",
]

BUDGET = [
    "Harbour city council approves a record flood defence budget",
    "The council of Port Elvar voted on Monday to spend 42 million euros on sea walls and "
    "pumping stations, the largest flood defence budget in the city's history.",
    "Mayor Ines Valdor said the work would begin in spring and protect about 12,000 homes "
    "in the low-lying harbour district.",
]


def make_pdf(
    paragraphs: list[str],
    *,
    title: str | None = None,
    author: str | None = None,
    created: datetime | None = None,
    width: float = 0,
) -> bytes:
    """A text-layer PDF: one paragraph per block, wrapped by fpdf2 at ``width`` mm
    (0: the page's width), a blank gap between paragraphs. No date unless ``created``."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    if created:
        pdf.set_creation_date(created)
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for paragraph in paragraphs:
        pdf.multi_cell(width, 6, paragraph)
        pdf.ln(6)
    data = bytes(pdf.output())
    # fpdf2 always dates a file; renaming the key (same length, the offsets hold) drops it.
    return data if created else data.replace(b"/CreationDate", b"/XreationDate")


def scanned_pdf() -> bytes:
    """A page holding only an image: what a scanner writes, no text layer."""
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("RGB", (300, 400), "white"), x=10, y=10, w=150)
    return bytes(pdf.output())


def locked_pdf() -> bytes:
    """A PDF that needs a password to open."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 6, "Confidential text about the chip talks that nobody may read.")
    pdf.set_encryption(
        owner_password="owner", user_password="reader", encryption_method=EncryptionMethod.RC4
    )
    return bytes(pdf.output())


def make_docx(
    paragraphs: list[str],
    *,
    heading: str | None = None,
    title: str | None = None,
    author: str | None = None,
    created: datetime | None = None,
) -> bytes:
    """A Word file: ``heading`` as a Heading 1 paragraph, then the paragraphs."""
    document = docx.Document()
    properties = document.core_properties
    properties.title = title or ""
    properties.author = author or "python-docx"  # the template's own, read as none
    if created:
        properties.created = created
    if heading:
        document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
