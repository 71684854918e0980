"""Outlet names and filters (issue 13, item 3): a site name with its tagline is one outlet,
filters match it by any of its names, and filters no article passes are refused with
what the index holds instead. Filters are contracts, not the model's judgement: the
fast tier, over articles the fake embedder indexes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.ask.pipeline import Pipeline
from rag.ask.query import Mentions
from rag.ask.results import Filters
from rag.errors import FilterError
from rag.indexing.indexer import sync
from rag.indexing.loaders import read_file
from rag.settings import Settings
from rag.text.outlets import closest_outlets, outlet_key, outlet_name
from tests.conftest import RagCli
from tests.fake_embed import FakeEmbedder

pytestmark = pytest.mark.fast

# Source names as the MultiHop-RAG corpus stores them.
MULTIHOP = [
    "Cnbc | World Business News Leader",
    "Business Today | Latest Stock Market And Economy News India",
    "The Roar | Sports Writers Blog",
    "The Independent - Life and Style",
    "The Independent - Sports",
    "FOX News - Health",
    "Sporting News",
    "TechCrunch",
    "CBSSports.com",
]

CNBC_PAGE = """<!doctype html><html><head>
<title>Retail sales slip | CNBC</title>
<meta property="og:site_name" content="Cnbc | World Business News Leader">
<meta property="article:published_time" content="2023-11-21T10:00:00Z">
</head><body><article><h1>Retail sales slip in October</h1>
<p>Retail sales in the United States slipped 0.1 percent in October, the Commerce
Department said on Wednesday, the first fall in seven months.</p>
<p>Economists had expected a larger drop after a strong summer of spending.</p>
</article></body></html>"""


def record(source: str, day: str, text: str) -> dict[str, str]:
    return {"title": text.split(".")[0], "source": source, "published_at": day, "body": text}


RECORDS = [
    record(
        "The Roar | Sports Writers Blog",
        "2023-11-10",
        "The Wallabies named a new captain on Friday. The coach said the squad was young "
        "and would learn quickly from the tour of Europe.",
    ),
    record(
        "The Independent - Sports",
        "2023-11-05",
        "Arsenal beat Sevilla two nil in the Champions League. The manager praised the "
        "defence after a third clean sheet in a row.",
    ),
    record(
        "The Independent - Travel",
        "2023-11-06",
        "Lisbon tops the list of cheap winter city breaks. Flights from London cost under "
        "fifty pounds in January, the airline said.",
    ),
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, fake_embedder: FakeEmbedder) -> Settings:
    root = tmp_path_factory.mktemp("outlets")
    folder = root / "articles"
    folder.mkdir()
    (folder / "cnbc.html").write_text(CNBC_PAGE)
    (folder / "sport.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    settings = Settings(articles_dir=folder, index_dir=root / "index")
    sync(settings, embedder=fake_embedder)
    return settings


@pytest.fixture(scope="module")
def pipeline(indexed: Settings, fake_embedder: FakeEmbedder):
    pipe = Pipeline(indexed, embedder=fake_embedder)
    yield pipe
    pipe.close()


def sources_of(pipeline: Pipeline, question: str, filters: Filters) -> set[str | None]:
    return {p.source for p in pipeline.ask(question, filters=filters).passages}


# --- names -----------------------------------------------------------------------


def test_outlet_names_drop_taglines_and_sections_and_capitalise_initials():
    assert [outlet_name(s) for s in MULTIHOP] == [
        "CNBC",
        "Business Today",
        "The Roar",
        "The Independent",
        "The Independent",
        "FOX News",
        "Sporting News",
        "TechCrunch",
        "CBSSports.com",
    ]
    assert outlet_name("BBC News - Entertainment & Arts") == "BBC News"
    assert outlet_name("Bbc News") == "BBC News"
    assert outlet_name("Anti-Defamation Weekly") == "Anti-Defamation Weekly"  # no spaced dash
    assert outlet_key("  cnbc ") == outlet_key("Cnbc | World Business News Leader") == "cnbc"
    assert closest_outlets("CNBX", ["CNBC", "The Roar", "The Independent"]) == ["CNBC"]
    assert closest_outlets("independent", ["CNBC", "The Independent"]) == ["The Independent"]


def test_a_question_names_an_outlet_in_full_or_short():
    """MultiHop-RAG questions name outlets both ways; either finds the outlet's articles."""
    mentions = Mentions(MULTIHOP, {})
    full = "Does the 'Cnbc | World Business News Leader' article report a fall in sales?"
    assert mentions.sources_in(full) == ["Cnbc | World Business News Leader"]
    assert mentions.sources_in("What did CNBC report about retail sales?") == ["CNBC"]
    assert mentions.sources_in("Did Cnbc report a fall?") == ["CNBC"]
    assert mentions.sources_in("Which captain did The Roar say was named?") == ["The Roar"]
    assert mentions.sources_in(
        "Does the article from The Roar | Sports Writers Blog name a captain?"
    ) == ["The Roar | Sports Writers Blog"]
    assert mentions.sources_in("What did Business Today say about stocks?") == ["Business Today"]
    # A stored name with its section stays that section's; the outlet's name finds all.
    assert mentions.sources_in("What did The Independent - Sports say?") == [
        "The Independent - Sports"
    ]
    assert mentions.sources_in("What did the Independent say?") == ["The Independent"]
    # Short names count only when written as a name.
    assert mentions.sources_in("Did the independent review find the roar of the crowd?") == []
    assert mentions.sources_in("what did cnbc say?") == []


def test_an_html_site_name_is_stored_as_its_outlet(tmp_path: Path):
    page = tmp_path / "cnbc.html"
    page.write_text(CNBC_PAGE)
    (article,) = read_file(page, "cnbc.html", 1 << 20).articles
    assert article.source == "CNBC"


# --- filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        (["CNBC"], {"CNBC"}),
        (["cnbc"], {"CNBC"}),
        (["Cnbc | World Business News Leader"], {"CNBC"}),  # the raw site name still matches
        (["the roar"], {"The Roar | Sports Writers Blog"}),
        (["The Roar | Sports Writers Blog"], {"The Roar | Sports Writers Blog"}),
        (["The Independent"], {"The Independent - Sports", "The Independent - Travel"}),
        (["the independent - sports"], {"The Independent - Sports"}),
    ],
)
def test_a_source_filter_matches_any_name_of_the_outlet(pipeline, named, expected):
    assert sources_of(pipeline, "What happened?", Filters(sources=named)) == expected


def test_a_source_no_article_is_from_is_refused_with_the_closest_outlets(pipeline):
    with pytest.raises(FilterError, match=r"no indexed article is from 'CNBX'.*CNBC"):
        pipeline.ask("What happened?", filters=Filters(sources=["CNBX"]))
    with pytest.raises(FilterError, match=r"'Independant'.*The Independent"):
        pipeline.ask("What happened?", filters=Filters(sources=["Independant"]))


def test_a_date_range_no_article_falls_in_is_refused(pipeline):
    with pytest.raises(FilterError, match="reversed: since 2023-12-01 is after until 2023-11-01"):
        pipeline.ask(
            "What happened?", filters=Filters(since=date(2023, 12, 1), until=date(2023, 11, 1))
        )
    with pytest.raises(
        FilterError, match="on or after 2024-01-01; the articles run from 2023-11-05 to 2023-11-21"
    ):
        pipeline.ask("What happened?", filters=Filters(since=date(2024, 1, 1)))
    # Each filter matches, but not together.
    with pytest.raises(
        FilterError,
        match="no article from 'CNBC' was published between "
        "2023-11-01 and 2023-11-10; those run from 2023-11-21 to 2023-11-21",
    ):
        pipeline.ask(
            "What happened?",
            filters=Filters(sources=["CNBC"], since=date(2023, 11, 1), until=date(2023, 11, 10)),
        )
    with pytest.raises(FilterError, match="no indexed article has the id 'nope'"):
        pipeline.ask("What happened?", filters=Filters(article_ids=["nope"]))
    kept = sources_of(pipeline, "What happened?", Filters(until=date(2023, 11, 6)))
    assert kept == {"The Independent - Sports", "The Independent - Travel"}


def test_a_named_outlet_boosts_its_articles_by_its_short_name(pipeline):
    answer = pipeline.ask("What did CNBC report about retail sales?")
    assert answer.passages[0].source == "CNBC" and answer.passages[0].boosted


def test_cli_and_api_refuse_filters_no_article_passes(indexed: Settings, pipeline, rag_cli: RagCli):
    env = {"RAG_ARTICLES_DIR": str(indexed.articles_dir), "RAG_INDEX_DIR": str(indexed.index_dir)}
    reversed_range = rag_cli(
        "ask", "What happened?", "--since", "2023-12-01", "--until", "2023-11-01", env=env
    )
    assert reversed_range.returncode == 2, reversed_range.stderr
    assert "reversed" in reversed_range.stderr and "Traceback" not in reversed_range.stderr
    unknown = rag_cli("ask", "What happened?", "--source", "CNBX", env=env)
    assert unknown.returncode == 2 and "CNBC" in unknown.stderr
    found = rag_cli("ask", "What happened to retail sales?", "--source", "cnbc", env=env)
    assert found.returncode == 0, found.stderr
    assert "Not found" not in found.stdout and "0.1 percent" in found.stdout

    with TestClient(create_app(indexed, pipeline)) as client:
        for body in (
            {"question": "What happened?", "sources": ["CNBX"]},
            {"question": "What happened?", "since": "2023-12-01", "until": "2023-11-01"},
            {"question": "What happened?", "since": "2025-01-01"},
        ):
            response = client.post("/ask", json=body)
            assert response.status_code == 422, (body, response.text)
            assert (
                "no indexed article" in response.json()["error"]
                or "reversed" in (response.json()["error"])
            )
        ok = client.post("/ask", json={"question": "What happened?", "sources": ["CNBC"]})
        assert ok.status_code == 200 and {p["source"] for p in ok.json()["passages"]} == {"CNBC"}


def test_an_outlets_name_and_its_host_find_each_other():
    from rag.text.outlets import outlet_keys

    assert outlet_keys("The Verge") & outlet_keys("theverge.com")
    assert outlet_keys("the verge") & outlet_keys("theverge.com")
    assert outlet_keys("The Independent - Sports") & outlet_keys("independent.co.uk")
    assert not outlet_keys("The Verge") & outlet_keys("TechCrunch")
    assert "street" not in outlet_keys("Thestreet")  # a name's own "the" is kept


def test_the_count_of_outlets_reads_as_words():
    from rag.ask.pipeline import _outlets

    assert _outlets(1) == "the index has 1 outlet"
    assert _outlets(3) == "the index has 3 outlets"
    assert _outlets(0) == "no indexed article names its outlet"
