"""Evaluation, on top of the ask side: gold questions in, scores and run records out
(``rag eval``, ``rag bench multihop``, the app's Evaluation page).

:mod:`.gold` reads and checks gold question sets (``eval/gold/``), :mod:`.evaluate` asks
each question through the pipeline and scores it with :mod:`.metrics`, writing a run
record; :mod:`.multihop` is the MultiHop-RAG benchmark; :mod:`.runs` reads stored runs
back for display and comparison.
"""
