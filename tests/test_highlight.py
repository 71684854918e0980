"""Marking a cited span in its text, with the text escaped (article text is data, not markup)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.ask.highlight import (
    escape_markdown,
    excerpt,
    excerpt_html,
    in_passage,
    segments,
    segments_html,
    to_html,
    window,
)


def test_segments_cut_the_text_around_the_span():
    parts = segments("He said yes. Then he left.", 8, 12)
    assert (parts.before, parts.quote, parts.after) == ("He said ", "yes.", " Then he left.")
    assert segments("abc", -5, 99).quote == "abc"
    assert segments("abc", 2, 1).quote == ""


def test_a_citation_is_cut_out_of_its_passage_in_article_coordinates():
    article = "First sentence. The cited sentence. Last one."
    passage_start = 16
    passage = article[passage_start:]
    parts = in_passage(passage, passage_start, 16, 35)
    assert parts.quote == "The cited sentence."
    assert parts.before == "" and parts.after == " Last one."


def test_html_escapes_the_article_before_marking_the_quote():
    text = 'Hello <script>alert("x")</script> & <b>bold</b> world'
    start = text.index("<b>")
    out = to_html(text, [(start, start + len("<b>bold</b>"))])
    assert "<script>" not in out and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "<mark>&lt;b&gt;bold&lt;/b&gt;</mark>" in out
    assert out.count("<mark>") == 1 and "&amp;" in out


def test_overlapping_and_out_of_range_spans_are_merged_and_clamped():
    out = to_html("abcdefghij", [(6, 99), (1, 4), (3, 5), (8, 2)])
    assert out == '<div class="rag-text">a<mark>bcde</mark>f<mark>ghij</mark></div>'


def test_segments_html_marks_the_quote():
    assert segments_html(segments("a <i> c", 2, 5)) == (
        '<div class="rag-text">a <mark>&lt;i&gt;</mark> c</div>'
    )


@given(st.text(max_size=200), st.integers(-5, 210), st.integers(-5, 210))
def test_unmarking_the_html_gives_back_the_text(text, start, end):
    import html
    import re

    out = to_html(text, [(start, end)])
    inner = re.sub(
        r"</?mark>", "", out.removeprefix('<div class="rag-text">').removesuffix("</div>")
    )
    assert html.unescape(inner) == text
    assert "<" not in inner.replace("<mark>", "").replace("</mark>", "")


def test_markdown_escaping_keeps_money_tags_and_links_literal():
    text = "It cost $5 and $6 [1] *not bold* <script>x</script> :red[no] # no heading"
    escaped = escape_markdown(text)
    assert "\\$5" in escaped and "\\[1\\]" in escaped and "\\*not bold\\*" in escaped
    assert "\\<script\\>" in escaped and "\\:red\\[no\\]" in escaped
    # Removing the escapes gives the text back.
    assert escaped.replace("\\", "") == text


def test_window_widens_to_whole_words():
    text = "alpha beta gamma delta epsilon zeta"
    start = text.index("delta")
    left, right = window(text, start, start + 5, context=3)
    assert text[left:right] == "gamma delta epsilon"
    assert window(text, 0, len(text), context=100) == (0, len(text))


def test_excerpts_cut_around_the_quote_with_ellipses():
    text = "one two three four five six seven eight nine ten"
    start = text.index("five")
    parts = excerpt(text, start, start + 4, context=4)
    assert (parts.before, parts.quote, parts.after) == ("… four ", "five", " six …")
    assert excerpt(text, 0, 3, context=100).before == ""
    out = excerpt_html(text, [(start, start + 4)], context=4)
    assert out == '<div class="rag-text">… four <mark>five</mark> six …</div>'
    assert excerpt_html("a <b> c", [], context=100) == '<div class="rag-text">a &lt;b&gt; c</div>'
