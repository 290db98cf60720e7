# cnn-course: `make course` builds the course, `make test` runs the test suite.
# Both create .venv themselves. torch==2.13.0 is installed first: on these machines that is
# the CPU wheel on local disk (any other torch spec would download a multi-GB CUDA build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup course test benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[grader,dev]"
	touch $(STAMP)

course: setup
	$(BIN)/cnn-grader course --out build
	$(BIN)/cnn-grader release
	$(BIN)/cnn-grader demo --assignment ps1 --out build/demo

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

benchmark: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf build .pytest_cache
