# Two commands for a newcomer: `make run` (the app on the built-in demo) and `make test`.
# `make setup` is the idempotent part both share.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PORT    ?= 8501
# Safe by default: only this machine can open the app. `make run-shared` (or ADDRESS=0.0.0.0)
# serves a workshop's network; set OPTIMIZER_ACCESS_TOKEN to ask every browser for a token.
ADDRESS ?= 127.0.0.1
# The name browsers use to reach a shared server (Streamlit prints it instead of looking up
# this machine's public IP on the internet at start-up).
SERVER_NAME ?= $(shell hostname -f 2>/dev/null || hostname)
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
# Test processes in parallel (pytest-xdist). Most of a test's time is a single-threaded
# TensorFlow import or a small model's training in a child process, so three workers keep two
# cores busy; --dist loadscope keeps a module's (or class's) shared fixtures on one worker, and
# tests/conftest.py hands out the costliest of those units first (their @pytest.mark.cost).
TEST_WORKERS ?= 3

.PHONY: setup setup-npu setup-mlflow setup-graph run run-shared test test-fast lint chromium bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# Opt-in: the Qualcomm and Intel NPU readiness checks' tools (QNN host libraries from the
# onnxruntime-qnn wheel under Qualcomm's licence, LiteRT's OpenVINO SDK). Idempotent.
setup-npu: setup
	$(PY) -m optimizer.measuring.readiness.setup_npu

# Opt-in: `python -m optimizer export mlflow` and the MLflow buttons (mlflow-skinny with its
# SQLite store, kaleido for PNG charts; pinned in requirements-mlflow.txt). Idempotent.
setup-mlflow: setup $(VENV)/.mlflow-installed

$(VENV)/.mlflow-installed: requirements-mlflow.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-mlflow.txt
	@touch $@

# Opt-in: the Graph page (Google's Model Explorer: its web app and its ~500 MB adapter; pinned
# in requirements-graph.txt). Idempotent.
setup-graph: setup $(VENV)/.graph-installed

$(VENV)/.graph-installed: requirements-graph.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-graph.txt
	@touch $@

run: setup
	$(PY) -m streamlit run serve.py --server.headless true --server.port $(PORT) \
	    --server.address $(ADDRESS) --browser.gatherUsageStats false \
	    --server.fileWatcherType none \
	    $(if $(filter 127.0.0.1 localhost,$(ADDRESS)),,--browser.serverAddress $(SERVER_NAME))

# A workshop: every interface, reached as http://$(SERVER_NAME):$(PORT).
run-shared:
	$(MAKE) run ADDRESS=0.0.0.0

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
	CHROMIUM_PATH=$(CHROMIUM) $(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

# The inner loop: everything but the slow (TensorFlow) and browser tests, in a couple of minutes.
test-fast: setup
	$(PY) -m pytest tests -m "not slow and not browser" -n 2 --dist loadscope $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) -m optimizer bench ptq-sweep --model digits-mobilenetv2 --json -

clean:
	rm -rf workspace test-results .pytest_cache
