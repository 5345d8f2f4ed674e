# The two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test lint translations bench clean worker

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

translations: $(INSTALLED)
	$(BIN)/pybabel compile --statistics -d translations 2>&1 | tail -n 1

run: $(INSTALLED) translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	$(BIN)/flask search rebuild
	EMALL_SCHEDULER=thread $(BIN)/flask run --host 127.0.0.1 --port 5000

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet .

test: lint translations
	$(BIN)/pytest

worker: $(INSTALLED)
	$(BIN)/rq worker --worker-class app.core.jobs.AppWorker --url $${REDIS_URL:-redis://127.0.0.1:6379/0} default

bench: $(INSTALLED)
	@for script in $(wildcard bench/*.py); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
