# The only way anyone runs things here. `make run` and `make test` work on a
# fresh machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_EMPLOYEES ?= 300
DEMO_SEED ?= 1
# The demo personas' password (hr, finance, leader, …): `DEMO_PASSWORD=... make run` sets another.
DEMO_PASSWORD ?= junma-demo
# The browser the e2e tests drive: Debian's chromium (`playwright install` cannot download one).
E2E_CHROMIUM ?= /usr/bin/chromium
# `make test` spreads the tests over every core (pytest-xdist; the integration tests stay
# together: tests/conftest.py). PYTEST_WORKERS=0 runs them in this one process.
PYTEST_WORKERS ?= auto

.PHONY: run test e2e guides lint format worker migrate seed demo clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（python3.11 或 python3）"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

var:
	mkdir -p var

migrate: $(VENV)/.installed var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_policy

demo: seed
	DEMO_PASSWORD='$(DEMO_PASSWORD)' $(PY) manage.py demo --employees $(DEMO_EMPLOYEES) --seed $(DEMO_SEED)

run: demo
	$(PY) manage.py ensure_admin
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Real-browser tests (tests/e2e, marker e2e; not part of `make test`): Playwright drives
# chromium headless against a live server. Screenshots: test-artifacts/e2e/.
# pytest exits 5 when it selected no test: make fails then too.
e2e: $(VENV)/.installed
	@test -x $(E2E_CHROMIUM) || { echo "需要 chromium：apt-get install chromium（或设置 E2E_CHROMIUM）"; exit 1; }
	E2E_CHROMIUM=$(E2E_CHROMIUM) $(VENV)/bin/pytest -m e2e tests/e2e $(PYTEST_ARGS)

# The guides' pictures (docs/guides.md): tests/e2e/test_guides.py walks each role's pages in
# chromium and, with GUIDE_SCREENSHOTS set, saves them over docs/img/guides/ (the old ones are
# removed first, so a step that no longer exists leaves no stale picture behind).
guides: $(VENV)/.installed
	@test -x $(E2E_CHROMIUM) || { echo "需要 chromium：apt-get install chromium（或设置 E2E_CHROMIUM）"; exit 1; }
	rm -f docs/img/guides/*.png
	GUIDE_SCREENSHOTS=$(CURDIR)/docs/img/guides E2E_CHROMIUM=$(E2E_CHROMIUM) \
		$(VENV)/bin/pytest -m e2e tests/e2e/test_guides.py $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: $(VENV)/.installed
	@test -n "$$CELERY_BROKER_URL" || { echo "设置 CELERY_BROKER_URL=redis://127.0.0.1:6379/0 后再启动 worker"; exit 1; }
	$(VENV)/bin/celery -A config worker --beat --loglevel=info --concurrency=2

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
