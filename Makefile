# One virtualenv at .venv/, browser assets from npm into static/vendor/ (never committed).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ASSETS := static/vendor/.installed
PORT ?= 8501

.PHONY: setup run test lint bench bench-places data boundaries clean

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(ASSETS): package.json package-lock.json $(STAMP)
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	$(PY) -m rcm_map.render.assets install

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

test: setup lint
	$(PY) -m pytest

bench: setup
	$(PY) bench/run.py
	$(PY) bench/hosted.py
	$(PY) bench/sessions.py

# Place search only: share of tests/data/place_queries.csv answered right, lookup p95.
bench-places: setup
	$(PY) bench/places.py

# Rebuild the registry from data/sources/ (inside the repository; see data/README.md).
data: setup
	$(PY) scripts/build_registry.py

# Rebuild the boundaries and the gazetteer from ../shared/data/sources (large inputs
# kept outside the repository; see data/README.md).
boundaries: setup
	$(PY) scripts/build_boundaries.py
	$(PY) scripts/build_gazetteer.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
