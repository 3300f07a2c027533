# Two commands for a newcomer: `make run` (the app on the built-in demo) and `make test`.
# `make setup` is the idempotent part both share.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PORT    ?= 8501
ADDRESS ?= 0.0.0.0
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=

.PHONY: setup run test test-fast lint chromium bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

run: setup
	$(PY) -m streamlit run app.py --server.headless true --server.port $(PORT) \
	    --server.address $(ADDRESS) --browser.gatherUsageStats false \
	    --server.fileWatcherType none

# Debian's chromium drives the real-browser tests; never `playwright install` (no CDN here).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@$(CHROMIUM) --version

test: setup chromium lint
	CHROMIUM_PATH=$(CHROMIUM) $(PY) -m pytest tests $(PYTEST_ARGS)

# The inner loop: everything but the slow (TensorFlow) and browser tests, in a couple of minutes.
test-fast: setup
	$(PY) -m pytest tests -m "not slow and not browser" $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) -m optimizer bench ptq-sweep --model digits-mobilenetv2 --json -

clean:
	rm -rf workspace test-results .pytest_cache
