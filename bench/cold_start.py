"""Cold-start latency: each command in a fresh process, several times.

    python bench/cold_start.py [--runs N] [--work DIR] [--only NAME ...] [--code DIR ...]

Copies the sample corpus to ``DIR`` (default a temporary folder) without its last
article, indexes it once, then runs each scenario ``N`` times (default 5), every run
a new Python process as a user's command is:

- ``ask``: ``rag ask --local --json`` on the sample question;
- ``index (nothing to do)``: ``rag index --json`` with the folder unchanged;
- ``index (+1 article)``: ``rag index --json`` right after the held-back article is
  copied in (it is taken out again, and the index synced, between runs, untimed);
- ``app first answer``: the Streamlit app in-process (``AppTest``): the first page,
  then, ``--typing`` seconds later (default 5: the time to type a question), the
  first question's answer, which is what a user waits for after sending it;
- ``serve first answer``: ``rag serve`` in a fresh process: seconds until ``/health``
  answers, then the first ``POST /ask``, sent ``--typing`` seconds later (0: at once).

Prints one table: wall-clock median and min, CPU seconds (user + system) median, and
the median of the command's own stage figures (``load`` of an answer, ``model load``
and ``spacy load`` of an index run), with the load average before and after. The
machine is shared: read the figures with the load average beside them.

``--code`` names checkouts to compare (default: this one), e.g. one of the previous
commit (``git archive HEAD~3 | tar -x -C /tmp/before``): their runs alternate, so
each sees the same load. CPU seconds count onnxruntime's threads spinning while they
wait: on an idle machine they exceed the wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Which companies attended the Friday meeting with the MIIT?"

# The app in a fresh process: seconds to import and show the first page, then seconds
# from submitting the first question (typed meanwhile) to its answer on the page.
APP_SCRIPT = """
import json, sys, time
began = time.perf_counter()
from streamlit import config
from streamlit.testing.v1 import AppTest
config.set_option("server.address", "127.0.0.1")
at = AppTest.from_file(sys.argv[1], default_timeout=300).run()
assert not at.exception, at.exception
page = time.perf_counter() - began
time.sleep(float(sys.argv[3]))
shown = time.perf_counter()
at.chat_input[0].set_value(sys.argv[2]).run()
assert not at.exception, at.exception
answered = time.perf_counter()
print(json.dumps({"first page": page, "first answer": answered - shown}))
"""


# `rag serve` in a fresh process: seconds until /health answers, then seconds for the
# first question, sent a while after (the first client is rarely there at once).
SERVE_SCRIPT = """
import json, socket, subprocess, sys, time, urllib.request
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
base = f"http://127.0.0.1:{port}"
began = time.perf_counter()
server = subprocess.Popen(
    [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
try:
    while True:
        assert server.poll() is None, "rag serve exited"
        try:
            urllib.request.urlopen(base + "/health", timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    health = time.perf_counter() - began
    time.sleep(float(sys.argv[2]))
    asked = time.perf_counter()
    request = urllib.request.Request(
        base + "/ask", data=json.dumps({"question": sys.argv[1]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    answer = json.loads(urllib.request.urlopen(request, timeout=300).read())
    assert answer["answer"], answer
    print(json.dumps({"health": health, "first answer": time.perf_counter() - asked}))
finally:
    server.terminate()
    server.wait()
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stdout of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=env["PYTHONPATH"])
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def rag(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag.cli", *args]


def ask_figures(out: str) -> dict[str, float]:
    timings = json.loads(out)["timings"]
    return {
        "load": timings["load"] / 1000,
        "answer (own total)": timings["total"] / 1000,
    }


def index_figures(out: str) -> dict[str, float]:
    summary = json.loads(out)
    stages = summary["stages"]
    figures = {"own total": summary["seconds"]}
    for stage in ("model load", "spacy load", "embedding", "entities", "entities wait"):
        if stage in stages:
            figures[stage] = stages[stage]
    return figures


def app_figures(out: str) -> dict[str, float]:
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


class Code:
    """One checkout under test, with its own copy of the sample and its own index."""

    def __init__(self, root: Path, work: Path) -> None:
        self.root, self.work = root, work
        self.articles, self.held = work / "articles", work / "held"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "RAG_INDEX_DIR": str(work / "index"),
            "RAG_ARTICLES_DIR": str(self.articles),
        }
        self.extra = ""

    def prepare(self) -> None:
        """The sample without its last article, indexed (and the ONNX export cached)."""
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(ROOT / "data" / "articles", self.articles)
        self.held.mkdir(parents=True)
        extra = sorted(self.articles.iterdir())[-1]
        self.extra = extra.name
        shutil.move(extra, self.held / extra.name)
        run(rag("index"), self.env)

    def add(self) -> None:
        shutil.copy(self.held / self.extra, self.articles / self.extra)

    def take_out(self) -> None:
        (self.articles / self.extra).unlink()
        run(rag("index"), self.env)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["ask", "index", "add", "app", "serve"],
        help="scenarios to run",
    )
    parser.add_argument(
        "--code", nargs="+", type=Path, default=[ROOT], help="checkouts to run, alternating"
    )
    parser.add_argument(
        "--typing",
        type=float,
        default=5.0,
        help="seconds between the app's page (or the server's first /health) and the question",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="newsdesk-cold-"))
    codes = [Code(code.resolve(), work / f"code{i}") for i, code in enumerate(args.code)]
    for code in codes:
        code.prepare()

    Scenario = tuple[str, Callable[[Code], list[str]], Callable[[str], dict[str, float]]]
    scenarios: list[Scenario] = [
        ("ask", lambda c: rag("ask", "--local", "--json", QUESTION), ask_figures),
        ("index", lambda c: rag("index", "--json"), index_figures),
        ("add", lambda c: rag("index", "--json"), index_figures),
        (
            "app",
            lambda c: [
                *(sys.executable, "-c", APP_SCRIPT),
                *(str(c.root / "ui" / "app.py"), QUESTION, str(args.typing)),
            ],
            app_figures,
        ),
        (
            "serve",
            lambda c: [sys.executable, "-c", SERVE_SCRIPT, QUESTION, str(args.typing)],
            app_figures,
        ),
    ]
    names = {
        "ask": "rag ask --local",
        "index": "rag index (nothing to do)",
        "add": "rag index (+1 article)",
        "app": "app (streamlit AppTest)",
        "serve": "rag serve",
    }
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.runs} runs each, fresh processes; load average before {load_average()}"
    )
    print()
    head = "| command | code | wall median | wall min | CPU median | own figures (median) | load |"
    print(head)
    print("| --- " * 7 + "|")
    for key, command, figures in scenarios:
        if args.only and key not in args.only:
            continue
        results: dict[Path, list[tuple[float, float, dict[str, float]]]] = {}
        loads = [os.getloadavg()[0]]
        for _ in range(args.runs):
            for code in codes:
                if key == "add":
                    code.add()
                wall, cpu, out = run(command(code), code.env)
                results.setdefault(code.root, []).append((wall, cpu, figures(out)))
                if key == "add":
                    code.take_out()
        loads.append(os.getloadavg()[0])
        for code in codes:
            walls = [r[0] for r in results[code.root]]
            cpus = [r[1] for r in results[code.root]]
            own = [r[2] for r in results[code.root]]
            stages = {k: statistics.median(f[k] for f in own if k in f) for k in own[0]}
            shown = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
            print(
                f"| {names[key]} | {code.root.name} | {statistics.median(walls):.2f} s | "
                f"{min(walls):.2f} s | {statistics.median(cpus):.2f} s | {shown} | "
                f"{loads[0]:.2f} → {loads[1]:.2f} |"
            )
    print()
    print(f"load average after {load_average()}; work folder {work}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
