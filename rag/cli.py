"""The ``rag`` command: a thin shell over the library.

Errors of the project's own kind print one line and exit 1 (2 for filters no
article passes, :class:`~rag.errors.FilterError`); ``--debug`` (or
``RAG_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from rag.errors import NotFoundError, RagError
from rag.evaluation.gold import GoldQuestion
from rag.settings import Settings, child_environment, get_settings

if TYPE_CHECKING:
    from rag.ask.results import Answer
    from rag.remote import Server


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _short(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


class _Bar:
    """A tqdm progress bar on stderr, shown only on a terminal; called as (done, total)."""

    def __init__(self, desc: str, unit: str, quiet: bool = False) -> None:
        self.desc, self.unit = desc, unit
        self.quiet = quiet or not sys.stderr.isatty()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from rag.indexing.indexer import sync

    bar = _Bar("embedding", "chunk", args.json)
    try:
        summary = sync(
            settings,
            Path(args.folder) if args.folder else None,
            rebuild=args.rebuild,
            strict=args.strict,
            wait=args.wait,
            verify=args.verify,
            progress=bar,
        )
    finally:
        bar.close()
    if args.json:
        _print_json(summary.to_dict())
    else:
        print("\n".join(summary.lines()))
    return 0


def _index_changes(args: argparse.Namespace, settings: Settings, changed: bool) -> Any:
    """After ``rag add`` or ``rag feeds pull``: sync the index when files were saved
    (unless --no-index); the summary, or None when nothing was indexed."""
    if args.no_index or not changed:
        return None
    from rag.indexing.indexer import sync

    bar = _Bar("embedding", "chunk", args.json)
    try:
        return sync(settings, wait=args.wait, progress=bar)
    finally:
        bar.close()


def _print_index(summary: Any, args: argparse.Namespace) -> None:
    if summary is not None:
        print()
        print("\n".join(summary.lines()))
    elif args.no_index:
        print("\nNot indexed (--no-index): run `rag index` to add them.")


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from rag.indexing.links import add_links

    outcomes = add_links(settings, args.urls)
    changed = any(o.status in ("added", "updated") for o in outcomes)
    summary = _index_changes(args, settings, changed)
    if args.json:
        _print_json(
            {
                "links": [o.to_dict() for o in outcomes],
                "index": summary.to_dict() if summary else None,
            }
        )
    else:
        for outcome in outcomes:
            print(outcome)
        _print_index(summary, args)
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    from rag.indexing import feeds

    if args.action == "add":
        feed = feeds.add(settings, args.url, args.name)
        print(f"Added feed {feed.name}: {feed.url}. `rag feeds pull` fetches its items.")
        return 0
    if args.action == "remove":
        feed = feeds.remove(settings, args.ref)
        print(
            f"Removed feed {feed.name} ({feed.url}); the articles it added stay in the "
            "articles folder."
        )
        return 0
    if args.action == "list":
        listed = feeds.load(settings)
        if args.json:
            _print_json([feed.__dict__ for feed in listed])
            return 0
        if not listed:
            print("No feeds yet. Add one with `rag feeds add URL [--name NAME]`.")
            return 0
        for feed in listed:
            last = feed.last_pull or {}
            when = (last.get("at") or "never")[:16].replace("T", " ")
            print(f"{feed.name:20}  {feed.url}")
            print(f"{'':20}  last pull: {when}" + (f" — {last['summary']}" if last else ""))
        return 0
    reports = feeds.pull(settings, args.names or None)
    summary = _index_changes(args, settings, any(r.changed for r in reports))
    if args.json:
        _print_json(
            {
                "feeds": [r.to_dict() for r in reports],
                "index": summary.to_dict() if summary else None,
            }
        )
    else:
        if not reports:
            print("No feeds yet. Add one with `rag feeds add URL [--name NAME]`.")
        for report in reports:
            print(report.line())
            for item in report.items:
                if item.status in ("added", "updated", "failed", "duplicate"):
                    print(f"  {item}")
        _print_index(summary, args)
    return 1 if any(r.status == "failed" for r in reports) else 0


def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    from rag.catalog import get_article, list_articles

    if args.action == "show":
        if not args.ref:
            raise RagError("name the article: rag articles show ID")
        article = get_article(settings, args.ref)
        if args.json:
            _print_json(article)
            return 0
        for key in ("id", "path", "title", "source", "published_at", "url", "chunks", "cluster"):
            print(f"{key:>12}: {article[key] if article[key] is not None else '-'}")
        for copy in article["copies"]:
            print(f"{'copy':>12}: {copy} (same text)")
        for dup in article["duplicates"]:
            print(f"{'duplicate':>12}: {dup['id']}  {dup['path']}")
        labels = Counter(e["label"] for e in article["entities"])
        counts = ", ".join(f"{label} {n}" for label, n in labels.most_common())
        print(f"{'entities':>12}: {counts or '-'}")
        print()
        print(article["text"])
        return 0

    articles = list_articles(settings)
    if args.json:
        _print_json(articles)
        return 0
    if not articles:
        print("No articles indexed yet. Add files to the articles folder and run `rag index`.")
        return 0
    print(f"{'ID':16}  {'FILE':26}  {'TITLE':44}  {'SOURCE':20}  {'DATE':10}  CHUNKS  CLUSTER")
    for a in articles:
        cluster = "-" if a["cluster_size"] == 1 else f"{a['cluster'][:8]} ({a['cluster_size']})"
        if a["cluster_size"] > 1 and a["cluster"] == a["id"]:
            cluster += " canonical"
        print(
            f"{a['id']:16}  {_short(a['path'], 26):26}  {_short(a['title'], 44):44}  "
            f"{_short(a['source'], 20):20}  {(a['published_at'] or '-')[:10]:10}  "
            f"{a['chunks']:6}  {cluster}"
        )
    return 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _print_citations(answer: Any) -> None:
    for c in answer.citations:
        where = ", ".join(x for x in (c.source, (c.published_at or "")[:10]) if x)
        print(f"[{c.n}] {c.title}" + (f" — {where}" if where else ""))
        print(f"    “{c.quote}”")
        print(f"    article {c.article_id}, characters {c.char_start}–{c.char_end}")
        for copy in c.also_reported_by:
            print(f"    also reported by: {copy['title']} ({copy['source'] or copy['path']})")


VERDICTS = {"yes": "Yes", "no": "No", "cannot tell": "Cannot tell from the articles"}


def _bold(text: str) -> str:
    """``text`` in ANSI bold on a terminal; as it is in a pipe or a file."""
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text


def _markers(numbers: list[int | None]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(numbers) if n is not None)


def _print_head(answer: Any) -> None:
    """What comes before the answer text: the short answer(s), or the yes/no verdict and
    its claims."""
    if answer.short_answers:
        said = ", ".join(
            s.text + (f" ({s.resolved})" if s.resolved else "") for s in answer.short_answers
        )
        print(f"{_bold(said)} {_markers([s.n for s in answer.short_answers])}".rstrip())
    verdict = answer.verdict
    if verdict is not None:
        said = VERDICTS.get(verdict.answer.strip().lower(), verdict.answer)
        print(_bold(said) + (f" — {verdict.reason}" if verdict.reason else ""))
        for claim in verdict.claims:
            print(f"  {claim.status:>12} {_markers([claim.n]) or '[-]'}  {claim.text}")
    if answer.short_answers or verdict is not None:
        print()


def _server(args: argparse.Namespace, settings: Settings) -> Server | None:
    """A running ``rag serve`` to answer through (said in one line on stderr), unless
    ``--local``; None when none serves this index and settings (:func:`rag.remote.find`)."""
    if args.local:
        return None
    from rag import remote

    server, note = remote.find(settings)
    if note:
        print(note, file=sys.stderr)
    if server is not None:
        print(
            f"using the running server at {server.url} (--local to answer in-process)",
            file=sys.stderr,
        )
    return server


def _print_answer(answer: Answer) -> None:
    _print_head(answer)
    print(answer.answer)
    if answer.abstained and answer.missing:
        print(f"Missing: {answer.missing}")
    print()
    _print_citations(answer)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.ask.results import Filters, check_k

    check_k(args.k)  # before the model and the index are loaded
    filters = Filters(
        sources=args.source or [],
        since=args.since,
        until=args.until,
        article_ids=args.article or [],
        as_of=args.as_of,
    )
    server = _server(args, settings)
    if server is not None:
        from rag import remote

        try:
            data = server.ask(args.question, k=args.k, filters=filters, engine=args.engine)
        except remote.Unusable as exc:
            print(f"{exc}; answering in-process", file=sys.stderr)
        else:
            if args.json:
                _print_json(data)
            else:
                _print_answer(remote.answer(data))
            return 0

    from rag.ask.pipeline import Pipeline

    pipeline = Pipeline(settings)
    try:
        # The whole answer before any of it is printed: the short answer comes first.
        answer = pipeline.ask(args.question, k=args.k, filters=filters, engine=args.engine)
    finally:
        pipeline.close()
    if args.json:
        _print_json(answer.to_dict())
    else:
        _print_answer(answer)
    return 0


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from rag.ask.results import Filters, check_k

    check_k(args.k)
    filters = Filters(sources=args.source or [], since=args.since, until=args.until)
    from rag.ask.pipeline import Pipeline

    pipeline = Pipeline(settings)
    try:
        found = pipeline.timeline(args.topic, k=args.k, filters=filters)
    finally:
        pipeline.close()
    if args.json:
        _print_json(found.to_dict())
        return 0
    if not found.events:
        print(f"No dated events about “{found.topic}” in the indexed articles.")
        return 0
    first, last = (date.fromisoformat(found.events[i].day) for i in (0, -1))
    print(
        f"“{found.topic}”: {len(found.events)} events from {found.articles} articles, "
        f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"
        + (f" ({found.undated} undated articles left off)" if found.undated else "")
    )
    for event in found.events:
        day = date.fromisoformat(event.day)
        where = event.source or event.title
        print(f"\n{_bold(f'{day:%a} {day.day} {day:%b %Y}')}  {where} ({event.dated})")
        print(f"    “{event.quote}”")
        print(f"    article {event.article_id}, characters {event.char_start}–{event.char_end}")
        for copy in event.also_reported_by:
            print(f"    also reported by: {copy['title']} ({copy.get('source') or '?'})")
    return 0


def cmd_entities(args: argparse.Namespace, settings: Settings) -> int:
    from rag import whos_who

    if args.name:
        found = whos_who.profile(settings, args.name, args.type)
        if args.json:
            _print_json(found.to_dict())
            return 0
        e = found.entity
        forms = f" (also: {', '.join(e.variants)})" if e.variants else ""
        print(
            f"{e.name} — {e.kind.lower()}, in {e.articles} articles, {e.mentions} mentions{forms}"
        )
        print("\nArticles, oldest first:")
        for a in found.articles:
            when = (a["published_at"] or "")[:10] or "undated"
            print(
                f"  {when}  {a['source'] or '-':<22} {_short(a['title'], 60)}  ({a['mentions']}×)"
            )
        if found.appears_with:
            print("\nAppears most with:")
            for other in found.appears_with:
                print(f"  {other['name']} ({other['kind'].lower()}), {other['articles']} articles")
        return 0
    listed = whos_who.listing(settings, args.type, args.limit)
    if args.json:
        _print_json([vars(e) for e in listed])
        return 0
    if not listed:
        print("No people, organisations or places tagged yet: run `rag index`.")
        return 0
    print(f"{'ARTICLES':>8}  {'MENTIONS':>8}  {'TYPE':<6}  NAME")
    for e in listed:
        print(f"{e.articles:>8}  {e.mentions:>8}  {e.kind:<6}  {e.name}")
    return 0


def _chat_questions() -> Iterator[str | None]:
    """The questions typed at ``rag chat``'s prompt until an empty line or Ctrl-D; None
    for ``/new``, which starts the conversation over."""
    print("Ask about the indexed articles. Empty line or Ctrl-D to quit; /new starts over.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            return
        if not question:
            return
        if question == "/new":
            print("(new conversation)")
            yield None
        else:
            yield question


def _chat_through(server: Server, engine: str | None) -> None:
    """``rag chat`` through a running server: its session keeps the conversation."""
    from rag import remote

    session_id: str | None = None
    for question in _chat_questions():
        if question is None:
            session_id = None
            continue
        try:
            for event, data in server.chat(question, session_id=session_id, engine=engine):
                if event == "session":
                    session_id = data["session_id"]
                    if data.get("rewritten_question"):
                        print(f"({data['rewritten_question']})")
                elif event == "token":
                    print(data, end="", flush=True)
                elif event == "answer":
                    print("\n")
                    _print_citations(remote.answer(data))
        except remote.Unusable as exc:
            raise RagError(f"{exc}; start `rag chat` again (--local to answer in-process)") from exc
        except NotFoundError as exc:  # the server restarted and forgot the session
            session_id = None
            print(f"error: {exc}\n(new conversation)")
        except RagError as exc:
            print(f"error: {exc}")


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    server = _server(args, settings)
    if server is not None:
        _chat_through(server, args.engine)
        return 0

    from rag.ask.conversation import Conversation
    from rag.ask.pipeline import Pipeline
    from rag.ask.results import Answer

    pipeline = Pipeline(settings)
    conversation = Conversation(pipeline)
    try:
        for question in _chat_questions():
            if question is None:
                conversation.clear()
                continue
            message = conversation.rewrite(question, args.engine)
            if message.changed:
                print(f"({message.changed})")
            try:
                for piece in conversation.stream(message, engine=args.engine):
                    if isinstance(piece, Answer):
                        print("\n")
                        _print_citations(piece)
                    else:
                        print(piece, end="", flush=True)
            except RagError as exc:
                print(f"error: {exc}")
    finally:
        pipeline.close()
    return 0


def _eval_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings an evaluation runs under: ``--corpus`` in its own index folder (beside
    the run records) unless ``--index`` names one, and ``--engine``."""
    update: dict[str, Any] = {}
    if args.corpus:
        path = Path(args.corpus)
        update = {"articles_dir": path, "index_dir": Path(args.out) / "index" / path.resolve().name}
    if args.index:
        update["index_dir"] = Path(args.index)
    if args.engine:
        update["engine"] = args.engine
    return settings.model_copy(update=update) if update else settings


def _report(args: argparse.Namespace, record: dict[str, Any], path: Path, extra: str = "") -> int:
    from rag.evaluation import evaluate

    overall = record["summary"]["overall"]
    diff = None
    if args.compare:
        diff = evaluate.compare(evaluate.load_record(Path(args.compare)), record)
    if args.json:
        _print_json({**record["summary"], **({"compare": diff} if diff else {})})
    else:
        print(f"{record['name']}: {overall['questions']} questions → {path}")
        for name, value in overall.items():
            print(f"  {name:>36}: {value}")
        for table in (
            evaluate.yes_no_markdown(record["summary"]),
            evaluate.reliability_markdown(record["summary"]),
        ):
            if table:
                print(f"\n{table}")
        if extra:
            print(extra)
        if diff:
            print(evaluate.compare_markdown(diff))
    failures = evaluate.check_floors(overall, args.min or [])
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _run_gold(
    args: argparse.Namespace,
    settings: Settings,
    gold: list[GoldQuestion],
    name: str,
    source: Path,
    paper: bool = False,
) -> tuple[dict[str, Any], Path]:
    """Index, check that the index holds the set's evidence (``source``: its file), run."""
    from rag.ask.pipeline import Pipeline
    from rag.evaluation import evaluate
    from rag.indexing.indexer import sync

    bar = _Bar("indexing", "chunk", args.json)
    try:
        sync(settings, wait=True, progress=bar)
    finally:
        bar.close()
    judge = evaluate.llm_judge(settings) if args.judge else None
    pipeline = Pipeline(settings)
    bar = _Bar(name, "question", args.json)
    try:
        # After the sync: `--corpus` has just indexed the articles the set is checked against.
        warning = evaluate.check_index(pipeline, gold, source.name)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        record = evaluate.run(
            pipeline, gold, k=args.k, name=name, paper=paper, judge=judge, progress=bar
        )
    finally:
        bar.close()
        pipeline.close()
    return record, evaluate.write(record, Path(args.out))


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from rag.ask.results import check_k
    from rag.evaluation import runs
    from rag.evaluation.gold import load_gold

    check_k(args.k)  # before anything is indexed
    settings = _eval_settings(args, settings)
    status = 0
    # Found as the app finds them: the path, else by name in ./eval/gold, then the project's.
    for gold_path in [runs.gold_path(name) for name in args.gold or [runs.DEFAULT_GOLD]]:
        gold = load_gold(gold_path)
        record, path = _run_gold(args, settings, gold, gold_path.stem, gold_path)
        status = max(status, _report(args, record, path))
    return status


def cmd_bench_multihop(args: argparse.Namespace, settings: Settings) -> int:
    from rag.evaluation import multihop

    settings = _eval_settings(args, settings)
    gold = multihop.load_questions(Path(args.questions), limit=args.limit)
    name = f"multihop-{Path(args.questions).stem}"
    record, path = _run_gold(args, settings, gold, name, Path(args.questions), paper=True)
    lenient = multihop.paper_accuracy(record["questions"])
    extra = (
        "\nRetrieval next to the paper's Table 5 (non-null questions, top 10 passages):\n\n"
        + multihop.paper_table(record["summary"]["overall"])
        + f"\n\nAnswer accuracy under the paper's rule (shares a word with the gold answer, "
        f"abstention = 'Insufficient information.'): {lenient:.4f} — lenient for sentence "
        "answers; answer_correct above is the strict containment score. Paper: "
        + ", ".join(f"{k} {v}" for k, v in multihop.PAPER_ACCURACY.items())
    )
    return _report(args, record, path, extra)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from rag.api import serve

    host, port = args.host or settings.api_host, args.port or settings.api_port
    serve(settings, host, port, insecure=args.insecure)
    return 0


# The app ships beside this package (`ui/` next to `rag/`, in a checkout and in an
# installed wheel alike); found by path, never by import, so a `ui.py` or `ui/` in the
# folder `rag ui` is started from cannot stand in for it.
APP = Path(__file__).resolve().parents[1] / "ui" / "app.py"


def ui_command(settings: Settings, host: str | None = None, port: int | None = None) -> list[str]:
    """The ``streamlit run`` command line that serves the app (``ui/app.py``).

    ``python -P`` keeps the working directory off ``sys.path``: the app's own
    ``from ui import views`` must find the product's package, not a folder's ``ui.py``.
    """
    if not APP.is_file():
        raise RagError(
            "the Streamlit app (ui/app.py) is not installed; install the project from its "
            "checkout with `pip install -e .`, or run `streamlit run ui/app.py` there"
        )
    return [
        sys.executable,
        "-P",
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host or settings.ui_host,
        "--server.port",
        str(port or settings.ui_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    from rag.access import check_listen

    host, port = args.host or settings.ui_host, args.port or settings.ui_port
    insecure = args.insecure or settings.ui_insecure
    check_listen(host, credential=settings.ui_token, variable="RAG_UI_TOKEN", insecure=insecure)
    command = ui_command(settings, host, port)
    # The app checks its own address and token: it must know --insecure was given.
    env = child_environment(**({"ui_insecure": "true"} if insecure else {}))
    print(f"Serving the app at http://{host}:{port} (Ctrl-C to stop)", flush=True)
    sys.stderr.flush()
    # Streamlit takes this process's place: `kill PID` and Ctrl-C reach the server itself,
    # and no child is left serving the port when `rag ui` is stopped.
    os.execve(sys.executable, command, env)
    return 0  # not reached


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from rag.catalog import index_status

    status = index_status(settings)
    if args.json:
        _print_json(status)
        return 0
    for key, value in status.items():
        print(f"{key:>18}: {value if value not in (None, []) else '-'}")
    if not status["articles"]:
        print(
            f"\nThe index at {status['index_dir']} is empty: run `rag index` to index "
            f"{status['articles_dir']}."
        )
    return 0


LOCAL, LOCAL_HELP = "--local", "answer in-process, not through a running `rag serve`"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Question answering over a folder of news articles."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="sync the index with the articles folder")
    index.add_argument("folder", nargs="?", help="articles folder (default: RAG_ARTICLES_DIR)")
    index.add_argument("--rebuild", action="store_true", help="drop the index and start over")
    index.add_argument("--strict", action="store_true", help="fail if any input cannot be read")
    index.add_argument("--wait", action="store_true", help="wait for another writer to finish")
    index.add_argument(
        "--verify", action="store_true", help="check every chunk against the manifest"
    )
    index.add_argument("--json", action="store_true", help="print the summary as JSON")
    index.set_defaults(run=cmd_index)

    def fetch_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--no-index", action="store_true", help="save the articles, do not index")
        p.add_argument("--wait", action="store_true", help="wait for another writer to finish")
        p.add_argument("--json", action="store_true", help="print the outcome as JSON")

    add = commands.add_parser("add", help="fetch web pages into the articles folder and index them")
    add.add_argument("urls", nargs="+", metavar="URL", help="http(s) links to news articles")
    fetch_options(add)
    add.set_defaults(run=cmd_add)

    feeds = commands.add_parser("feeds", help="RSS and Atom feeds: add, list, remove, pull")
    feed_actions = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    feed_add = feed_actions.add_parser("add", help="put a feed on the list")
    feed_add.add_argument("url", help="the feed's http(s) URL")
    feed_add.add_argument("--name", help="a short name for it (default: from its host)")
    feed_list = feed_actions.add_parser("list", help="the feeds and their last pull")
    feed_list.add_argument("--json", action="store_true", help="print JSON")
    feed_remove = feed_actions.add_parser("remove", help="take a feed off the list")
    feed_remove.add_argument("ref", metavar="NAME|URL")
    feed_pull = feed_actions.add_parser("pull", help="fetch new and changed items, then index")
    feed_pull.add_argument("names", nargs="*", metavar="NAME", help="only these feeds")
    fetch_options(feed_pull)
    feeds.set_defaults(run=cmd_feeds)

    articles = commands.add_parser("articles", help="list indexed articles, or show one")
    articles.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    articles.add_argument("ref", nargs="?", help="article id, id prefix or file name (for show)")
    articles.add_argument("--json", action="store_true", help="print JSON")
    articles.set_defaults(run=cmd_articles)

    ask = commands.add_parser("ask", help="answer a question from the indexed articles")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")
    ask.add_argument("--k", type=int, help="passages to answer from (default RAG_TOP_K)")
    ask.add_argument("--source", action="append", help="only this source (repeatable)")
    ask.add_argument("--since", type=_date, help="only articles published on or after YYYY-MM-DD")
    ask.add_argument("--until", type=_date, help="only articles published on or before YYYY-MM-DD")
    ask.add_argument("--article", action="append", help="only this article id (repeatable)")
    ask.add_argument(
        "--as-of",
        type=_date,
        help="day 'last week', 'yesterday' … count from, YYYY-MM-DD (default RAG_AS_OF, today)",
    )
    ask.add_argument("--engine", choices=["extractive", "llm"], help="answer engine")
    ask.add_argument(LOCAL, action="store_true", help=LOCAL_HELP)
    ask.set_defaults(run=cmd_ask)

    timeline = commands.add_parser("timeline", help="dated events about a topic, oldest first")
    timeline.add_argument("topic", help="a person, organisation or story, e.g. 'Binance'")
    timeline.add_argument("--json", action="store_true", help="print the timeline as JSON")
    timeline.add_argument("--k", type=int, help="passages to gather from (default 40)")
    timeline.add_argument("--source", action="append", help="only this source (repeatable)")
    timeline.add_argument("--since", type=_date, help="only articles published on or after")
    timeline.add_argument("--until", type=_date, help="only articles published on or before")
    timeline.set_defaults(run=cmd_timeline)

    entities = commands.add_parser(
        "entities", help="who's who: the people, organisations and places mentioned"
    )
    entities.add_argument("name", nargs="?", help="one entity: its articles and company")
    entities.add_argument("--type", choices=["PERSON", "ORG", "PLACE"], help="only this type")
    entities.add_argument("--limit", type=int, default=30, help="how many to list (default 30)")
    entities.add_argument("--json", action="store_true", help="print JSON")
    entities.set_defaults(run=cmd_entities)

    def eval_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", help="articles folder or file, indexed into its own index")
        p.add_argument("--index", help="index folder to use (default: beside the run records)")
        p.add_argument("--engine", choices=["extractive", "llm"], help="answer engine")
        p.add_argument("--k", type=int, help="passages retrieved per question (default 10)")
        p.add_argument("--out", default="eval/runs", help="where run records are written")
        p.add_argument("--compare", metavar="RUN", help="run record (.json) to compare with")
        p.add_argument("--min", action="append", metavar="METRIC=VALUE", help="fail under a floor")
        p.add_argument("--judge", action="store_true", help="also grade answers with the LLM")
        p.add_argument("--json", action="store_true", help="print the summary as JSON")

    ev = commands.add_parser("eval", help="score gold question sets (eval/gold/*.jsonl)")
    ev.add_argument(
        "--gold",
        nargs="+",
        help="gold set files, or names in eval/gold (default: the project's seeds.jsonl)",
    )
    eval_options(ev)
    ev.set_defaults(run=cmd_eval)

    bench = commands.add_parser("bench", help="public benchmarks").add_subparsers(
        dest="benchmark", required=True
    )
    mh = bench.add_parser("multihop", help="MultiHop-RAG retrieval and answers, next to the paper")
    mh.add_argument("--questions", required=True, help="question file in dev.jsonl's format")
    mh.add_argument("--limit", type=int, help="only the first N questions")
    eval_options(mh)
    mh.set_defaults(run=cmd_bench_multihop)

    chat = commands.add_parser("chat", help="a multi-turn question session in the terminal")
    chat.add_argument("--engine", choices=["extractive", "llm"], help="answer engine")
    chat.add_argument(LOCAL, action="store_true", help=LOCAL_HELP)
    chat.set_defaults(run=cmd_chat)

    serve = commands.add_parser("serve", help="run the HTTP API (OpenAPI at /docs)")
    serve.add_argument("--host", help="interface to listen on (default RAG_API_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default RAG_API_PORT, 8000)")
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="listen beyond loopback without RAG_API_TOKEN (anyone may upload and rebuild)",
    )
    serve.set_defaults(run=cmd_serve)

    ui = commands.add_parser("ui", help="the Streamlit app: chat, library, evaluation")
    ui.add_argument("--host", help="interface to listen on (default RAG_UI_HOST, 127.0.0.1)")
    ui.add_argument("--port", type=int, help="port to listen on (default RAG_UI_PORT, 8501)")
    ui.add_argument(
        "--insecure",
        action="store_true",
        help="listen beyond loopback without RAG_UI_TOKEN (anyone may upload and rebuild)",
    )
    ui.set_defaults(run=cmd_ui)

    status = commands.add_parser("status", help="where the index is and what it holds")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(run=cmd_status)
    return parser


def setting_problems(exc: ValidationError) -> str:
    """One line for invalid settings: each field's variable and what is wrong with it; a
    check across fields (no single location) names its variables itself."""
    problems = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = "_".join(str(p) for p in error["loc"]).upper()
        problems.append(f"RAG_{where}: {message}" if where else message)
    return "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = args.debug
    try:
        settings = get_settings()
        debug = debug or settings.debug
        status = int(args.run(args, settings))
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return status
    except BrokenPipeError:
        # `rag ask … | head -3`: the reader has what it wanted. Nothing more can be written
        # to stdout, and Python's final flush must not fail on it either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command a closed pipe ended
    except ValidationError as exc:
        if debug:
            raise
        print(f"error: invalid setting: {setting_problems(exc)}", file=sys.stderr)
        return 2
    except RagError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
