# Two commands set everything up on a fresh machine with only Python 3.11+:
#   make run   installs, migrates, loads the demo data, serves on http://127.0.0.1:8000
#   make test  installs and runs the whole suite (SQLite and the in-process channel layer)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test migrate demo worker bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

migrate: install
	$(BIN)/fuwu migrate

demo: migrate
	$(BIN)/fuwu demo

run: demo
	$(BIN)/fuwu serve --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/fuwu worker

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/http_baseline.py

clean:
	rm -rf $(VENV) data test-data .pytest_cache
