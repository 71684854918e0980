"""The ask side: a question in, a cited answer out (``rag ask``, :class:`rag.Pipeline`).

Data flows ``query → retrieve → extractive (or llm) → results`` under :mod:`.pipeline`:

- the question: :mod:`.query` (kind, outlets, titles, dates), :mod:`.periods` and
  :mod:`.relative_dates` (the days it names), :mod:`.language` (the English check),
  :mod:`.answer_type` (what it wants: a person, a place, a count…);
- retrieval: :mod:`.retrieve` (dense and BM25, fused, boosted, filtered, duplicates
  collapsed) over the index the indexing side wrote;
- answering: :mod:`.extractive` picks sentences (:mod:`.fitness`), reads a short answer
  (:mod:`.short_answer`, :mod:`.coreference`, :mod:`.word_forms`), weighs yes/no claims
  (:mod:`.claims`, :mod:`.verdict`) and whether to answer at all (:mod:`.abstention`);
  :mod:`.llm` is the generative engine;
- the answer: :mod:`.results` (``Answer``, ``Citation``, ``Passage``, ``Filters``),
  :mod:`.highlight` (a cited span marked in its text);
- conversations: :mod:`.chat` rewrites follow-ups, :mod:`.conversation` runs the turns.
"""
