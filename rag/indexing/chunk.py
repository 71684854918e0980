"""Token-aware chunking on sentence boundaries, keeping exact character spans.

A chunk is a run of whole sentences whose embedded text — a short header
(title, source, date) plus the passage — fits ``chunk_tokens`` tokens of the
embedding model's own tokenizer (:class:`WordPieces`), so the model reads every
chunk to its end. Consecutive chunks share up to ``overlap`` tokens of trailing
sentences. A sentence longer than the budget is cut at token boundaries.
tiktoken's cl100k (:class:`Tiktoken`) counts where no model tokenizer is given.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import tiktoken

from rag.indexing.articles import Article
from rag.text.sentences import sentence_spans

ENCODING = "cl100k_base"
MIN_BODY_TOKENS = 32


@dataclass(frozen=True)
class Chunk:
    article_id: str
    number: int
    start: int
    end: int
    text: str
    embed_text: str

    @property
    def id(self) -> str:
        return chunk_id(self.article_id, self.number)


def chunk_id(article_id: str, number: int) -> str:
    return f"{article_id}:{number:04d}"


def article_of(cid: str) -> str:
    """The article id of a chunk id (see :func:`chunk_id`)."""
    return cid.split(":", 1)[0]


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def embed_header(title: str, source: str | None, published_at: str | None) -> str:
    """The lines that precede a passage in the embedded (and BM25-indexed) text."""
    lines = [title]
    meta = " · ".join(part for part in (source, published_at) if part)
    if meta:
        lines.append(meta)
    return "\n".join(lines) + "\n\n"


class Tokens(Protocol):
    """A tokenizer as chunking sees it: how many tokens, and where each one starts."""

    def count(self, text: str) -> int: ...

    def starts(self, text: str) -> list[int]:
        """The character offset at which each token of ``text`` starts."""
        ...


class Tiktoken:
    """tiktoken's cl100k_base."""

    def __init__(self) -> None:
        self.enc = encoding()

    def count(self, text: str) -> int:
        return len(self.enc.encode(text, disallowed_special=()))

    def starts(self, text: str) -> list[int]:
        _, offsets = self.enc.decode_with_offsets(self.enc.encode(text, disallowed_special=()))
        return list(offsets)


class WordPieces:
    """The embedding model's own tokenizer (its ``tokenizer.json``), without the special
    tokens it adds around a text: those are :attr:`specials` more."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.specials = self.tokenizer.num_special_tokens_to_add(is_pair=False)

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def starts(self, text: str) -> list[int]:
        return [a for a, _ in self.tokenizer.encode(text, add_special_tokens=False).offsets]


class Chunker:
    def __init__(
        self, chunk_tokens: int = 256, overlap: int = 32, tokens: Tokens | None = None
    ) -> None:
        if overlap >= chunk_tokens:
            raise ValueError("chunk overlap must be smaller than the chunk size")
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap
        self.tokens = tokens or Tiktoken()

    def count(self, text: str) -> int:
        return self.tokens.count(text)

    def _pieces(self, text: str, budget: int) -> list[tuple[int, int, int]]:
        """Sentence spans with token counts; over-long sentences cut at token boundaries."""
        pieces: list[tuple[int, int, int]] = []
        for start, end in sentence_spans(text):
            count = self.count(text[start:end])
            if count <= budget:
                pieces.append((start, end, count))
                continue
            offsets = self.tokens.starts(text[start:end])
            cuts = [start + offsets[i] for i in range(0, len(offsets), budget)] + [end]
            for a, b in itertools.pairwise(cuts):
                piece = text[a:b]
                lead = len(piece) - len(piece.lstrip())
                a, b = a + lead, a + lead + len(piece.strip())
                if a < b:
                    pieces.extend(self._fit(text, a, b, budget))
        return pieces

    def _fit(self, text: str, start: int, end: int, budget: int) -> list[tuple[int, int, int]]:
        """``text[start:end]`` as pieces of at most ``budget`` tokens. A cut at token
        offsets can still be over: a token that covers part of a character has no
        offset of its own, and re-encoding the piece on its own merges differently."""
        piece = text[start:end]
        start += len(piece) - len(piece.lstrip())
        end = start + len(piece.strip())
        if start >= end:
            return []
        count = self.count(text[start:end])
        if count <= budget or end - start <= 1:
            return [(start, end, count)]
        middle = (start + end) // 2
        return self._fit(text, start, middle, budget) + self._fit(text, middle, end, budget)

    def spans(self, text: str, header_tokens: int = 0) -> list[tuple[int, int]]:
        """Character spans of the chunks of ``text``, in order."""
        budget = max(
            min(MIN_BODY_TOKENS, self.chunk_tokens // 2), self.chunk_tokens - header_tokens
        )
        pieces = self._pieces(text, budget)
        spans: list[tuple[int, int]] = []
        first = 0
        while first < len(pieces):
            last, used = first, pieces[first][2]
            while last + 1 < len(pieces) and used + pieces[last + 1][2] + 1 <= budget:
                last += 1
                used += pieces[last][2] + 1
            # Joining sentences can merge tokens differently; trim until it truly fits.
            while last > first and self.count(text[pieces[first][0] : pieces[last][1]]) > budget:
                last -= 1
            spans.append((pieces[first][0], pieces[last][1]))
            if last + 1 >= len(pieces):
                break
            next_first, carried = last + 1, 0
            while next_first - 1 > first and carried + pieces[next_first - 1][2] <= self.overlap:
                next_first -= 1
                carried += pieces[next_first][2]
            first = next_first
        return spans

    def header(self, article: Article) -> str:
        """The article's embedded header, cut to at most half the chunk: a title the
        length of a paragraph must not push the passage out of the token limit."""
        header = embed_header(article.title, article.source, article.published_at)
        limit = self.chunk_tokens // 2
        if self.count(header) <= limit:
            return header
        cut = self.tokens.starts(header)[limit]
        while cut > 0 and self.count(header[:cut].rstrip() + "\n\n") > limit:
            cut -= max(1, cut // 8)
        return header[:cut].rstrip() + "\n\n"

    def chunk(self, article: Article) -> list[Chunk]:
        header = self.header(article)
        spans = self.spans(article.text, self.count(header))
        return [
            Chunk(
                article_id=article.id,
                number=number,
                start=start,
                end=end,
                text=article.text[start:end],
                embed_text=header + article.text[start:end],
            )
            for number, (start, end) in enumerate(spans)
        ]
