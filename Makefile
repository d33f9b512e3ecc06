# One virtualenv at .venv/, browser assets from npm into static/vendor/ (never committed).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ASSETS := static/vendor/.installed
PORT ?= 8501

.PHONY: setup run test lint bench data clean

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

# Rebuild the bundled data from ../shared/data (see data/README.md).
data: setup
	$(PY) scripts/build_boundaries.py
	$(PY) scripts/build_gazetteer.py
	$(VENV)/bin/rcm-map import ../shared/data/actors_sources.csv --out data/actors.geojson
	$(PY) -c "from rcm_map.formats.importer import refresh_readme_counts; refresh_readme_counts()"

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
