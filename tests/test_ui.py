"""The Streamlit app in-process (streamlit.testing AppTest), over a real Chroma store.

Every page is driven the way a person would: type a question, upload a file,
press the buttons, run a gold set; then what the page shows is checked. Most tests
run on the fake embedder of ``tests/fake_embed.py`` (the index and the app's own
model), which finds the passages these questions ask for by their words; three of
them (the chat's answer and verdict, the first visit) are in the fast tier, the rest
only in the full suite, which keeps ``make test-fast`` under a minute. A test whose
assertion rests on the real model's judgement (when to abstain) keeps the real one. The reading step's fields (short answers, verdicts, confidence,
what an abstention missed) are shown from fake answers, without any model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

import rag.catalog
import ui.engine
from rag import evaluate, whos_who
from rag.catalog import cluster_label, facets, get_article, list_articles
from rag.cli import build_parser, ui_command
from rag.gold import GoldQuestion
from rag.indexer import sync
from rag.lock import IndexLock
from rag.settings import Settings
from tests import fake_answers as fake
from tests.conftest import ROOT, SAMPLE
from tests.fake_embed import use_fake_model

integration = pytest.mark.integration
fast = pytest.mark.fast

APP = ROOT / "ui" / "app.py"
# Loading the model in the app's first run takes seconds; AppTest's default is 3 s.
TIMEOUT = 180
QUESTION = "Which companies attended the Friday meeting with the MIIT?"

SCRIPT_ARTICLE = """Council adopts new parking rules

The Riverside city council adopted new parking rules on Tuesday. The clerk pasted the web form \
into the minutes as <script>alert("pwned")</script> and nobody noticed. Residents will need a \
permit to park overnight on Elm Street from March.
"""


@pytest.fixture(autouse=True)
def served_on(request: pytest.FixtureRequest):
    """The address the app believes it is served on (default 127.0.0.1, as `rag ui` serves
    it): AppTest runs no server, and Streamlit's unset address means every interface,
    which the app refuses without an access token. Parametrize indirectly to change it."""
    address = getattr(request, "param", "127.0.0.1")
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", address)
    yield address
    st_config.set_option("server.address", before)


@pytest.fixture(autouse=True)
def own_engine():
    """The app's engine — model, Chroma handles, pipelines — is cached for the server's
    life (``st.cache_resource``), and AppTest runs every app in this one process: each
    test starts and ends with none cached, so that a fast test never meets the real
    model a test before it loaded, nor a real-model test the fake one."""
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def index(root: Path, embedder, extra: dict[str, str] | None = None) -> Settings:
    shutil.copytree(SAMPLE, root / "articles")
    for name, text in (extra or {}).items():
        (root / "articles" / name).write_text(text)
    settings = Settings(articles_dir=root / "articles", index_dir=root / "index")
    sync(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def shared(tmp_path_factory, fake_embedder) -> Settings:
    """The sample corpus plus an article quoting a <script> tag, embedded by the fake
    model (the fast tier's); tests only read it."""
    extra = {"006_council.txt": SCRIPT_ARTICLE}
    return index(tmp_path_factory.mktemp("ui"), fake_embedder, extra)


@pytest.fixture(scope="module")
def shared_real(tmp_path_factory, embedder) -> Settings:
    """The same, embedded by the real model: for the tests about its judgement."""
    extra = {"006_council.txt": SCRIPT_ARTICLE}
    return index(tmp_path_factory.mktemp("ui-real"), embedder, extra)


@pytest.fixture(scope="module")
def template(tmp_path_factory, fake_embedder) -> Path:
    """The sample corpus indexed by the fake model once, for :func:`fresh` to copy."""
    root = tmp_path_factory.mktemp("ui-template")
    index(root, fake_embedder)
    return root


@pytest.fixture
def fresh(tmp_path: Path, template: Path) -> Settings:
    """A private index of the sample corpus (fake model), for tests that change it: a
    copy of :func:`template`, the index and its folder as a run of `rag index` left them."""
    shutil.copytree(template, tmp_path / "fresh")
    root = tmp_path / "fresh"
    return Settings(articles_dir=root / "articles", index_dir=root / "index")


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's own model is the fake too, for a test over a fake-embedded index that
    stays out of the fast tier (where every test has it)."""
    use_fake_model(monkeypatch)


def app(monkeypatch: pytest.MonkeyPatch, settings: Settings, page: str | None = None) -> AppTest:
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def html(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html")]


def plain(markdown: str) -> str:
    """Escaped Markdown as the reader sees it."""
    return markdown.replace("\\", "")


def text_of(block) -> str:
    return plain("\n".join(m.value for m in block.markdown))


def places(node, at: tuple[int, ...] = ()) -> dict[tuple[int, ...], str]:
    """Every element and block under ``node`` by its place (the path a browser keys it
    by), with its type: a browser shows an element until the next run writes to its
    place, so an element that moves between runs is seen twice while a run goes on."""
    found: dict[tuple[int, ...], str] = {}
    for index, child in getattr(node, "children", {}).items():
        found[(*at, index)] = child.type
        found |= places(child, (*at, index))
    return found


def place_of(at: AppTest, kind: str, text: str) -> tuple[int, ...]:
    """The place of the first ``kind`` element (subheader, caption…) containing ``text``."""

    def walk(node, path: tuple[int, ...]):
        for index, child in getattr(node, "children", {}).items():
            here = (*path, index)
            if child.type == kind and text in str(getattr(child, "value", "")):
                return here
            if (found := walk(child, here)) is not None:
                return found
        return None

    found = walk(at.main, ())
    assert found is not None, f"no {kind} with {text!r}"
    return found


def section(at: AppTest, key: str):
    """A keyed block of the page (the library's "library-add", "library-update")."""
    return next(c for c in at.main.container if c.key == key)


# --- chat ---------------------------------------------------------------------------


@fast
def test_chat_answers_with_citation_cards(monkeypatch, shared: Settings):
    at = ask(app(monkeypatch, shared), QUESTION)
    user, assistant = at.chat_message[0], at.chat_message[1]
    assert user.name == "user" and QUESTION in text_of(user)
    said = text_of(assistant)
    assert all(company in said for company in ("IBM", "Microsoft", "Pfizer"))
    assert "**[1]**" in said  # the marker, in the answer
    assert "[1] Senior officials from China’s Ministry" in said  # the card's title
    # The card: source line, the passage with the cited sentence marked, the whole article.
    assert any("000_714c03abbce0677d.txt" in plain(c.value) for c in assistant.caption)
    # The short answers, where the engine gives them, are marked inside the cited sentence.
    marked = [re.sub(r"</?strong[^>]*>", "", h) for h in html(at) if "<mark" in h]
    assert any(
        "<mark>Representatives from major US companies, including IBM, Microsoft and Pfizer" in h
        for h in marked
    )
    assert any(e.label == "Read the whole article here" for e in assistant.expander)
    links = [link for link in at.page_link if link.value == "Open the article in the library"]
    assert links and links[0].proto.page.endswith("library")
    assert "article=" in links[0].proto.query_string and "start=" in links[0].proto.query_string


@integration
def test_a_follow_up_shows_its_standalone_question(monkeypatch, shared_real: Settings):
    """The real model's judgement: the rewritten follow-up is answered, not declined (the
    fake model, matching words alone, declines it)."""
    at = ask(app(monkeypatch, shared_real), "What did Raimondo say about de-risking?")
    at = ask(at, "and what did she say about tourism?")
    follow_up = at.chat_message[2]
    assert "and what did she say about tourism?" in text_of(follow_up)
    assert any(
        "Searched as: What did Raimondo say about tourism?" in plain(c.value)
        for c in follow_up.caption
    )
    assert "touris" in text_of(at.chat_message[3])
    # New chat starts over.
    button(at, "New chat").click().run()
    assert len(at.chat_message) == 0


def test_an_answer_keeps_its_place_when_the_page_runs_again(monkeypatch, shared: Settings):
    """Issue 13 item 16: the answer drawn under its streamed text sat one place lower than
    where the next run draws it, so its footer was shown twice while that run went on."""
    at = ask(app(monkeypatch, shared), QUESTION)
    answered = places(at.chat_message[1])
    footer = place_of(at, "caption", "extractive engine ·")
    at.run()
    assert not at.exception, at.exception
    assert places(at.chat_message[1]) == answered
    assert place_of(at, "caption", "extractive engine ·") == footer


@integration
def test_an_abstention_looks_like_one_and_lists_the_nearest_articles(monkeypatch, shared_real):
    """The real model's judgement: no article answers this question."""
    at = ask(app(monkeypatch, shared_real), "Who won the 2022 World Cup?")
    assistant = at.chat_message[1]
    assert "Not found in the indexed articles." in assistant.warning[0].value
    assert "Nearest articles" in text_of(assistant)
    assert len([link for link in at.page_link if "—" in link.value]) >= 1
    assert not [h for h in html(at) if "<mark" in h]  # no citation cards


@integration
def test_conflicting_sources_are_shown_side_by_side(monkeypatch, shared_real: Settings):
    """The real model's judgement: both articles' passages rank among those answered from."""
    at = ask(app(monkeypatch, shared_real), "Which ministry does Zhang Guangjun belong to?")
    assistant = at.chat_message[1]
    assert "The sources disagree" in assistant.info[0].value
    said = text_of(assistant)
    assert said.count("According to") == 2
    assert "MIIT" in said and "Ministry of Science and Technology" in said
    # One card per source, next to each other.
    assert len(assistant.columns) == 2
    for column in assistant.columns:
        assert len([h for h in column.get("html") if "rag-passage" in h.value]) == 1


def test_article_text_is_shown_never_run(monkeypatch, shared: Settings):
    """An article quoting <script> shows the tag as text, in the answer and the cards."""
    at = ask(app(monkeypatch, shared), "What did the clerk paste into the minutes?")
    answer = "\n".join(m.value for m in at.chat_message[1].markdown)
    assert "\\<script\\>alert" in answer  # escaped Markdown: rendered as the literal tag
    bodies = "".join(html(at))
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in bodies
    assert "<script" not in bodies

    article = next(a for a in list_articles(shared) if a["path"] == "006_council.txt")
    at = app(monkeypatch, shared)
    at.query_params["article"] = article["id"]
    at.switch_page("screens/library.py").run()
    assert not at.exception
    view = next(h for h in html(at) if 'id="cited"' in h or "Riverside" in h)
    assert "&lt;script&gt;" in view and "<script" not in view


@fast
def test_first_visit_with_an_empty_index_says_how_to_add_articles(monkeypatch, tmp_path):
    empty = Settings(articles_dir=tmp_path / "nothing", index_dir=tmp_path / "no-index")
    at = app(monkeypatch, empty)
    assert "The index is empty" in at.info[0].value
    assert "Library" in at.info[0].value and "rag index" in at.info[0].value
    assert len(at.chat_input) == 0
    at.switch_page("screens/library.py").run()
    assert not at.exception and "No articles are indexed yet" in at.info[0].value
    at.switch_page("screens/evaluation.py").run()
    assert not at.exception


def test_sidebar_filters_come_from_the_index(monkeypatch, shared: Settings):
    at = app(monkeypatch, shared)
    sources = at.sidebar.multiselect[0]
    assert sources.options == ["washingtontimes.com"]
    sources.select("washingtontimes.com").run()
    at = ask(at, "What did Li Qiang hope for?")
    cards = [plain(c.value) for c in at.chat_message[1].caption]
    assert cards and all("washingtontimes.com" in c or "engine" in c for c in cards)


def test_the_llm_engine_uses_the_endpoint_set_in_the_sidebar(monkeypatch, shared, fake_model):
    """Not in the fast tier: importing llama-index's client (tests/test_llm.py) costs more
    than the tier's other tests together."""
    from tests.fake_llm import FakeLLM
    from tests.test_llm import passage_number

    with FakeLLM() as fake:
        fake.reply = lambda body: (
            "IBM, Microsoft and Pfizer attended the Friday meeting "
            f"[{passage_number(body, 'IBM, Microsoft and Pfizer')}]."
        )
        at = app(monkeypatch, shared)
        at.sidebar.radio(key="engine").set_value("llm").run()
        at.sidebar.text_input(key="llm_base_url").input(fake.url).run()
        at.sidebar.text_input(key="llm_model").input("sidebar-model").run()
        at = ask(at, QUESTION)
    assert fake.requests and fake.requests[-1]["model"] == "sidebar-model"
    assistant = at.chat_message[1]
    # The LLM engine numbers a citation by the passage it cites.
    assert re.search(
        r"IBM, Microsoft and Pfizer attended the Friday meeting \*\*\[\d+\]\*\*", text_of(assistant)
    )
    assert any("IBM, Microsoft and Pfizer" in h for h in html(at) if "rag-passage" in h)
    assert "llm engine" in plain(assistant.caption[-1].value)


# --- library ------------------------------------------------------------------------


@integration
def test_library_lists_articles_with_clusters_and_searches(monkeypatch, shared_real: Settings):
    """The real model's judgement: which articles are copies of one story."""
    at = app(monkeypatch, shared_real, "screens/library.py")
    table = at.dataframe[0].value
    assert len(table) == 6
    assert set(table["Duplicate cluster"]) >= {"-"}
    assert sum(label.endswith("canonical") for label in table["Duplicate cluster"]) == 1
    at.text_input(key="library_search").input("washingtontimes").run()
    assert list(at.dataframe[0].value["Source"]) == ["washingtontimes.com"]
    at.text_input(key="library_search").input("").run()
    # the articles mentioning one person, in any of the forms of her name
    at.selectbox(key="library_mentioning").set_value("Gina Raimondo").run()
    assert not at.exception, at.exception
    mentioning = at.dataframe[0].value
    assert 3 <= len(mentioning) < 6 and all(mentioning["File"].str[:3] != "001")
    at.selectbox(key="library_mentioning").set_value(None).run()
    at.toggle(key="library_duplicates").set_value(True).run()
    assert len(at.dataframe[0].value) == 3


def test_library_opens_an_article_with_the_cited_span_highlighted(monkeypatch, shared):
    article = next(a for a in list_articles(shared) if a["path"].startswith("000"))
    quote = "Representatives from major US companies, including IBM, Microsoft and Pfizer"
    start = get_article(shared, article["id"])["text"].index(quote)
    at = app(monkeypatch, shared)
    at.query_params.update(article=article["id"], start=str(start), end=str(start + len(quote)))
    at.switch_page("screens/library.py").run()
    assert not at.exception
    view = next(h for h in html(at) if 'id="cited"' in h)
    assert f'<mark id="cited">{quote}</mark>' in view
    assert 'href="#cited"' in view


def test_timeline_lists_dated_events_linked_to_their_articles(monkeypatch, shared: Settings):
    at = app(monkeypatch, shared, "screens/timeline.py")
    at.text_input[0].input("Michael Hart")
    button(at, "Show the timeline").click().run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Fri 14 July 2023" in shown and "“July 14, 2023” in an undated article" in shown
    assert "On July 14, 2023, Vice Minister Zhang Guangjun held a meeting" in shown
    links = [p for p in at.get("page_link")]
    assert links and "start=" in str(links[0].proto), links[0].proto
    # a topic no article speaks of
    at.text_input[0].input("Quidditch")
    button(at, "Show the timeline").click().run()
    assert any("No dated events" in i.value for i in at.info)


def test_whos_who_lists_people_and_shows_one(monkeypatch, shared: Settings):
    at = app(monkeypatch, shared, "screens/entities.py")
    table = at.dataframe[0].value
    assert "Gina Raimondo" in set(table["Name"]) and "Raimondo" not in set(table["Name"])
    at.segmented_control(key="entities_kind").set_value("People").run()
    assert set(at.dataframe[0].value["Type"]) == {"person"}
    # the profile selecting her row shows (AppTest cannot select a row)
    found = whos_who.profile(shared, "Raimondo")
    assert found.entity.name == "Gina Raimondo" and "raimondo" in found.entity.variants
    assert {a["path"][:3] for a in found.articles} >= {"002", "004"}
    assert any(o["name"] == "China" for o in found.appears_with)


def test_a_timeline_link_opens_with_its_topic(monkeypatch, shared: Settings):
    at = app(monkeypatch, shared)
    at.query_params["topic"] = "Michael Hart"
    at.switch_page("screens/timeline.py").run()
    assert not at.exception, at.exception
    assert at.text_input[0].value == "Michael Hart"
    assert "Fri 14 July 2023" in " ".join(m.value for m in at.markdown)


@integration
def test_upload_then_the_index_is_updated(monkeypatch, tmp_path: Path, embedder):
    """The real model's judgement: the uploaded article answers the question asked."""
    fresh = index(tmp_path / "fresh", embedder)
    at = app(monkeypatch, fresh, "screens/library.py")
    text = (
        "Raimondo ends China trip\n\nCommerce Secretary Gina Raimondo said American companies "
        "had told her China was becoming uninvestable because of raids and fines.\n"
    )
    at.file_uploader[0].upload("005_raimondo.txt", text.encode(), "text/plain").run()
    button(at, "Add and update the index").click().run()
    assert not at.exception, at.exception
    assert (fresh.articles_dir / "005_raimondo.txt").read_text() == text
    assert "Saved 005_raimondo.txt" in plain(at.success[0].value)
    assert "added 1" in at.success[1].value
    assert "Raimondo ends China trip" in list(at.dataframe[0].value["Title"])
    # The same name again is refused by the same rules as the API (409 there).
    at.file_uploader[0].upload("005_raimondo.txt", b"other text", "text/plain").run()
    button(at, "Add and update the index").click().run()
    assert "already exists" in at.error[0].value
    assert (fresh.articles_dir / "005_raimondo.txt").read_text() == text
    # And the chat page answers from it.
    at.switch_page("screens/chat.py").run()
    at = ask(at, "Which country did companies call uninvestable?")
    assert "uninvestable" in text_of(at.chat_message[1])


def test_an_update_while_another_runs_is_refused(monkeypatch, fresh: Settings):
    at = app(monkeypatch, fresh, "screens/library.py")
    with IndexLock(fresh.index_dir):
        button(at, "Update index").click().run()
    assert "Another index update is running" in at.error[0].value
    assert "index is being updated by PID" in at.error[0].value
    button(at, "Update index").click().run()
    assert "unchanged 5" in at.success[0].value


def test_rebuild_from_scratch_asks_first(monkeypatch, fresh: Settings):
    at = app(monkeypatch, fresh, "screens/library.py")
    button(at, "Rebuild from scratch…").click().run()
    assert "drops the index" in at.warning[0].value
    button(at, "Cancel").click().run()
    assert len(at.warning) == 0
    button(at, "Rebuild from scratch…").click().run()
    button(at, "Yes, rebuild the index").click().run()
    assert not at.exception, at.exception
    assert "added 5" in at.success[0].value
    assert len(at.dataframe[0].value) == 5


def test_update_and_upload_report_under_the_button_pressed(monkeypatch, fresh: Settings):
    """Issue 13 item 15: a summary, a skipped symlink loop, a refusal appear in the section
    whose button was pressed, not at the top of the page."""
    (fresh.articles_dir / "loop-a").symlink_to("loop-b")
    (fresh.articles_dir / "loop-b").symlink_to("loop-a")
    at = app(monkeypatch, fresh, "screens/library.py")
    button(at, "Update index").click().run()
    assert not at.exception, at.exception
    updating, adding = section(at, "library-update"), section(at, "library-add")
    assert any(b.label == "Update index" for b in updating.button)
    assert "unchanged 5" in updating.success[0].value
    skipped = updating.dataframe[0].value
    assert "loop-a" in list(skipped["File"])
    assert "symlink loop" in " ".join(skipped["Reason"])
    assert not adding.success and not adding.error
    assert len(at.success) == 1  # nowhere else, at the top least of all

    with IndexLock(fresh.index_dir):
        button(at, "Update index").click().run()
    assert "Another index update is running" in section(at, "library-update").error[0].value

    text = "Raimondo ends China trip\n\nGina Raimondo said companies called China uninvestable.\n"
    at.file_uploader[0].upload("005_raimondo.txt", text.encode(), "text/plain").run()
    button(at, "Add and update the index").click().run()
    adding, updating = section(at, "library-add"), section(at, "library-update")
    assert any(b.label == "Add and update the index" for b in adding.button)
    assert "Saved 005_raimondo.txt" in plain(adding.success[0].value)
    assert "added 1" in adding.success[1].value
    assert not updating.success and not updating.error
    # A refused upload is said there too.
    at.file_uploader[0].upload("005_raimondo.txt", b"other", "text/plain").run()
    button(at, "Add and update the index").click().run()
    assert "already exists" in section(at, "library-add").error[0].value


def test_the_articles_table_shows_long_titles_and_file_names_whole(
    monkeypatch, tmp_path, fake_embedder
):
    """Issue 13 item 15: rows wrap (the grid wraps text only in rows over 64 px) and the
    title and file columns are wide; the id (searchable) is not shown in place of them."""
    name = "2023-11-21-cnbc-world-business-news-leader-binance-ceo-changpeng-zhao-steps-down.txt"
    title = (
        "Binance chief executive Changpeng Zhao steps down and pleads guilty as the exchange "
        "agrees to pay $4.3 billion to settle with the Justice Department"
    )
    settings = index(tmp_path, fake_embedder, {name: f"{title}\n\n{SCRIPT_ARTICLE}"})
    at = app(monkeypatch, settings, "screens/library.py")
    grid = at.dataframe[0]
    assert name in list(grid.value["File"]) and title in list(grid.value["Title"])
    assert grid.proto.row_height > 64
    columns = json.loads(grid.proto.columns)
    assert columns["Title"]["width"] == "large" and columns["File"]["width"] == "large"
    at.text_input(key="library_search").input("changpeng").run()
    assert list(at.dataframe[0].value["File"]) == [name]


def test_a_dropped_odt_is_refused_in_the_apis_words(monkeypatch, fresh: Settings):
    """Issue 13 item 16: not the browser's "application/vnd.oasis.opendocument.text files
    are not allowed" but what the API answers (415), as soon as the file is dropped. (A .docx
    is read since issue 14; an .odt is not.)"""
    from rag import uploads
    from rag.errors import UploadError

    at = app(monkeypatch, fresh, "screens/library.py")
    odt = "application/vnd.oasis.opendocument.text"
    at.file_uploader[0].upload("notes.odt", b"PK\x03\x04", odt).run()
    assert not at.exception, at.exception
    with pytest.raises(UploadError) as refused:
        uploads.target(fresh, "notes.odt")
    shown = plain(section(at, "library-add").error[0].value)
    assert shown == str(refused.value)
    assert shown.startswith("notes.odt: unsupported type .odt; use .docx, .htm, .html")
    assert "application/vnd" not in shown
    assert button(at, "Add and update the index").disabled
    assert not (fresh.articles_dir / "notes.odt").exists()


def test_the_library_keeps_its_headings_in_place_across_runs(monkeypatch, fresh: Settings):
    """Issue 13 item 16: a message or an article shown above a heading moved it, and the
    browser showed the heading twice while the next run (an update) went on."""
    at = app(monkeypatch, fresh, "screens/library.py")

    def headings() -> list[tuple[int, ...]]:
        return [place_of(at, "subheader", h) for h in ("Add articles", "Update the index")]

    first = headings()
    button(at, "Update index").click().run()
    assert at.success and headings() == first
    at.file_uploader[0].upload("notes.odt", b"PK", "application/octet-stream").run()
    assert at.error and headings() == first
    button(at, "Rebuild from scratch…").click().run()
    assert at.warning and headings() == first
    button(at, "Cancel").click().run()
    article = list_articles(fresh)[0]
    at.query_params["article"] = article["id"]
    at.switch_page("screens/library.py").run()
    assert not at.exception and any(b.label == "Close the article" for b in at.button)
    assert headings() == first


def test_links_and_feeds_are_added_from_the_library(monkeypatch, fresh: Settings):
    """Issue 14: a pasted link is fetched, saved and indexed; a feed is added, pulled (its
    summary shown beside it) and removed, each reported in its own section."""
    from rag import feeds
    from tests.web_server import BRIDGE_STORY, PORT_STORY, article_page, rss, serve

    monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("RAG_FETCH_HOST_DELAY", "0")
    with serve() as site:
        port = site.page(
            "/port.html",
            article_page("Port strike ends", "Harbour Times", "2023-11-20", PORT_STORY),
        )
        bridge = site.page(
            "/bridge.html", article_page("Bridge to close", "City Desk", "2023-11-21", BRIDGE_STORY)
        )
        items = [{"title": "Elm Street bridge to close", "link": bridge}]
        feed_url = site.page(
            "/rss.xml", rss("City Desk", items), content_type="application/rss+xml"
        )
        at = app(monkeypatch, fresh, "screens/library.py")
        assert "No feeds yet" in text_of(section(at, "library-feeds"))

        at.text_area[0].input(f"{port}\n{site.url('/gone.html')}").run()
        button(at, "Fetch and add").click().run()
        assert not at.exception, at.exception
        links = section(at, "library-links")
        saved_note = plain(links.success[0].value)
        assert saved_note.startswith("Saved web/") and saved_note.endswith("(added)")
        assert "HTTP 404 Not Found" in plain(links.warning[0].value)
        assert "added 1" in links.success[1].value
        assert "Port strike ends" in list(at.dataframe[0].value["Title"])
        assert not section(at, "library-add").success

        at.text_input(key="feed-url-0").input(feed_url).run()
        at.text_input(key="feed-name-0").input("city").run()
        button(at, "Add feed").click().run()
        feeds_part = section(at, "library-feeds")
        assert "Added feed city" in plain(feeds_part.success[0].value)
        assert "city" in text_of(feeds_part) and "not pulled yet" in text_of(feeds_part)

        button(at, "Pull feeds now").click().run()
        assert not at.exception, at.exception
        feeds_part = section(at, "library-feeds")
        assert "city: 1 items — 1 added" in plain(feeds_part.success[0].value)
        assert "added 1" in feeds_part.success[1].value
        assert "last pull: city: 1 items — 1 added" in text_of(feeds_part)
        assert "Elm Street bridge to close" in list(at.dataframe[0].value["Title"])

        # Again: the feed has nothing new; said, and nothing indexed.
        button(at, "Pull feeds now").click().run()
        assert "city: 1 items — 1 unchanged" in plain(section(at, "library-feeds").info[0].value)

        at.selectbox(key="feed-remove-1").select("city").run()
        button(at, "Remove feed").click().run()
        assert "Removed feed city" in plain(section(at, "library-feeds").success[0].value)
        assert feeds.load(fresh) == []


# --- evaluation ---------------------------------------------------------------------


def pick(at: AppTest):
    """The "Look closer at" picker (a new widget for each run shown)."""
    return next(s for s in at.selectbox if s.label == "Look closer at")


def gold_subset(folder: Path, ids: set[str]) -> Path:
    lines = (ROOT / "eval" / "gold" / "seeds.jsonl").read_text().splitlines()
    path = folder / "mini.jsonl"
    path.write_text("\n".join(line for line in lines if json.loads(line)["id"] in ids) + "\n")
    return path


def test_eval_run_shows_metrics_charts_and_a_drill_down(monkeypatch, shared, tmp_path):
    gold = gold_subset(tmp_path, {"s03", "s09", "s37", "s40", "s44"})
    at = app(monkeypatch, shared, "screens/evaluation.py")
    at.selectbox(key="eval_gold_choice").select("Another file…").run()
    at.text_input(key="eval_gold_path").input(str(gold)).run()
    button(at, "Run the gold set").click().run()
    assert not at.exception, at.exception
    records = list((tmp_path / "eval" / "runs").glob("mini-*.json"))
    assert len(records) == 1
    assert "Saved the run record" in at.success[0].value
    labels = {m.label: m.value for m in at.metric}
    assert {"Answers correct", "Citation recall", "Article hit@4", "Latency p50"} <= set(labels)
    calibrated = "reliability" in json.loads(records[0].read_text())["summary"]
    # By type, recall@k, latency, and the reliability plot once answers carry a confidence.
    assert len(at.get("vega_lite_chart")) == 3 + calibrated
    table = at.dataframe[0].value
    assert len(table) == 5 and set(table["type"]) >= {"list", "conflict"}
    at.toggle(key="eval_failed").set_value(True).run()
    wrong = at.dataframe[0].value
    assert len(wrong) == sum(
        not q["correct"] for q in json.loads(records[0].read_text())["questions"]
    )
    at.toggle(key="eval_failed").set_value(False).run()
    at.multiselect(key="eval_types").select("list").run()
    assert list(at.dataframe[0].value["id"]) == ["s03"]
    # Drill-down: gold answers and evidence, passages with the gold ones starred, the answer.
    pick(at).select("s03").run()
    shown = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "Answers (all of): IBM; Microsoft; Pfizer" in shown
    assert "000_714c03abbce0677d.txt: “Representatives from major US companies" in shown
    assert "★ **" in shown and "holds an evidence quote" in shown
    assert any("<mark" in h and "IBM, Microsoft and Pfizer" in h for h in html(at))
    assert "**[1]** Senior officials from China’s Ministry" in shown  # the run's citation
    assert any(link.value == "Open the article" for link in at.page_link)


def stored_question(qid: str, correct: bool, ms: float = 1.0) -> dict:
    empty: dict = {"retrieved": [], "cited": [], "evidence": [], "metrics": {}}
    return (
        {"id": qid, "type": "factoid", "question": f"{qid}?", "answer": "x"}
        | empty
        | {
            "correct": correct,
            "abstained": False,
            "ms": ms,
        }
    )


def stored_record(name: str, correct: bool, score: float) -> dict:
    return {
        "name": "seeds",
        "created_at": f"2026-01-0{name}T00:00:00+00:00",
        "git_commit": None,
        "settings_hash": name * 4,
        "k": 10,
        "summary": {"overall": {"questions": 2, "answer_correct": score}, "by_type": {}},
        "questions": [
            stored_question("q1", correct, 120.0),
            stored_question("q2", True, 480.0),
        ],
    }


def store_two_runs(folder: Path) -> Path:
    """old.json (q1 wrong), then new.json (q1 right), in ``folder``/eval/runs."""
    runs = folder / "eval" / "runs"
    runs.mkdir(parents=True)
    (runs / "old.json").write_text(json.dumps(stored_record("1", False, 0.5)))
    (runs / "new.json").write_text(json.dumps(stored_record("2", True, 1.0)))
    past = time.time() - 60
    os.utime(runs / "old.json", (past, past))
    return runs


def test_eval_compares_two_stored_runs(monkeypatch, shared, tmp_path):
    store_two_runs(tmp_path)
    at = app(monkeypatch, shared, "screens/evaluation.py")
    metrics, flipped = at.dataframe[-2].value, at.dataframe[-1].value
    row = metrics[metrics["metric"] == "answer_correct"].iloc[0]
    assert (row["old"], row["new"], row["delta"]) == (0.5, 1.0, 0.5)
    assert list(flipped["id"]) == ["q1"]
    assert (flipped["was"][0], flipped["now"][0]) == ("wrong", "correct")


def test_the_picker_is_a_new_widget_for_each_run_shown(faked, tmp_path):
    """Issue 13 item 17: the browser kept showing the picker's label from the run shown
    before ("q1 — ✗") beside a panel saying "✓ correct"; a picker made for each run
    carries that run's label."""
    store_two_runs(tmp_path)
    at = start("screens/evaluation.py")
    assert at.selectbox(key="eval_show").value.name == "new.json"
    before = pick(at)
    assert before.options[0] == "q1 — ✓ q1?" and "✓ correct" in " ".join(
        m.value for m in at.markdown
    )
    at.selectbox(key="eval_show").select(tmp_path / "eval" / "runs" / "old.json").run()
    assert not at.exception, at.exception
    after = pick(at)
    assert after.id != before.id  # a new widget: the browser drops the old label
    assert after.value == "q1" and after.options[after.index] == "q1 — ✗ q1?"
    assert "✗ wrong" in " ".join(m.value for m in at.markdown)


def test_evaluation_charts_leave_the_mouse_wheel_to_the_page(faked, tmp_path):
    """Issue 13 item 17: no chart binds its scales to the wheel or a drag (Streamlit's
    st.bar_chart / st.line_chart do), so scrolling over one scrolls the page."""
    gold = [
        GoldQuestion(f"y{i}", f"Did {i} happen?", [said], "comparison")
        for i, said in enumerate(["Yes", "no"])
    ] + [GoldQuestion("u", "Who won the cup?", [], "unanswerable")]

    def reply(question: str):
        if question.startswith("Did"):
            return fake.answer(question, "It did.", verdict=fake.verdict("yes"), confidence=0.9)
        return fake.answer(question, abstained=True, confidence=0.15)

    evaluate.write(
        evaluate.run(fake.FakePipeline(reply), gold, name="yn"), tmp_path / "eval" / "runs"
    )
    at = start("screens/evaluation.py")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 3  # by type, latency, reliability

    def params(spec) -> list:
        found = list(spec.get("params", []))
        for part in ("layer", "hconcat", "vconcat", "concat"):
            for sub in spec.get(part, []):
                found += params(sub)
        return found

    assert [params(spec) for spec in specs] == [[], [], []]


def test_a_gold_set_with_no_evidence_in_the_index_is_refused_before_running(faked, tmp_path):
    """Issue 13 item 18: not a run of zeros under a grey caption, but what to do."""
    faked.reply = fake.answer(shorts=[fake.short("IBM")])
    at = start("screens/evaluation.py")
    at.selectbox(key="eval_gold_choice").select("Another file…").run()
    other = fake.gold_citing(tmp_path / "other.jsonl", ["mh-0c6a1b9e5713", "mh-1d2e3f4a5b6c"])
    at.text_input(key="eval_gold_path").input(str(other)).run()
    button(at, "Run the gold set").click().run()
    assert not at.exception, at.exception
    refused = at.error[0].value
    assert refused.startswith("0 of 2 evidence articles of other.jsonl are in this index (")
    assert "index the articles it was written for" in refused
    assert "or choose another gold set" in refused
    assert not faked.asked and not (tmp_path / "eval" / "runs").exists()
    # Some there: a warning with the count, and the run goes ahead.
    mixed = fake.gold_citing(tmp_path / "mixed.jsonl", ["000_amcham.txt", "mh-0c6a1b9e5713"])
    at.text_input(key="eval_gold_path").input(str(mixed)).run()
    button(at, "Run the gold set").click().run()
    assert not at.error
    assert at.warning[0].value.startswith("1 of 2 evidence articles of mixed.jsonl are in")
    assert "questions on the other 1 (mh-0c6a1b9e5713) will score as misses" in (
        at.warning[0].value
    )
    assert len(faked.asked) == 2 and "Saved the run record" in at.success[0].value


# --- the command and library helpers -----------------------------------------------


def test_rag_ui_serves_the_app_on_the_configured_address():
    command = ui_command(Settings(ui_port=8600))
    # -P: the working directory is not on the app's sys.path (its own ui.py cannot stand in).
    assert command[1:5] == ["-P", "-m", "streamlit", "run"] and Path(command[5]) == APP.resolve()
    options = dict(zip(command[6::2], command[7::2], strict=True))
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--browser.gatherUsageStats"] == "false"
    args = build_parser().parse_args(["ui", "--port", "9000"])
    assert args.port == 9000 and args.run.__name__ == "cmd_ui"
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "gatherUsageStats = false" in config


def test_facets_and_cluster_labels():
    def article(aid: str, cluster: str, size: int, source: str | None, date: str | None):
        return {"id": aid, "cluster": cluster, "cluster_size": size, "source": source} | {
            "published_at": date
        }

    articles = [
        article("a", "a", 2, "x.com", "2023-07-02T10:00:00"),
        article("b", "a", 2, None, "2023-06-30"),
        article("c", "c", 1, "y.org", None),
        article("d", "d", 1, "x.com", "soon"),
    ]
    found = facets(articles)
    assert found["sources"] == ["x.com", "y.org"]
    assert (str(found["first_date"]), str(found["last_date"])) == ("2023-06-30", "2023-07-02")
    assert [cluster_label(a) for a in articles] == ["a (2) canonical", "a (2)", "-", "-"]


# --- short answers, verdicts and confidence, from fake answers (no model) -------------


@pytest.fixture
def faked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The app over a fake pipeline and a one-article catalogue; set ``.reply`` to choose
    the answer every question gets."""
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    pipeline = fake.FakePipeline(lambda question: pipeline.reply)
    pipeline.reply = fake.answer()
    listed = {
        "id": fake.ARTICLE_ID,
        "path": "000_amcham.txt",
        "title": fake.TITLE,
        "source": "english.news.cn",
        "published_at": "2023-11-18T09:00:00",
        "chunks": 1,
        "cluster": fake.ARTICLE_ID,
        "cluster_size": 1,
    }
    monkeypatch.setattr(rag.catalog, "list_articles", lambda s: [listed])
    monkeypatch.setattr(ui.engine, "pipeline", lambda s: pipeline)
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    return pipeline


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def test_the_short_answer_leads_and_is_marked_in_its_citation(faked):
    faked.reply = fake.answer(
        shorts=[
            fake.short("Pfizer"),
            fake.short("late Friday", "DATE", "Friday, 17 November 2023"),
        ],
        confidence=0.87,
    )
    assistant = ask(start(), "Which companies attended?").chat_message[1]
    first, second = (m.value for m in assistant.markdown[:2])
    assert first == "**Pfizer, late Friday (Friday, 17 November 2023)** \\[1\\]"
    assert plain(second) == fake.SENTENCE + " **[1]**"
    card = next(h.value for h in assistant.get("html") if "rag-passage" in h.value)
    assert '<strong class="rag-short">Pfizer</strong>' in card
    assert '<strong class="rag-short">late Friday</strong>' in card
    # Both inside the cited sentence's mark; the article's <b> shown, never run.
    marked = card[card.index("<mark>") : card.index("</mark>")]
    assert marked.count("rag-short") == 2 and "including IBM" in marked
    assert "&lt;b&gt;cooperation&lt;/b&gt;" in card and "<b>" not in card
    assert "confidence 87%" in plain(assistant.caption[-1].value)


@fast
def test_a_verdict_is_a_badge_with_its_claims(faked):
    faked.reply = fake.answer(
        "Did IBM and Apple attend?",
        "IBM attended the meeting [1].",
        verdict=fake.verdict("no", "supported", "contradicted", "missing"),
    )
    assistant = ask(start(), "Did IBM and Apple attend?").chat_message[1]
    shown = [m.value for m in assistant.markdown]
    assert shown[0] == ":red-badge[:material/cancel: No]"
    claims = plain(next(m for m in shown if "claim 1" in m))
    assert claims.splitlines() == [
        "- ✓ supported **[1]**: claim 1 (2023-11-18)",
        "- ✗ contradicted **[1]**: claim 2 (2023-11-18)",
        "- ? missing: claim 3 (2023-11-18)",
    ]
    assert any("weighed the claims" in c.value for c in assistant.caption)
    assert "IBM attended the meeting **[1]**" in text_of(assistant)

    faked.reply = fake.answer("Did they?", verdict=fake.verdict("cannot tell", "missing"))
    unsure = ask(start(), "Did they?").chat_message[1]
    assert unsure.markdown[0].value == ":gray-badge[:material/help: Cannot tell from the articles]"


def test_an_abstention_says_what_was_missing(faked):
    faked.reply = fake.answer(
        "How many phones did Huawei ship?",
        abstained=True,
        missing="no article gives a number of smartphones shipped by Huawei in 2023",
        confidence=0.08,
    )
    assistant = ask(start(), "How many phones did Huawei ship?").chat_message[1]
    warning = plain(assistant.warning[0].value)
    assert warning.startswith("**Not found in the indexed articles.** No article gives a number")
    assert "shipped by Huawei in 2023. Check the sidebar filters" in warning
    assert "confidence 8%" in plain(assistant.caption[-1].value)
    assert not [h for h in html_of(assistant) if "<mark" in h]


def html_of(block) -> list[str]:
    return [h.value for h in block.get("html")]


def test_evaluation_shows_the_yes_no_matrix_and_the_reliability_plot(faked, tmp_path):
    gold = [
        GoldQuestion(f"y{i}", f"Did {i} happen?", [said], "comparison")
        for i, said in enumerate(["Yes", "yes", "yes", "no"])
    ] + [GoldQuestion("u", "Who won the cup?", [], "unanswerable")]

    def reply(question: str):
        if question.startswith("Did"):
            return fake.answer(question, "It did.", verdict=fake.verdict("yes"), confidence=0.9)
        return fake.answer(question, abstained=True, confidence=0.15)

    record = evaluate.run(fake.FakePipeline(reply), gold, name="yn")
    evaluate.write(record, tmp_path / "eval" / "runs")
    at = start("screens/evaluation.py")
    labels = {m.label: m.value for m in at.metric}
    assert labels["Yes/no balanced accuracy"] == "0.500"
    assert "balanced accuracy 0.500 (always “yes”: 0.500)" in " ".join(c.value for c in at.caption)
    matrix, reliability = (t.value for t in at.table)
    assert matrix.loc[("all", "yes")].to_dict() == {"said yes": 3, "said no": 0, "cannot tell": 0}
    assert matrix.loc[("all", "no")].to_dict() == {"said yes": 1, "said no": 0, "cannot tell": 0}
    assert matrix.loc[("comparison", "no"), "said yes"] == 1
    assert list(reliability["count"]) == [0, 1, 0, 0, 0, 0, 0, 0, 0, 4]
    assert reliability.loc["0.9–1.0", "answerable"] == 1.0
    assert reliability.loc["0.9–1.0", "correct"] == 0.75
    assert any("Brier score" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 3  # by type, latency, reliability
    # The drill-down shows the verdict next to the gold answer.
    pick(at).select("y3").run()
    shown = plain("\n".join(m.value for m in at.markdown))
    assert "Verdict: **yes** (gold: no)" in shown
    assert any("confidence 0.90" in c.value for c in at.caption)
