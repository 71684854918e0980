"""A deterministic synthetic news corpus of a given size in chunks, for scale benchmarks.

    python bench/synth_corpus.py OUT_DIR --chunks 10000 [--seed 6]
        [--seeds ../shared/corpus/seeds] [--multihop ../shared/bench/multihop/corpus.jsonl]

Built from the sample articles and the MultiHop-RAG corpus (read in place),
so the text is real news prose and the benchmark questions have answers in it:

- **stories** (most articles): a lead of two sentences from one source article
  (whose title they take), then paragraphs drawn from two to four other source
  articles of its category, in a new order, each lightly perturbed (numbers
  changed, the odd sentence dropped, a few words swapped), so no two are the
  same text and their content-word overlap stays below the near-duplicate
  threshold;
- **near-duplicates** (``--dup-share``, default 8 %): a wire copy of an earlier
  story under another outlet (a few words changed, a credit line added) or a
  padded rewrite (two to four extra paragraphs);
- **metadata**: the real outlets plus about 150 synthetic ones with a skewed
  (Zipf-like) share each, dates over two years, titles varied with prefixes,
  suffixes or a lead sentence.

Articles are written as JSON Lines shards (``part-00000.jsonl``, …, 500
articles each, under ``RAG_MAX_FILE_MB``) plus ``.corpus.json`` with the
counts (hidden, so ``rag index`` does not read it).
Generation stops when the articles' chunks — counted with the project's own
chunker and settings — reach ``--chunks``. The same seed and inputs give
byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rag.indexing.chunk import Chunker
from rag.indexing.loaders import iter_article_files, read_file, read_record
from rag.settings import get_settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_SEEDS = SHARED / "corpus" / "seeds"
DEFAULT_MULTIHOP = SHARED / "bench" / "multihop" / "corpus.jsonl"
SHARD_ARTICLES = 500
INFO = ".corpus.json"
START = datetime(2022, 7, 1, tzinfo=UTC)
DAYS = 730

_PLACES = """Northfield Riverside Lakeshore Westbrook Eastport Harbor Valley Summit Pinecrest
Bayside Highland Midland Southgate Kingsport Fairview Oakridge Clearwater Stonebridge
Redwood Silverlake Brookhaven Elmwood Granite Maplewood Ashford Coastal Metro Capital
Prairie Frontier""".split()
_NOUNS = """Herald Gazette Times Post Wire Ledger Chronicle Observer Dispatch Tribune Review
Bulletin Journal Report Courier Sentinel Monitor Digest Press Standard""".split()
_TITLE_PREFIXES = ["Analysis: ", "Explainer: ", "Update: ", "Opinion: ", "Exclusive: ", "Live: "]
_TITLE_SUFFIXES = [" — what we know", " — what it means", ": the latest", ", explained"]
_SWAPS = {
    "said": "stated",
    "says": "states",
    "big": "large",
    "new": "fresh",
    "major": "key",
    "also": "additionally",
    "however": "but",
    "announced": "unveiled",
    "company": "firm",
    "people": "individuals",
    "help": "assist",
    "show": "reveal",
}
# Grouped ("286,000"), decimal and four-digit numbers (years) are kept as they are.
_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b")
_WORD = re.compile(r"\b[a-z]+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


@dataclass
class Source:
    title: str
    source: str
    category: str
    paragraphs: list[str]


def load_sources(seeds: Path, multihop: Path) -> list[Source]:
    """The real articles the corpus is made from, in a fixed order."""
    found: list[Source] = []
    if seeds.is_dir():
        for file, rel in iter_article_files(seeds):
            for article in read_file(file, rel, 10 * 1024 * 1024).articles:
                paragraphs = _split_paragraphs(article.text)
                if paragraphs:
                    found.append(
                        Source(article.title, article.source or "China Daily", "world", paragraphs)
                    )
    if multihop.is_file():
        for line in multihop.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            paragraphs = _split_paragraphs(record["body"])
            if paragraphs:
                found.append(
                    Source(
                        record["title"],
                        record.get("source") or "unknown",
                        record.get("category") or "news",
                        paragraphs,
                    )
                )
    if not found:
        raise SystemExit(
            f"no source articles: neither {seeds} nor {multihop} holds any; "
            "pass --seeds DIR and/or --multihop FILE"
        )
    return found


def _split_paragraphs(text: str) -> list[str]:
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", text)]
    blocks = [b for b in blocks if len(b) >= 60]
    # Long unbroken texts (the sample articles) become paragraphs of about four sentences.
    out: list[str] = []
    for block in blocks:
        sentences = _SENTENCE_END.split(block)
        for i in range(0, len(sentences), 4):
            out.append(" ".join(sentences[i : i + 4]))
    return out


def outlets(real: list[str], rng: random.Random) -> list[str]:
    """The real outlets followed by about 150 synthetic ones, in a seeded order."""
    names = [f"The {p} {n}" for p in _PLACES for n in _NOUNS]
    rng.shuffle(names)
    return sorted(set(real)) + names[:150]


def _perturb(paragraph: str, rng: random.Random, drop: float = 0.1) -> str:
    sentences = _SENTENCE_END.split(paragraph)
    if len(sentences) > 2:
        sentences = [s for s in sentences if rng.random() >= drop] or sentences[:1]
    text = " ".join(sentences)
    text = _NUMBER.sub(lambda m: _new_number(m.group(0), rng), text)
    return _WORD.sub(lambda m: _swap(m.group(0), rng, 0.3), text)


def _new_number(number: str, rng: random.Random) -> str:
    if rng.random() < 0.5 or not number.isdigit() or len(number) >= 4:
        return number
    return str(max(1, round(int(number) * rng.uniform(0.5, 1.5))))


def _swap(word: str, rng: random.Random, share: float) -> str:
    other = _SWAPS.get(word)
    return other if other and rng.random() < share else word


def _title(base: str, lead: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return rng.choice(_TITLE_PREFIXES) + base
    if roll < 0.45:
        return base + rng.choice(_TITLE_SUFFIXES)
    if roll < 0.65:
        words = lead.split()[:12]
        return " ".join(words).rstrip(".,;:") if len(words) >= 5 else base
    return base


def _date(rng: random.Random) -> str:
    moment = START + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86400))
    return moment.isoformat(timespec="seconds")


def _url(outlet: str, number: int) -> str:
    host = re.sub(r"[^a-z]+", "", outlet.lower().removeprefix("the ")) or "news"
    return f"https://www.{host}.example/articles/{number:07d}"


class Generator:
    """Articles one at a time; ``dup_share`` of them are near-duplicates of earlier ones."""

    def __init__(self, sources: list[Source], seed: int, dup_share: float) -> None:
        self.rng = random.Random(seed)
        self.sources = sources
        self.dup_share = dup_share
        self.by_category: dict[str, list[int]] = {}
        for i, s in enumerate(sources):
            self.by_category.setdefault(s.category, []).append(i)
        self.categories = sorted(self.by_category)
        self.outlets = outlets([s.source for s in sources], self.rng)
        # Zipf-like: a few outlets publish most articles, as in a real feed.
        self.outlet_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.outlets))]
        self.rng.shuffle(self.outlet_weights)
        self.recent: list[dict[str, str]] = []  # stories a copy can be made from
        self.count = 0

    def _outlet(self) -> str:
        return self.rng.choices(self.outlets, self.outlet_weights)[0]

    def __iter__(self) -> Iterator[dict[str, str]]:
        while True:
            self.count += 1
            if self.recent and self.rng.random() < self.dup_share:
                record = self._copy(self.rng.choice(self.recent))
            else:
                record = self._story()
                self.recent = [*self.recent, record][-200:]
            record["id"] = f"syn-{self.count:07d}"
            record["url"] = _url(record["source"], self.count)
            yield record

    def _story(self) -> dict[str, str]:
        rng = self.rng
        # Categories as often as they have source articles: drawn uniformly, the 5 sample
        # articles ("world") made a seventh of all stories, near-duplicates of each other.
        base = rng.choice(self.sources)
        category = base.category
        pool = self.by_category[category]
        # Article length: mostly short news items, some long reads.
        n = min(40, max(3, int(rng.lognormvariate(2.6, 0.55))))
        # The lead: two sentences of the article the title comes from; then paragraphs of
        # sentences drawn one by one from the whole category. A source article is drawn
        # some 30 times at 100k chunks: runs of its paragraphs made the stories that
        # drew it near-duplicates of each other, in groups of thousands.
        lead = _SENTENCE_END.split(rng.choice(base.paragraphs))
        start = rng.randrange(max(1, len(lead) - 1))
        picked = [" ".join(lead[start : start + 2])]
        while len(picked) < n:
            picked.append(" ".join(self._sentence(pool) for _ in range(rng.randint(1, 3))))
        body = "\n\n".join(_perturb(p, rng) for p in picked)
        return {
            "title": _title(base.title, body.split("\n\n", 1)[0], rng),
            "source": self._outlet(),
            "published_at": _date(rng),
            "category": category,
            "kind": "story",
            "body": body,
        }

    def _sentence(self, pool: list[int]) -> str:
        paragraph = self.rng.choice(self.sources[self.rng.choice(pool)].paragraphs)
        return self.rng.choice(_SENTENCE_END.split(paragraph))

    def _copy(self, original: dict[str, str]) -> dict[str, str]:
        rng = self.rng
        paragraphs = original["body"].split("\n\n")
        moment = datetime.fromisoformat(original["published_at"])
        if rng.random() < 0.6:
            kind = "wire copy"
            paragraphs = [
                _WORD.sub(lambda m: _swap(m.group(0), rng, 0.5), p) for p in paragraphs
            ] + [f"Reporting by the {self._outlet()} newsroom."]
        else:
            kind = "padded rewrite"
            pool = self.by_category[original["category"]]
            for _ in range(rng.randint(2, 4)):
                extra = rng.choice(self.sources[rng.choice(pool)].paragraphs)
                paragraphs.insert(rng.randrange(len(paragraphs) + 1), _perturb(extra, rng))
        title = original["title"]
        return {
            "title": title if rng.random() < 0.5 else rng.choice(_TITLE_PREFIXES) + title,
            "source": self._outlet(),
            "published_at": (moment + timedelta(hours=rng.randint(1, 72))).isoformat(),
            "category": original["category"],
            "kind": kind,
            "copy_of": original["id"],
            "body": "\n\n".join(paragraphs),
        }


def generate(
    out: Path,
    chunks: int,
    *,
    seed: int = 6,
    dup_share: float = 0.08,
    seeds: Path = DEFAULT_SEEDS,
    multihop: Path = DEFAULT_MULTIHOP,
) -> dict[str, object]:
    """Write a corpus of about ``chunks`` chunks to ``out``; returns what ``.corpus.json`` holds."""
    settings = get_settings()
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)
    sources = load_sources(seeds, multihop)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.jsonl"):
        old.unlink()
    total = articles = copies = 0
    shard: list[str] = []
    shards = 0
    outlets_used: set[str] = set()

    def flush() -> None:
        nonlocal shards
        (out / f"part-{shards:05d}.jsonl").write_text("\n".join(shard) + "\n", encoding="utf-8")
        shards += 1
        shard.clear()

    for record in Generator(sources, seed, dup_share):
        if total >= chunks:
            break
        total += len(chunker.chunk(read_record(record, "synthetic.jsonl")))
        articles += 1
        copies += "copy_of" in record
        outlets_used.add(record["source"])
        shard.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        if len(shard) >= SHARD_ARTICLES:
            flush()
    if shard:
        flush()
    info: dict[str, object] = {
        "seed": seed,
        "target_chunks": chunks,
        "chunks": total,
        "articles": articles,
        "near_duplicates": copies,
        "outlets": len(outlets_used),
        "shards": shards,
        "source_articles": len(sources),
    }
    (out / INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the shards (emptied of old ones)")
    parser.add_argument("--chunks", type=int, required=True, help="stop at this many chunks")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--dup-share", type=float, default=0.08, help="share of near-duplicates")
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--multihop", type=Path, default=DEFAULT_MULTIHOP)
    args = parser.parse_args(argv)
    info = generate(
        args.out,
        args.chunks,
        seed=args.seed,
        dup_share=args.dup_share,
        seeds=args.seeds,
        multihop=args.multihop,
    )
    json.dump(info, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
