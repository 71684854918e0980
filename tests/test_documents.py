"""PDF and Word files: their text as paragraphs, their title and date, and a reason for
each one that cannot be read (scanned, locked, damaged)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.ask.pipeline import Pipeline
from rag.catalog import get_article
from rag.indexing.documents import read_pdf
from rag.indexing.indexer import IndexSummary, sync
from rag.indexing.loaders import read_file
from rag.settings import Settings
from tests.conftest import SAMPLE
from tests.office_files import (
    BUDGET,
    GENEVA,
    locked_pdf,
    make_docx,
    make_pdf,
    scanned_pdf,
)

CREATED = datetime(2023, 11, 21, 9, 30, tzinfo=UTC)


def read(tmp_path: Path, name: str, data: bytes):
    (tmp_path / name).write_bytes(data)
    return read_file(tmp_path / name, name, 10_000_000)


def test_a_pdf_gives_its_title_date_author_and_paragraphs(tmp_path: Path):
    data = make_pdf(GENEVA[1:], title=GENEVA[0], author="Jane Doe", created=CREATED)
    result = read(tmp_path, "geneva.pdf", data)
    assert result.skipped == []
    (article,) = result.articles
    assert article.title == GENEVA[0]
    assert article.published_at == "2023-11-21T09:30:00+00:00"
    assert article.extra == {"author": "Jane Doe"}
    # fpdf2 wrapped each paragraph over several lines; they are one paragraph again.
    assert article.text == "\n\n".join(GENEVA[1:])


def test_line_end_hyphens_are_joined_and_names_keep_theirs(tmp_path: Path):
    wrapped = [
        "Officials met in Geneva to discuss an inter-\nnational agreement on the Franco-\n"
        "German border crossings, the delegates said on Tuesday evening.",
        "A second paragraph follows the gap.",
    ]
    (article,) = read(tmp_path, "wrap.pdf", make_pdf(wrapped, width=120)).articles
    first, second = article.text.split("\n\n")
    assert "an international agreement on the Franco-German border crossings" in first
    assert "\n" not in first and second == "A second paragraph follows the gap."


def test_without_metadata_the_headline_and_dateline_come_from_the_first_lines(tmp_path: Path):
    data = make_pdf([GENEVA[0], "Reuters, November 21, 2023", *GENEVA[1:]])
    (article,) = read(tmp_path, "geneva.pdf", data).articles
    assert article.title == GENEVA[0]
    assert article.published_at == "2023-11-21"
    assert article.source == "Reuters"
    assert article.text.startswith("Representatives of the world's largest chip makers")


def test_a_date_in_the_first_lines_outranks_the_file_creation_date(tmp_path: Path):
    data = make_pdf([GENEVA[0], "November 20, 2023", *GENEVA[1:]], created=CREATED)
    (article,) = read(tmp_path, "geneva.pdf", data).articles
    assert article.published_at == "2023-11-20"


def test_a_file_name_as_pdf_title_is_not_the_title(tmp_path: Path):
    data = make_pdf(GENEVA, title="Microsoft Word - geneva_final.docx")
    (article,) = read(tmp_path, "geneva.pdf", data).articles
    assert article.title == GENEVA[0]


def test_pages_numbers_go_and_a_sentence_cut_by_a_page_break_is_joined():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 6, "The delegates agreed that the talks would continue")
    pdf.set_y(280)
    pdf.cell(0, 6, "1")
    pdf.add_page()
    pdf.multi_cell(0, 6, "in January, after the holidays.")
    pdf.set_y(280)
    pdf.cell(0, 6, "Page 2 of 2")
    text = read_pdf(bytes(pdf.output())).text
    assert text == (
        "The delegates agreed that the talks would continue in January, after the holidays."
    )


def test_a_page_in_two_columns_reads_one_column_after_the_other():
    from fpdf import FPDF

    left = "Chip makers met in Geneva on Tuesday. " * 4 + "The talks ended late."
    right = "Rain is forecast in Geneva on Wednesday. " * 4 + "Winds will be light."
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(10, 20)
    pdf.multi_cell(85, 6, left)
    pdf.set_xy(110, 20)
    pdf.multi_cell(85, 6, right)
    paragraphs = read_pdf(bytes(pdf.output())).text.split("\n\n")
    assert paragraphs == [" ".join(left.split()), " ".join(right.split())]


def test_a_docx_gives_its_properties_headline_and_paragraphs(tmp_path: Path):
    data = make_docx(BUDGET[1:], heading=BUDGET[0], author="Ines Ortega", created=CREATED)
    result = read(tmp_path, "budget.docx", data)
    assert result.skipped == []
    (article,) = result.articles
    # A short headline styled as one is the title though the properties name none.
    assert article.title == BUDGET[0]
    assert article.published_at == "2023-11-21T09:30:00+00:00"
    assert article.extra == {"author": "Ines Ortega"}
    assert article.text == "\n\n".join(BUDGET[1:])


def test_a_docx_heading_outranks_its_title_property(tmp_path: Path):
    data = make_docx(BUDGET[1:], heading="Flood money", title="Draft 3 (old)")
    (article,) = read(tmp_path, "budget.docx", data).articles
    assert article.title == "Flood money"
    # python-docx's template date and author are no one's: no date, no author.
    assert article.published_at is None and article.extra == {}
    assert article.text == "\n\n".join(BUDGET[1:])
    (plain,) = read(tmp_path, "plain.docx", make_docx(BUDGET[1:], title="Flood money")).articles
    assert plain.title == "Flood money" and plain.text == article.text


@pytest.mark.parametrize("day", ["2023-11-21", "November 21, 2023", "21 Nov 2023"])
def test_a_day_under_a_docx_heading_is_its_date(tmp_path: Path, day: str):
    data = make_docx([day, *BUDGET[1:]], heading="Flood money")
    (article,) = read(tmp_path, "budget.docx", data).articles
    assert (article.published_at or "")[:10] == "2023-11-21"
    assert article.text == "\n\n".join(BUDGET[1:])


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("scan.pdf", scanned_pdf(), "PDF without a text layer (a scan or images only)"),
        ("locked.pdf", locked_pdf(), "encrypted PDF: it needs a password to open"),
        ("broken.pdf", make_pdf(GENEVA)[:400], "damaged PDF, cannot be read"),
        ("junk.pdf", b"%PDF-1.4 whatever", "damaged PDF, cannot be read"),
        ("empty.pdf", b"", "empty file"),
        ("broken.docx", make_docx(BUDGET)[:500], "damaged .docx, cannot be read"),
        ("notes.docx", b"plain text with a .docx name", "damaged .docx, cannot be read"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old .doc format"),
    ],
)
def test_unreadable_documents_are_skipped_with_a_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
):
    result = read(tmp_path, name, data)
    assert result.articles == []
    (skip,) = result.skipped
    assert skip.path == name and reason in skip.reason


# --- indexed and asked: the real model, real Chroma -----------------------------------


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    """The sample articles with a PDF, a .docx and four files that cannot be read,
    indexed once; a second run after the readable ones are indexed adds the bad ones."""
    root = tmp_path_factory.mktemp("documents")
    folder = root / "articles"
    shutil.copytree(SAMPLE, folder)
    settings = Settings(articles_dir=folder, index_dir=root / "index")
    first = sync(settings, embedder=embedder)
    (folder / "geneva.pdf").write_bytes(
        make_pdf(GENEVA[1:], title=GENEVA[0], author="Jane Doe", created=CREATED)
    )
    (folder / "budget.docx").write_bytes(make_docx(BUDGET[1:], heading=BUDGET[0]))
    (folder / "scan.pdf").write_bytes(scanned_pdf())
    (folder / "locked.pdf").write_bytes(locked_pdf())
    (folder / "broken.pdf").write_bytes(make_pdf(GENEVA)[:400])
    (folder / "broken.docx").write_bytes(make_docx(BUDGET)[:500])
    summary = sync(settings, embedder=embedder)
    pipeline = Pipeline(settings, embedder=embedder)
    yield settings, first, summary, pipeline
    pipeline.close()


@pytest.mark.integration
def test_documents_are_indexed_and_the_bad_ones_reported(library):
    settings, first, summary, _ = library
    summary: IndexSummary
    assert summary.added == ["budget.docx", "geneva.pdf"]
    assert summary.unchanged == 5 and summary.removed == []  # nothing indexed is lost
    assert summary.articles == first.articles + 2
    reasons = {s.path: s.reason for s in summary.skipped}
    assert sorted(reasons) == ["broken.docx", "broken.pdf", "locked.pdf", "scan.pdf"]
    assert reasons["scan.pdf"].startswith("PDF without a text layer")
    assert reasons["locked.pdf"].startswith("encrypted PDF")
    assert reasons["broken.pdf"].startswith("damaged PDF")
    assert reasons["broken.docx"].startswith("damaged .docx")
    assert "  skipped scan.pdf: PDF without a text layer" in "\n".join(summary.lines())

    pdf = get_article(settings, "geneva.pdf")
    assert (pdf["title"], pdf["published_at"]) == (GENEVA[0], "2023-11-21T09:30:00+00:00")
    assert pdf["extra"] == {"author": "Jane Doe"} and pdf["text"] == "\n\n".join(GENEVA[1:])
    word = get_article(settings, "budget.docx")
    assert word["title"] == BUDGET[0] and word["text"] == "\n\n".join(BUDGET[1:])


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "path", "words"),
    [
        (
            "Who said a draft text on chip export controls would follow in January?",
            "geneva.pdf",
            "Amelia Brandt",
        ),
        (
            "What did Mayor Ines Valdor say?",
            "budget.docx",
            "Ines Valdor",
        ),
    ],
)
def test_a_question_over_a_document_cites_its_text(library, question, path, words):
    settings, _, _, pipeline = library
    answer = pipeline.ask(question)
    assert not answer.abstained, answer.answer
    cited = answer.citations[0]
    assert pipeline.catalog.articles[cited.article_id].path == path
    assert words in cited.quote and words in answer.answer
    text = get_article(settings, path)["text"]
    assert text[cited.char_start : cited.char_end] == cited.quote


@pytest.mark.integration
def test_a_pdf_uploaded_through_the_api_is_indexed(tmp_path: Path, embedder):
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    settings.articles_dir.mkdir()
    pipeline = Pipeline(settings, embedder=embedder)
    data = make_pdf(GENEVA[1:], title=GENEVA[0], created=CREATED)
    try:
        with TestClient(create_app(settings, pipeline)) as client:
            saved = client.post(
                "/articles", files=[("files", ("geneva.pdf", data, "application/pdf"))]
            )
            assert saved.status_code == 201, saved.text
            assert saved.json()["saved"] == ["geneva.pdf"]
            assert (settings.articles_dir / "geneva.pdf").read_bytes() == data
            summary = client.post("/index").json()
            assert summary["added"] == ["geneva.pdf"] and summary["skipped"] == []
            (listed,) = client.get("/articles").json()
            assert listed["title"] == GENEVA[0]
    finally:
        pipeline.close()
