# Track: the two set-up commands are `make run` and `make test`.

PORT ?= 8000
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DATABASE ?= var/track.db

.PHONY: install install-test tools run test lint bench k8s clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## helm goes to .tools/bin; promtool comes from Debian's prometheus package where apt-get can run.
tools: install-test
	sh scripts/install-test-tools.sh

## Install, migrate, load the demo data and serve on http://127.0.0.1:$(PORT) with SQLite.
run: install
	mkdir -p $(dir $(DATABASE))
	TRACK_DATABASE_URL=sqlite:///$(DATABASE) $(BIN)/track migrate
	TRACK_DATABASE_URL=sqlite:///$(DATABASE) $(BIN)/track demo
	@echo "Track is starting on http://127.0.0.1:$(PORT) (press Ctrl+C to stop)"
	TRACK_DATABASE_URL=sqlite:///$(DATABASE) $(BIN)/track serve --demo --port $(PORT)

## Install everything the tests need and run the whole suite.
test: tools
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check app operator tests
	$(BIN)/ruff format --check app operator tests

bench: tools
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .tools var .pytest_cache
