# Two commands for a newcomer:  make demo   and   make test
# Each creates .venv (Python 3.11+) and installs what it needs from PyPI first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out/avon-and-somerset

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/safer-spaces profile configs/avon-and-somerset.toml --out $(OUT)
	@echo "open $(OUT)/index.html in a browser"

test: $(BIN)/.installed
	$(BIN)/ruff check hotspots profiles apps tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/hotspots.py
	$(BIN)/python benchmarks/sources.py

clean:
	rm -rf $(VENV) out .pytest_cache
