"""Is a question English? The bundled models read English only.

No language model ships here, so this is a rule: a question mostly in a
non-Latin script, or whose common function words are those of another
European language and not of English, is not English. Names and single
foreign words in an English question ("What did Le Monde say?") pass.

>>> is_english("Where did He Lifeng and Gina Raimondo meet?")
True
>>> is_english("¿Dónde se reunieron He Lifeng y Gina Raimondo?")
False
"""

from __future__ import annotations

import re

_ENGLISH = frozenset(
    "the a an of to in on for with and or is are was were be been did do does has have had "
    "what who whom whose which when where why how many much did say said about from by at "
    "this that these those it its their his her they he she we you i not any all both "
    "than then there after before between into over under will would can could should".split()
)
# Function words of other languages that are not also English words.
_FOREIGN = (
    frozenset(
        # Spanish / Portuguese / Italian
        "el los las del que qué quién quien quiénes cuándo cuando dónde donde cómo como cuál "
        "cuánto cuántos por para con una unos unas es está son fue fueron sobre según se su sus "
        "lo le y o não nao uma com pelo pela em quem quando onde porque você dos das "
        "il gli della delle dello che chi cosa quale quanto sono è ha hanno di da nel nella "
        # French
        "le les des une est sont qui quoi où quand comment pourquoi quel quelle quels combien "
        "avec pour dans sur selon ont été du au aux et ou pas ce cette ces son sa ses leur "
        # German / Dutch
        "der die das den dem des und ist sind wer wie wo wann warum welche welcher welches "
        "wieviel wieviele mit für auf über von zu nicht ein eine einen hat haben wurde "
        "het een wat wie waar wanneer hoe welke zijn heeft met voor niet".split()
    )
    - _ENGLISH
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def is_english(question: str) -> bool:
    letters = [c for c in question if c.isalpha()]
    if not letters:
        return True
    latin = sum(c.isascii() or "\u00c0" <= c <= "\u024f" for c in letters)
    if latin / len(letters) < 0.5:
        return False
    words = [w.lower() for w in _WORD.findall(question)]
    english = sum(w in _ENGLISH for w in words)
    foreign = sum(w in _FOREIGN for w in words)
    return not (foreign >= 2 and foreign > english) and "¿" not in question
