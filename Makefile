# `make demo` and `make test` work from a fresh clone: each creates .venv with
# Python 3.12+ and installs the project first. Nothing else needs typing.

PYTHON ?= $(shell command -v python3.12 >/dev/null 2>&1 && echo python3.12 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
WIREMOCK_VERSION := 3.13.2
WIREMOCK := .peers/node_modules/.bin/wiremock
PRISM_VERSION := 5.16.0
PRISM := .peers/node_modules/.bin/prism

.PHONY: install peers demo test test-slow test-mutation golden lint clean bench bench-inference bench-generation

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "freshmock needs Python 3.12+ (mitmproxy 12); $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(INSTALLED)

# Real peer tools the tests run against, installed from the npm registry.
$(WIREMOCK):
	npm install --prefix .peers --no-save --no-package-lock --no-audit --no-fund --loglevel=error wiremock@$(WIREMOCK_VERSION)

$(PRISM): $(WIREMOCK)
	SCARF_ANALYTICS=false npm install --prefix .peers --no-save --no-package-lock --no-audit --no-fund --loglevel=error --ignore-scripts wiremock@$(WIREMOCK_VERSION) @stoplight/prism-cli@$(PRISM_VERSION)

peers: $(WIREMOCK) $(PRISM)

demo: install
	$(BIN)/freshmock demo

test: install peers
	$(BIN)/pytest -m "not slow"

test-slow: install peers
	$(BIN)/pytest -m slow

# Mutation testing (cosmic-ray) of the modules in tests/mutation/modules.toml; hours
# on two cores, resumable; scores in docs/mutation.md. MODULES="proxy/redaction.py" for one.
test-mutation: install
	$(BIN)/python tests/mutation/run.py $(MODULES)

# Rewrite every golden file (stubs of each target, drift reports) from the
# current output, printing the diff; review it before committing. The golden
# tests themselves only compare: no test run can accept a regression.
golden: install peers
	$(BIN)/python tests/update_golden.py

# Capture benchmark (nginx + wrk, installed with apt-get if missing); refreshes
# docs/performance.md. BENCH_ARGS="--quick" for a short run, "--soak 600" adds the soak.
bench: install
	$(BIN)/python bench/capture.py $(BENCH_ARGS)

# Inference benchmark (genson loop vs freshmock statistics, incremental infer,
# memory); refreshes its section of docs/performance.md.
bench-inference: install
	$(BIN)/python bench/inference.py $(BENCH_ARGS)

# Generation benchmark (every target for a store of 1,000 endpoints); refreshes
# its section of docs/performance.md.
bench-generation: install
	$(BIN)/python bench/generation.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check proxy generators tests

clean:
	rm -rf $(VENV) .peers stubs recordings/*.db recordings/*.db-*
