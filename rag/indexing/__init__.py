"""The indexing side: a folder of articles in, an index out (``rag index``, :func:`rag.sync`).

Data flows ``scan → loaders → chunk → embed → store`` under :mod:`.indexer`:

- reading: :mod:`.scan` walks the folder (:mod:`.folder`, :mod:`.folder_defaults`),
  :mod:`.loaders` turns each file into an :class:`.articles.Article` (:mod:`.documents`
  for PDF, Word and saved pages, :mod:`.html_text` for web pages, :mod:`.clean`,
  :mod:`.metadata` for titles, outlets and dates);
- indexing: :mod:`.chunk` cuts sentences into chunks, :mod:`.embed` (with
  :mod:`.onnx_export`) embeds them, :mod:`.store` writes them to Chroma, :mod:`.lexical`
  keeps the BM25 index, :mod:`.manifest` records what is indexed, :mod:`.dedup` finds
  near-duplicates, :mod:`.lock` lets one writer in at a time;
- adding articles: :mod:`.uploads` (files), :mod:`.fetch` and :mod:`.links` (web
  addresses), :mod:`.feeds` (RSS and Atom) save into the folder for the next sync.

The ask side reads what this side wrote through the same :mod:`.store`, :mod:`.lexical`,
:mod:`.manifest` and :mod:`.embed` (a question is embedded by the same model).
"""
