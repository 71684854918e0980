"""Chroma, embedded or over HTTP, behind one small interface.

``RAG_CHROMA_HOST`` unset: a ``PersistentClient`` under ``<index_dir>/chroma``.
Set: an ``HttpClient`` to a ``chroma run`` server. Everything else is the same
code path. We always pass our own vectors (``embedding_function=None``):
Chroma's default embedding function would download a model.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections import UserDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from rag.errors import StoreError
from rag.settings import Settings

Metadata = dict[str, str | int | float | bool]
PAGE = 5000
T = TypeVar("T")
_import_lock = threading.Lock()


def _marked(method: Any = None, **_: Any) -> Any:
    """``overrides.override`` without its checks: marks the method, as the library's
    ``EnforceOverrides`` classes require, and returns it unchanged."""
    if method is None:
        return _marked
    method.__override__ = True
    return method


class _Known(UserDict[str, Any]):
    """Stands in for ``known_embedding_functions`` while chromadb imports: the real
    table (of the real module, imported on first use), read and written through."""

    def __init__(self) -> None:  # no table of its own
        pass

    @property
    def data(self) -> dict[str, Any]:  # type: ignore[override]
        from chromadb.utils import embedding_functions

        table: dict[str, Any] = embedding_functions.known_embedding_functions
        return table


def _register_embedding_function(*args: Any, **kwargs: Any) -> Any:
    from chromadb.utils.embedding_functions import register_embedding_function

    return register_embedding_function(*args, **kwargs)  # type: ignore[no-untyped-call]


def _otlp_span_exporter(*args: Any, **kwargs: Any) -> Any:
    # chromadb's own dependency, the module it would have imported, loaded by name:
    # newsdesk never imports OpenTelemetry itself.
    real = importlib.import_module("opentelemetry.exporter.otlp.proto.grpc.trace_exporter")
    return real.OTLPSpanExporter(*args, **kwargs)


def _stand_ins() -> dict[str, ModuleType]:
    """Modules chromadb imports at once but uses only for features we never turn on:

    - ``chromadb.utils.embedding_functions``: 25 embedding functions for other
      providers (and jsonschema, to check their settings); we pass our own vectors.
      chromadb's import takes two names from it, the table of known functions and
      the decorator that fills it, which stand in for the real ones (imported on
      first use: a collection whose configuration names an embedding function);
    - the OpenTelemetry exporter over gRPC (grpc, protobuf), which sends traces only
      when ``chroma_otel_granularity`` is set.

    Together 0.3 s of CPU, half of chromadb's import (README, "Cold start")."""
    spec = importlib.util.find_spec("chromadb")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "utils")
    functions = ModuleType("chromadb.utils.embedding_functions")
    functions.__path__ = [os.path.join(folder, "embedding_functions")]
    functions.known_embedding_functions = _Known()  # type: ignore[attr-defined]
    functions.register_embedding_function = _register_embedding_function  # type: ignore[attr-defined]
    exporter = ModuleType("opentelemetry.exporter.otlp.proto.grpc.trace_exporter")
    exporter.OTLPSpanExporter = _otlp_span_exporter  # type: ignore[attr-defined]
    return {module.__name__: module for module in (functions, exporter)}


def import_chromadb() -> ModuleType:
    """``chromadb``, imported with its ``@override`` decorators only marking methods and
    without the modules :func:`_stand_ins` names.

    Those decorators check each method's signature against its base class as the class
    is defined, a development-time check of Chroma's own code that is a fifth of its
    import time (0.3 of 1.5 s of CPU; README, "Cold start"). The check is skipped, and
    the stand-ins are in place, only while chromadb's modules load; ``overrides`` is
    restored after, and a later import of a stood-in module imports the real one.
    """
    if "chromadb" not in sys.modules:
        with _import_lock:
            if "chromadb" not in sys.modules:
                _import_chromadb_lightly()
    # Not sys.modules["chromadb"]: while another thread is still importing it (the app's
    # or the server's warm-up as the first question comes), that is a half-made module
    # without PersistentClient; the import statement waits for that thread to finish.
    import chromadb

    return chromadb


def _import_chromadb_lightly() -> None:
    import overrides

    real = overrides.override, overrides.overrides
    overrides.override = overrides.overrides = _marked
    stand_ins = {k: v for k, v in _stand_ins().items() if k not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        import chromadb  # noqa: F401
    finally:
        overrides.override, overrides.overrides = real
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if getattr(sys.modules.get(parent), child, None) is stand_in:
                delattr(sys.modules[parent], child)


class ChunkStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.collection_name
        self._client: Any = None
        self._collection: Any = None
        # The API answers from several threads; the first questions may arrive together,
        # and Chroma's embedded client must be created once per process, not raced.
        self._lock = threading.RLock()
        self._readers = 0
        self._reopening = False
        self._idle = threading.Condition()

    def close(self) -> None:
        """Release connections (HTTP) or the shared embedded system when unused."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self._collection = None

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Marks a read in progress, so :meth:`reopen` never closes the client under it."""
        with self._idle:
            self._idle.wait_for(lambda: not self._reopening)
            self._readers += 1
        try:
            yield
        finally:
            with self._idle:
                self._readers -= 1
                self._idle.notify_all()

    def reopen(self) -> None:
        """Drop the embedded client once the reads in progress are done; the next use opens
        a fresh one.

        The embedded store keeps its vector index in memory and does not see chunks
        that another process (``rag index``) wrote: a search misses them and reading
        their vectors fails. A reader calls this when the manifest generation moves.
        A Chroma server needs nothing of the kind.
        """
        if self.settings.chroma_host:
            return
        with self._idle:
            self._reopening = True
            self._idle.wait_for(lambda: self._readers == 0)
        try:
            with self._lock:
                self.close()
        finally:
            with self._idle:
                self._reopening = False
                self._idle.notify_all()

    def __enter__(self) -> ChunkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        s = self.settings
        if s.chroma_host:
            return f"Chroma server {s.chroma_host}:{s.chroma_port}"
        return f"{s.index_dir / 'chroma'}"

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            hint = (
                "is the server running? start one with `chroma run --path DIR --port N` "
                "or unset RAG_CHROMA_HOST to use the embedded store"
                if self.settings.chroma_host
                else "check that the index folder is writable and the disk is not full"
            )
            raise StoreError(f"{action} failed ({self.where}): {exc}; {hint}") from exc

    def _read(self, action: str, read: Callable[[Any], T]) -> T:
        """``read(collection)``, once more with a fresh handle if the collection is gone:
        a rebuild (``rag index --rebuild``, ``POST /index?rebuild=true``, the app's
        Rebuild) drops it and creates a new one under the same name, and a handle
        opened before points at the old one's id."""
        import_chromadb()
        from chromadb.errors import NotFoundError

        with self._reading(), self._errors(action):
            try:
                return read(self.collection)
            except NotFoundError:
                self._collection = None
            return read(self.collection)

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                return self._connect()
        return self._client

    def _connect(self) -> Any:
        if self._client is None:
            chromadb = import_chromadb()
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            with self._errors("connecting to Chroma"):
                if self.settings.chroma_host:
                    self._client = chromadb.HttpClient(
                        host=self.settings.chroma_host,
                        port=self.settings.chroma_port,
                        settings=chroma_settings,
                    )
                    self._client.heartbeat()
                else:
                    path = self.settings.index_dir / "chroma"
                    path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(
                        path=str(path), settings=chroma_settings
                    )
        return self._client

    @property
    def collection(self) -> Any:
        if self._collection is None:
            with self._lock, self._errors("opening the collection"):
                if self._collection is None:
                    self._collection = self.client.get_or_create_collection(
                        self.name,
                        configuration={"hnsw": {"space": "cosine"}},
                        metadata={
                            "settings_hash": self.settings.vector_hash(),
                            "model": self.settings.model_id,
                        },
                        embedding_function=None,
                    )
        return self._collection

    @property
    def max_batch(self) -> int:
        with self._errors("reading the batch limit"):
            return int(self.client.get_max_batch_size())

    def count(self) -> int:
        return int(self._read("counting chunks", lambda c: c.count()))

    def upsert(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        step = self.max_batch
        with self._errors("writing chunks"):
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=list(ids[i : i + step]),
                    embeddings=vectors[i : i + step],
                    documents=list(documents[i : i + step]),
                    metadatas=list(metadatas[i : i + step]),
                )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        step = self.max_batch
        with self._errors("updating chunk metadata"):
            for i in range(0, len(ids), step):
                self.collection.update(
                    ids=list(ids[i : i + step]), metadatas=list(metadatas[i : i + step])
                )

    def delete(self, ids: Sequence[str]) -> None:
        step = self.max_batch
        with self._errors("deleting chunks"):
            for i in range(0, len(ids), step):
                self.collection.delete(ids=list(ids[i : i + step]))

    def all_ids(self) -> set[str]:
        def read(collection: Any) -> set[str]:
            ids: set[str] = set()
            offset = 0
            while True:
                page = collection.get(include=[], limit=PAGE, offset=offset)
                ids.update(page["ids"])
                if len(page["ids"]) < PAGE:
                    return ids
                offset += PAGE

        return self._read("listing chunks", read)

    def get(self, ids: Sequence[str]) -> dict[str, Any]:
        return dict(
            self._read(
                "reading chunks",
                lambda c: c.get(ids=list(ids), include=["documents", "metadatas"]),
            )
        )

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids``, in that order."""
        got = self._read("reading vectors", lambda c: c.get(ids=list(ids), include=["embeddings"]))
        order = {cid: i for i, cid in enumerate(got["ids"])}
        return np.asarray([got["embeddings"][order[cid]] for cid in ids], dtype=np.float32)

    def query_ids(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunk ids and their cosine similarity, best first."""

        def search(collection: Any) -> Any:
            count = collection.count()
            if not count:
                return None
            return collection.query(
                query_embeddings=[vector],
                n_results=min(k, count),
                where=where or None,
                include=["distances"],
            )

        result = self._read("searching", search)
        if result is None:
            return []
        return [
            (cid, 1.0 - float(dist))
            for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float, str, Metadata]]:
        """Nearest chunks: (id, cosine similarity, document, metadata), best first."""
        result = self._read(
            "searching",
            lambda c: c.query(
                query_embeddings=[vector],
                n_results=k,
                where=where or None,
                include=["documents", "metadatas", "distances"],
            ),
        )
        return [
            (cid, 1.0 - float(dist), doc, meta)
            for cid, dist, doc, meta in zip(
                result["ids"][0],
                result["distances"][0],
                result["documents"][0],
                result["metadatas"][0],
                strict=True,
            )
        ]

    def drop(self) -> None:
        """Delete this settings hash's collection (for ``rag index --rebuild``)."""
        with self._errors("deleting the collection"):
            if self.name in self.collection_names():
                self.client.delete_collection(self.name)
        self._collection = None

    def collection_names(self) -> list[str]:
        with self._errors("listing collections"):
            return sorted(
                c if isinstance(c, str) else c.name for c in self.client.list_collections()
            )
