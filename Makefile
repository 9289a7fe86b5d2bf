# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA_DIR ?= var
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean messages

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/klimainnkjop --data-dir $(DATA_DIR) demo --if-empty
	$(BIN)/klimainnkjop --data-dir $(DATA_DIR) serve --port $(PORT)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/run.py

messages: install
	cd klimainnkjop && ../$(BIN)/django-admin compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) $(DATA_DIR)
