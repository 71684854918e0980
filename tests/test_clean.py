from rag.indexing.clean import clean_text
from rag.text.sentences import sentence_spans
from tests.conftest import SAMPLE


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_glued_sentences_are_split():
    assert clean_text("in recent days.On Monday, Zhang met Hart.") == (
        "in recent days. On Monday, Zhang met Hart."
    )
    assert clean_text("relations (MIIT).The statement") == "relations (MIIT). The statement"
    assert clean_text("cooperation.”The increased") == "cooperation.” The increased"


def test_abbreviations_decimals_and_urls_are_left_alone():
    text = "The U.S. side and China’s No. 2 official met Huawei Technologies Ltd. at 3.5 p.m."
    assert clean_text(text) == text
    assert (
        clean_text("See www.washingtontimes.com/News.Today")
        == "See www.washingtontimes.com/News.Today"
    )


def test_whitespace_and_unicode_are_normalised():
    raw = "\ufeff  Title\u00a0here \r\n\r\n\r\n\r\n  Body\u200b text\twith   spaces  \n"
    assert clean_text(raw) == "Title here\n\nBody text with spaces"
    assert clean_text("ﬁnal ＡＢＣ") == "final ABC"  # NFKC: ligatures, full-width forms


def test_sentence_spans_respect_abbreviations():
    text = "Meeting later, China’s No. 2 chief, Li Qiang, spoke. The U.S. side listened. Mr. Hart left."
    assert sentences(text) == [
        "Meeting later, China’s No. 2 chief, Li Qiang, spoke.",
        "The U.S. side listened.",
        "Mr. Hart left.",
    ]


def test_sentence_spans_split_paragraphs_and_quotes():
    text = "Headline without a stop\n\n“We do hope,” Li said. “Concrete actions.”\nNext paragraph here."
    assert sentences(text) == [
        "Headline without a stop",
        "“We do hope,” Li said.",
        "“Concrete actions.”",
        "Next paragraph here.",
    ]


def test_hard_wrapped_lines_stay_one_sentence():
    text = "The two governments would launch an information exchange about\ncontrols on technology exports."
    assert len(sentences(text)) == 1


def test_spans_cover_every_non_space_character_in_order():
    text = clean_text((SAMPLE / "000_714c03abbce0677d.txt").read_text())
    spans = sentence_spans(text)
    assert spans == sorted(spans)
    covered = "".join(text[a:b] for a, b in spans)
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_a_closing_straight_quote_after_punctuation_stays_attached():
    # Found in a trial: '"Mike is him!" All while' was stored as '"Mike is him! " All while'.
    assert clean_text('He yelled "Mike is him!" All while') == 'He yelled "Mike is him!" All while'
    assert clean_text('God only knows why." He left.') == 'God only knows why." He left.'
    assert clean_text('he said."The next') == 'he said." The next'
