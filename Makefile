# Development entry points. The virtualenv is (re)built only when pyproject.toml changes;
# the editable install is in "compat" mode (the repo root on sys.path), so a package added
# after the install is importable without reinstalling.
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed
VAR_DIR ?= $(or $(JOURNEYS_VAR_DIR),var)
PYTEST_ARGS ?=
# Tests spend most of their time waiting on PostgreSQL (each creates a database of its own),
# so more processes than cores pay off. `make test TEST_WORKERS=0` runs the suite in one
# process (for pdb or -s).
TEST_WORKERS ?= 4

.PHONY: run serve test lint typecheck bench clean-var fuzz fuzz-domain drill

$(INSTALLED): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $@

run: $(INSTALLED)
	$(VENV)/bin/python scripts/run_dev.py

# Production serving (README "Running in production"): gunicorn with api/gunicorn_conf.py and
# the projector, on the PostgreSQL that DATABASE_URL names. SERVE_ARGS=--standby adds a
# hot-standby projector.
SERVE_ARGS ?=
serve: $(INSTALLED)
	$(VENV)/bin/python scripts/serve.py $(SERVE_ARGS)

test: $(INSTALLED)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The contract fuzzing of tests/api/test_contract_fuzz.py at length: every boundary of every
# field, then FUZZ_EXAMPLES random requests per operation (a few minutes).
FUZZ_EXAMPLES ?= 300
fuzz: $(INSTALLED)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -s tests/api/test_contract_fuzz.py $(PYTEST_ARGS)

# Every scripts/drills_*.py, each printing `drill: <name> passed|FAILED <detail>` lines; all
# run even if one fails, and the target fails if any did.
drill: $(INSTALLED)
	@status=0; for script in scripts/drills_*.py; do \
	  echo "== $$script"; $(VENV)/bin/python $$script || status=1; \
	done; exit $$status

# The domain's property tests with many more and longer command sequences (minutes, not seconds).
fuzz-domain: $(INSTALLED)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest tests/unit/test_domain_properties.py

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

typecheck: $(INSTALLED)
	$(VENV)/bin/mypy domain projections api infra scripts

# Every scripts/bench_*.py, each on a fresh scratch database, printing
# `metric: <name> value= baseline= ratio= target= ok|short` lines; all run even if one falls
# short, then bench/results.json and bench/results.png are written; the target fails if any
# metric fell short. The HTTP benchmarks drive load with wrk (Debian package `wrk`).
BENCH_DIR := bench
bench: $(INSTALLED)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs wrk: sudo apt-get install wrk"; exit 1; }
	@mkdir -p $(BENCH_DIR); rm -f $(BENCH_DIR)/results.jsonl; status=0; started=$$(date +%s); \
	for script in scripts/bench_*.py; do \
	  echo "== $$script"; BENCH_RESULTS=$(BENCH_DIR)/results.jsonl $(VENV)/bin/python $$script || status=1; \
	done; \
	$(VENV)/bin/python scripts/report_bench.py $(BENCH_DIR)/results.jsonl || status=1; \
	echo "make bench took $$(( $$(date +%s) - started )) s"; exit $$status

# Stops the embedded server first: deleting the files of a running server leaves it orphaned.
clean-var:
	if [ -x $(VENV)/bin/python ] && [ -d $(VAR_DIR)/postgres ]; then \
	  $(VENV)/bin/python -c 'import sys; from pathlib import Path; \
	    from infra.embedded import stop_embedded_postgres; \
	    stop_embedded_postgres(Path(sys.argv[1]))' $(VAR_DIR)/postgres; \
	fi
	rm -rf $(VAR_DIR)
