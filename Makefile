# Cell Monitor: `make demo` runs it with a simulated class; `make test` runs every test tier.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test up down status lint venv clean influxdb influxdb-stop bench chromium chp wrk

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev,demo,dashboard,research]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv influxdb
	$(BIN)/cellmon demo

up: venv influxdb
	$(BIN)/cellmon up

down: venv
	$(BIN)/cellmon down

status: venv
	$(BIN)/cellmon status

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# InfluxDB is not a service this machine runs: install it if missing, start it on 127.0.0.1.
influxdb:
	scripts/influxdb.sh start

influxdb-stop:
	scripts/influxdb.sh stop

# Browser tests drive Debian's Chromium (Playwright's own browser download fails here).
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji)

# The JupyterHub test runs JupyterHub's own proxy, configurable-http-proxy, from npm at the
# versions of tests/e2e/hub/package-lock.json (Node.js and npm also build the frontend).
CHP := tests/e2e/hub/node_modules/.bin/configurable-http-proxy

$(CHP): tests/e2e/hub/package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --prefix tests/e2e/hub --no-audit --no-fund --loglevel=error
	touch $(CHP)

chp: $(CHP)

# wrk (Debian's) drives HTTP load where the client must not be what limits it.
wrk:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

test: lint influxdb chromium chp wrk
	$(BIN)/python -m pytest

# Ingest throughput against the bare-uvicorn baseline, a class of 300 with its probes, and a
# shard of 10,000 students; rewrites BENCHMARKS.md's generated section (about 18 minutes).
bench: venv influxdb
	BENCH_COMMAND="make bench" $(BIN)/python -m benchmarks.ingest --write BENCHMARKS.md \
		--json .cellmon/bench.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
