"""Text helpers both sides use, so the indexing side and the ask side read text alike.

:mod:`.sentences` gives sentence spans with exact offsets (chunks are cut on them,
answers quote them), :mod:`.nlp` the named entities (tagged at indexing time, read at ask
time), :mod:`.outlets` outlet names (taken from files and feeds, matched in questions),
:mod:`.words` the words and patterns written once for all: BM25's tokens and stopwords,
month and weekday names, the ``[n]`` marker.
"""
