PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned by constraints.txt: an open range would pull a multi-GB CUDA build
INSTALL := $(BIN)/pip install --quiet -c constraints.txt
# one stamp per install level, so `make test` after `make run` adds only the extras
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
DOCS_STAMP := $(VENV)/.installed-docs
MODEL := build/iris-mlp.pt

.PHONY: run test lint typecheck bench docs docs-serve clean

$(RUN_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(INSTALL) torch==2.13.0
	$(INSTALL) -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(INSTALL) -e '.[dev]'
	touch $@

$(DOCS_STAMP): $(RUN_STAMP)
	$(INSTALL) -e '.[docs]'
	touch $@

## Install mlrpy with its runtime dependencies only, train a learner with callbacks on a
## built-in task, report what happened and list next steps.
run: $(RUN_STAMP)
	$(BIN)/mlrpy train --task iris --learner classif.mlp --callbacks history,progress \
		--set epochs=20 --set batch_size=16 --set opt.lr=0.01 --set random_state=1 --save $(MODEL)
	@echo
	@echo "Next steps:"
	@echo "  make test                     lint, type-check and run the test suite (installs the dev extras)"
	@echo "  make docs                     build the documentation site; then open site/index.html"
	@echo "  $(BIN)/mlrpy train --task diabetes --learner regr.mlp --set epochs=50 --set opt.lr=0.01"
	@echo "                                another task and learner ($(BIN)/mlrpy tasks, $(BIN)/mlrpy learners)"
	@echo "  $(BIN)/mlrpy train --data FILE.csv --target COLUMN --save model.pt"
	@echo "                                your own data; then $(BIN)/mlrpy predict --model model.pt --data NEW.csv"
	@echo "  $(BIN)/mlrpy predict --model $(MODEL) --data FILE.csv --proba"
	@echo "                                predictions from the model just saved (iris columns)"
	@echo "  $(BIN)/mlrpy callbacks        the callback registry ($(BIN)/mlrpy callbacks <id> for one)"

## Lint, type-check and run the whole test suite (vignettes, README and documentation examples,
## and a strict build of the documentation site included).
test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check mlrpy tests vignettes benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

## Regenerate docs/callbacks.md from the registry and build the documentation site into site/.
docs: $(DOCS_STAMP)
	$(BIN)/python -m mlrpy.callbacks.docs > docs/callbacks.md.tmp && mv docs/callbacks.md.tmp docs/callbacks.md
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## Serve the documentation with live reload at http://127.0.0.1:8000.
docs-serve: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .mypy_cache .ruff_cache
