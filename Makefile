# codecast: `make run` starts the daemon on SQLite and ./public; `make test` checks everything.
PYTHON ?= python3
# Test processes for `make test`: the suite mostly waits (subprocesses, servers, the network
# fakes), so more processes than cores pay off; `make test TEST_WORKERS=1` runs it in one.
TEST_WORKERS ?= 4
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := bot scrapers notifiers

.PHONY: run once test test-fast lint format bench demo render status clean messages translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The daemon runs as deploy/ runs it: Python without docstrings and asserts, ~7 MB smaller
# (README, "Memory"); the first start writes that bytecode into the virtualenv.
OPTIMIZED := PYTHONOPTIMIZE=2

run: $(STAMP)
	$(BIN)/codecast db upgrade
	$(OPTIMIZED) $(BIN)/codecast run

once: $(STAMP)
	$(OPTIMIZED) $(BIN)/codecast run --once

render: $(STAMP)
	$(BIN)/codecast render

status: $(STAMP)
	$(BIN)/codecast status

LINTED := $(PACKAGES) tests bench alembic

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

# `make lint`, with mypy (the slow check) run beside the first part of the tests, whose
# processes mostly wait; either failing fails the target. Tests that time rates and deadlines
# run after the others, in one process: several processes on two cores would measure each
# other, not codecast. Test files are handed out in the order they are collected (tests/e2e,
# the longest, first), not by their number of tests, which left the long ones for last.
test: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy > $(VENV)/mypy.out 2>&1 & typing=$$!; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not timing"; \
	tests=$$?; wait $$typing; typed=$$?; echo "mypy:"; cat $(VENV)/mypy.out; \
	test $$tests -eq 0 -a $$typed -eq 0
	$(BIN)/pytest -q -m timing

test-fast: $(STAMP)
	$(BIN)/pytest -q -n 2 tests/unit -m "not timing and not slow"

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; PYTHONPATH=. $(BIN)/python $$script || exit 1; done

demo: $(STAMP)
	$(BIN)/python -m tests.demo --serve

# Translations (CONTRIBUTING.md): `make messages` extracts every message into the template and
# merges it into each language's .po; `make translations` compiles the .po files into the .mo
# files codecast reads (committed, so an install needs no compiler).
LOCALES := bot/locales
POT := $(LOCALES)/codecast.pot

messages: $(STAMP)
	$(BIN)/pybabel extract --mapping-file babel.cfg --keyword term:1c,2 --keyword command_text:1c,2 --add-location file \
		--no-wrap --sort-by-file --add-comments Translators: --project codecast \
		--output-file $(POT) .
	$(BIN)/pybabel update --input-file $(POT) --output-dir $(LOCALES) --domain codecast \
		--no-fuzzy-matching --ignore-obsolete --no-wrap --ignore-pot-creation-date

translations: $(STAMP)
	$(BIN)/pybabel compile --directory $(LOCALES) --domain codecast --statistics

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data public demo
