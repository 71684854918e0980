"""Word forms no ending rule reaches: irregular past forms news writes ("met", "sent")
and countries' adjectives ("Chinese"), each mapped to the word it stands for.

>>> base("met"), base("chinese"), base("meeting")
('meet', 'china', 'meeting')
>>> is_past("sent"), is_past("announced"), is_past("people")
(True, True, False)
"""

from __future__ import annotations


def _by_form(forms_of: dict[str, str]) -> dict[str, str]:
    """{form: word} from {word: its forms, space-separated}."""
    return {form: word for word, forms in forms_of.items() for form in forms.split()}


# Past forms news writes that no ending rule reaches, by the verb ("met" stems with
# "meeting").
_PAST = _by_form(
    {
        "meet": "met",
        "say": "said",
        "tell": "told",
        "win": "won",
        "lose": "lost",
        "pay": "paid",
        "sell": "sold",
        "buy": "bought",
        "leave": "left",
        "take": "took taken",
        "give": "gave given",
        "make": "made",
        "begin": "began begun",
        "come": "came",
        "go": "went gone",
        "hold": "held",
        "strike": "struck",
        "speak": "spoke spoken",
        "write": "wrote written",
        "lead": "led",
        "fall": "fell fallen",
        "rise": "rose risen",
        "grow": "grew grown",
        "send": "sent",
        "spend": "spent",
        "bring": "brought",
        "think": "thought",
        "see": "saw seen",
        "know": "knew known",
        "choose": "chose chosen",
        "drive": "drove driven",
        "fly": "flew flown",
        "fight": "fought",
        "build": "built",
        "find": "found",
        "keep": "kept",
        "steal": "stole stolen",
    }
)
# Adjectives of countries, by the country ("Chinese" stems with "China").
_COUNTRIES = _by_form(
    {
        "china": "chinese",
        "japan": "japanese",
        "britain": "british",
        "france": "french",
        "germany": "german",
        "russia": "russian",
        "india": "indian",
        "america": "american",
        "canada": "canadian",
        "australia": "australian",
        "israel": "israeli",
        "ukraine": "ukrainian",
        "europe": "european",
        "korea": "korean",
        "mexico": "mexican",
        "italy": "italian",
        "spain": "spanish",
        "taiwan": "taiwanese",
        "iran": "iranian",
    }
)
BASE = {**_PAST, **_COUNTRIES}


def base(word: str) -> str:
    """The word an irregular form or a country's adjective stands for ("met" → "meet",
    "chinese" → "china"), else the word."""
    return BASE.get(word, word)


def is_past(word: str) -> bool:
    """Whether a lower-case word reads as a past form of a verb ("sent", "hired")."""
    return (word.endswith("ed") and len(word) > 4) or word in _PAST
