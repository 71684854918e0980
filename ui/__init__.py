"""The Streamlit app (``rag ui``): chat, library and evaluation pages over the ``rag`` library.

The pages hold presentation only; what they compute lives in ``rag/``.
"""
