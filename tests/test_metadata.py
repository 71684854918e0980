from pathlib import Path

import pytest

from rag.indexing.loaders import read_file
from rag.indexing.metadata import parse_date, peel_plain_text, source_from_url
from tests.conftest import SAMPLE


def load(name: str):
    result = read_file(SAMPLE / name, name, 10_000_000)
    assert not result.skipped
    (article,) = result.articles
    return article


def test_bare_section_tag_is_not_a_title():
    article = load("000_714c03abbce0677d.txt")
    assert article.title.startswith("Senior officials from China’s Ministry of Industry")
    assert not article.text.startswith("China US")
    # The glued sentences of this article are split in the stored text.
    assert "exchanges. On Monday, Zhang Yunming" in article.text


def test_breadcrumb_is_skipped_and_headline_kept():
    article = load("001_567c3a3b59d5760a.txt")
    assert article.title == "Vice Minister Zhang Guangjun Meets AmCham China President Michael Hart"
    assert "Home >" not in article.text
    assert article.text.startswith("On July 14, 2023, Vice Minister Zhang Guangjun")


def test_content_source_trailer_becomes_the_source():
    article = load("003_fe8ac2ac26afd88f.txt")
    assert article.source == "washingtontimes.com"
    assert "Content Source" not in article.text
    assert article.text.startswith("BEIJING (AP)")
    assert article.title.startswith("The prime Chinese official")  # dateline dropped
    assert article.published_at is None  # unknown stays unknown


def test_headline_line_is_the_title():
    assert load("004_a013c1e59fc04a42.txt").title == (
        "Top Chinese official tells the US commerce secretary he’s ready to improve cooperation"
    )


def test_front_matter_fields(tmp_path: Path):
    file = tmp_path / "a.md"
    file.write_text(
        "---\ntitle: Chips deal\nsource: Reuters\ndate: 2023-08-29\nurl: https://x.com/a\nauthor: Jo\n---\n"
        "# Ignored heading because front matter has a title\n\nThe two sides agreed on chip export talks today.\n"
    )
    (article,) = read_file(file, "a.md", 10_000).articles
    assert (article.title, article.source, article.published_at, article.url) == (
        "Chips deal",
        "Reuters",
        "2023-08-29",
        "https://x.com/a",
    )
    assert article.extra == {"author": "Jo"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-11-27T08:45:59+00:00", "2023-11-27T08:45:59+00:00"),
        ("2023-11-27T08:45:59Z", "2023-11-27T08:45:59+00:00"),
        ("2023-08-29", "2023-08-29"),
        ("August 29, 2023", "2023-08-29"),
        ("Tue, 29 Aug 2023 10:00:00 GMT", "2023-08-29T10:00:00+00:00"),
        ("last Tuesday", None),
        ("", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_source_from_url():
    assert source_from_url("https://www.apnews.com/article/x") == "apnews.com"
    assert source_from_url(None) is None


def test_peel_keeps_body_when_there_is_no_header():
    header = peel_plain_text(
        "Just one paragraph of text that is the entire article body, nothing else."
    )
    assert header.title is None
    assert header.body.startswith("Just one paragraph")


@pytest.mark.parametrize(
    ("name", "text", "source", "day"),
    [
        (
            "a.txt",
            "Adobe: Thanksgiving online sales nudge up to $5.6B\nTechCrunch, November 24, 2023\n\n"
            "Thanksgiving Thursday has become the start of the season.\n",
            "TechCrunch",
            "2023-11-24",
        ),
        (
            "b.md",
            "# Tottenham’s Unbeaten Run Ends With Home Loss to Chelsea\n\n"
            "*Sport Grill — November 6, 2023*\n\nNine-men Tottenham suffered their first loss.\n",
            "Sport Grill",
            "2023-11-06",
        ),
        (
            "c.md",
            "# Fed holds rates steady for a third meeting\n\nBy Jane Doe · Reuters · 1 Nov 2023\n\n"
            "The Federal Reserve held rates.\n",
            "Reuters",
            "2023-11-01",
        ),
        (
            "d.txt",
            "Fed holds rates steady for a third meeting\nWASHINGTON, Nov. 1, 2023\n\n"
            "The Federal Reserve held rates.\n",
            None,
            "2023-11-01",
        ),
    ],
)
def test_the_line_under_a_headline_gives_the_outlet_and_day(
    tmp_path: Path, name: str, text: str, source: str | None, day: str
):
    """Found trying the product as a new user: 24 Markdown and text articles written the
    way people save them — headline, then "Outlet, date" — were all "unknown source ·
    undated", so no date answered "when" and no outlet could be asked about."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (article,) = read_file(path, name, 10_000_000).articles
    assert (article.source, article.published_at) == (source, day)
    assert article.text.startswith(("Thanksgiving", "Nine-men", "The Federal"))


def test_a_first_sentence_with_a_date_is_story_not_byline():
    header = peel_plain_text(
        "Officials meet in Beijing to discuss export controls\n"
        "Officials met on November 24, 2023.\n\nThey talked for hours.\n"
    )
    assert header.published_at is None and header.source is None
    assert header.body.startswith("Officials met on November 24, 2023.")


@pytest.mark.parametrize(
    ("text", "source", "day", "author", "starts"),
    [
        (  # labelled lines under the headline
            "Fed holds rates steady for a third meeting\nPublished: Nov. 1, 2023 at 2:00 p.m. ET\n"
            "Updated: November 2, 2023\nSource: Reuters\n\nThe Federal Reserve held rates.\n",
            "Reuters",
            "2023-11-01",
            None,
            "The Federal",
        ),
        (  # above the headline, in Markdown bold; an update's day when no other
            "**Updated:** 2023-11-02T08:15:00Z\n**Source:** www.reuters.com\n\n"
            "# Fed holds rates steady for a third meeting\n\nThe Federal Reserve held rates.\n",
            "reuters.com",
            "2023-11-02T08:15:00+00:00",
            None,
            "The Federal",
        ),
        (  # a writers' line naming the outlet
            "Fed holds rates steady for a third meeting\nBy Jane Doe and Li Wei for Reuters\n"
            "Date: 1 November 2023\n\nThe Federal Reserve held rates.\n",
            "Reuters",
            "2023-11-01",
            "Jane Doe and Li Wei",
            "The Federal",
        ),
        (  # an agency's dateline without the year: the outlet only, the dateline kept
            "Fed holds rates steady for a third meeting\n\n"
            "WASHINGTON, Nov 1 (Reuters) - The Federal Reserve held rates.\n",
            "Reuters",
            None,
            None,
            "WASHINGTON, Nov 1 (Reuters) - The",
        ),
        (  # with the year, and no headline at all
            "WASHINGTON, Nov. 1, 2023 (AP) — The Federal Reserve held rates on Wednesday.\n",
            "AP",
            "2023-11-01",
            None,
            "WASHINGTON",
        ),
        (  # a labelled day outranks the dateline's; a plain dateline names no outlet
            "Date: 2023-11-01\nWASHINGTON — The Federal Reserve held rates on Wednesday.\n",
            None,
            "2023-11-01",
            None,
            "WASHINGTON —",
        ),
        (  # the editors' trailer is no outlet (too weak)
            "Fed holds rates steady for a third meeting\n\nThe Federal Reserve held rates.\n"
            "(Reporting by Jane Doe; Editing by Li Wei)\n",
            None,
            None,
            None,
            "The Federal",
        ),
    ],
)
def test_plain_text_headers_give_date_outlet_and_writer(
    tmp_path: Path, text: str, source: str | None, day: str | None, author: str | None, starts: str
):
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    (article,) = read_file(path, "a.txt", 10_000).articles
    assert (article.source, article.published_at) == (source, day)
    assert article.extra.get("author") == author
    assert article.text.startswith(starts)
    assert "Published" not in article.text and "Source:" not in article.text


def test_front_matter_outranks_the_lines_under_the_headline(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text(
        "---\nsource: AP\ndate: 2023-10-31\nauthor: Sam Roe\n---\n"
        "Fed holds rates steady for a third meeting\nPublished: November 1, 2023\n"
        "By Jane Doe for Reuters\n\nThe Federal Reserve held rates.\n"
    )
    (article,) = read_file(path, "a.md", 10_000).articles
    assert (article.source, article.published_at) == ("AP", "2023-10-31")
    assert article.extra == {"author": "Sam Roe"}


def test_story_lines_that_look_like_labels_stay_story():
    header = peel_plain_text(
        "Fed holds rates steady for a third meeting\n"
        "By the time markets opened, traders had priced in a pause.\n\n"
        "Date: to be announced.\n"
    )
    assert header.published_at is None and header.author is None
    assert header.body.startswith("By the time markets opened")
