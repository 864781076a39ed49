# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tracker_test
export TEST_DATABASE_URL

.PHONY: demo install install-test test bench bench-all fuzz load serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# The tests also drive ODK's own form engine (Node 20, from the npm registry).
install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	cd tests/openrosa/engine && npm ci --no-audit --no-fund --loglevel=error

demo: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(MAKE) serve

serve:
	$(BIN)/gunicorn --workers 2 --threads 4 --timeout 600 --bind 127.0.0.1:$(PORT) wsgi:app

# Every database test runs twice: on SQLite and on the PostgreSQL server at
# TEST_DATABASE_URL. The PostgreSQL leg fails loudly when the server is down.
test: install-test
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest

# Benchmarks print their figures and the ratio to a baseline measured in the same run.
bench: install-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/assign.py

bench-all: bench
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/progress.py

fuzz: install-test
	$(BIN)/python bench/fuzz.py --examples 500

load: install-test
	$(BIN)/python bench/load.py --phones 50 --seconds 60 --database $(TEST_DATABASE_URL)_load

clean:
	rm -rf $(VENV) instance/*.db
