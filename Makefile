# talksearch: `make demo` sets up and runs the demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)  # apt-get as root
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test venv lint clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/talksearch index data/
	$(BIN)/talksearch query "celery retries" -k 5

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# Debian's chromium and its chromedriver, for tests/test_browser.py (`talksearch serve` in a real browser)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) indexes/CURRENT indexes/gen-* indexes/.tmp-* indexes/.lock
