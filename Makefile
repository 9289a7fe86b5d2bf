# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA_DIR ?= var
STAMP := $(VENV)/.installed

BROWSER_STAMP := $(VENV)/.browser-tools
OFFICE_STAMP := $(VENV)/.office-tools

.PHONY: install run test bench clean messages browser-tools office-tools lint lock

# Two lock files with hashes, made by pip-tools from pyproject.toml (`make lock`): requirements.lock the product,
# requirements-dev.lock the test extra and the build tools (it repeats the product's pins, so it also works alone).
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	# WeasyPrint (PDF reports) needs Pango and a font from Debian
	dpkg -s libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/klimainnkjop --data-dir $(DATA_DIR) demo --if-empty
	$(BIN)/klimainnkjop --data-dir $(DATA_DIR) serve --port $(PORT)

# The browser tests drive Debian's Chromium (never a downloaded browser build) and inject axe-core.
$(BROWSER_STAMP): package.json package-lock.json
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	npm ci --no-audit --no-fund --silent
	touch $(BROWSER_STAMP)

browser-tools: $(BROWSER_STAMP)

# The generated DOCX documents are opened in LibreOffice in the tests (tests/test_documents.py converts them to text
# with `soffice --headless`): Debian's Writer without its GUI, as Chromium from Debian for the browser tests.
$(OFFICE_STAMP):
	command -v soffice >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui)
	touch $(OFFICE_STAMP)

office-tools: $(OFFICE_STAMP)

# Two workers (pytest-xdist; the machines have two cores), each with its own test database; a module's tests stay
# on one worker (loadscope), so what a module fixture makes once (tests/conftest.py shared_state) is made once.
# One BLAS thread per worker: with two workers on two cores, OpenBLAS's own threads only spin (the text model's
# training took 7.8 s of CPU instead of 3.2 s).
test: install browser-tools office-tools
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadscope --durations=15

lint: install
	$(BIN)/ruff check klimainnkjop tests

# Re-resolve the locks after a change to pyproject.toml; pins already in the files are kept where they still fit
# (`--upgrade-package NAME` to move one).
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock: install
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --allow-unsafe --all-build-deps --extra test -c requirements.lock -o requirements-dev.lock pyproject.toml

bench: install
	$(BIN)/python benchmarks/run.py

messages: install
	cd klimainnkjop && ../$(BIN)/django-admin compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) $(DATA_DIR)
