"""A few dated articles about one story, written as the JSON records `rag index` reads:
the reading-step and timeline tests index them (:func:`indexed`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.ask.pipeline import Pipeline
from rag.indexing.indexer import sync
from rag.settings import Settings

CAPTION = (
    "Former FTX CEO Sam Bankman-Fried arrives at court in New York, U.S., October 26, 2023. "
    "REUTERS/Eduardo Munoz"
)
DATED = {
    "caption.json": {
        "title": "Bankman-Fried found guilty of fraud",
        "source": "Reuters",
        "published_at": "2023-11-03T09:00:00+00:00",
        "body": f"{CAPTION}\n\nA New York jury found Sam Bankman-Fried guilty on all seven "
        "counts of fraud and conspiracy on Thursday. The former FTX chief executive faces "
        "decades in prison when he is sentenced next year.",
    },
    "fired.json": {
        "title": "OpenAI board ousts its chief executive",
        "source": "The Verge",
        "published_at": "2023-11-18T10:00:00+00:00",
        "body": "OpenAI's board fired chief executive Sam Altman late Friday, saying he had not "
        "been consistently candid in his communications. Greg Brockman, the company's "
        "president, quit hours later.",
    },
    "hired.json": {
        "title": "Microsoft hires Sam Altman for a new AI research team",
        "source": "TechCrunch",
        "published_at": "2023-11-20T08:00:00+00:00",
        "body": "Microsoft hired Sam Altman to lead a new advanced AI research team, chief "
        "executive Satya Nadella said on Monday. Several OpenAI researchers are expected "
        "to follow him.",
    },
    "back.json": {
        "title": "Altman returns to OpenAI",
        "source": "Engadget",
        "published_at": "2023-11-22T07:00:00+00:00",
        "body": "OpenAI reinstated Sam Altman as its chief executive after days of turmoil, "
        "the company announced on Wednesday. The board that fired him will be replaced.",
    },
}


def indexed(root: Path, embedder: Any, records: dict[str, dict[str, Any]]) -> Pipeline:
    """A pipeline over an index of ``records`` (file name → JSON record) in ``root``."""
    folder = root / "articles"
    folder.mkdir()
    for name, record in records.items():
        (folder / name).write_text(json.dumps(record), encoding="utf-8")
    settings = Settings(articles_dir=folder, index_dir=root / "index")
    sync(settings, embedder=embedder)
    return Pipeline(settings, embedder=embedder)
