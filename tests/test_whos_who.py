"""Who's who (`rag entities`, `GET /entities`): the forms of one name are one entity.
In the fast tier: the entities are spaCy's, whatever embeds the articles."""

from __future__ import annotations

import json

import pytest

from rag.settings import Settings
from rag.whos_who import _groups, listing, profile
from tests.conftest import RagCli

pytestmark = pytest.mark.fast

ROWS = [
    ("a1", "PERSON", "Gina Raimondo", "gina raimondo"),
    ("a1", "PERSON", "Raimondo", "raimondo"),
    ("a2", "ORG", "Raimondo", "raimondo"),  # the small tagger's other guess
    ("a2", "ORG", "Commerce Gina Raimondo", "commerce gina raimondo"),
    ("a3", "PERSON", "Xi Jinping", "xi jinping"),
    ("a3", "PERSON", "Xi", "xi"),
    ("a1", "PERSON", "John Smith", "john smith"),
    ("a2", "PERSON", "Jane Smith", "jane smith"),
    ("a3", "PERSON", "Smith", "smith"),
    ("a1", "ORG", "Twitter", "twitter"),
    ("a2", "ORG", "Trump's Twitter", "trump's twitter"),
    ("a3", "GPE", "New York", "new york"),
    ("a3", "GPE", "York", "york"),
    ("a4", "PERSON", "Magic Keyboard Apple", "magic keyboard apple"),  # the tagger's slip
    ("a4", "ORG", "Apple", "apple"),
    ("a5", "ORG", "Apple", "apple"),
    ("a6", "ORG", "Apple", "apple"),
]


def test_the_forms_of_one_name_are_one_entity():
    groups = _groups(ROWS)
    by_home = {home: g for (_, home), g in groups.items()}
    raimondo = by_home["gina raimondo"]
    assert raimondo.kind == "PERSON"
    assert raimondo.norms == {"gina raimondo", "raimondo", "commerce gina raimondo"}
    assert set(raimondo.articles) == {"a1", "a2"}
    assert by_home["xi jinping"].norms == {"xi jinping", "xi"}  # family name first
    # a surname several people share stays apart; so do organisations and places
    assert by_home["smith"].ambiguous and "smith" not in by_home["john smith"].norms
    assert "twitter" in by_home and "york" in by_home
    # a word joins a full name only where articles give the full name too
    assert "apple" in by_home and by_home["magic keyboard apple"].norms == {"magic keyboard apple"}


def test_rag_entities_lists_and_profiles(fake_indexed: Settings, rag_cli: RagCli):
    settings = fake_indexed  # the sample articles; their entities are spaCy's, not the model's
    people = listing(settings, "PERSON")
    names = [e.name for e in people]
    assert "Gina Raimondo" in names and "Raimondo" not in names
    assert all(e.kind == "PERSON" for e in people)
    env = {"RAG_ARTICLES_DIR": str(settings.articles_dir), "RAG_INDEX_DIR": str(settings.index_dir)}
    shown = rag_cli("entities", "--type", "PERSON", env=env)
    assert shown.returncode == 0 and "Gina Raimondo" in shown.stdout
    one = json.loads(rag_cli("entities", "raimondo", "--json", env=env).stdout)
    assert one["entity"]["name"] == "Gina Raimondo" and len(one["articles"]) >= 3
    assert profile(settings, "Gina Raimondo").entity.articles == one["entity"]["articles"]
    missing = rag_cli("entities", "raimond", env=env)
    assert missing.returncode == 1 and "did you mean Gina Raimondo" in missing.stderr
