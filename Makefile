# The council portal. `make run` serves the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The public address in every absolute link (emails, feeds, payment returns): PORTAL_BASE_URL when
# set, otherwise the address `make run` serves on.
RUN_BASE_URL = $(or $(PORTAL_BASE_URL),http://127.0.0.1:$(PORT))
# Address gunicorn listens on: 127.0.0.1 behind a proxy on the same host, the node's own
# address (e.g. BIND=10.0.0.11) when the load balancer is on another machine.
BIND ?= 127.0.0.1
FLASK := $(BIN)/flask --app portal
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint serve migrate worker installed install install-dev chromium vnu css clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

## run: create .venv, install, migrate, load the demo council and serve on 127.0.0.1:$(PORT)
run: install
	PORTAL_BASE_URL=$(RUN_BASE_URL) $(FLASK) db upgrade
	PORTAL_BASE_URL=$(RUN_BASE_URL) $(FLASK) demo load
	PORT=$(PORT) PORTAL_BASE_URL=$(RUN_BASE_URL) $(FLASK) serve --host 127.0.0.1 --port $(PORT)

## test: lint and run the whole suite (installs Debian's chromium for the browser tests)
test: install-dev chromium vnu
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/ruff format --check portal tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/ruff format --check portal tests benchmarks

chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
		echo "Installing Debian's chromium for the browser tests (sudo)"; \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Debian's chromium at /usr/bin/chromium."; \
		echo "Installing it needs root: run 'sudo apt-get install chromium', then 'make test' again."; \
		exit 1; \
	fi

## vnu: the W3C Nu HTML Checker the link walk runs on every page (needs Node.js, npm and Java 11+)
VNU_VERSION := 26.9.27
VNU_JAR := .cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar
vnu: $(VNU_JAR)
$(VNU_JAR):
	@if command -v npm >/dev/null && command -v java >/dev/null; then \
		npm install --no-save --silent --prefix .cache/vnu vnu-jar@$(VNU_VERSION); \
	else \
		echo "The link walk's HTML check needs npm and Java: it will be skipped without them."; \
	fi

# The production targets use the installed .venv and never install (no network at boot).
installed:
	@test -f $(STAMP) -a -x $(BIN)/gunicorn || { \
		echo "No installed .venv in $(CURDIR): run 'make install' (needs network) before starting the portal." >&2; \
		exit 1; }

## migrate: bring the database to the latest schema; run once per deploy, before `make serve` on any node
migrate: installed
	$(FLASK) db upgrade

## serve: production web server (gunicorn, 2 workers on $(BIND):$(PORT)); never migrates (see `make migrate`)
serve: installed
	$(BIN)/gunicorn --workers 2 --bind $(BIND):$(PORT) wsgi:app

## worker: production job consumer (Huey) for the queue in PORTAL_REDIS_URL (second and later workers: WORKER_ARGS=--no-periodic)
worker: installed
	$(BIN)/huey_consumer portal.worker.huey --workers 2 --worker-type thread --graceful-signal TERM $(WORKER_ARGS)

## css: rebuild portal/static/css/portal.css from Sass (needs Node.js and npm)
css:
	cd portal/static/scss && npm install --no-save --silent sass@1 govuk-frontend@6.3.0 && \
	./node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules portal.scss ../css/portal.css && \
	rm -rf node_modules

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
