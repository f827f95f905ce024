# Two commands matter: `make local` runs the whole system on this machine; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CHECKPOINT_DISABLE := 1

VENV := .venv
MOTO := $(VENV)/bin/moto_server
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest

.PHONY: help install build check typecheck lint test test-unit test-integration test-e2e test-stacks local synth clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: node_modules/.install-stamp $(MOTO) ## npm packages and the moto venv (only when their lock files changed)

node_modules/.install-stamp: package.json package-lock.json $(wildcard functions/*/package.json)
	npm ci --no-audit --no-fund
	@touch $@

$(MOTO): local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r local/requirements.txt
	@touch $@

build: install ## bundle every function into dist/<function>/index.mjs
	npx tsx scripts/build-functions.ts

typecheck: install ## tsc --noEmit over functions, stacks, local, tests
	npx tsc --noEmit -p tsconfig.json

lint: install ## eslint
	npx eslint --max-warnings 0 .

check: typecheck lint ## type check and lint

test: check build ## every test: unit, integration (moto), e2e (local stack), stacks (synth)
	$(JEST)

test-unit: install ## unit tests only
	$(JEST) --selectProjects unit

test-integration: build ## integration tests against moto only
	$(JEST) --selectProjects integration

test-e2e: build ## e2e tests against `make local` only
	$(JEST) --selectProjects e2e

test-stacks: install ## synth tests only
	$(JEST) --selectProjects stacks

local: build ## run the whole system on this machine until Ctrl-C (writes .local/stack.json)
	npx tsx local/main.ts

synth: build ## synthesize the Terraform JSON into cdktf.out/
	npx tsx main.ts

clean: ## remove build output and local state (keeps node_modules and the venv)
	rm -rf dist cdktf.out .local coverage
