# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test bench lint fmt migrate seed install clean-db

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# Load demo data only into an empty database (seed_demo refuses otherwise).
seed: migrate
	@if $(PY) manage.py shell -c "from tickets.demo import database_has_real_data as d; import sys; sys.exit(0 if d() else 1)"; then \
		echo "Database already has data; not seeding."; \
	else \
		$(PY) manage.py seed_demo; \
	fi

# Web server, Celery worker and Celery beat together; one Ctrl-C stops all three (helpdesk/devrun.py says how).
run: seed
	@mkdir -p var
	@echo "Handoff on http://127.0.0.1:$(PORT)  (agent1 / demo, engineer1 / demo, manager1 / demo, requester1 / demo)"
	@$(PY) -m helpdesk.devrun --port $(PORT) --schedule var/celerybeat-schedule

# The whole suite, on PostgreSQL and Redis when they answer (and loudly not when they don't),
# in TEST_WORKERS parallel processes (pytest-xdist; a database each); TEST_WORKERS=0 runs in one.
TEST_WORKERS ?= auto
test: install
	@eval "$$($(PY) tests/detect_services.py)"; \
	echo "DATABASE_URL=$${DATABASE_URL:-sqlite (default)}  REDIS_URL=$${REDIS_URL:-none}"; \
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Benchmarks in a database of their own (handoff_bench); results in bench/results/latest.json and bench/README.md.
BENCH_TICKETS ?= 20000
bench: install
	@eval "$$($(PY) tests/detect_services.py)"; \
	$(PY) bench/run.py --tickets $(BENCH_TICKETS) $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
