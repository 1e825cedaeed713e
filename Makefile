PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench docs clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## Train a learner with callbacks on a built-in task and print what happened.
run: $(STAMP)
	$(BIN)/mlrpy train --task iris --learner classif.mlp --callbacks history,progress \
		--set epochs=20 --set batch_size=16 --set opt.lr=0.01 --set random_state=1

## Lint, type-check and run the whole test suite (vignettes and README examples included).
test: $(STAMP)
	$(BIN)/ruff check mlrpy tests vignettes benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

docs: $(STAMP)
	$(BIN)/python -m mlrpy.callbacks.docs > docs/callbacks.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
