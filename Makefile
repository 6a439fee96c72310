# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
# A fresh machine needs only Python 3.11+, make and the package registries.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck unit lock env clean bench test-samples

demo: $(STAMP)
	$(BIN)/cosell demo

# The type check runs beside the tests, not before them: mypy takes one core for 8 s, which the
# tests' two workers share with it (about 4 s less in all); either failing fails `make test`.
test: $(STAMP) lint
	@$(MAKE) --no-print-directory -j2 --output-sync=line typecheck unit

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cosell needs Python 3.11 or newer")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The test processes run on jemalloc where the system has it (scripts/jemalloc.sh says why).
unit: $(STAMP)
	bash scripts/test-deps.sh
	LD_PRELOAD="$$(bash scripts/jemalloc.sh)$${LD_PRELOAD:+ $$LD_PRELOAD}" $(BIN)/pytest -n 2 --dist worksteal -q

# Every CRM importer over the real exports of ../shared/samples (or $COSELL_SAMPLES; a clone made
# elsewhere on the team's machine finds them at /work/shared/samples): each imports or fails with
# located errors. The files are other people's, read in place, never copied in here.
SAMPLES ?= $(or $(COSELL_SAMPLES),$(firstword $(wildcard ../shared/samples /work/shared/samples)),../shared/samples)
test-samples: $(STAMP)
	$(BIN)/python scripts/test_samples.py $(SAMPLES)

bench: $(STAMP)
	$(BIN)/python benchmarks/demo_generate.py
	$(BIN)/python benchmarks/import_canonical.py
	$(BIN)/python benchmarks/attribute.py
	$(BIN)/python benchmarks/gate.py
	$(BIN)/python benchmarks/reconcile.py --accept 100
	$(BIN)/python benchmarks/pay.py
	$(BIN)/python benchmarks/reports.py

# Re-resolve the pinned lock file (needs the registry; commit the result).
lock:
	$(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet uv
	.lockenv/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --no-header -o requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
