# churn-research — `make reports` builds everything; `make test` checks it. `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3  ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
UV       := $(VENV)/bin/uv
UV_VERSION := 0.13.9
ENV_STAMP := $(VENV)/.installed

KERNEL       := churn-research
KERNEL_TITLE := Python (churn-research)

DATASET  ?= synthetic
DATASETS ?= $(DATASET)
# the reports' language for one rendering (en or zh; empty: each dataset's `language:` parameter);
# not LANG, which sets the locale. Changing it re-renders the dataset's reports.
REPORT_LANG ?=
export REPORT_LANG
# when this make started: `make reports` ends with the stages it rendered and the time it took
MAKE_STARTED := $(shell date +%s.%N)

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
STAGES    := $(basename $(notdir $(NOTEBOOKS)))
ANALYSES  := $(filter-out 00_data,$(STAGES))
# make -j starts ready stages in this order: the longest first (30_survival on every dataset), then
# those 60_retention waits for (10_indicators, 50_clv; see READS below), then 40_segments before
# 20_causes, so that 60_retention starts beside the long 20_causes instead of alone after it and
# no long stage or chain of stages leaves a core idle at the end of a run
LONGEST   := 30_survival 10_indicators 50_clv 40_segments
RUN_ORDER := $(filter 00_data,$(STAGES)) $(foreach s,$(LONGEST),$(filter $(s),$(STAGES))) \
             $(filter-out 00_data $(LONGEST),$(STAGES))
REPORTS   := $(foreach d,$(DATASETS),$(foreach s,$(RUN_ORDER),reports/$(d)/$(s).html))

# helpers for a report path's stem "<dataset>/<stage>"
ds    = $(patsubst %/,%,$(dir $(1)))
stage = $(notdir $(1))
# a stage's name without its number: 10_indicators -> indicators
name  = $(subst $(firstword $(subst _, ,$(1)))_,,$(1))

# The package, split into each stage's OWN code and SHARED code, so that editing one stage's
# code re-renders only that stage's reports. Own code of stage NN_<name>: the package
# src/churn_research/<name>/ (or, before the restructuring, the module <name>.py) and
# src/churn_research/plots/<name>.py; 00_data owns only plots/data.py (the loaders are shared).
# Shared: every other .py/.yaml of the package, and pyproject.toml.
SRC       := src/churn_research
PKG_FILES := $(shell find $(SRC) \( -name '*.py' -o -name '*.yaml' -o -name '*.po' \) -not -path '*/__pycache__/*' 2>/dev/null)
own       = $(sort $(if $(filter data,$(1)),,$(filter $(SRC)/$(1).py $(SRC)/$(1)/%,$(PKG_FILES))) \
                   $(filter $(SRC)/plots/$(1).py,$(PKG_FILES)))
# another stage's package that a stage's notebook calls (50_clv and 60_retention call segments,
# 60_retention calls clv): its code is that stage's too, so an edit there re-renders both
USES      := 50_clv:segments 60_retention:segments 60_retention:clv
used      = $(foreach u,$(filter $(1):%,$(USES)),$(call own,$(word 2,$(subst :, ,$(u)))))
OWN_ALL   := $(foreach s,$(STAGES),$(call own,$(call name,$(s))))
SHARED    := $(filter-out $(OWN_ALL),$(PKG_FILES)) pyproject.toml

# what a stage's report depends on: its notebook, its parameters stamp (what the stage receives
# from its dataset's params file, in the report language in force), its own code, the shared code
# (in the rule below), and (analysis stages) the processed data, i.e. the 00_data report of the
# same dataset; 00_data also depends on the raw inputs (the manifest of packaged files and
# data/raw/<dataset>/).
deps  = notebooks/$(call stage,$(1)).ipynb build/params/$(call ds,$(1))/$(call stage,$(1)).json \
        $(call own,$(call name,$(call stage,$(1)))) $(call used,$(call stage,$(1))) \
        $(if $(filter 00_data,$(call stage,$(1))),data/manifest.yaml $(wildcard data/raw/$(call ds,$(1))/*),reports/$(call ds,$(1))/00_data.html)

.PHONY: FORCE help env kernel git-filter hooks lock data reports index lab test test-fast lint clean clean-env bench deps-print

help: ## list the targets
	@echo "churn-research — make targets (DATASET=synthetic|telco|cdnow|<name>, DATASETS=\"a b\")"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-11s %s\n", $$1, $$2}'

env: $(ENV_STAMP) ## create/refresh the project's virtual environment from requirements.lock

$(ENV_STAMP): requirements.lock pyproject.toml
	@if test -x $(PY); then what=updating; else what=building; fi; \
	 echo "$$what the environment in $(VENV) from requirements.lock (about 20 s; longer on a slow network)..."
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(UV) pip sync --python $(PY) --compile-bytecode --quiet requirements.lock
	@$(UV) pip install --python $(PY) --no-deps --compile-bytecode --quiet -e ".[dev]"
	@$(MAKE) --no-print-directory kernel git-filter
	@touch $@
	@echo "environment ready: $(VENV) ($$($(PY) --version))"

# the project's kernel by name ("churn-research"): in .venv for `make lab`, and for the user
# (~/.local/share/jupyter) so that a separately installed Jupyter or VS Code can select it
kernel: ## register the project's Jupyter kernel "churn-research" (make env does it)
	@$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "$(KERNEL_TITLE)" >/dev/null
	@$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "$(KERNEL_TITLE)" >/dev/null 2>&1 \
	  && echo "Jupyter kernel '$(KERNEL)' registered for this user ($(abspath $(PY)))" \
	  || echo "note: Jupyter kernel '$(KERNEL)' registered in .venv only (the user's Jupyter directory is not writable)"

lock: ## re-resolve requirements.lock and environment.yml from pyproject.toml (needs the registry)
	@test -x $(UV) || $(MAKE) env
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --no-header --quiet -o requirements.lock
	$(PY) -m churn_research.envfile requirements.lock > environment.yml

# `make reports` and `make data` render independent stages in parallel, one per core (a -jN on the
# command line wins: `make -j1 reports` renders one stage at a time, e.g. for a base near the
# machine's memory)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ifneq ($(filter reports data reports/%,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(JOBS)
endif

# stages that read another stage's results render after it (and again when it changes):
# 60_retention's planning tool reads 10_indicators' churn target, its money section 50_clv's
# value lost to churn
READS        := 60_retention:10_indicators 60_retention:50_clv
ALL_DATASETS := $(sort $(DATASETS) $(basename $(notdir $(wildcard params/*.yaml))))
$(foreach d,$(ALL_DATASETS),$(foreach r,$(READS),$(eval \
  reports/$(d)/$(word 1,$(subst :, ,$(r))).html: reports/$(d)/$(word 2,$(subst :, ,$(r))).html)))

data: $(foreach d,$(DATASETS),reports/$(d)/00_data.html) ## validate and prepare data/processed/<dataset>/

reports: reports/index.html ## render every stage report of $(DATASETS) and reports/index.html

reports/index.html: $(REPORTS) | $(ENV_STAMP)
	@$(PY) -m churn_research.runner index --total-since $(MAKE_STARTED)

.SECONDEXPANSION:
reports/%.html: $$(call deps,$$*) $(SHARED) $(ENV_STAMP)
	@$(PY) -m churn_research.runner run --dataset $(call ds,$*) --stage $(call stage,$*)

# a dataset without a parameters file: the runner says how to create it (not make's bare
# "No rule to make target"), and make stops
params/%.yaml: | $(ENV_STAMP)
	@$(PY) -m churn_research.runner check --dataset $*

# a stage's parameters stamp build/params/<dataset>/<stage>.json holds what the stage receives (its
# section, the common keys its notebook declares, the report language in force, REPORT_LANG
# included); one process writes all of a dataset's stamps, each only when its content changes, so
# editing one stage's section re-renders that stage alone. A params file that fails its check
# stops make with the runner's message. `+`: run under make -n / -q too, so that they tell which
# stages are out of date.
PARAM_STAMPS := $(foreach s,$(STAGES),build/params/%/$(s).json)
.PRECIOUS: $(PARAM_STAMPS)
$(PARAM_STAMPS): params/%.yaml FORCE | $(ENV_STAMP)
	+@$(PY) -m churn_research.runner.stamps $*

FORCE:

index: | $(ENV_STAMP) ## rebuild reports/index.html from what is rendered
	@$(PY) -m churn_research.runner index

# notebooks reach git without outputs (.gitattributes: filter=nbstripout), whatever Lab saved;
# --keep-id keeps the cells' ids, so a notebook saved unchanged has no diff. No-op outside git.
# relative to the working tree (git runs filters from its top): each worktree of the repository
# (they share one .git/config) strips with its own environment, and none names another's path
NBSTRIPOUT = '$(VENV)/bin/nbstripout' --keep-id
git-filter: ## strip notebook outputs when git stages them (nbstripout; make env does it)
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean "$(NBSTRIPOUT)" && git config filter.nbstripout.smudge cat \
	  && git config diff.ipynb.textconv "$(NBSTRIPOUT) -t" && echo "git filter nbstripout set up for notebooks"; fi

hooks: $(ENV_STAMP) ## run ruff, nbstripout and the import contracts at every commit (pre-commit)
	$(VENV)/bin/pre-commit install

# as root (a container), Jupyter needs --allow-root
lab: $(ENV_STAMP) ## open JupyterLab on the project (kernel "churn-research")
	JUPYTER_DATA_DIR=$(abspath $(VENV))/share/jupyter $(VENV)/bin/jupyter lab --notebook-dir=. \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

test: $(ENV_STAMP) ## run the whole test suite (unit, validation, runner, notebooks via nbval)
	$(PY) -m pytest -n 2 --dist loadscope -q

# serial: two xdist workers each import the scientific stack, which costs more than it saves here
test-fast: $(ENV_STAMP) ## the suite without anything slow (notebooks, subprocesses, 10^6 customers)
	$(PY) -m pytest -q -m "not slow"

lint: $(ENV_STAMP) ## ruff on the package, tests and benchmarks; import contracts (.importlinter)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

bench: $(ENV_STAMP) .venv-bench/.installed ## performance benchmarks -> reports/bench/ (BENCH_ARGS=--quick)
	$(PY) -m benchmarks $(BENCH_ARGS)

# separate environment for the head-to-head against lifetimes (needs numpy 1.x); never .venv
.venv-bench/.installed: benchmarks/requirements-bench.lock | $(ENV_STAMP)
	@test -x .venv-bench/bin/python || $(PY) -m venv --without-pip .venv-bench
	$(UV) pip sync --python .venv-bench/bin/python --quiet benchmarks/requirements-bench.lock
	@touch $@

clean: ## remove generated reports, processed data and build files (keeps the environment)
	rm -rf reports build data/processed

clean-env: ## remove the virtual environment
	rm -rf $(VENV)

deps-print: ## show each stage's own code and the shared code its reports depend on
	@$(foreach s,$(STAGES),echo "$(s) own: $(call own,$(call name,$(s))) $(call used,$(s))";) echo "shared: $(SHARED)"
