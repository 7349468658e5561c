# `make demo` and `make test` work from a fresh clone: each creates .venv with
# Python 3.12+ and installs the project first, at the exact versions of uv.lock
# (the versions the suite passed with). Nothing else needs typing.

PYTHON ?= $(shell command -v python3.12 >/dev/null 2>&1 && echo python3.12 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# uv installs from the lock; it lives in a venv of its own so that `uv sync`,
# which removes whatever the lock does not list, never removes itself.
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
# One retry: a registry lookup here once failed with a DNS error and worked again.
RETRY = $(1) || { echo "retrying once: $(1)"; sleep 3; $(1); }
LATEST := .venv-latest
WIREMOCK_VERSION := 3.13.2
WIREMOCK := .peers/node_modules/.bin/wiremock
PRISM_VERSION := 5.16.0
PRISM := .peers/node_modules/.bin/prism

.PHONY: install peers demo test test-slow test-latest test-mutation lock golden lint clean bench bench-inference bench-generation

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "freshmock needs Python 3.12+ (mitmproxy 12); $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv .tools
	$(call RETRY,.tools/bin/python -m pip install --quiet uv==$(UV_VERSION))

# --locked: the install fails when pyproject.toml changed and uv.lock was not
# refreshed (`make lock`), so CI always tests the versions users get.
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE=1 (set on these machines) Python
# never caches what it compiles, so every process the tests start compiled mitmproxy
# from source again: 1.48 s to import the sidecar, 0.72 s from the installed bytecode.
$(INSTALLED): $(UV) pyproject.toml uv.lock
	$(call RETRY,UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --compile-bytecode --extra test --python $(PYTHON))
	@touch $@

install: $(INSTALLED)

# The newest versions pyproject.toml's ranges allow, as `pip install freshmock`
# gives a new user today, in an environment of their own (the lock is not read).
test-latest: $(UV) peers
	rm -rf $(LATEST)
	$(UV) venv --quiet --python $(PYTHON) $(LATEST)
	$(call RETRY,$(UV) pip install --quiet --compile-bytecode --python $(LATEST)/bin/python --upgrade -e '.[test]')
	@$(LATEST)/bin/python -c 'from importlib.metadata import version as v; print("newest allowed:", ", ".join(f"{p} {v(p)}" for p in ("mitmproxy", "sqlite-utils", "genson", "jinja2", "typer", "jsonschema")))'
	$(LATEST)/bin/pytest -m "not slow" -n 2 --dist loadfile

# Move uv.lock to the newest versions the ranges allow; run `make test` after.
lock: $(UV)
	$(call RETRY,$(UV) lock --upgrade)

# Real peer tools the tests run against, installed from the npm registry.
$(WIREMOCK):
	npm install --prefix .peers --no-save --no-package-lock --no-audit --no-fund --loglevel=error wiremock@$(WIREMOCK_VERSION)

$(PRISM): $(WIREMOCK)
	SCARF_ANALYTICS=false npm install --prefix .peers --no-save --no-package-lock --no-audit --no-fund --loglevel=error --ignore-scripts wiremock@$(WIREMOCK_VERSION) @stoplight/prism-cli@$(PRISM_VERSION)

# Real OpenAPI documents for the templating corpus (tests/openapi_corpus.py),
# pinned: the Directus and Blockfrost APIs as their vendors publish them.
SPECS := .peers/node_modules/@directus/specs/dist/openapi.json
$(SPECS): $(PRISM)
	npm install --prefix .peers --no-save --no-package-lock --no-audit --no-fund --loglevel=error --ignore-scripts wiremock@$(WIREMOCK_VERSION) @stoplight/prism-cli@$(PRISM_VERSION) @directus/specs@15.2.0 @blockfrost/openapi@0.1.93

peers: $(WIREMOCK) $(PRISM) $(SPECS)

demo: install
	$(BIN)/freshmock demo

test: install peers
	$(BIN)/pytest -m "not slow" -n 2 --dist loadfile

test-slow: install peers
	$(BIN)/pytest -m slow -n 2 --dist loadfile

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
	rm -rf $(VENV) $(LATEST) .tools .peers stubs recordings/*.db recordings/*.db-*
