"""Show a cited span in its text: the passage or the whole article with the quote marked.

Citations carry character offsets into the article's cleaned text, so the
quote can be marked exactly where it stands. Article text is data, never
markup: :func:`to_html` escapes everything before it adds its own ``<mark>``,
so an article containing ``<script>`` shows the tag and runs nothing, and
:func:`escape_markdown` keeps ``$``, ``*`` or ``[link](…)`` in news text from
turning into maths, emphasis or links.

    >>> segments("He said yes. Then he left.", 8, 12)
    Segments(before='He said ', quote='yes.', after=' Then he left.')
    >>> to_html("a <b> c", [(2, 5)])
    '<div class="rag-text">a <mark>&lt;b&gt;</mark> c</div>'
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|$<>~:=^&])")


@dataclass(frozen=True)
class Segments:
    before: str
    quote: str
    after: str


def segments(text: str, start: int, end: int) -> Segments:
    """``text`` cut around ``start:end`` (clamped to the text)."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    return Segments(text[:start], text[start:end], text[end:])


def in_passage(passage: str, passage_start: int, start: int, end: int) -> Segments:
    """The passage cut around a citation whose offsets are in article coordinates."""
    return segments(passage, start - passage_start, end - passage_start)


def window(text: str, start: int, end: int, context: int = 300) -> tuple[int, int]:
    """About ``context`` characters either side of ``start:end``, widened to whole words."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    while left > 0 and not text[left - 1].isspace():
        left -= 1
    while right < len(text) and not text[right].isspace():
        right += 1
    return left, right


def excerpt(text: str, start: int, end: int, context: int = 240) -> Segments:
    """The span with about ``context`` characters of ``text`` either side, and "…" where
    the text goes on."""
    left, right = window(text, start, end, context)
    parts = segments(text, start, end)
    return Segments(
        ("… " if left > 0 else "") + text[left : max(left, start)],
        parts.quote,
        text[min(right, max(end, start)) : right] + (" …" if right < len(text) else ""),
    )


def to_html(
    text: str,
    spans: list[tuple[int, int]] | None = None,
    css_class: str = "rag-text",
    anchor: str | None = None,
) -> str:
    """``text`` as escaped HTML with each ``(start, end)`` span in ``<mark>``.

    Overlapping or out-of-range spans are merged and clamped; line breaks are
    kept by the caller's ``white-space: pre-wrap`` on ``css_class``. ``anchor``
    becomes the first mark's id, for a link that jumps to it.
    """
    first = f'<mark id="{html.escape(anchor)}">' if anchor else "<mark>"
    return f'<div class="{css_class}">{_wrap(text, spans or [], "<mark>", "</mark>", first)}</div>'


def _wrap(
    text: str, spans: Sequence[tuple[int, int]], open_tag: str, close_tag: str, first: str = ""
) -> str:
    """``text`` escaped, each span (merged, clamped) between the tags; ``first`` opens the
    first span instead of ``open_tag`` when given."""
    marks: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
        if end <= start:
            continue
        if marks and start <= marks[-1][1]:
            marks[-1] = (marks[-1][0], max(end, marks[-1][1]))
        else:
            marks.append((start, end))
    out, at = [], 0
    for number, (start, end) in enumerate(marks):
        out.append(html.escape(text[at:start]))
        opening = first if first and number == 0 else open_tag
        out.append(f"{opening}{html.escape(text[start:end])}{close_tag}")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def excerpt_html(
    text: str, spans: list[tuple[int, int]], context: int = 200, css_class: str = "rag-text"
) -> str:
    """About ``context`` characters around the spans (or the start of ``text`` when there
    are none), as :func:`to_html` with the spans marked and "…" where the text goes on."""
    low = min((s for s, _ in spans), default=0)
    high = max((e for _, e in spans), default=0)
    left, right = window(text, low, high, context)
    lead = "… " if left > 0 else ""
    tail = " …" if right < len(text) else ""
    shift = len(lead) - left
    return to_html(
        lead + text[left:right] + tail, [(s + shift, e + shift) for s, e in spans], css_class
    )


def segments_html(
    parts: Segments, css_class: str = "rag-text", inner: Sequence[tuple[int, int]] = ()
) -> str:
    """:class:`Segments` as escaped HTML with the quote marked, and the ``inner`` spans
    (offsets into the quote: the short answer inside the cited sentence) in
    ``<strong class="rag-short">`` within the mark.

        >>> segments_html(Segments("", "Said <yes>.", ""), inner=[(5, 10)])[22:]
        '<mark>Said <strong class="rag-short">&lt;yes&gt;</strong>.</mark></div>'
    """
    start = len(parts.before)
    if not inner or not parts.quote:
        return to_html(
            parts.before + parts.quote + parts.after, [(start, start + len(parts.quote))], css_class
        )
    quote = _wrap(parts.quote, inner, '<strong class="rag-short">', "</strong>")
    return (
        f'<div class="{css_class}">{html.escape(parts.before)}<mark>{quote}</mark>'
        f"{html.escape(parts.after)}</div>"
    )


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown (and Streamlit directive) character backslash-escaped,
    so it renders literally: ``$5`` stays money, ``<b>`` stays visible."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
