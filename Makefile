# Two commands do all set-up on a fresh machine:
#   make run   — create .venv, install, index the sample corpus, answer a sample question,
#                then serve the app at http://127.0.0.1:8501 (Ctrl-C stops it)
#   make test  — create .venv, install, run the whole test suite (lint and strict types
#                included: tests/test_packaging.py)
#   make test-fast — the fast tier alone (under a minute): what to run on every change
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint install index bench bench-cold bench-scale bench-load lock clean ui

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	# The local CPU build first: anything that pulls torch later finds it satisfied
	# instead of downloading a CUDA build.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -r requirements.lock
	$(BIN)/pip install --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/rag index
	$(BIN)/rag articles
	$(BIN)/rag ask "Which companies attended the Friday meeting with the MIIT?"
	$(BIN)/rag ui

test: install
	$(BIN)/python -m pytest

# The tests marked `fast`: the ask side, the API and the CLI over an index embedded by
# the deterministic fake embedder (tests/fake_embed.py), in-process; no real model.
# Without the hypothesis and schemathesis plugins, which no fast test uses and which
# take longer to import than the fast tests take to run.
test-fast: install
	$(BIN)/python -m pytest -m fast -q -p no:hypothesispytest -p no:schemathesis

# The lint and type checks alone; `make test` runs them too (tests/test_packaging.py).
lint: install
	$(BIN)/ruff check rag tests bench ui
	$(BIN)/mypy rag ui

# The Streamlit app at http://127.0.0.1:8501 over the indexed sample corpus.
ui: install
	$(BIN)/rag index
	$(BIN)/rag ui

bench: install
	$(BIN)/python bench/index_throughput.py

# Cold start: rag ask, rag index (nothing to do, +1 article) and the app's first answer,
# each in fresh processes (README, "Cold start").
bench-cold: install
	$(BIN)/python bench/cold_start.py

# Scale benchmark at 1k, 10k and 100k synthetic chunks; corpora and indexes under
# /tmp/newsdesk-scale, built once and reused. The first run embeds 11k chunks on the CPU
# (about 10 minutes on an idle 2-core machine, far longer on a busy one).
bench-scale: install
	$(BIN)/python bench/scale.py

# 8 clients for 60 s against `rag serve`, then again while `rag index` adds articles
# (needs the 10k index of bench-scale).
bench-load: install
	$(BIN)/python bench/load.py --size 10000

# Refresh requirements.lock from the current environment (torch is pinned in the Makefile).
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v -e '^torch==' -e '^rag==' > requirements.lock

clean:
	rm -rf $(VENV) index/chroma index/articles-* index/.lock
