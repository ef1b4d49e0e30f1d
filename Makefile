# Two commands for a newcomer:  make demo   and   make test
# Each creates .venv (Python 3.11+) and installs what it needs from PyPI first, and the two
# Debian packages the report needs (chromium prints report.pdf; poppler-utils' pdftoppm lets
# the tests look at its pages) when they are missing and the machine allows apt-get.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out/avon-and-somerset
NATIONAL_OUT ?= out/national

.PHONY: demo test lint typecheck bench clean sysdeps

sysdeps:
	@if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian packages: chromium poppler-utils fonts-dejavu-core libjs-leaflet"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium poppler-utils fonts-dejavu-core libjs-leaflet >/dev/null) || echo "warning: apt-get failed; report.pdf will be skipped"; \
	elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium poppler-utils fonts-dejavu-core libjs-leaflet >/dev/null) || echo "warning: apt-get failed; report.pdf will be skipped"; \
	else echo "warning: install chromium and poppler-utils for report.pdf and its tests"; fi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed sysdeps
	$(BIN)/safer-spaces profile configs/avon-and-somerset.toml --out $(OUT)
	$(BIN)/safer-spaces national configs/national-demo.toml --out $(NATIONAL_OUT)
	@echo "open $(OUT)/report.html (or report.pdf, map.html) and $(NATIONAL_OUT)/stra.html in a browser"

test: $(BIN)/.installed sysdeps
	$(BIN)/ruff check hotspots profiles apps tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

typecheck: $(BIN)/.installed
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/hotspots.py
	$(BIN)/python benchmarks/sources.py
	$(BIN)/python benchmarks/numba_cache.py
	$(BIN)/python benchmarks/profile.py
	$(BIN)/python -m benchmarks.national
	$(BIN)/python -m benchmarks.app
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[fuzz]" \
	  || echo "warning: atheris did not install; benchmarks/fuzz.py falls back to random mutation"
	$(BIN)/python benchmarks/fuzz.py --seconds 10

clean:
	rm -rf $(VENV) out .pytest_cache
