# cnn-course: `make course` builds the course website, `make lab` opens the course in JupyterLab,
# `make test` runs the fast test loop. All create .venv themselves. torch==2.13.0 is installed
# first: on these machines that is the CPU wheel on local disk (any other torch spec would
# download a multi-GB CUDA build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SITE   := _site

.PHONY: setup course lab test test-full benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[grader,dev,site]"
	touch $(STAMP)

# Releases the problem sets, executes every lecture once (reused while unchanged), grades the
# demo class and builds the Jupyter Book site: open _site/html/index.html.
course: setup
	$(BIN)/cnn-grader release
	$(BIN)/cnn-grader course --out $(SITE)

lab: setup
	$(BIN)/cnn-grader lab

# The fast loop: every test not marked slow, each notebook executed once (pytest options in
# pyproject.toml). The full loop, which CI runs: every test, the slow ones included.
test: setup
	$(BIN)/python -m pytest -n 2 -m "not slow"

test-full: setup
	$(BIN)/python -m pytest -n 2

benchmark: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(SITE) .pytest_cache
