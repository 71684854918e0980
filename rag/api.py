"""The HTTP API (FastAPI): ask, chat (server-sent events), articles, uploads, links, feeds,
index, health.

    rag serve [--host 127.0.0.1] [--port 8000]     OpenAPI at /docs

With ``RAG_API_TOKEN`` set, every route but ``/health`` and the documentation
(``/docs``, ``/openapi.json`` and the docs' assets, served from the
machine) needs ``Authorization: Bearer <token>``; without it ``rag serve`` listens
on loopback only (``--insecure`` overrides). Errors are JSON ``{"error": message}`` and
bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import feeds, uploads, whos_who
from rag.access import check_listen, token_matches
from rag.catalog import get_article, index_status, list_articles
from rag.chat import Sessions
from rag.conversation import Conversation
from rag.errors import (
    ConfigError,
    ConflictError,
    IndexLockedError,
    InvalidQuestionError,
    ModelError,
    NotFoundError,
    RagError,
    SkippedInputError,
    StoreError,
    UploadError,
)
from rag.indexer import sync
from rag.links import add_links
from rag.pipeline import Pipeline
from rag.results import MAX_K, Answer, Filters, check_k
from rag.settings import Settings, get_settings

# The first class the error is an instance of decides: subclasses before their bases.
_STATUS = {
    InvalidQuestionError: 422,
    NotFoundError: 404,
    IndexLockedError: 409,
    ConflictError: 409,
    ConfigError: 400,
    SkippedInputError: 422,
    StoreError: 503,
    ModelError: 503,
}


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=10_000, description="The question.")
    # Checked by rag.results.check_k, as the CLI's --k is: one rule, one message. The
    # bounds are still published in the schema.
    k: int | None = Field(
        None,
        description=f"Passages to answer from (1 to {MAX_K}; default RAG_TOP_K).",
        json_schema_extra={"minimum": 1, "maximum": MAX_K},
    )
    sources: list[str] = Field(default_factory=list, max_length=100)
    since: date | None = None
    until: date | None = None
    article_ids: list[str] = Field(default_factory=list, max_length=1000)
    engine: str | None = Field(None, description="extractive (default) or llm")
    as_of: date | None = Field(
        None,
        description="Day relative dates in the question count from ('last week'); "
        "default RAG_AS_OF, else today.",
    )

    def filters(self) -> Filters:
        check_k(self.k)
        # A reversed range, an unknown outlet: the pipeline says so (422), as for the CLI.
        return Filters(self.sources, self.since, self.until, self.article_ids, self.as_of)


class LinksRequest(BaseModel):
    urls: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        ...,
        min_length=1,
        max_length=100,
        description="http(s) links to news articles, fetched and saved into the articles folder.",
    )
    index: bool = Field(True, description="Index what was saved (false: POST /index later).")


class FeedRequest(BaseModel):
    url: str = Field(..., min_length=1, max_length=2000, description="An RSS or Atom feed's URL.")
    name: str | None = Field(
        None,
        min_length=1,
        max_length=60,
        description="What to call it (default: its site's name, as `rag feeds add` does).",
    )


class PullRequest(BaseModel):
    names: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list,
        max_length=100,
        description="The feeds to pull, by name or URL (default: every feed on the list).",
    )
    index: bool = Field(
        default=True, description="Index what was saved (false: POST /index later)."
    )


class ChatRequest(AskRequest):
    session_id: str | None = Field(
        None,
        max_length=64,
        description="A session this server gave out; omit to start one (an unknown id: 404).",
    )


# uvicorn's own logger: what `rag serve` prints about itself appears with its lines.
_log = logging.getLogger("uvicorn.error")


class _Warming:
    """The models loading in a thread as the server starts (:meth:`Pipeline.warm`), so
    that the first question waits for none of it; ``/health`` says how far it is."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None

    def start(self, get_pipeline: Any) -> None:
        def run() -> None:
            try:
                get_pipeline().warm()
            except RagError as exc:  # the first question loads again and says why
                _log.warning("the models did not load (%s); the first question will retry", exc)
            else:
                _log.info("models loaded: the first question waits for none of them")

        self.thread = threading.Thread(target=run, name="rag-warm-up", daemon=True)
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def create_app(
    settings: Settings | None = None, pipeline: Pipeline | None = None, *, warm: bool = False
) -> FastAPI:
    """The API over ``settings`` (default: the environment's). ``warm``: load the models
    in a thread when the server starts (``rag serve`` does), so that the first question
    waits for none of them; ``/health`` answers meanwhile (``models``: ``loading``)."""
    settings = get_settings(settings)
    warming = _Warming()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            warming.start(get_pipeline)
        yield

    # FastAPI's own /docs and /redoc load Swagger UI, ReDoc, a favicon and fonts from the
    # web; fastapi-offline serves /docs with the assets its package ships (under
    # /static-offline-docs), so the docs work with no network and load nothing from
    # outside. The docs and the schema are public, token or not: they describe the
    # routes and hold no data.
    app = FastAPIOffline(
        title="newsdesk",
        description="Questions about a folder of news articles, answered with cited passages.",
        version="0.1.0",
        # Swagger UI would send the schema to an online validator for its badge.
        swagger_ui_parameters={"validatorUrl": None},
        # ReDoc's bundle loads its logo from the web; /docs is the one docs page.
        redoc_url=None,
        lifespan=lifespan,
    )
    state: dict[str, Any] = {"pipeline": pipeline}
    sessions = Sessions()
    index_lock = threading.Lock()

    pipeline_lock = threading.Lock()

    def get_pipeline() -> Pipeline:
        # Requests run in a thread pool: the first ones may arrive together; build one.
        if state["pipeline"] is None:
            with pipeline_lock:
                if state["pipeline"] is None:
                    state["pipeline"] = Pipeline(settings)
        return state["pipeline"]  # type: ignore[no-any-return]

    def authorise(request: Request) -> None:
        token = settings.api_token
        if not token:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not token_matches(given, token):
            raise HTTPException(
                401, "missing or wrong API token: send `Authorization: Bearer <RAG_API_TOKEN>`"
            )

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        # "kind" names the error's class in rag.errors: `rag ask` answering through this
        # server exits as it would in-process (2 for a FilterError, 1 otherwise).
        body = {"error": str(exc), "kind": type(exc).__name__}
        if isinstance(exc, UploadError):
            return JSONResponse(body, status_code=exc.status)
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        return JSONResponse(body, status_code=status)

    # Starlette's own class: it also covers the router's 404 and 405, not only ours.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=422)

    def models() -> str:
        if warming.running:
            return "loading"
        pipe = state["pipeline"]
        return "loaded" if pipe is not None and pipe.loaded() else "not loaded"

    @app.get("/health")
    def health() -> dict[str, Any]:
        status = index_status(settings, check_store=False)
        return {
            "status": "ok",
            "articles": status["articles"],
            "chunks": status["chunks"],
            "collection": status["collection"],
            # What `rag ask` and `rag chat` compare with their own before using this
            # server: the same index, and the settings an answer depends on.
            "index_id": settings.index_id(),
            "settings_hash": settings.answer_hash(),
            # The models a question needs: "loading" while the server warms up (a question
            # sent meanwhile waits for the rest of that load), "loaded", or "not loaded"
            # (the first question loads them).
            "models": models(),
        }

    guarded = [Depends(authorise)]

    # The response model documents the answer in the OpenAPI schema: short answers,
    # the yes/no verdict with its claims, confidence and what an abstention missed.
    @app.post("/ask", dependencies=guarded, response_model=Answer)
    def ask(body: AskRequest) -> dict[str, Any]:
        answer = get_pipeline().ask(
            body.question, k=body.k, filters=body.filters(), engine=body.engine
        )
        return answer.to_dict()

    @app.post("/chat", dependencies=guarded)
    def chat(body: ChatRequest) -> StreamingResponse:
        # Validate before the stream starts, so bad input is a 4xx, not a broken stream:
        # an unknown session is a 404, not a new session answering a follow-up blind.
        filters = body.filters()
        conversation = Conversation(get_pipeline(), sessions.get(body.session_id))
        message = conversation.rewrite(body.question, body.engine)
        stream = conversation.stream(message, k=body.k, filters=filters, engine=body.engine)
        first = next(stream)

        def events() -> Iterator[str]:
            started = {"session_id": conversation.id, "rewritten_question": message.changed}
            yield f"event: session\ndata: {json.dumps(started)}\n\n"
            for piece in [first, *stream]:
                if isinstance(piece, Answer):
                    data = piece.to_dict() | {"session_id": conversation.id}
                    yield f"event: answer\ndata: {json.dumps(data, default=str)}\n\n"
                else:
                    yield f"event: token\ndata: {json.dumps(piece)}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.get("/timeline", dependencies=guarded)
    def timeline(
        q: Annotated[str, Query(description="a person, organisation or story", min_length=1)],
        k: Annotated[int | None, Query(description="passages to gather from")] = None,
        source: Annotated[list[str] | None, Query(description="only these outlets")] = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, Any]:
        """The dated events about ``q``, oldest first, each with its cited sentence, and
        the articles about it per day and outlet (``coverage``)."""
        filters = Filters(sources=source or [], since=since, until=until)
        return get_pipeline().timeline(q, k=k, filters=filters).to_dict()

    @app.get("/entities", dependencies=guarded)
    def entities(
        type: Annotated[str | None, Query(description="PERSON, ORG or PLACE")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[dict[str, Any]]:
        """The people, organisations and places mentioned, by articles mentioning them."""
        return [asdict(e) for e in whos_who.listing(settings, type, limit)]

    @app.get("/entities/{name}", dependencies=guarded)
    def entity(name: str, type: str | None = None) -> dict[str, Any]:
        """One entity (any of its forms): its articles oldest first and the entities it
        appears with most."""
        return whos_who.profile(settings, name, type).to_dict()

    @app.get("/articles", dependencies=guarded)
    def articles() -> list[dict[str, Any]]:
        return list_articles(settings)

    @app.get("/articles/{article_id}", dependencies=guarded)
    def article(article_id: str) -> dict[str, Any]:
        return get_article(settings, article_id)

    @app.post("/articles", dependencies=guarded, status_code=201)
    async def upload(
        files: Annotated[list[UploadFile], File(description="Article files to add")],
        overwrite: bool = False,
    ) -> dict[str, Any]:
        uploads.check_count(settings, len(files))
        planned = []
        for upload in files:
            target = uploads.target(settings, upload.filename, overwrite=overwrite)
            data = await upload.read(settings.max_file_bytes + 1)
            uploads.check_size(settings, target.name, len(data))
            planned.append((target, data))
        saved = uploads.write(planned)
        return {"saved": saved, "next": "POST /index to add them to the index"}

    def update_index(rebuild: bool = False, wait: bool = False) -> dict[str, Any]:
        """The sync, one at a time in this server, through the pipeline's model; ``wait``
        (the feed schedule) waits for a running one instead of refusing."""
        if not index_lock.acquire(blocking=wait):
            raise IndexLockedError(None, str(settings.index_dir / ".lock"))
        try:
            pipe = get_pipeline()
            return sync(settings, rebuild=rebuild, wait=wait, embedder=pipe.embedder).to_dict()
        finally:
            index_lock.release()

    @app.post("/index", dependencies=guarded)
    async def index(rebuild: bool = False) -> dict[str, Any]:
        return await asyncio.to_thread(update_index, rebuild)

    @app.post("/articles/url", dependencies=guarded, status_code=201)
    async def add_urls(body: LinksRequest) -> dict[str, Any]:
        """Fetch each link (every rule of rag/fetch.py), save its article into the articles
        folder and index it; a link that fails has its reason and the rest go on."""
        outcomes = await asyncio.to_thread(add_links, settings, body.urls)
        changed = any(o.status in ("added", "updated") for o in outcomes)
        summary = None
        if changed and body.index:
            summary = await asyncio.to_thread(update_index)
        return {
            "links": [o.to_dict() for o in outcomes],
            "index": summary,
            **({"next": "POST /index to add them to the index"} if changed and not summary else {}),
        }

    @app.get("/feeds", dependencies=guarded)
    def list_feeds() -> list[dict[str, Any]]:
        """The feeds on the list (``feeds.json`` beside the index), each with its last
        pull's summary, as ``rag feeds list --json`` gives them."""
        return [asdict(feed) for feed in feeds.load(settings)]

    @app.post("/feeds", dependencies=guarded, status_code=201)
    def add_feed(body: FeedRequest) -> dict[str, Any]:
        """Put a feed on the list (``rag feeds add``); a URL or name on it already is a 409.
        Nothing is fetched until ``POST /feeds/pull``."""
        feed = feeds.add(settings, body.url, body.name)
        return {"feed": asdict(feed), "next": "POST /feeds/pull to fetch its items"}

    @app.delete("/feeds/{name}", dependencies=guarded)
    def remove_feed(name: str) -> dict[str, Any]:
        """Take a feed off the list (``rag feeds remove``); the articles it added stay."""
        return {"removed": asdict(feeds.remove(settings, name))}

    @app.post("/feeds/pull", dependencies=guarded)
    async def pull_feeds(body: PullRequest | None = None) -> dict[str, Any]:
        """Pull the feeds (``rag feeds pull``): save their new and changed items into the
        articles folder and index them. A feed that fails has its reason in its report
        and the rest go on; an unknown name is a 404, before anything is fetched."""
        body = body or PullRequest()
        reports = await asyncio.to_thread(feeds.pull, settings, body.names or None)
        changed = any(r.changed for r in reports)
        summary = None
        if changed and body.index:
            summary = await asyncio.to_thread(update_index)
        return {
            "feeds": [r.to_dict() for r in reports],
            "index": summary,
            **({"next": "POST /index to add them to the index"} if changed and not summary else {}),
        }

    app.state.update_index = update_index

    return app


def serve(settings: Settings, host: str, port: int, *, insecure: bool = False) -> None:
    """Serve the API with uvicorn. A non-loopback ``host`` needs ``RAG_API_TOKEN`` or
    ``insecure`` (:func:`rag.access.check_listen`)."""
    import uvicorn

    check_listen(host, credential=settings.api_token, variable="RAG_API_TOKEN", insecure=insecure)
    app = create_app(settings, warm=True)
    schedule = None
    if settings.feed_pull_minutes:
        schedule = feeds.Schedule(
            settings,
            lambda reports: (
                app.state.update_index(wait=True) if any(r.changed for r in reports) else None
            ),
        ).start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        if schedule is not None:
            schedule.stop()
