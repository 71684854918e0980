from collections import Counter
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.evaluation.gold import load_gold
from rag.indexing.loaders import read_file
from tests.conftest import ROOT, SAMPLE

SEEDS = ROOT / "eval" / "gold" / "seeds.jsonl"


def test_seed_set_covers_what_the_harness_needs():
    questions = load_gold(SEEDS)
    kinds = Counter(q.type for q in questions)
    assert len(questions) >= 40
    assert kinds["unanswerable"] >= 8
    assert kinds["conflict"] >= 1 and kinds["multi-hop"] >= 3 and kinds["list"] >= 3
    assert kinds["paraphrase"] >= 3 and kinds["one_copy"] >= 2


def test_every_quote_occurs_in_its_article():
    texts = {p.name: read_file(p, p.name, 10**7).articles[0].text for p in SAMPLE.iterdir()}
    for question in load_gold(SEEDS):
        for evidence in question.evidence:
            assert evidence.quote in texts[evidence.doc], (question.id, evidence.quote)


def test_each_bad_line_gets_one_clear_error(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "question": "Q?", "answers": ["x"], "type": "factoid"}\n'
        "{not json\n"
        '{"id": "a", "question": "Q?", "answers": ["x"], "type": "factoid"}\n'
        '{"id": "b", "question": "Q?", "answers": [], "type": "factoid"}\n'
        '{"id": "c", "question": "Q?", "answers": ["x"], "type": "unanswerable"}\n'
        '{"id": "d", "question": "Q?", "answers": ["x"], "type": "list", "match": "most"}\n'
    )
    with pytest.raises(ConfigError) as error:
        load_gold(bad)
    lines = str(error.value).splitlines()
    assert lines[0] == f"5 bad line(s) in {bad}:"
    assert lines[1:] == [
        "bad.jsonl line 2: invalid JSON: Expecting property name enclosed in double quotes",
        "bad.jsonl line 3: duplicate id 'a'",
        'bad.jsonl line 4: `answers` is empty; use "type": "unanswerable" for questions to abstain on',
        "bad.jsonl line 5: an unanswerable question has no answers and no evidence",
        'bad.jsonl line 6: `match` must be "any" or "all"',
    ]


def test_a_refusal_names_the_corpus_a_project_gold_set_was_written_for(tmp_path):
    from rag.errors import GoldMismatchError
    from rag.evaluation.gold import GoldQuestion, check_evidence, load_gold

    gold = load_gold(Path(__file__).parent.parent / "eval" / "gold" / "newsroom.jsonl")
    assert all(isinstance(q, GoldQuestion) for q in gold)
    with pytest.raises(GoldMismatchError, match="MultiHop-RAG corpus"):
        check_evidence(gold, set(), name="newsroom.jsonl", index=tmp_path)
    with pytest.raises(GoldMismatchError, match=r"sample articles \(data/articles\)"):
        check_evidence(gold, set(), name="seeds.jsonl", index=tmp_path)
