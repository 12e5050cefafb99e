# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: the CPU build on disk; anything looser pulls a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test,ray,eval]'
	touch $(STAMP)

# The main job: raised vs. trained-then-aligned on the starter corpus (+ ../shared/data when present).
demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/modelraising experiment examples/demo.yaml --out runs/demo

# The habits first (seconds): lint, format, types; then the tests (tests/test_duplicates.py: no repeated blocks).
test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/raise_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
