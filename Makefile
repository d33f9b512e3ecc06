# One virtualenv at .venv/, browser assets from npm into static/vendor/ (never committed).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ASSETS := static/vendor/.installed
PORT ?= 8501

.PHONY: setup fonts run test lint bench bench-places bench-app data boundaries clean

setup: $(STAMP) $(ASSETS) fonts

# The PDF referral sheet's font: Debian's fonts-dejavu-core (never committed; see
# rcm_map/render/referral_pdf.py). Installed when missing and apt-get can run as root.
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
fonts:
	@[ -f $(FONT) ] || [ -n "$$RCM_MAP_PDF_FONT_DIR" ] || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null; }; \
	  else echo "PDF referral sheet: install fonts-dejavu-core or set RCM_MAP_PDF_FONT_DIR"; fi; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(ASSETS): package.json package-lock.json $(STAMP)
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	$(PY) -m rcm_map.render.assets install

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) $(ARGS)

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
	$(PY) bench/coverage.py

# Place search only: share of tests/data/place_queries.csv answered right, lookup p95.
bench-places: setup
	$(PY) bench/places.py

# Chromium against the running app (bundled registry); add
# ARGS="--registry bench/work/<1M file>.geojson" for the slow 1M run.
bench-app: setup
	$(PY) bench/app_browser.py $(ARGS)

# Rebuild the registry from data/sources/ (inside the repository; see data/README.md).
data: setup
	$(PY) scripts/build_registry.py

# Rebuild the boundaries and the gazetteer from ../shared/data/sources (large inputs
# kept outside the repository; see data/README.md).
boundaries: setup
	$(PY) scripts/build_boundaries.py
	$(PY) scripts/build_neighbours.py
	$(PY) scripts/build_gazetteer.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
