# Two commands matter: `make local` runs the whole system on this machine; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CHECKPOINT_DISABLE := 1

VENV := .venv
MOTO := $(VENV)/bin/moto_server
NODE_DEPS := node_modules/.install-stamp
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest

.PHONY: help install build check typecheck lint test test-unit test-integration test-e2e test-stacks local demo synth sim runner-image bench clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: $(NODE_DEPS) $(MOTO) ## npm packages and the moto venv (only when their lock files changed)

$(NODE_DEPS): package.json package-lock.json $(wildcard functions/*/package.json)
	npm ci --no-audit --no-fund
	@touch $@

$(MOTO): local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r local/requirements.txt
	@touch $@

build: $(NODE_DEPS) ## bundle every function into dist/<function>/index.mjs
	npx tsx scripts/build-functions.ts

typecheck: $(NODE_DEPS) ## tsc --noEmit over functions, stacks, local, tests
	npx tsc --noEmit -p tsconfig.json

lint: $(NODE_DEPS) ## eslint
	npx eslint --max-warnings 0 .

check: typecheck lint ## type check and lint

test: install check build ## every test: unit, integration (moto), e2e (local stack), stacks (synth)
	$(JEST)

test-unit: $(NODE_DEPS) ## unit tests only
	$(JEST) --selectProjects unit

test-integration: install build ## integration tests against moto only
	$(JEST) --selectProjects integration

test-e2e: install build ## e2e tests against `make local` only
	$(JEST) --selectProjects e2e

test-stacks: $(NODE_DEPS) ## synth tests only
	$(JEST) --selectProjects stacks

local: install build ## run the whole system on this machine until Ctrl-C (writes .local/stack.json)
	npx tsx local/main.ts

synth: $(NODE_DEPS) ## synthesize the Terraform JSON into cdktf.out/
	npx tsx main.ts

demo: install build ## a bounded run of the whole system: DEMO_JOBS (50) jobs, a summary, exit 0 only if all is well
	npx tsx local/demo-main.ts

sim: $(NODE_DEPS) ## the GitHub simulator on its own, until Ctrl-C
	npx tsx sim/main.ts

runner-image: ## build the simulated runner image (offline, docker import)
	bash sim/runner/build-image.sh

bench: install ## benchmarks on the local stack; results in bench/results/
	POOLS_CONFIG=bench/pools.bench.ts OUT_DIR=dist-bench npx tsx scripts/build-functions.ts
	npx tsx bench/dispatch.ts $(BENCH_SIZES)

clean: ## remove build output and local state (keeps node_modules and the venv)
	rm -rf dist dist-bench cdktf.out .local coverage
