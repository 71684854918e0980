"""A running ``rag serve``, asked by ``rag ask`` and ``rag chat`` instead of loading the
models in-process (seconds on every cold start).

The CLI uses a server only when all of these hold:

- it runs on this machine: ``RAG_API_HOST`` is a loopback address, or every interface
  (``0.0.0.0``, ``::``, then asked on loopback); a server elsewhere is never sent the
  question or the token unasked;
- it answers ``GET /health`` at ``RAG_API_PORT`` within :data:`PROBE_TIMEOUT` — where
  nothing listens, the connection is refused at once and the probe costs nothing;
- it serves the same index (:meth:`~rag.settings.Settings.index_id`) with the same
  answer settings (:meth:`~rag.settings.Settings.answer_hash`), so that its answer is
  the one the CLI would give in-process.

The requests go through the standard library's ``http.client`` (never a proxy), and
nothing here imports torch, Chroma or FastAPI: a client starts in a fraction of a
second. Errors the server reports come back as the :mod:`rag.errors` class it raised,
so the CLI prints the same line and exit code; a request the server cannot take as the
CLI would (:class:`Unusable`: a refused token, a lost connection, a request it rejects
unread) is answered in-process instead.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rag import errors
from rag.access import is_loopback
from rag.ask.results import Answer, Filters
from rag.settings import Settings

# Seconds a server on this machine may take to answer its health check.
PROBE_TIMEOUT = 1.0
# Seconds an answer may take: a server's first question loads its models.
ASK_TIMEOUT = 600.0
EVERY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}


class Unusable(Exception):
    """The server cannot answer this request as the CLI would (a refused token, a lost
    connection); the message says why, and the CLI answers in-process instead."""


def probe_address(settings: Settings) -> tuple[str, int] | None:
    """Where to look for a running server: the configured address on loopback, or None
    when it is another machine's."""
    host = settings.api_host.strip()
    if host in EVERY_INTERFACE:
        host = "::1" if ":" in host else "127.0.0.1"
    elif not is_loopback(host):
        return None
    return host.strip("[]"), settings.api_port


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass
class Server:
    """A running ``rag serve`` that serves this CLI's index and settings."""

    host: str
    port: int
    token: str | None = None

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    @contextmanager
    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, timeout: float
    ) -> Iterator[http.client.HTTPResponse]:
        """The response to one request, its status under 400; an error of the server's
        (a 4xx or 5xx with ``{"error"}``) raised as the :mod:`rag.errors` class it names."""
        headers = {"Accept": "application/json, text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body, default=str).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
            except TimeoutError:
                raise errors.RagError(
                    f"the server at {self.url} did not answer within {timeout:.0f} s; "
                    "pass --local to answer in-process"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                raise Unusable(f"the server at {self.url} stopped answering ({exc})") from exc
            with response:
                if response.status == 401:
                    raise Unusable(
                        f"the server at {self.url} wants a token: set RAG_API_TOKEN to the "
                        "one it was started with"
                    )
                if response.status >= 400:
                    raise _error(self.url, response.read())
                yield response
        finally:
            connection.close()

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        engine: str | None = None,
    ) -> dict[str, Any]:
        """``POST /ask``: the answer's JSON, exactly as ``rag ask --json`` prints it."""
        filters = filters or Filters()
        body = {
            "question": question,
            "k": k,
            "sources": filters.sources,
            "since": filters.since,
            "until": filters.until,
            "article_ids": filters.article_ids,
            "as_of": filters.as_of,
            "engine": engine,
        }
        with self._request("POST", "/ask", body, ASK_TIMEOUT) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def chat(
        self, question: str, *, session_id: str | None, engine: str | None = None
    ) -> Iterator[tuple[str, Any]]:
        """``POST /chat``: its server-sent events as ``(event, data)`` pairs — ``session``
        (the id and the rewritten question), ``token`` (answer text), ``answer``."""
        body = {"question": question, "session_id": session_id, "engine": engine}
        with self._request("POST", "/chat", body, ASK_TIMEOUT) as response:
            event, data = "message", []
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    yield event, json.loads("\n".join(data))
                    event, data = "message", []


def _error(url: str, raw: bytes) -> errors.RagError | Unusable:
    """The server's ``{"error", "kind"}`` as the :mod:`rag.errors` class it names, which the
    CLI reports as it would its own. An error without a kind is the server's framework
    refusing the request itself (a request schema it does not take, a route it lacks): the
    server cannot answer it as the CLI would, so the CLI answers in-process."""
    try:
        body = json.loads(raw)
        message, kind = str(body["error"]), str(body.get("kind", ""))
    except (ValueError, KeyError, TypeError):
        message, kind = raw.decode("utf-8", "replace")[:200], ""
    cls = getattr(errors, kind, None) if kind else None
    if not (isinstance(cls, type) and issubclass(cls, errors.RagError)):
        return Unusable(f"the server at {url} could not take the request ({message})")
    if cls in (errors.IndexLockedError, errors.UploadError):  # not raised by a question
        cls = errors.RagError
    return cls(message)


def answer(data: dict[str, Any]) -> Answer:
    """An :class:`~rag.ask.results.Answer` from its JSON (``rag ask --json``, ``POST /ask``)."""
    from pydantic import TypeAdapter

    return TypeAdapter(Answer).validate_python(data)


def find(settings: Settings) -> tuple[Server | None, str | None]:
    """A running server this CLI may use, or None and (when one answered but cannot be
    used) a line saying why. Nothing listening is not worth a line."""
    address = probe_address(settings)
    if address is None:
        return None, None
    server = Server(*address, token=settings.api_token)
    connection = http.client.HTTPConnection(*address, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        health = json.loads(response.read()) if response.status == 200 else None
    except TimeoutError:
        return None, (
            f"the server at {server.url} did not answer its health check within "
            f"{PROBE_TIMEOUT:.0f} s; answering in-process"
        )
    except (OSError, http.client.HTTPException, ValueError):
        return None, None
    finally:
        connection.close()
    if not isinstance(health, dict) or health.get("status") != "ok" or "collection" not in health:
        return None, None  # something else listens there
    if health.get("index_id") != settings.index_id():
        return None, (
            f"the server at {server.url} serves another index than "
            f"{settings.index_dir.expanduser().resolve()} "
            "(RAG_INDEX_DIR); answering in-process"
        )
    if health.get("settings_hash") != settings.answer_hash():
        return None, (
            f"the server at {server.url} answers with other settings than this command's "
            "(RAG_* variables or rag.toml); answering in-process"
        )
    return server, None
